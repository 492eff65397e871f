"""The four services chained over gRPC on a real clip, checking what the outputs contain."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gait.artifacts import Bundle
from gait.ingest import ingest_video
from gait.joints import H36M_17, HALPE_26
from gait.v1 import stages_pb2
from gait.video import H264Writer, probe

# Frame 100 of the demo clip (40 of the short clip): the walking woman's mid-hip, by eye.
WALKER_FRAME, WALKER_PELVIS_PX = 40, (1030.0, 720.0)


@pytest.fixture(scope="module")
def chain(stubs, store, short_clip):
    video = ingest_video(store, short_clip)
    rotated = stubs.rotate.Rotate(stages_pb2.RotateRequest(video_key=video.key), timeout=120)
    pose = stubs.pose2d.EstimatePose(stages_pb2.Pose2DRequest(video_bundle_key=rotated.outcome.bundle_key), timeout=300)
    lifted = stubs.lift3d.Lift(stages_pb2.Lift3DRequest(pose2d_bundle_key=pose.outcome.bundle_key), timeout=120)
    # a chain: the analysis finds the pose2d bundle through the lift3d bundle's manifest
    analyzed = stubs.analysis.Analyze(stages_pb2.AnalysisRequest(lift3d_bundle_key=lifted.outcome.bundle_key), timeout=120)
    return {"video": video, "rotate": rotated, "pose2d": pose, "lift3d": lifted, "analysis": analyzed}


def _bundle(store, chain, stage) -> Bundle:
    return Bundle.open(store, chain[stage].outcome.bundle_key, expected_stage=stage)


def test_pose2d_follows_the_walker_not_the_bystanders(chain, store):
    pose = chain["pose2d"]
    assert pose.frames == 90 and pose.detection_rate > 0.8
    keypoints = _bundle(store, chain, "pose2d").read_npy("keypoints2d.npy")
    assert keypoints.shape == (90, 26, 3)
    pelvis = keypoints[WALKER_FRAME, HALPE_26.index("pelvis"), :2]
    assert np.hypot(*(pelvis - WALKER_PELVIS_PX)) < 80, f"pelvis at {pelvis}, the walker is at {WALKER_PELVIS_PX}"
    # She walks right to left across the lawn: the pelvis moves left by several hundred pixels.
    found = np.isfinite(keypoints[:, HALPE_26.index("pelvis"), 0])
    xs = keypoints[found, HALPE_26.index("pelvis"), 0]
    assert xs[0] - xs[-1] > 400
    assert "walk" in pose.subject_reason or "mov" in pose.subject_reason


def test_keypoints_lie_on_the_body(chain, store):
    keypoints = _bundle(store, chain, "pose2d").read_npy("keypoints2d.npy")
    y = {name: keypoints[:, HALPE_26.index(name), 1] for name in HALPE_26}
    found = np.isfinite(y["pelvis"])
    for side in ("left", "right"):
        assert np.mean(y[f"{side}_shoulder"][found] < y[f"{side}_hip"][found]) > 0.95
        assert np.mean(y[f"{side}_hip"][found] < y[f"{side}_knee"][found]) > 0.95
        assert np.mean(y[f"{side}_knee"][found] < y[f"{side}_ankle"][found]) > 0.95
        heel_to_ankle = np.hypot(*(keypoints[found, HALPE_26.index(f"{side}_heel"), :2]
                                   - keypoints[found, HALPE_26.index(f"{side}_ankle"), :2]).T)
        assert np.median(heel_to_ankle) < 60
    assert np.median(keypoints[found, :, 2]) > 0.5


def test_pose2d_files_are_in_alphapose_format(chain, store, tmp_path):
    bundle = _bundle(store, chain, "pose2d")
    results = bundle.read_json("alphapose-results.json")
    assert len(results) >= 75
    first = results[0]
    assert set(first) == {"image_id", "category_id", "keypoints", "score", "box", "idx"}
    assert first["image_id"].endswith(".jpg") and len(first["keypoints"]) == 26 * 3 and len(first["box"]) == 4
    sheet = pd.read_excel(bundle.fetch("keypoints2d.xlsx", tmp_path), sheet_name="keypoints2d")
    assert len(sheet) == 90 and {"frame", "time_s", "left_heel_x", "right_big_toe_score"} <= set(sheet.columns)
    subject = bundle.read_json("subject.json")
    assert len(subject["candidates"]) >= 2, "the man on the roof is a candidate too"
    overlay = bundle.fetch("overlay.mp4", tmp_path)
    info = probe(overlay)
    assert info.width == 960 and info.frames == 90
    assert "blazepose" in chain["pose2d"].outcome.backend


def test_lift3d_writes_metric_h36m(chain, store):
    bundle = _bundle(store, chain, "lift3d")
    x3d = bundle.read_npy("X3D.npy")
    meta = bundle.file_meta("X3D.npy")
    assert x3d.shape == (90, 17, 3) and meta["units"] == "m" and meta["joints"] == list(H36M_17)
    found = np.isfinite(x3d[:, 0, 0])
    np.testing.assert_allclose(x3d[found, 0], 0, atol=0.03)  # root-relative: pelvis at the origin
    for hip, knee in (("left_hip", "left_knee"), ("right_hip", "right_knee")):
        thigh = np.linalg.norm(x3d[found, H36M_17.index(hip)] - x3d[found, H36M_17.index(knee)], axis=1)
        assert 0.3 < np.median(thigh) < 0.6
    # y points down: ankles below the pelvis.
    assert np.median(x3d[found, H36M_17.index("left_ankle"), 1]) > 0.6
    assert bundle.read_npy("feet3d.npy").shape == (90, 4, 3)


def test_analysis_filters_and_reports(chain, store, tmp_path):
    bundle = _bundle(store, chain, "analysis")
    meta = bundle.meta
    assert meta["cutoff_hz"] == 6.0 and meta["filter_order"] == 4
    assert meta["high_frequency_power_ratio_2d"] < 0.2, "the filter did not remove high-frequency power"
    assert meta["high_frequency_power_ratio_3d"] < 0.2
    workbook = pd.read_excel(bundle.fetch("trajectories.xlsx", tmp_path), sheet_name=None)
    assert {"raw_2d_px", "filtered_2d_px", "raw_3d_m", "filtered_3d_m", "about"} <= set(workbook)
    for plot in ("ankle_trajectories_2d", "foot_trajectories", "joint_angles", "footfalls", "left_right"):
        assert bundle.fetch(f"{plot}.png", tmp_path).stat().st_size > 10_000
        assert bundle.read_bytes(f"{plot}.svg").lstrip().startswith(b"<?xml")
    steps = pd.read_csv(bundle.fetch("steps.csv", tmp_path))
    assert {"step_length_m", "speed_m_s", "stance_pct"} <= set(steps.columns) and len(steps) >= 2  # a 3 s clip
    assert len(pd.read_csv(bundle.fetch("kinematics.csv", tmp_path))) == 101
    assert json.loads(bundle.read_bytes("analysis.json"))["sampling_rate_hz"] == 30.0
    # The walker steps about every 0.6 s on this clip (stance plateaus of the 2D heel x trajectories).
    cadence = meta["spatiotemporal_parameters"]["cadence_steps_per_min"]
    assert cadence["n"] >= 2 and 88 < cadence["mean"] < 108, cadence
    report = bundle.read_bytes("report.html").decode()
    assert report.count('src="data:image/png;base64,') == 5, "every figure is inline: the page opens offline"
    assert "http://" not in report and "https://" not in report and "<script" not in report
    assert "cadence (steps/min)" in report and f"{cadence['mean']:.3g}" in report
    assert "Zeni" in report and "blazepose" in report.lower()
    assert any("side view" in warning for warning in meta["warnings"]), "a side view's depth limits are stated"
    events = bundle.read_bytes("events.csv").decode().splitlines()
    assert events[0] == "side,event,frame,time_s,confidence,bout" and len(events) > 6
    assert bundle.read_bytes("report.pdf").startswith(b"%PDF-")
    assert "normal range" in report and "gait profile score" in report


def test_a_second_run_recomputes_nothing(chain, stubs, store, short_clip):
    video = ingest_video(store, short_clip)
    assert video.key == chain["video"].key
    rotated = stubs.rotate.Rotate(stages_pb2.RotateRequest(video_key=video.key), timeout=60)
    pose = stubs.pose2d.EstimatePose(stages_pb2.Pose2DRequest(video_bundle_key=rotated.outcome.bundle_key), timeout=60)
    assert rotated.outcome.cached and pose.outcome.cached
    assert pose.outcome.bundle_key == chain["pose2d"].outcome.bundle_key and pose.outcome.seconds < 1


def _expect(call, request, code, words):
    import grpc

    with pytest.raises(grpc.RpcError) as error:
        call(request, timeout=60)
    assert error.value.code() == code, error.value.details()
    assert words in error.value.details(), error.value.details()


def test_bad_requests_name_the_problem_and_leave_nothing(chain, stubs, store):
    from grpc import StatusCode as S

    video_key, rotate_key = chain["video"].key, chain["rotate"].outcome.bundle_key
    pose_key, lift_key = chain["pose2d"].outcome.bundle_key, chain["lift3d"].outcome.bundle_key
    before = {stage: store.list(f"{stage}/") for stage in ("pose2d", "lift3d", "analysis")}
    P, L, A = stages_pb2.Pose2DRequest, stages_pb2.Lift3DRequest, stages_pb2.AnalysisRequest
    cases = [
        (stubs.pose2d.EstimatePose, P(video_bundle_key="rotate/nothing"), S.NOT_FOUND, "no artifact bundle"),
        (stubs.pose2d.EstimatePose, P(video_bundle_key=video_key), S.INVALID_ARGUMENT, "'rotate' artifact is needed"),
        (stubs.pose2d.EstimatePose, P(video_bundle_key=rotate_key, min_detection_score=1.5), S.INVALID_ARGUMENT,
         "min_detection_score"),
        (stubs.pose2d.EstimatePose, P(video_bundle_key=rotate_key, backend="openpose"), S.INVALID_ARGUMENT,
         "unknown pose2d backend"),
        (stubs.lift3d.Lift, L(pose2d_bundle_key=rotate_key), S.INVALID_ARGUMENT, "'pose2d' artifact is needed"),
        (stubs.lift3d.Lift, L(pose2d_bundle_key=pose_key, backend="videopose"), S.INVALID_ARGUMENT, "unknown lift3d backend"),
        (stubs.lift3d.Lift, L(pose2d_bundle_key="pose2d/nothing"), S.NOT_FOUND, "no artifact bundle"),
        (stubs.analysis.Analyze, A(pose2d_bundle_key=pose_key, lift3d_bundle_key=lift_key, cutoff_hz=20),
         S.INVALID_ARGUMENT, "Nyquist frequency 15 Hz"),
        (stubs.analysis.Analyze, A(pose2d_bundle_key=pose_key, lift3d_bundle_key=lift_key, filter_order=0),
         S.INVALID_ARGUMENT, "order must be between 1 and 8"),
        (stubs.analysis.Analyze, A(pose2d_bundle_key=pose_key, lift3d_bundle_key=pose_key), S.INVALID_ARGUMENT,
         "'lift3d' artifact is needed"),
        (stubs.analysis.Analyze, A(pose2d_bundle_key=pose_key), S.INVALID_ARGUMENT, "no artifact key"),
        (stubs.analysis.Analyze, A(pose2d_bundle_key="pose2d/another", lift3d_bundle_key=lift_key), S.INVALID_ARGUMENT,
         "was not made from the pose2d bundle 'pose2d/another'"),
    ]
    for call, request, code, words in cases:
        _expect(call, request, code, words)
    assert {stage: store.list(f"{stage}/") for stage in before} == before


def test_a_video_without_people_is_rejected(stubs, store, tmp_path):
    from grpc import StatusCode

    path = tmp_path / "empty_lawn.mp4"
    with H264Writer(path, 320, 240, 30.0) as writer:
        for i in range(30):
            writer.write(np.full((240, 320, 3), 60 + 2 * i, np.uint8))
    rotated = stubs.rotate.Rotate(stages_pb2.RotateRequest(video_key=ingest_video(store, path).key), timeout=60)
    before = store.list("pose2d/")
    _expect(stubs.pose2d.EstimatePose, stages_pb2.Pose2DRequest(video_bundle_key=rotated.outcome.bundle_key),
            StatusCode.INVALID_ARGUMENT, "no person")
    assert store.list("pose2d/") == before
