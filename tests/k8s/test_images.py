"""The gait images, built and run: `make images` (offline: docker/build.py --offline), then the
four stage containers as the chart runs them, and a real `gait/full` flow run through them.

Skipped where no Docker engine answers (`docker` absent or `docker info` failing: CI has none).
The first build takes minutes (docs/images.md); Docker's layer cache makes a rebuild take seconds.

The stage containers run as uid 10001 on a read-only root, with tmpfs on /home/gait and /tmp (the
chart's emptyDirs), no capabilities, on the host's network, each serving on a 127.0.0.1 port of
this test's choosing (GAIT_<STAGE>_HOST/PORT: no `gait serve`, the image's entrypoint reads them).
They share one store folder with this process (bind-mounted, writable by uid 10001). The flow
run happens here, against Prefect's temporary API, with GAIT_<STAGE>_ADDR pointing at the
containers; its outputs must equal those of an in-process run (`gait run`'s code path,
gaitcli.local.run_local) into a store of its own: the same bundle keys where they are
reproducible (video, rotate, pose2d: derived from the code's stage versions, the inputs' digests
and the settings), the same analysis.json, and byte-identical files (but for the documents that
embed their creation time). The video is ingested by a container as uid 10001 (the store's
objects are owner-only), so this process must be root or uid 10001 to read the results.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from gait.config import REPO_ROOT
from gait.contracts import STAGES
from tests.flows.conftest import prefect_api  # noqa: F401  (the fixture: Prefect's temporary API)

BUILD_TIMEOUT_S = 3600  # a first offline build on two cores: ~10 minutes (docs/images.md)
READY_TIMEOUT_S = 90
# files that embed their creation time (workbooks, SVG ids, the report): compared by name only
DOCUMENTS = (".xlsx", ".svg", ".html", ".pdf")


def _docker_unavailable() -> str | None:
    """Why no image can be built here, or None."""
    if shutil.which("docker") is None:
        return "docker is not installed"
    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                              timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker info` did not answer: {exc}"
    if info.returncode != 0:
        return f"no Docker engine answers `docker info`: {(info.stderr or info.stdout).strip().splitlines()[-1:]}"
    return None


REASON = _docker_unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no Docker engine: {REASON}")
# The store's objects are owner-only (0600: patient data). The containers write as uid 10001;
# this process reads their bundles (the flow's export), which takes root or uid 10001.
READS_UID_10001 = os.geteuid() in (0, 10001)


def _build_module():
    spec = importlib.util.spec_from_file_location("gait_docker_build", REPO_ROOT / "docker" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    """image -> name:tag, built (or found up to date in Docker's cache) by `make images`."""
    build = _build_module()
    result = subprocess.run(["make", "images"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert result.returncode == 0, f"make images failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    tag = build.version()
    names = {image: f"gait-{image}:{tag}" for image in build.IMAGES}
    for name in names.values():
        docker("image", "inspect", name)
    return names


def test_each_image_holds_its_own_code_only(images):
    """gait/ everywhere; a stage image its own service (no other, no flows, no command line);
    the flows image flows/ and gaitcli/ (`gait`) and no service."""
    probe = ("import importlib.util, shutil; "
             "print(' '.join(m for m in ('gait', 'gait.analysis', 'services.rotate', 'services.pose2d', "
             "'services.lift3d', 'services.analysis', 'flows', 'gaitcli') if importlib.util.find_spec(m.split('.')[0]) "
             "and (m.count('.') == 0 or importlib.util.find_spec(m))), bool(shutil.which('gait')))")
    for image, name in images.items():
        result = docker("run", "--rm", "--network", "none", "--read-only", "--entrypoint", "python", name, "-c", probe)
        *modules, has_cli = result.stdout.split()
        expected = ["gait", "gait.analysis"] + ([f"services.{image}"] if image in STAGES else ["flows", "gaitcli"])
        assert modules == expected, (image, modules)
        assert has_cli == str(image == "flows"), (image, "gait command line")
        config = json.loads(docker("image", "inspect", name).stdout)[0]["Config"]
        assert config["User"] == "10001:10001", image
        if image in STAGES:
            assert config["Entrypoint"] == ["python", "-m", f"services.{image}"], image


@pytest.fixture
def stage_containers(images, tmp_path):
    """The four stage containers on 127.0.0.1, sharing `store` with this process; removed after."""
    from flows.runtime import free_port
    from gait.health import check_grpc, waiting

    store = tmp_path / "store"
    store.mkdir()
    store.chmod(0o777)  # uid 10001 writes its bundles here; this process ingests the video
    if os.geteuid() == 0:
        os.chown(store, 10001, 10001)
    started: dict[str, str] = {}
    addresses: dict[str, str] = {}
    suffix = uuid.uuid4().hex[:8]
    try:
        for stage in STAGES:
            port = free_port()
            name = f"gait-test-{stage}-{suffix}"
            docker("run", "--detach", "--name", name, "--network", "host", "--user", "10001:10001", "--read-only",
                   "--tmpfs", "/tmp", "--tmpfs", "/home/gait", "--cap-drop", "ALL",
                   "--security-opt", "no-new-privileges",
                   "--volume", f"{store}:{store}", "--env", "GAIT_STORE=local", "--env", f"GAIT_STORE_DIR={store}",
                   "--env", f"GAIT_{stage.upper()}_HOST=127.0.0.1", "--env", f"GAIT_{stage.upper()}_PORT={port}",
                   images[stage])
            started[stage] = name
            addresses[stage] = f"127.0.0.1:{port}"
        for stage, address in addresses.items():
            ok, line = waiting(lambda: check_grpc(address), READY_TIMEOUT_S, interval_s=0.5)
            logs = docker("logs", started[stage], check=False)
            assert ok, f"{stage} container not serving: {line}\n{logs.stdout[-2000:]}{logs.stderr[-2000:]}"
        yield store, addresses, started
    finally:
        for name in started.values():
            docker("rm", "--force", name, check=False)


def _logs(containers: dict[str, str]) -> str:
    out = []
    for stage, name in containers.items():
        result = docker("logs", "--tail", "40", name, check=False)
        out.append(f"--- {stage} ({name})\n{result.stdout}{result.stderr}")
    return "\n".join(out)


def _ingest_as_uid_10001(image: str, store: Path, video: Path) -> str:
    """Ingest `video` into the shared store in a container as uid 10001, so that the stage
    containers may read it (the store writes owner-only files); its key."""
    script = ("import sys; from pathlib import Path; from gait.ingest import ingest_video; "
              "from gait.store import open_store; print(ingest_video(open_store(), Path(sys.argv[1])).key)")
    result = docker("run", "--rm", "--network", "none", "--user", "10001:10001", "--read-only", "--tmpfs", "/tmp",
                    "--tmpfs", "/home/gait", "--volume", f"{store}:{store}", "--volume", f"{video}:/input/{video.name}:ro",
                    "--env", "GAIT_STORE=local", "--env", f"GAIT_STORE_DIR={store}", "--entrypoint", "python", image,
                    "-c", script, f"/input/{video.name}")
    return result.stdout.strip().splitlines()[-1]


def _analysis(out_dir: Path) -> dict:
    return json.loads((out_dir / "analysis" / "analysis.json").read_text())


def _what_was_done(audit_trail: list[dict]) -> list[dict]:
    """The audit trail less who made each step and when (the containers' account is the image's)."""
    return [{k: v for k, v in record.items() if k not in ("provenance", "created_utc")} for record in audit_trail]


@pytest.mark.skipif(not READS_UID_10001, reason="reading the containers' owner-only store objects (uid 10001) "
                                                  "takes root or uid 10001")
def test_the_full_chain_through_the_containers_equals_an_in_process_run(images, stage_containers, prefect_api,  # noqa: F811
                                                                         demo_clip, tmp_path, monkeypatch):
    store, addresses, containers = stage_containers
    from flows.gait_flow import gait_flow

    monkeypatch.setenv("GAIT_STORE", "local")
    monkeypatch.setenv("GAIT_STORE_DIR", str(store))
    for stage, address in addresses.items():
        monkeypatch.setenv(f"GAIT_{stage.upper()}_ADDR", address)
    video_key = _ingest_as_uid_10001(images["rotate"], store, demo_clip)
    state = gait_flow(video=video_key, out_dir=str(tmp_path / "containers"), return_state=True)
    assert state.is_completed(), f"{state.message}\n{_logs(containers)}"
    keys = state.result()
    assert keys["video"] == video_key
    # the stages' bundles were written by the containers' uid 10001 into the shared folder
    written = [p for stage in STAGES for p in (store / keys[stage]).rglob("*") if p.is_file()]
    assert written and {p.stat().st_uid for p in written} == {10001}

    # the same chain in this process (`gait run`), into a store of its own
    from gaitcli.local import run_local

    for stage in STAGES:
        monkeypatch.delenv(f"GAIT_{stage.upper()}_ADDR")
    monkeypatch.setenv("GAIT_STORE_DIR", str(tmp_path / "reference-store"))
    reference = run_local(demo_clip, out_dir=tmp_path / "in-process", prefect_console=False)

    assert sorted(keys) == sorted(reference) == ["analysis", "lift3d", "pose2d", "rotate", "video"]
    # every bundle is deterministic (workbooks included), so every key is the same
    assert keys == reference
    ours, theirs = _analysis(tmp_path / "containers"), _analysis(tmp_path / "in-process")
    trails = ours.pop("audit_trail"), theirs.pop("audit_trail")
    assert ours == theirs, sorted(k for k in ours if ours[k] != theirs.get(k))
    assert _what_was_done(trails[0]) == _what_was_done(trails[1])
    made_by = [record["provenance"]["made_by"]["account"] for record in trails[0]]
    assert made_by[1:-1] == ["gait"] * 3, made_by  # rotate, pose2d, lift3d: the containers' user (uid 10001)
    assert ours["spatiotemporal_parameters"]["stride_time_s"]["n"] > 0
    for stage in STAGES:
        files = {run: json.loads((tmp_path / run / "manifests" / f"{stage}.json").read_text())["files"]
                 for run in ("containers", "in-process")}
        assert sorted(files["containers"]) == sorted(files["in-process"]), stage
        for name, entry in files["containers"].items():
            if Path(name).suffix in DOCUMENTS or name == "analysis.json":  # the latter compared above
                continue
            assert entry["sha256"] == files["in-process"][name]["sha256"], f"{stage}/{name} differs"
    for stage, name in containers.items():
        assert docker("inspect", "--format", "{{.State.Running}}", name).stdout.strip() == "true", stage
