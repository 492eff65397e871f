"""`gait health`, the command the chart's probes-from-outside, registration job and helm tests run.

Against the real stage servers on loopback (local store) and Prefect's temporary API server:
SERVING, a wrong service name, a closed port, a draining server, the Prefect API's readiness,
and the `gait-smoke` flow passing, failing on a dead service, and failing on a work pool that no
worker polls.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from argparse import Namespace

import pytest

from gait.contracts import STAGES
from gait.rpc import stop_gracefully
from gaitcli import health
from gaitcli.launcher import LocalServices


@pytest.fixture(scope="module")
def services():
    with LocalServices() as running:
        yield running


@pytest.fixture(scope="module")
def prefect_url():
    from flows.runtime import TemporaryPrefectAPI, configure_prefect, drain_prefect_workers

    configure_prefect()
    with TemporaryPrefectAPI() as api:
        url = api.wait_ready()
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
            drain_prefect_workers()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def args(**kw) -> Namespace:
    base = dict(address=None, service="", prefect=False, flow=False, work_pool=None, timeout=5.0, wait=0.0)
    return Namespace(**{**base, **kw})


def test_cli_exits_0_on_serving_with_one_line(services):
    address = services.addresses["rotate"]
    result = subprocess.run([sys.executable, "-m", "gaitcli.main", "health", address, "--service", "gait.v1.RotateService"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{address} gait.v1.RotateService: SERVING\n"


def test_each_stage_serves_its_own_service_name(services, capsys):
    names = {"rotate": "RotateService", "pose2d": "Pose2DService", "lift3d": "Lift3DService", "analysis": "AnalysisService"}
    for stage in STAGES:
        assert health.main(args(address=services.addresses[stage], service=f"gait.v1.{names[stage]}")) == 0
    # another stage's name at this address: the health service does not know it
    assert health.main(args(address=services.addresses["rotate"], service="gait.v1.Pose2DService")) == 1
    assert "NOT_FOUND" in capsys.readouterr().out.splitlines()[-1]


def test_closed_port_is_unhealthy_and_wait_retries(capsys):
    address = f"127.0.0.1:{closed_port()}"
    assert health.main(args(address=address, timeout=1.0, wait=3.0)) == 1
    line = capsys.readouterr().out
    assert line.startswith(f"{address} (server): UNAVAILABLE") and line.count("\n") == 1


def test_a_draining_server_is_not_serving(capsys):
    with LocalServices(stages=("lift3d",)) as one:
        server = one.servers["lift3d"]
        server.health_servicer.enter_graceful_shutdown()
        assert health.main(args(address=one.addresses["lift3d"])) == 1
        assert capsys.readouterr().out.strip().endswith(": NOT_SERVING")
        stop_gracefully(server, 0)


def test_usage_errors_exit_2(capsys):
    assert health.main(args()) == 2
    assert health.main(args(address="127.0.0.1:1", flow=True)) == 2
    env = dict(os.environ, PREFECT_API_URL="")
    result = subprocess.run([sys.executable, "-m", "gaitcli.main", "health", "--prefect"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 2 and "PREFECT_API_URL" in result.stderr


def test_prefect_readiness(prefect_url, monkeypatch, capsys):
    monkeypatch.setenv("PREFECT_API_URL", prefect_url)
    assert health.main(args(prefect=True)) == 0
    assert "ready (HTTP 200)" in capsys.readouterr().out
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{closed_port()}/api")
    assert health.main(args(prefect=True, timeout=1.0)) == 1


def test_smoke_flow_passes_on_a_healthy_stack(services, prefect_url, monkeypatch, capsys):
    for name, value in services.environment().items():
        monkeypatch.setenv(name, value)
    assert health.main(args(flow=True)) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("gait-smoke passed: store ") and out.count("SERVING") == len(STAGES)
    from gait.store import open_store

    assert open_store().list("smoke/") == [], "the round trip leaves nothing behind"


def test_smoke_flow_fails_on_a_dead_service(services, prefect_url, monkeypatch, capsys):
    for name, value in services.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GAIT_ANALYSIS_ADDR", f"127.0.0.1:{closed_port()}")
    assert health.main(args(flow=True)) == 1
    assert capsys.readouterr().out.startswith("gait-smoke failed: analysis: ")


def test_smoke_flow_fails_on_a_pool_without_worker(services, prefect_url, monkeypatch, capsys):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    for name, value in services.environment().items():
        monkeypatch.setenv(name, value)
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="smoke-no-worker", type="process"))
    assert health.main(args(flow=True, work_pool="smoke-no-worker")) == 1
    assert "no worker is polling it" in capsys.readouterr().out
