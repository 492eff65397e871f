"""Fixtures shared by the test suite: the fetched assets, a short real clip, an isolated GAIT_HOME."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from gait.assets import MODELS, demo_clip_path
from gait.config import models_dir

# Every test session works in its own GAIT_HOME (store, Prefect database), never the user's,
# and removes it at the end.
_OWN_HOME = "GAIT_HOME" not in os.environ
if _OWN_HOME:
    os.environ["GAIT_HOME"] = tempfile.mkdtemp(prefix="gait-tests-")
os.environ.setdefault("PREFECT_HOME", str(Path(os.environ["GAIT_HOME"]) / "prefect"))
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
# A background Prefect server that a test's `gait run` starts in a GAIT_HOME of its own stops a
# minute after its last request (the session's own is stopped at the end).
os.environ.setdefault("GAIT_PREFECT_IDLE_S", "60")


def pytest_sessionfinish(session, exitstatus) -> None:
    from flows.local_server import stop

    stop()  # the Prefect server the session's `gait run`s left running in the background
    if _OWN_HOME:
        shutil.rmtree(os.environ["GAIT_HOME"], ignore_errors=True)

# Frames of the demo clip where the woman walks across while the man stands on the hut roof.
SHORT_CLIP_FRAMES = (60, 150)


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make setup` (gait fetch-assets) first")
    return path


@pytest.fixture(scope="session")
def demo_clip() -> Path:
    return _require(demo_clip_path())


@pytest.fixture(scope="session")
def model_files() -> dict[str, Path]:
    return {Path(m.target).stem: _require(models_dir() / m.target) for m in MODELS}


@pytest.fixture(scope="session")
def short_clip(demo_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of the demo clip (frames 60-149, full resolution, H.264): the walker plus bystanders."""
    from gait.video import H264Writer, iter_frames, probe

    info = probe(demo_clip)
    path = tmp_path_factory.mktemp("clips") / "short.mp4"
    start, stop = SHORT_CLIP_FRAMES
    with H264Writer(path, info.width, info.height, info.fps) as writer:
        for index, frame in enumerate(iter_frames(demo_clip, limit=stop)):
            if index >= start:
                writer.write(frame)
    return path


@pytest.fixture(scope="session")
def store():
    from gait.store import open_store

    return open_store()


@pytest.fixture(scope="session")
def local_services():
    """The four stage services on loopback, for the whole session."""
    from gaitcli.launcher import LocalServices

    with LocalServices() as services:
        yield services


@pytest.fixture(scope="session")
def stubs(local_services):
    """gRPC stubs for each stage, over real loopback channels."""
    import types

    import grpc

    from gait.v1 import stages_pb2_grpc

    channels = {stage: grpc.insecure_channel(address) for stage, address in local_services.addresses.items()}
    yield types.SimpleNamespace(
        rotate=stages_pb2_grpc.RotateServiceStub(channels["rotate"]),
        pose2d=stages_pb2_grpc.Pose2DServiceStub(channels["pose2d"]),
        lift3d=stages_pb2_grpc.Lift3DServiceStub(channels["lift3d"]),
        analysis=stages_pb2_grpc.AnalysisServiceStub(channels["analysis"]),
    )
    for channel in channels.values():
        channel.close()
