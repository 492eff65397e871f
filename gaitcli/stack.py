"""`gait stack`: the local stack behind `prefect deployment run gait/full -p video=...`.

It brings up, in order: a Prefect server on 127.0.0.1 (`prefect server start`, its database under
$GAIT_HOME/prefect; or the one PREFECT_API_URL names, when that answers), the four stage services
in this process, and the served `gait/full` and `gait/batch` deployments. It runs until Ctrl-C or SIGTERM, then
stops them in the reverse order: the runner (in-flight runs are cancelled), the services, the
server it started.

    python -m gaitcli.stack [--port 4200]
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from flows.runtime import api_is_healthy, configure_prefect, spawn, stop_process, wait_until_healthy

log = logging.getLogger(__name__)

SERVER_STARTUP_TIMEOUT_S = 120.0  # a fresh database runs all of Prefect's migrations first
# How often the runner asks the server for runs to start (Prefect's default is 10 s): a run made
# with `prefect deployment run` starts within this many seconds.
RUNNER_POLL_S = "2"


class _Stop(Exception):
    """SIGTERM while the stack starts: unwind (and stop what already runs) like Ctrl-C."""


def _raise_stop(signum, frame) -> None:
    raise _Stop()


def start_prefect_server(port: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    """`prefect server start` on 127.0.0.1:`port` in its own session; returns it and its API URL
    once /api/health answers. Its output goes to `log_path`."""
    api_url = f"http://127.0.0.1:{port}/api"
    if api_is_healthy(api_url, timeout_s=1.0):
        raise RuntimeError(f"a Prefect server already answers on port {port}: "
                           f"export PREFECT_API_URL={api_url} to use it, or pick another --port")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    prefect = Path(sys.executable).with_name("prefect")
    command = [str(prefect)] if prefect.exists() else [sys.executable, "-m", "prefect"]
    with open(log_path, "ab") as output:
        process = spawn(
            [*command, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"],
            env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the server last, ourselves
        )
    try:
        wait_until_healthy(api_url, SERVER_STARTUP_TIMEOUT_S, process)
    except BaseException:
        stop_process(process)
        raise
    return process, api_url


def run_stack(port: int = 4200, limit: int | None = None) -> int:
    """Bring the stack up and serve `gait/full` and `gait/batch` until Ctrl-C/SIGTERM. Returns 0, or 1 when the
    stack could not start (the log says why)."""
    from gait.logs import configure_logging

    if not any(getattr(handler, "_gait", False) for handler in logging.getLogger().handlers):
        configure_logging()  # the lines below are what the user needs to see
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", RUNNER_POLL_S)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per API request otherwise
    configure_prefect()
    previous_sigterm = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        with ExitStack() as stack:
            api_url = os.environ.get("PREFECT_API_URL", "").strip()
            if api_url and api_is_healthy(api_url):
                log.info("using the Prefect server PREFECT_API_URL names", extra={"api": api_url})
            else:
                if api_url:
                    log.warning("PREFECT_API_URL does not answer; starting a local Prefect server",
                                extra={"api": api_url})
                from flows import local_server

                if local_server.stop():  # one SQLite database, one server writing it
                    log.info("stopped the background Prefect server of gait run/batch; the stack's serves them now")
                server_log = Path(os.environ["PREFECT_HOME"]) / "server.log"
                log.info("starting the Prefect server", extra={"port": port, "log": str(server_log)})
                server, api_url = start_prefect_server(port, server_log)
                stack.callback(stop_process, server, 10.0)
            os.environ["PREFECT_API_URL"] = api_url
            configure_prefect()  # Prefect re-reads its settings: the runner and its runs use this API

            from gaitcli.launcher import LocalServices

            services = stack.enter_context(LocalServices())
            os.environ.update(services.environment())  # the flow runs (child processes) inherit these
            log.info("stage services up", extra={"addresses": services.addresses})

            ui = api_url[: -len("/api")] if api_url.endswith("/api") else api_url
            log.info(f"Prefect UI: {ui}")
            log.info(f"in another terminal: export PREFECT_API_URL={api_url}")
            log.info("then: prefect deployment run gait/full -p video=/path/to/video.mp4 --watch")
            log.info("serving gait/full and gait/batch until Ctrl-C")

            from flows.deployments import serve_deployments

            serve_deployments(limit=limit)  # installs its own SIGTERM handler; returns on SIGTERM/Ctrl-C
            log.info("stopping the stack")
        log.info("stack stopped")
        return 0
    except (KeyboardInterrupt, _Stop):
        log.info("stack stopped before it was up")
        return 0
    except Exception as exc:
        log.error("the stack could not start: %s", exc)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gaitcli.stack", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4200, help="Prefect server port (default 4200)")
    parser.add_argument("--limit", type=int, default=None, help="most flow runs at once (default: no cap)")
    args = parser.parse_args(argv)
    return run_stack(port=args.port, limit=args.limit)


if __name__ == "__main__":
    sys.exit(main())
