"""Keypoint arrays as tables (one row per frame) and Excel workbooks of them."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd


def keypoint_table(points: np.ndarray, joint_names: Sequence[str], channels: Sequence[str], fps: float) -> pd.DataFrame:
    """(frames, joints, channels) -> columns frame, time_s, <joint>_<channel>...; NaN stays empty."""
    frames, joints, depth = points.shape
    if joints != len(joint_names) or depth != len(channels):
        raise ValueError(f"array of shape {points.shape} does not match {len(joint_names)} joints x {len(channels)} channels")
    columns = [f"{joint}_{channel}" for joint in joint_names for channel in channels]
    table = pd.DataFrame(points.reshape(frames, joints * depth), columns=columns)
    table.insert(0, "time_s", np.arange(frames) / fps)
    table.insert(0, "frame", np.arange(frames))
    return table


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame], notes: Mapping[str, object]) -> None:
    """One sheet per table plus a 'about' sheet saying what the numbers are (units, axes, source)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            table.to_excel(writer, sheet_name=name[:31], index=False, float_format="%.6g")
        about = pd.DataFrame({"field": list(notes), "value": [str(v) for v in notes.values()]})
        about.to_excel(writer, sheet_name="about", index=False)
    _same_bytes_for_same_content(path)


# openpyxl stamps the save time into docProps/core.xml and into every zip entry. A bundle's digest
# (and so every later stage's key) must depend on the content only, so both are fixed.
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
_EPOCH = b"1980-01-01T00:00:00Z"


def _same_bytes_for_same_content(path: Path) -> None:
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                data = _STAMP.sub(rb"\g<1>" + _EPOCH + rb"\g<2>", data)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_DEFLATED)
