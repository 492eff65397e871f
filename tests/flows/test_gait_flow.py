"""The `gait` flow against scripted stage services on 127.0.0.1: retries for transient faults only,
the server's message on failure, readiness waits, deadlines, progress events.

Real Prefect flow runs (against the session's temporary API) and real gRPC servers; the stages
answer from a script, so each test costs well under a second once the API is up.
"""
from __future__ import annotations

import threading
import time

import grpc
import pytest

from flows import gait_flow as gf
from flows import progress
from gait.client import StageCallFailed, call_stage
from gait.errors import InvalidInput
from gait.v1 import stages_pb2
from tests.flows.conftest import answer, fail_first, start_scripted_server

TASKS = ("ingest_video", "rotate_video", "estimate_pose_2d", "lift_to_3d", "analyze_gait", "export_outputs")


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch, prefect_api):
    """The flow's own tasks, with their retry policy unchanged but no delay between attempts."""
    from prefect import Task

    tasks = {attribute: task for attribute, task in vars(gf).items() if isinstance(task, Task)}
    assert sorted(task.name for task in tasks.values()) == sorted(TASKS)
    for attribute, task in tasks.items():
        monkeypatch.setattr(gf, attribute, task.with_options(retry_delay_seconds=0))


@pytest.fixture
def events():
    seen: list[progress.StageEvent] = []
    with progress.listening(seen.append):
        yield seen


def test_a_transient_unavailable_is_retried_and_the_run_succeeds(scripted, video_file, events):
    stages = scripted(rotate=fail_first(1, grpc.StatusCode.UNAVAILABLE, answer("rotate"), "draining"))
    keys = gf.gait_flow(video=str(video_file))
    assert stages["rotate"].calls == 2
    assert keys["video"].startswith("video/")
    assert keys == {"video": keys["video"], "rotate": "rotate/fake1", "pose2d": "pose2d/fake0",
                    "lift3d": "lift3d/fake0", "analysis": "analysis/fake0"}
    # The flow passed each step's key on to the next.
    assert stages["rotate"].requests[-1].video_key == keys["video"]
    assert stages["pose2d"].requests[0].video_bundle_key == "rotate/fake1"
    assert stages["lift3d"].requests[0].pose2d_bundle_key == "pose2d/fake0"
    request = stages["analysis"].requests[0]
    assert (request.pose2d_bundle_key, request.lift3d_bundle_key) == ("", "lift3d/fake0")  # a chain: pose2d via lift3d
    assert not request.HasField("cutoff_hz") and not request.HasField("filter_order")
    rotate_events = [(e.status, e.will_retry) for e in events if e.stage == "rotate"]
    assert rotate_events == [("started", False), ("failed", True), ("started", False), ("done", False)]


def _busy_first(times: int, then):
    """A service at its admission limit: RESOURCE_EXHAUSTED with the busy trailer, `times` times."""
    from gait.errors import BUSY_TRAILER

    def script(n: int, context) -> object:
        if n < times:
            context.set_trailing_metadata(((BUSY_TRAILER, "1"),))
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "pose2d: busy")
        return then(n, context)

    return script


def test_a_busy_service_is_asked_again_within_the_call(scripted, video_file, events):
    """Admission refusals are waited out by the client with backoff, in one task attempt (Prefect's
    retries do not multiply the wait)."""
    stages = scripted(pose2d=_busy_first(3, answer("pose2d")))
    assert gf.gait_flow(video=str(video_file))["pose2d"] == "pose2d/fake3"
    assert stages["pose2d"].calls == 4
    assert [e.status for e in events if e.stage == "pose2d"] == ["started", "done"]


def test_a_service_busy_for_longer_than_the_budget_fails_once(scripted, video_file, monkeypatch):
    monkeypatch.setenv("GAIT_BUSY_WAIT_S", "0.5")
    stages = scripted(pose2d=_busy_first(10_000, answer("pose2d")))
    with pytest.raises(StageCallFailed) as failure:
        gf.gait_flow(video=str(video_file))
    assert not failure.value.transient and failure.value.busy
    assert str(failure.value).endswith("(still busy after 0.5 s of asking again; GAIT_BUSY_WAIT_S sets the wait)")
    assert 2 <= stages["pose2d"].calls < 10


def test_resource_exhausted_without_the_busy_trailer_is_not_retried(scripted, video_file):
    """A full disk (StorageFull) is RESOURCE_EXHAUSTED too, but waiting does not free space."""
    message = "no space left on the disk of the store (local:/x)"
    stages = scripted(pose2d=fail_first(99, grpc.StatusCode.RESOURCE_EXHAUSTED, answer("pose2d"), message))
    with pytest.raises(StageCallFailed) as failure:
        gf.gait_flow(video=str(video_file))
    assert stages["pose2d"].calls == 1
    assert str(failure.value) == f"pose2d failed (RESOURCE_EXHAUSTED): {message}"


def test_invalid_argument_fails_at_once_with_the_servers_message(scripted, video_file, events):
    message = "rotation_deg must be 0, 90, 180 or 270 (got 45)"
    stages = scripted(rotate=fail_first(99, grpc.StatusCode.INVALID_ARGUMENT, answer("rotate"), message))
    state = gf.gait_flow(video=str(video_file), rotation_deg=45, return_state=True)
    assert state.is_failed()
    assert stages["rotate"].calls == 1, "INVALID_ARGUMENT must not be retried"
    assert stages["rotate"].requests[0].rotation_deg == 45
    assert stages["pose2d"].calls == 0
    with pytest.raises(StageCallFailed) as failure:
        state.result()
    assert str(failure.value) == f"rotate failed (INVALID_ARGUMENT): {message}"
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in state.message
    assert [e.status for e in events if e.stage == "rotate"] == ["started", "failed"]


