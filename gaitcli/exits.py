"""The command line's exit codes and its one-line error."""
from __future__ import annotations

import sys

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
