"""End to end, as a user runs it: `python -m gaitcli.stack` (a Prefect server, the four services and
the served `gait/full`), then the real `prefect deployment run gait/full -p video=... --watch`.

Costs ~25-35 s: the server's first start on a fresh database (migrations, ~8 s), the runner's
poll (<= 2 s), the flow run's process start (~2 s), the pipeline on the 3 s clip (~5 s), shutdown.
Everything it starts is stopped at the end, also when it fails.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from flows.runtime import api_is_healthy, free_port, spawn
from gait.config import REPO_ROOT, StoreConfig
from gait.contracts import STAGES

STARTUP_TIMEOUT_S = 180


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _post_json(url: str, body: dict) -> object:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "GAIT_")) or k in ("GAIT_NUM_THREADS",)}
    env["GAIT_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return env


@pytest.fixture
def stack(tmp_path):
    """The stack in a child process, with its own GAIT_HOME (store and Prefect database)."""
    home, port = tmp_path / "home", free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = tmp_path / "stack.log"
    with open(log_path, "wb") as log:
        # spawn: should this test process die, the stack gets SIGTERM and stops what it started.
        process = spawn([sys.executable, "-m", "gaitcli.stack", "--port", str(port)], cwd=REPO_ROOT,
                        env=_clean_env(home), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while _get(f"{api_url}/deployments/name/gait/full") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the stack did not come up (exit {process.poll()}):\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"api_url": api_url, "home": home, "process": process, "log": log_path}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    # Everything it started is gone: its Prefect server no longer answers.
    assert not api_is_healthy(api_url, timeout_s=1.0), "the stack left its Prefect server running"


def test_prefect_deployment_run_gait_full(stack, short_clip, tmp_path):
    env = {**_clean_env(tmp_path / "cli-home"), "PREFECT_API_URL": stack["api_url"],
           "PREFECT_HOME": str(tmp_path / "cli-prefect")}
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("prefect")), "deployment", "run", "gait/full",
         "-p", f"video={short_clip}", "--watch", "--watch-timeout", "240"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    log = stack["log"].read_text()
    assert result.returncode == 0, f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}\n--- stack log ---\n{log[-4000:]}"
    assert "Completed" in result.stdout
    seconds = time.monotonic() - started

    # The run's table artifact names the five bundles; each is complete in the stack's store.
    artifacts = _post_json(f"{stack['api_url']}/artifacts/filter",
                           {"artifacts": {"key": {"any_": ["gait-outputs"]}}})
    assert len(artifacts) == 1, artifacts
    rows = artifacts[0]["data"]
    rows = json.loads(rows) if isinstance(rows, str) else rows
    keys = {row["step"]: row["bundle_key"] for row in rows}
    assert set(keys) == {"video", *STAGES}

    from gait.artifacts import Bundle
    from gait.store import open_store

    store = open_store(StoreConfig(local_dir=stack["home"] / "store"))
    for stage in STAGES:
        assert keys[stage].startswith(f"{stage}/")
        bundle = Bundle.open(store, keys[stage], expected_stage=stage)
        assert bundle.files, stage
    assert Bundle.open(store, keys["pose2d"]).read_npy("keypoints2d.npy").shape[0] == 90
    print(f"deployment run took {seconds:.1f} s")

    # SIGTERM stops the stack cleanly (the fixture then checks that its server is gone).
    stack["process"].send_signal(signal.SIGTERM)
    assert stack["process"].wait(timeout=60) == 0
    assert "stack stopped" in stack["log"].read_text()