@pytest.mark.parametrize("code", [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                                  grpc.StatusCode.DATA_LOSS, grpc.StatusCode.INTERNAL,
                                  grpc.StatusCode.DEADLINE_EXCEEDED])
def test_other_errors_are_not_retried(scripted, video_file, code):
    stages = scripted(lift3d=fail_first(99, code, answer("lift3d"), "no such bundle"))
    with pytest.raises(StageCallFailed, match=f"lift3d failed \\({code.name}\\): no such bundle"):
        gf.gait_flow(video=str(video_file))
    assert stages["lift3d"].calls == 1
    assert stages["analysis"].calls == 0


def test_a_fault_that_persists_fails_after_the_declared_retries(scripted, video_file):
    stages = scripted(analysis=fail_first(99, grpc.StatusCode.UNAVAILABLE, answer("analysis"), "down"))
    with pytest.raises(StageCallFailed, match="analysis failed \\(UNAVAILABLE\\): down"):
        gf.gait_flow(video=str(video_file))
    assert stages["analysis"].calls == 1 + gf.RETRIES


def test_the_client_deadline_is_honoured_and_not_retried(scripted, video_file, monkeypatch):
    monkeypatch.setenv("GAIT_RPC_TIMEOUT_S", "0.3")
    released = threading.Event()

    def slow(n, context):
        released.wait(10)  # far past the deadline; set as soon as the client gave up
        return answer("rotate")(n, context)

    stages = scripted(rotate=slow)
    started = time.monotonic()
    try:
        with pytest.raises(StageCallFailed, match="DEADLINE_EXCEEDED.*GAIT_RPC_TIMEOUT_S"):
            gf.gait_flow(video=str(video_file))
    finally:
        released.set()
    assert time.monotonic() - started < 5, "the flow waited for the server instead of its deadline"
    assert stages["rotate"].calls == 1


def test_a_service_that_is_still_starting_is_waited_for(monkeypatch):
    from flows.runtime import free_port
    from tests.flows.conftest import ScriptedStage

    port = free_port()
    monkeypatch.setenv("GAIT_ROTATE_ADDR", f"127.0.0.1:{port}")
    monkeypatch.setenv("GAIT_RPC_TIMEOUT_S", "10")
    stage = ScriptedStage("rotate", answer("rotate"))
    servers = []
    starter = threading.Timer(0.7, lambda: servers.append(start_scripted_server([stage], port)[0]))
    starter.start()
    try:
        response = call_stage("rotate", "Rotate", stages_pb2.RotateRequest(video_key="video/x"))
    finally:
        starter.join()
        for server in servers:
            server.stop(None)
    assert response.outcome.bundle_key == "rotate/fake0" and stage.calls == 1


def test_parameters_reach_the_services(scripted, video_file):
    stages = scripted()
    gf.gait_flow(video=str(video_file), rotation_deg=90, cutoff_hz=4.5, filter_order=2)
    assert stages["rotate"].requests[0].rotation_deg == 90
    request = stages["analysis"].requests[0]
    assert (request.cutoff_hz, request.filter_order) == (4.5, 2)
    assert stages["pose2d"].requests[0].skip_deidentify is False, "de-identified by default"
    gf.gait_flow(video=str(video_file), deidentify=False)
    assert stages["pose2d"].requests[-1].skip_deidentify is True


def test_an_ingested_key_is_accepted_and_an_unknown_video_is_refused(scripted, video_file, store):
    from gait.ingest import ingest_video

    scripted()
    key = ingest_video(store, video_file).key
    assert gf.gait_flow(video=key)["video"] == key
    secret = "/clinic/Jane_Doe_1961.mp4"
    state = gf.gait_flow(video=secret, return_state=True)
    assert state.is_failed()
    with pytest.raises(InvalidInput) as failure:
        state.result()
    assert "Jane_Doe" not in str(failure.value) and "Jane_Doe" not in (state.message or "")


def test_a_broken_listener_does_not_fail_the_run(scripted, video_file):
    scripted()

    def broken(event):
        raise RuntimeError("display went away")

    with progress.listening(broken):
        assert gf.gait_flow(video=str(video_file))["analysis"] == "analysis/fake0"


def test_progress_lines():
    done = progress.StageEvent("rotate", progress.DONE, bundle_key="rotate/k", cached=True, seconds=1.23,
                               summary={"frames": 230, "fps": 29.97})
    assert done.line() == "rotate done (cached) 1.2 s, frames 230, fps 30"
    failed = progress.StageEvent("pose2d", progress.FAILED, message="draining", code="UNAVAILABLE", will_retry=True)
    assert failed.line() == "pose2d failed (UNAVAILABLE), will retry: draining"


def test_a_service_that_is_not_running_is_named_within_the_reach_budget(scripted, video_file, monkeypatch):
    """Nothing listens at pose2d's address (a killed pod): the call waits GAIT_REACH_S for a
    connection, then the run ends with the stage and its address named as unreachable, and
    Prefect does not retry it (the waiting is done: retries and the client's wait do not multiply)."""
    from flows.runtime import free_port

    scripted()
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("GAIT_POSE2D_ADDR", address)
    monkeypatch.setenv("GAIT_REACH_S", "1.5")
    started = time.monotonic()
    with pytest.raises(StageCallFailed) as failure:
        gf.gait_flow(video=str(video_file))
    assert time.monotonic() - started < 1.5 + min(gf.RETRY_DELAYS_S) + 3
    assert failure.value.unreachable and not failure.value.transient
    assert str(failure.value).startswith(f"pose2d failed (UNAVAILABLE): the pose2d service at {address} cannot be "
                                         "reached: no connection within 1.5 s")
