"""Workbooks: the cells write_workbook streams are those pandas' to_excel would write."""
from __future__ import annotations

import numpy as np
import pandas as pd

from gait.tables import keypoint_table, write_workbook


def _pandas_workbook(path, sheets, notes) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            table.to_excel(writer, sheet_name=name[:31], index=False, float_format="%.6g")
        pd.DataFrame({"field": list(notes), "value": [str(v) for v in notes.values()]}).to_excel(
            writer, sheet_name="about", index=False)


def test_the_cells_are_those_of_pandas_to_excel(tmp_path):
    rng = np.random.default_rng(1)
    points = rng.normal(0, 300, (40, 3, 2))
    points[5:9, 1] = np.nan
    sheets = {
        "keypoints": keypoint_table(points, ["left_heel", "right_heel", "left_toe"], ("x", "y"), 30.0),
        "mixed": pd.DataFrame({"side": ["left", None, "right"], "value": [np.inf, -np.inf, np.nan],
                               "flag": [True, False, True], "count": [1, 2, 3],
                               "anything": [np.float32(1.2345678), 3, "text"], "maybe": [pd.NA, 1.23456789, None]}),
        "a sheet name longer than Excel's thirty-one characters": pd.DataFrame({"empty": []}),
    }
    notes = {"fps": 30.0, "units": "px"}
    write_workbook(tmp_path / "ours.xlsx", sheets, notes)
    _pandas_workbook(tmp_path / "pandas.xlsx", sheets, notes)
    ours, theirs = (pd.read_excel(tmp_path / name, sheet_name=None) for name in ("ours.xlsx", "pandas.xlsx"))
    assert list(ours) == ["keypoints", "mixed", "a sheet name longer than Excel", "about"]  # Excel: no ' at the end
    for mine, pandas in zip(ours.values(), theirs.values()):
        pd.testing.assert_frame_equal(mine, pandas, check_exact=True)
    assert ours["keypoints"].iloc[0, 2] == float(f"{points[0, 0, 0]:.6g}"), "six significant digits"
    from openpyxl import load_workbook

    cells = [cell.value for cell in load_workbook(tmp_path / "ours.xlsx")["mixed"]["B"]]
    assert cells == ["value", "inf", "-inf", None], "infinities as text, NaN empty, as pandas writes them"
