"""The contract each reader's fuzz target checks, and its libFuzzer entry point (atheris).

For any input bytes a reader returns a valid result or raises the project's error (the GaitError
family, one readable line). Anything else is a crash that libFuzzer saves: another exception
(IndexError, UnicodeDecodeError, struct.error, a ValueError escaping), a result that breaks its
type's invariants, a case that runs past libFuzzer's -timeout, or one that needs more than
ADDRESS_SPACE_BYTES (an allocation beyond it raises MemoryError here)."""
from __future__ import annotations

import os
import resource
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import atheris

from gait.errors import GaitError

ADDRESS_SPACE_BYTES = 3 * 2**30  # the imports (NumPy, pandas, OpenCV) take about 0.8 GiB of it
SCRATCH_VARIABLE = "GAIT_FUZZ_SCRATCH"  # the folder the input file is written to (tests.fuzz.run sets it)


def instrumented() -> AbstractContextManager:
    """Imports inside this block get coverage feedback: the project and the C3D library (both
    Python); NumPy, pandas and OpenCV are compiled code that atheris does not see into."""
    return atheris.instrument_imports(include=["gait", "c3d"])


def check_error(error: GaitError) -> None:
    message = str(error)
    if not message.strip() or "\n" in message:
        raise AssertionError(f"{type(error).__name__} is not one readable line: {message!r}")


def run_once(read: Callable[[Path], None], path: Path, data: bytes) -> None:
    """One case: the bytes as the file at `path`, read; a GaitError is the reader's answer."""
    path.write_bytes(data)
    try:
        read(path)
    except GaitError as error:
        check_error(error)


def fuzz(read: Callable[[Path], None], suffix: str) -> None:
    """libFuzzer's main loop over `read` (its options and corpus folders from the command line)."""
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))
    scratch = Path(os.environ.get(SCRATCH_VARIABLE) or tempfile.mkdtemp(prefix="gait-fuzz-"))
    path = scratch / f"input{suffix}"
    atheris.Setup(sys.argv, lambda data: run_once(read, path, data))
    atheris.Fuzz()
