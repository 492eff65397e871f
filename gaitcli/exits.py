"""The command line's exit codes and its one-line error."""
from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def fail(message: str, code: int) -> int:
    """Print `gait: error: MESSAGE` on stderr and return `code` (the command's exit code)."""
    print(f"gait: error: {message}", file=sys.stderr)
    return code
