"""Reading the recorded fixtures under tests/fixtures/ (upstream outputs, weight layouts), and the
pytest fixtures that hand them to the tests: `name = recorded_json(path)` in a conftest or test
module makes a fixture called `name`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import pytest


def arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz recording, loaded."""
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def recorded_json(path: Path, scope: Literal["session", "module"] = "session") -> Callable[[], Any]:
    """A fixture giving the JSON document at `path`, read once per `scope`."""
    @pytest.fixture(scope=scope)
    def document() -> Any:
        return json.loads(path.read_text())
    return document


def recorded_arrays(path: Path, scope: Literal["session", "module"] = "session") -> Callable[[], dict[str, np.ndarray]]:
    """A fixture giving every array of the .npz recording at `path`, loaded once per `scope`."""
    @pytest.fixture(scope=scope)
    def recording() -> dict[str, np.ndarray]:
        return arrays(path)
    return recording
