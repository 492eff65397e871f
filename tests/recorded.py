"""Reading the recorded fixtures under tests/fixtures/ (upstream outputs, weight layouts)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz recording, loaded."""
    with np.load(path) as data:
        return {name: data[name] for name in data.files}
