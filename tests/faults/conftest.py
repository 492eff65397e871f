"""Real processes for the fault tests: each stage as `python -m services.STAGE` (as in a pod), the
`gait` command as a user runs it (`--services external`), short clips cut from the demo, and a
check of the store for half bundles and redone stages.

GAIT_REACH_S is 2 s here, so a killed service is named within seconds.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from gait.contracts import STAGES

REACH_S = "2"
CLIP_FRAMES = 24  # 0.8 s of the demo: the walker is found, the analysis says what it cannot measure


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cut_clip(demo: Path, target: Path, start: int = 60, frames: int = CLIP_FRAMES) -> Path:
    """Frames [start, start + frames) of the demo at half its size, H.264 (from frame 60 the walker
    is in view; half the pixels make rotate and pose2d several times cheaper)."""
    import cv2

    from gait.video import H264Writer, iter_frames, probe

    info = probe(demo)
    size = (info.width // 4 * 2, info.height // 4 * 2)
    with H264Writer(target, *size, info.fps) as writer:
        for index, frame in enumerate(iter_frames(demo, limit=start + frames)):
            if index >= start:
                writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    return target


def variant(clip: Path, target: Path, tag: str) -> Path:
    """Another video (another content key, and different frames, so that no stage finds a result of
    `clip` or of another variant: the stages key their bundles by their inputs' content): `clip`
    with a 2x2 patch in its top-left corner coloured from `tag`, far from the walker."""
    import hashlib

    from gait.video import ffmpeg_exe

    colour = hashlib.sha256(tag.encode()).hexdigest()[:6]
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip), "-vf",
                    f"drawbox=x=0:y=0:w=2:h=2:color=0x{colour}:t=fill", "-c:v", "libx264", "-preset", "ultrafast",
                    "-crf", "18", "-pix_fmt", "yuv420p", "-an", str(target)], check=True, capture_output=True)
    return target


@pytest.fixture(scope="module")
def clip(demo_clip: Path, tmp_path_factory) -> Path:
    return cut_clip(demo_clip, tmp_path_factory.mktemp("fault-clips") / "clip.mp4")


@dataclass
class ServiceStack:
    """The four stages as processes on fixed loopback ports, sharing one environment (store)."""

    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=lambda: {stage: free_port() for stage in STAGES})
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, *stages: str) -> None:
        for stage in stages or STAGES:
            env = {**self.env, f"GAIT_{stage.upper()}_PORT": str(self.ports[stage]), "GAIT_GRACE_S": "1"}
            log = Path(self.env["GAIT_HOME"]) / "logs" / f"{stage}.log"  # the service's JSON log, kept across restarts
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a") as stderr:
                self.processes[stage] = subprocess.Popen([sys.executable, "-m", f"services.{stage}"], env=env,
                                                         stdout=subprocess.DEVNULL, stderr=stderr)
        for stage in stages or STAGES:
            self.wait_serving(stage)

    def wait_serving(self, stage: str) -> None:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(self.addresses[stage]) as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING

    def kill(self, stage: str) -> None:
        """SIGKILL, as a node failure or the OOM killer does it: no graceful shutdown."""
        process = self.processes.pop(stage)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    @property
    def addresses(self) -> dict[str, str]:
        return {stage: f"127.0.0.1:{port}" for stage, port in self.ports.items()}

    def client_env(self) -> dict[str, str]:
        """What a `gait ... --services external` command needs: the services' addresses, a short reach."""
        return {**self.env, "GAIT_REACH_S": REACH_S,
                **{f"GAIT_{stage.upper()}_ADDR": address for stage, address in self.addresses.items()}}

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def gait_command(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """`gait ARGS` as its own process; stdout and stderr are read by the caller, line by line."""
    return subprocess.Popen([sys.executable, "-m", "gaitcli.main", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def lines_until(stream, marker: str) -> Iterator[str]:
    """The stream's lines up to and including the first that starts with `marker`."""
    for line in stream:
        yield line
        if line.startswith(marker):
            return
    raise AssertionError(f"the output ended before a line starting {marker!r}")


def video_finished(line: str, source: str) -> bool:
    """A `gait batch` line of a video the pipeline finished (a short clip's numbers may be too few
    to stand behind: done-cannot-measure, still finished)."""
    return line.split()[:2] in (["done", source], ["done-cannot-measure", source])


def stage_attempts(store_dir: Path) -> dict[str, set[str]]:
    """For each bundle key with a manifest, its attempt folders: a stage redone would add one."""
    found = {}
    for manifest in store_dir.glob("*/*/manifest.json"):
        key = manifest.parent.relative_to(store_dir).as_posix()
        found[key] = {p.name for p in manifest.parent.iterdir() if p.is_dir()}
    return found


def check_bundles(store) -> list[str]:
    """Read every file of every committed bundle in `store` (checksums verified: each is whole) and
    return the objects under a bundle prefix that no manifest lists (uploads of an attempt that
    never committed: unreadable, as no manifest names them) and, in a local store, its temporary files."""
    from gait.artifacts import MANIFEST, Bundle
    from gait.contracts import VIDEO
    from gait.store.local import LocalStore

    keys = store.list("")
    listed = set()
    for manifest in (k for k in keys if k.endswith(f"/{MANIFEST}") and k.count("/") == 2):
        bundle = Bundle.open(store, manifest.rsplit("/", 1)[0])
        listed.add(manifest)
        for name, entry in bundle.files.items():
            bundle.read_bytes(name)
            listed.add(entry["key"])
    prefixes = tuple(f"{name}/" for name in (VIDEO, *STAGES))
    unlisted = [k for k in keys if k.startswith(prefixes) and k not in listed]
    if isinstance(store, LocalStore):
        unlisted += [p.relative_to(store.root).as_posix() for p in store.root.rglob(".tmp-*")]
    return sorted(unlisted)


@pytest.fixture(scope="module")
def prefect_api() -> Iterator:
    """One Prefect API for the module's `gait` commands (each would otherwise start its own); it
    starts here and comes up while the services start (`wait_ready()` gives its URL)."""
    from flows.runtime import TemporaryPrefectAPI, configure_prefect

    configure_prefect()
    with TemporaryPrefectAPI() as api:
        yield api


def base_env(home: Path, **variables: str) -> dict[str, str]:
    env = {**os.environ, "GAIT_HOME": str(home), "GAIT_NUM_THREADS": "1", **variables}
    for name in [n for n in env if n.startswith("GAIT_") and n.endswith(("_ADDR", "_PORT"))]:
        env.pop(name)
    return env
