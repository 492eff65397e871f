"""The command line's exit codes and its one-line error."""
from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from typing import NoReturn

from gait.client import StageCallFailed

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# a stage refused what the user gave or must set up (a bad file or option, a missing model): usage
USAGE_CODES = frozenset({"INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION"})


def fail(message: str, code: int) -> int:
    """Print `gait: error: MESSAGE` on stderr and return `code` (the command's exit code)."""
    print(f"gait: error: {message}", file=sys.stderr)
    return code


def exit_code(error: StageCallFailed) -> int:
    """The one status-to-exit-code map of the command line."""
    return EXIT_USAGE if error.code_name in USAGE_CODES else EXIT_FAILED


def exit_without_teardown(code: int) -> NoReturn:
    """End the process as the interpreter would, less its module teardown.

    After a pipeline run, freeing every module (gRPC, TFLite, Prefect, matplotlib ...) took
    0.9-1.0 s of the command's wall time (the demo, four runs), for nothing the command still
    needs. Everything an exit owes is done first, in the interpreter's own order and with its
    own (CPython's) functions: the threads' exit hooks and the wait for non-daemon threads
    (`threading._shutdown`, which also ends idle executor workers), the atexit handlers
    (logging's flush among them), then unreachable objects are collected (their files closed)
    and stdout and stderr flushed."""
    threading._shutdown()
    atexit._run_exitfuncs()
    gc.collect()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            pass
    os._exit(code)
