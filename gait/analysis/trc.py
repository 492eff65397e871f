"""Writing OpenSim TRC files (the format `readers.read_trc` reads)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_trc(path: Path, positions: dict[str, np.ndarray], rate_hz: float, units: str = "m") -> None:
    """Markers as named, one X/Y/Z triple each; NaN (missing) written as empty fields."""
    names = list(positions)
    frames = len(positions[names[0]])
    header = [
        f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate_hz:g}\t{rate_hz:g}\t{frames}\t{len(names)}\t{units}\t{rate_hz:g}\t1\t{frames}",
        "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(names) + 1)),
        "",
    ]
    data = np.concatenate([positions[n] for n in names], axis=1)
    rows = []
    for frame in range(frames):
        values = "\t".join("" if not np.isfinite(v) else f"{v:.6f}" for v in data[frame])
        rows.append(f"{frame + 1}\t{frame / rate_hz:.6f}\t{values}")
    Path(path).write_text("\n".join(header + rows) + "\n")
