"""`gait deploy --work-pool POOL`, the chart's registration job, against a real Prefect API server
(the session's): the pool is created as a process pool, both deployments land on it with module
entrypoints and no pull steps, a second run changes nothing, and an unreachable API is one line."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from gait.config import REPO_ROOT
from gaitcli import main as cli


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def deployments_on(pool: str) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName

    with get_client(sync_client=True) as client:
        found = client.read_deployments(work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])))
        flows = {flow.id: flow.name for flow in client.read_flows()}
        return {"pool": client.read_work_pool(pool),
                "deployments": {f"{flows[d.flow_id]}/{d.name}": d for d in found}}


def test_deploy_registers_both_deployments_on_a_process_pool_idempotently(prefect_api, monkeypatch, capsys):
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    result = subprocess.run([sys.executable, "-m", "gaitcli.main", "deploy", "--work-pool", "hospital"], env=env,
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["gait/full", "gait/batch"]
    assert all(line.endswith("on work pool hospital (process)") for line in lines)

    first = deployments_on("hospital")
    assert first["pool"].type == "process" and first["pool"].base_job_template["job_configuration"]
    deployments = first["deployments"]
    assert set(deployments) == {"gait/full", "gait/batch"}
    assert deployments["gait/full"].entrypoint == "flows.gait_flow.gait_flow"
    assert deployments["gait/batch"].entrypoint == "flows.batch_flow.batch_flow"
    for deployment in deployments.values():
        assert not deployment.pull_steps and deployment.path is None, "the code is in the image, nothing to pull"
        assert deployment.enforce_parameter_schema
    form = deployments["gait/batch"].parameter_openapi_schema["properties"]
    assert {"prefix", "keys", "concurrency", "out_dir"} <= set(form) and form["concurrency"]["minimum"] == 1

    # Again (every helm upgrade runs it): the same deployments, updated in place.
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    assert cli.main(["deploy", "--work-pool", "hospital"]) == 0
    assert capsys.readouterr().out.splitlines() == lines
    again = deployments_on("hospital")["deployments"]
    assert {name: d.id for name, d in again.items()} == {name: d.id for name, d in deployments.items()}


def test_deploy_without_a_reachable_api_is_one_line_and_exit_1(monkeypatch, capsys):
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{closed_port()}/api")
    assert cli.main(["deploy", "--work-pool", "hospital"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gait deploy: error: the Prefect API does not answer") and err.count("\n") == 1
    monkeypatch.delenv("PREFECT_API_URL")
    assert cli.main(["deploy", "--work-pool", "hospital"]) == 2
    assert "PREFECT_API_URL is not set" in capsys.readouterr().err


def test_a_process_worker_runs_gait_batch_from_the_installed_package(prefect_api, monkeypatch, tmp_path):
    """What the chart's worker does: no pull steps, the entrypoint imported from the package, in a
    child process of the worker, in a folder without the code."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    assert cli.main(["deploy", "--work-pool", "worker-test"]) == 0
    run = run_deployment("gait/batch", parameters={"keys": ["archive/missing.mp4"]}, timeout=0)
    worker = subprocess.run([str(Path(sys.executable).with_name("prefect")), "worker", "start", "--pool", "worker-test",
                             "--type", "process", "--run-once"], env={**os.environ}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=180)
    assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run.id).state
    # The batch ran and recorded the missing video as failed (the flow run is Failed for it).
    assert state.is_failed() and "0 done, 0 skipped (already done), 1 failed of 1 videos" in state.message, state
