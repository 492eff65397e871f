"""`gait/batch` over an archive in S3: the four real services on loopback, the S3 backend against
moto's S3 server (through the real `minio` client), real Prefect flow runs (the session's API).

One archive, three runs: a first run that stops after one video (as a crash would), a run over the
whole prefix that finishes only the rest and reports the corrupt file, and a run with every
service unreachable that still succeeds for the finished videos, so nothing was recomputed.
"""
from __future__ import annotations

import io
import os

import cv2
import pandas as pd
import pytest

from flows import batch_flow as fb
from gait.contracts import STAGES
from gait.store import open_store
from gait.video import H264Writer, iter_frames, probe
from gaitcli import main as cli
from tests.store.conftest import s3_endpoint  # noqa: F401  (the session's S3 server)

# Two 1.3 s cuts of the demo clip while she walks, at half resolution (pose2d costs ~1.5 s each).
CUTS = {"archive/2024/walk-a.mp4": (60, 100), "archive/2024/walk-b.mp4": (100, 140)}
BROKEN = "archive/2024/broken.mp4"


@pytest.fixture(scope="module")
def clips(demo_clip, tmp_path_factory) -> dict:
    info = probe(demo_clip)
    folder = tmp_path_factory.mktemp("archive")
    frames = list(iter_frames(demo_clip, limit=max(stop for _, stop in CUTS.values())))
    paths = {}
    for key, (start, stop) in CUTS.items():
        paths[key] = folder / key.rsplit("/", 1)[-1]
        with H264Writer(paths[key], info.width // 2, info.height // 2, info.fps) as writer:
            for frame in frames[start:stop]:
                writer.write(cv2.resize(frame, (info.width // 2, info.height // 2), interpolation=cv2.INTER_AREA))
    paths[BROKEN] = folder / "broken.mp4"
    paths[BROKEN].write_bytes(os.urandom(20_000))  # an .mp4 name, no video in it
    return paths


@pytest.fixture
def archive(clips, s3_endpoint, prefect_api, monkeypatch):  # noqa: F811
    """A fresh bucket holding the archive (and a file that is not a video), the store and the
    Prefect API in the environment, as `gait batch` and the flow read them."""
    for name, value in {"GAIT_STORE": "s3", "GAIT_S3_ENDPOINT": s3_endpoint, "GAIT_S3_BUCKET": "gait-batch",
                        "GAIT_S3_ACCESS_KEY": "test", "GAIT_S3_SECRET_KEY": "test", "PREFECT_API_URL": prefect_api,
                        "GAIT_RPC_TIMEOUT_S": "120"}.items():
        monkeypatch.setenv(name, value)
    store = open_store()
    for key, path in clips.items():
        store.put_file(key, path)
    store.put_bytes("archive/2024/notes.txt", b"not a video")
    return store


def lines_of(out: str) -> dict[str, str]:
    """`gait batch` output: {video key: its line}, plus "summary"."""
    lines = {}
    for line in out.splitlines():
        words = line.split()
        lines["summary" if words[0] == "summary:" else words[1]] = line
    return lines


def test_a_batch_resumes_after_a_crash_and_fails_only_the_corrupt_video(archive, tmp_path, capsys, monkeypatch):
    first, second = sorted(CUTS)
    # A run that got through one video before it stopped.
    assert cli.main(["batch", "--keys", first, "--concurrency", "2"]) == 0
    lines = lines_of(capsys.readouterr().out)
    # 1.3 s of walking: done, but too few steps to stand behind, and the line says why
    assert lines[first].startswith("done-cannot-measure ") and set(lines) == {first, "summary"}
    assert "too few for reliable means" in lines[first]

    # The whole prefix: the first video is skipped, the second done, the corrupt one reported.
    out = tmp_path / "out"
    assert cli.main(["batch", "archive/2024/", "--out", str(out), "--concurrency", "2"]) == 1
    lines = lines_of(capsys.readouterr().out)
    assert set(lines) == {first, second, BROKEN, "summary"}, "notes.txt is not a video"
    assert lines[first].startswith("skipped-already-done ")
    assert lines[second].startswith("done-cannot-measure ")
    assert lines[BROKEN].startswith("failed ")
    assert "rotate failed (INVALID_ARGUMENT): the file is not a readable video" in lines[BROKEN]
    assert lines["summary"] == f"summary: {out / 'summary.xlsx'}"

    table = pd.read_csv(out / "summary.csv").set_index("source")
    assert list(table.index) == sorted([first, second, BROKEN]) and list(table.columns) == list(fb.COLUMNS)[1:]
    assert table.loc[[first, second, BROKEN], "status"].tolist() == ["skipped-already-done", "done-cannot-measure",
                                                                      "failed"]
    assert table.loc[[first, second], "warnings"].str.contains("too few for reliable means").all()
    done = table.loc[[first, second]]
    assert done.video_key.str.startswith("video/").all() and done.analysis_key.str.startswith("analysis/").all()
    assert done.video_s.round(2).tolist() == [1.33, 1.33] and (done.detection_rate > 0.8).all()
    assert (done[[f"{step}_s" for step in ("ingest", *STAGES)]] > 0).all().all()
    assert done.cadence_steps_per_min.between(60, 150).any(), "the gait parameters are in the summary"
    assert table.loc[BROKEN, "reason"].startswith("rotate failed (INVALID_ARGUMENT)")
    assert table.loc[BROKEN, ["video_key", "total_s"]].isna().all()
    workbook = pd.read_excel(out / "summary.xlsx", sheet_name=None)
    assert set(workbook) == {"videos", "about"} and len(workbook["videos"]) == 3

    # The summary is in the store too, under the key the sources and settings determine.
    key = fb.batch_key([first, second, BROKEN], fb.batch_settings(None, None, None))
    assert archive.get_bytes(f"{key}/summary.csv") == (out / "summary.csv").read_bytes()
    assert archive.exists(f"{key}/summary.xlsx") and archive.exists(f"{key}/batch.json")

    # Again with no service reachable: a call would fail within 2 s (no connection: named as
    # unreachable, not retried), so the finished videos are skipped without one, and only the
    # corrupt video (never finished) is tried again.
    for stage in STAGES:
        monkeypatch.setenv(f"GAIT_{stage.upper()}_ADDR", "127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("GAIT_REACH_S", "2")
    state = fb.batch_flow(prefix="archive/2024/", concurrency=3, return_state=True)
    assert state.is_failed() and "0 done, 2 skipped (already done), 1 failed of 3 videos" in state.message
    result = state.result(raise_on_failure=False)
    assert result["batch"] == key and result["counts"] == {"done": 0, "done-cannot-measure": 0, "done-implausible": 0,
                                                           "skipped-already-done": 2, "failed": 1}
    rerun = pd.read_csv(io.BytesIO(archive.get_bytes(f"{key}/summary.csv"))).set_index("source")
    assert rerun.loc[BROKEN, "reason"].startswith("rotate failed (UNAVAILABLE): the rotate service at 127.0.0.1:9 "
                                                  "cannot be reached: no connection within 2 s")
    assert rerun.loc[[first, second], "total_s"].tolist() == table.loc[[first, second], "total_s"].tolist()


def test_a_batch_needs_a_prefix_or_keys_and_one_thread_at_least(prefect_api):
    state = fb.batch_flow(return_state=True)
    assert state.is_failed() and "give either `prefix`" in state.message
    assert fb.batch_flow(keys=["archive/x.mp4"], concurrency=0, return_state=True).is_failed()


@pytest.mark.parametrize(("analysis", "status"), [
    ({"spatiotemporal_parameters": {"cadence_steps_per_min": {"n": 7, "few": False}}, "implausible": []}, fb.DONE),
    ({"spatiotemporal_parameters": {"cadence_steps_per_min": {"n": 2, "few": True}}}, fb.CANNOT_MEASURE),
    ({"spatiotemporal_parameters": {}, "warnings": ["no gait events found"]}, fb.CANNOT_MEASURE),
    ({"spatiotemporal_parameters": {"cadence_steps_per_min": {"n": 9, "few": False}}, "implausible": ["cadence"]},
     fb.IMPLAUSIBLE),
])
def test_a_finished_videos_status_says_whether_its_numbers_hold(analysis, status):
    assert fb.measured_status(analysis) == status
