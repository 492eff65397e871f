"""AlphaPose results JSON as input: the walker chosen among several people, frames aligned, bad files named."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from gait.alphapose_json import read_alphapose_json, subject_keypoints
from gait.analysis.analyze import analyze
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.recording import AnalyzeOptions, read_recording
from gait.analysis.validation.synthetic import SyntheticWalker
from gait.errors import InvalidInput
from services.pose2d.outputs import alphapose_results
from tests.analysis.test_reporting import _side_view_keypoints


def entries(keypoints: np.ndarray, track: int, score: float, names: str = "{}.jpg") -> list[dict]:
    boxes = np.zeros((len(keypoints), 4))
    results = alphapose_results(keypoints, np.full(len(keypoints), score), boxes, track)
    for item in results:
        item["image_id"] = names.format(int(item["image_id"].split(".")[0]))
    return results


def walker_and_bystander(frames: int = 240) -> tuple[np.ndarray, list[dict]]:
    walker = _side_view_keypoints(SyntheticWalker(cadence_steps_per_min=100.0).generate(frames / 30.0, 30.0))
    walker[50:60] = np.nan  # the walker is lost for ten frames (AlphaPose writes nothing for them)
    bystander = np.tile(walker[:1] * 0.5 + 600, (frames, 1, 1))
    bystander[:, :, 2] = 0.95
    results = entries(walker, track=3, score=2.8) + entries(bystander[: frames // 3], track=1, score=3.0)
    results.sort(key=lambda item: int(item["image_id"].split(".")[0]))
    return walker, results


def test_the_walker_is_the_person_seen_most_surely_and_frames_keep_their_numbers():
    walker, results = walker_and_bystander()
    subject = subject_keypoints(results)
    assert subject.track_id == 3 and subject.layout == "halpe26" and "230 of 240 frames" in subject.reason
    assert subject.keypoints.shape == walker.shape
    seen = np.isfinite(walker[:, 0, 0])
    np.testing.assert_allclose(subject.keypoints[seen], walker[seen], atol=1e-3)
    assert np.isnan(subject.keypoints[50:60, :, :2]).all() and (subject.keypoints[50:60, :, 2] == 0).all()


def test_image_folder_names_one_element_idx_and_halpe_136():
    walker, _ = walker_and_bystander(80)
    results = entries(walker, track=0, score=2.0, names="frame_{:05d}.png")
    for item in results:
        item["idx"] = [7]
        item["keypoints"] += [1.0, 2.0, 0.5] * 110  # face and hands of Halpe-136
    subject = subject_keypoints(results)
    assert subject.track_id == 7 and subject.keypoints.shape == (80, 26, 3)
    np.testing.assert_allclose(subject.keypoints[:, :, :2], walker[:, :, :2], atol=1e-3)  # NaN where lost


def test_coco_17_results_keep_17_joints():
    walker, _ = walker_and_bystander(30)
    results = entries(walker[:, :17], track=0, score=2.0)
    assert subject_keypoints(results).keypoints.shape == (30, 17, 3)


def test_gait_analysis_of_an_alphapose_file_matches_the_dense_array(tmp_path):
    walker, results = walker_and_bystander()
    path = tmp_path / "alphapose-results.json"
    path.write_text(json.dumps(results))
    options = AnalyzeOptions(rate_hz=30.0)
    from_json = read_recording(path, options)
    assert from_json.planar and "person 3" in from_json.notes["person"]
    result = analyze(from_json, ButterworthLowPass())
    assert result.parameters["cadence_steps_per_min"]["mean"] == pytest.approx(100.0, abs=1.5)


@pytest.mark.parametrize("content, message", [
    ("{\"image_id\": 1}", "expected a non-empty JSON list"),
    ("[]", "expected a non-empty JSON list"),
    ("[{\"image_id\": \"0.jpg\"}]", "entry 0 needs image_id and keypoints"),
    ("[{\"image_id\": \"0.jpg\", \"keypoints\": [1, 2, 3, 4]}]", "26, 17 or 136 x, y, score triples; got 4"),
    ("[{\"image_id\": \"cover.jpg\", \"keypoints\": " + json.dumps([1.0] * 51) + "}]", "has no frame number"),
    ("[{\"image_id\": 0, \"keypoints\": " + json.dumps(["a"] * 51) + "}]", "must be numbers"),
    ("[{\"image_id\": 0, \"idx\": \"x\", \"keypoints\": " + json.dumps([1.0] * 51) + "}]", "not a person number"),
    ("[{\"image_id\": 0, \"keypoints\": " + json.dumps([1.0] * 51) + "}, {\"image_id\": 1, \"keypoints\": "
     + json.dumps([1.0] * 78) + "}]", "26 keypoints, the entries before had 17"),
    ("[{\"image_id\": 0,", "invalid JSON at line 1"),
])
def test_malformed_alphapose_files_are_named(tmp_path, content, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        read_alphapose_json(path)


def test_gait_analyze_reads_alphapose_results(tmp_path):
    _, results = walker_and_bystander()
    path = tmp_path / "alphapose-results.json"
    path.write_text(json.dumps(results))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--rate-hz", "30", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "AlphaPose results (2D)" in (out / "report.html").read_text()
    path.write_bytes(b"\xff\xfe not text")
    bad = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--rate-hz", "30", "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not UTF-8 text" in bad.stderr and "Traceback" not in bad.stderr


def test_foot_trajectories_of_coco_17_keypoints_have_ankles_only():
    from gait.analysis.keypoints import foot_trajectories_2d
    from gait.joints import FOOT_JOINTS_2D

    walker, _ = walker_and_bystander(20)
    walker[:, :, 2] = 0.9
    walker[3, 15, 2] = 0.1  # an unsure left ankle
    halpe, coco = foot_trajectories_2d(walker), foot_trajectories_2d(walker[:, :17])
    ankles = [FOOT_JOINTS_2D.index("left_ankle"), FOOT_JOINTS_2D.index("right_ankle")]
    np.testing.assert_array_equal(coco[:, ankles], halpe[:, ankles])
    assert np.isnan(coco[3, ankles[0]]).all() and np.isfinite(coco[4, ankles[0]]).all()
    assert np.isnan(np.delete(coco, ankles, axis=1)).all() and np.isfinite(halpe[5]).all()
