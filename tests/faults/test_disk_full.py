"""The store's disk fills up while a stage writes its bundle (a small tmpfs as GAIT_STORE_DIR): the
call fails at once with a message that names the disk space and the store, is not retried, and
leaves no half bundle and no temporary file; a video too large to ingest likewise."""
from __future__ import annotations

import errno
import subprocess

import grpc
import pytest

from gait.client import StageCallFailed, call, call_stage
from gait.config import ServiceConfig
from gait.contracts import ROTATE
from gait.errors import StorageFull
from gait.rpc import build_server, stage_method, stop_gracefully
from gait.v1 import stages_pb2, stages_pb2_grpc
from tests.faults.conftest import check_bundles


@pytest.fixture
def small_disk(clip, tmp_path):
    """A tmpfs with room for the ingested clip and 256 KiB more: not for rotate's upright video."""
    mount = tmp_path / "small"
    mount.mkdir()
    size_kib = clip.stat().st_size // 1024 + 256
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or mounted.returncode}): the disk-full "
                    "test needs root or CAP_SYS_ADMIN")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_store_disk_is_a_clear_error_and_leaves_no_half_bundle(small_disk, clip, tmp_path, monkeypatch):
    from gait.ingest import ingest_video
    from gait.store import open_store
    from gaitcli.launcher import LocalServices

    root = small_disk / "store"
    monkeypatch.setenv("GAIT_STORE", "local")
    monkeypatch.setenv("GAIT_STORE_DIR", str(root))
    store = open_store()
    video = ingest_video(store, clip)
    with LocalServices((ROTATE,)) as services:
        with pytest.raises(StageCallFailed) as full:
            call_stage(ROTATE, "Rotate", stages_pb2.RotateRequest(video_key=video.key), services.client_config())
    assert str(full.value) == (f"rotate failed (RESOURCE_EXHAUSTED): no space left on the disk of the store "
                               f"(local:{root}): free space or give it a larger volume (GAIT_STORE_DIR); nothing "
                               "half-written was kept")
    assert not full.value.transient and not full.value.busy  # waiting frees no space: not retried
    assert check_bundles(store) == []
    assert [p for p in root.glob(f"{ROTATE}/**/*") if p.is_file()] == []

    too_big = tmp_path / "big.mp4"  # the clip and a `free` box twice its size: more than the disk has left
    padding = 2 * clip.stat().st_size
    too_big.write_bytes(clip.read_bytes() + (8 + padding).to_bytes(4, "big") + b"free" + bytes(padding))
    with pytest.raises(StorageFull, match="^no space left on the disk of the store"):
        ingest_video(store, too_big)
    assert check_bundles(store) == []
    assert sorted(p.parent.name for p in root.glob("video/*/manifest.json")) == [video.key.split("/")[1]]


class FullWorkFolder(stages_pb2_grpc.RotateServiceServicer):
    @stage_method(ROTATE)
    def Rotate(self, request, context):
        raise OSError(errno.ENOSPC, "No space left on device", "/tmp/gait-rotate-x/upright.mp4")


def test_a_full_work_folder_is_named_too_not_an_internal_error():
    server, port = build_server(ServiceConfig(stage=ROTATE, port=0), "RotateService",
                                lambda s: stages_pb2_grpc.add_RotateServiceServicer_to_server(FullWorkFolder(), s))
    try:
        with pytest.raises(StageCallFailed) as full:
            call(ROTATE, f"127.0.0.1:{port}", stages_pb2_grpc.RotateServiceStub, "Rotate",
                 stages_pb2.RotateRequest(video_key="video/x"), timeout_s=30, reach_s=10)
    finally:
        stop_gracefully(server, 1)
    assert full.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert str(full.value).startswith("rotate failed (RESOURCE_EXHAUSTED): rotate: no space left on the disk of the "
                                      "service's work folder (")
