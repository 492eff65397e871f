"""A stage's service SIGKILLed while a run or a batch is in progress (real processes: the four
`python -m services.STAGE` and `gait run|batch --services external`).

The run or batch ends naming the stage as unreachable, within seconds (GAIT_REACH_S is 2 s
here); once the service is back, the same command completes, the stages that had finished are
not redone (no new attempt under any committed bundle), and every committed bundle reads whole.
The kill lands as the run reaches the stage (when the previous step's line is printed): during
its call, or just before it, which the run cannot tell apart from a pod killed a moment earlier.
"""
from __future__ import annotations

import time

import pytest

from gait.contracts import INGEST, STAGES, STEPS
from gait.store.local import LocalStore
from tests.faults.conftest import (ServiceStack, base_env, check_bundles, gait_command, lines_until, stage_attempts,
                                   variant, video_finished)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, prefect_api):
    """The four services on one local store, and the API the commands report to."""
    home = tmp_path_factory.mktemp("faults-home")
    services = ServiceStack(base_env(home))
    services.start()
    services.env["PREFECT_API_URL"] = prefect_api.wait_ready()
    yield services, home / "store"
    services.stop()


def _unreachable(stage: str, address: str) -> str:
    return (f"gait: error: {stage} failed (UNAVAILABLE): the {stage} service at {address} cannot be reached: no "
            "connection within 2 s, so it is not running or not reachable from here (GAIT_REACH_S sets the wait)")


@pytest.mark.parametrize("stage", STAGES)
def test_a_run_survives_its_stage_killed_and_completes_once_it_is_back(stage, stack, clip, tmp_path):
    services, store_dir = stack
    clip = variant(clip, tmp_path / f"{stage}.mp4", f"killed {stage}")
    env = services.client_env()
    before = STEPS[STEPS.index(stage) - 1]  # ingest for rotate
    run = gait_command("run", str(clip), "--out", str(tmp_path / "first"), "--services", "external", env=env)
    seen = list(lines_until(run.stderr, f"[{STEPS.index(before) + 1}/6] {before} done"))
    services.kill(stage)
    _, rest = run.communicate(timeout=120)
    assert run.returncode == 1, "".join(seen) + rest
    assert rest.strip().splitlines()[-1] == _unreachable(stage, services.addresses[stage])
    assert "Traceback" not in rest
    finished = stage_attempts(store_dir)

    services.start(stage)
    again = gait_command("run", str(clip), "--out", str(tmp_path / "again"), "--services", "external", env=env)
    _, err = again.communicate(timeout=180)
    assert again.returncode == 0, err
    for step in STEPS[:STEPS.index(stage)]:
        if step != INGEST:  # the CLI ingests before the flow run (its line says whether it was cached)
            assert f"] {step} done (cached)" in err, err
    for step in STEPS[STEPS.index(stage):-1]:
        assert f"] {step} done (cached)" not in err and f"] {step} done" in err, err
    after = stage_attempts(store_dir)
    assert {key: after[key] for key in finished} == finished, "a finished stage was redone"
    assert (tmp_path / "again" / "analysis" / "analysis.json").is_file()
    assert check_bundles(LocalStore(store_dir)) == []


@pytest.mark.parametrize("stage", STAGES)
def test_a_batch_survives_a_killed_stage_and_a_rerun_does_only_the_rest(stack, clip, tmp_path, stage):
    services, store_dir = stack
    store = LocalStore(store_dir)
    prefix = f"archive-kill-{stage}"
    for name in ("a", "b"):
        store.put_file(f"{prefix}/{name}.mp4", variant(clip, tmp_path / f"{name}.mp4", f"batch {name} {stage}"))
    env = services.client_env()
    args = ("batch", f"{prefix}/", "--concurrency", "1", "--services", "external")
    done = store_dir / "batches" / "done"
    records_before = len(list(done.glob("*.json")))
    batch = gait_command(*args, env=env)
    while len(list(done.glob("*.json"))) == records_before:  # a's record: b is next, the stage goes now
        assert batch.poll() is None, batch.communicate()
        time.sleep(0.02)
    services.kill(stage)
    out, err = batch.communicate(timeout=120)
    assert batch.returncode == 1, out + err
    rows = out.splitlines()
    assert video_finished(rows[0], f"{prefix}/a.mp4"), out
    address = services.addresses[stage]
    assert rows[1] == f"failed                {prefix}/b.mp4  " + _unreachable(stage, address).removeprefix(
        "gait: error: "), out
    finished = stage_attempts(store_dir)

    services.start(stage)
    again = gait_command(*args, env=env)
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, out + err
    rows = out.splitlines()
    assert rows[0].startswith(f"skipped-already-done  {prefix}/a.mp4  "), out
    assert video_finished(rows[1], f"{prefix}/b.mp4"), out
    after = stage_attempts(store_dir)
    assert {key: after[key] for key in finished} == finished, "a finished stage was redone"
    assert check_bundles(LocalStore(store_dir)) == []
