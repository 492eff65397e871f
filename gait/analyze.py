"""`gait analyze FILE --out DIR`: the gait analysis alone, on a motion-capture file (TRC, C3D,
CSV of named joints), in this process."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gait.errors import InvalidInput
from gait.run import EXIT_OK, EXIT_USAGE, _fail
from gait.tables import keypoint_table, write_workbook


def parameters_table(parameters: dict) -> pd.DataFrame:
    rows = [(name, values.get("mean"), values.get("sd"), values.get("cv_pct"), values.get("n"))
            for name, values in parameters.items()]
    return pd.DataFrame(rows, columns=["parameter", "mean", "sd", "cv_pct", "n"])


def analyze_file(path: Path, out: Path, rate_hz: float | None, units: str | None, markers: str | None,
                 cutoff_hz: float | None, order: int | None) -> int:
    from services.analysis.filtering import DEFAULT_CUTOFF_HZ, DEFAULT_ORDER, ButterworthLowPass
    from services.analysis.gait_analysis import EVENTS_METHOD, analyse, methods, range_of_motion
    from services.analysis.markers import parse_mapping
    from services.analysis.plots import plot_cycle_curves, plot_trajectories
    from services.analysis.report import ReportFigure, render_report
    from services.analysis.readers import read_trajectories

    try:
        mapping = parse_mapping(markers) if markers else None
        trajectories = read_trajectories(path, rate_hz, units, mapping)
        lowpass = ButterworthLowPass(cutoff_hz if cutoff_hz is not None else DEFAULT_CUTOFF_HZ,
                                     order if order is not None else DEFAULT_ORDER)
        result = analyse(trajectories, lowpass)
    except (InvalidInput, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    out.mkdir(parents=True, exist_ok=True)
    rate = trajectories.sampling_rate_hz
    result.events.to_csv(out / "events.csv", index=False, float_format="%.4f")
    result.steps.to_csv(out / "steps.csv", index=False, float_format="%.4f")
    result.kinematics.to_csv(out / "kinematics.csv", index=False, float_format="%.3f")
    names = sorted(result.filtered)
    filtered = np.stack([result.filtered[n] for n in names], axis=1)
    raw = np.stack([trajectories.positions.get(n, result.filtered[n]) for n in names], axis=1)
    about = {"source": trajectories.source, "sampling rate (Hz)": rate, "units": "m",
             "up axis": trajectories.up.tolist(), "filter": f"Butterworth {lowpass.cutoff_hz:g} Hz, order "
             f"{lowpass.order}, zero-phase", "events": EVENTS_METHOD, **trajectories.notes,
             **{f"warning {i + 1}": w for i, w in enumerate(result.warnings)}}
    write_workbook(out / "gait_analysis.xlsx", {
        "parameters": parameters_table(result.parameters), "events": result.events, "steps": result.steps,
        "kinematics": result.kinematics,
        "filtered_m": keypoint_table(filtered, names, ("x", "y", "z"), rate)}, about)
    feet = [n for n in ("left_ankle", "right_ankle", "left_heel", "right_heel", "left_toe", "right_toe") if n in names]
    index = [names.index(n) for n in feet]
    plot_trajectories(out / "foot_trajectories.png", np.arange(len(filtered)) / rate, raw[:, index],
                      filtered[:, index], feet, ("x", "y", "z"), "m", f"Feet, {trajectories.source}")
    if len(result.kinematics.columns) > 1:
        plot_cycle_curves(out / "joint_angles.png", result.kinematics, f"Sagittal joint angles, {trajectories.source}")
    record = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    figures = [ReportFigure(out / "joint_angles.png", "Sagittal joint angles over the gait cycle, mean and SD"),
               ReportFigure(out / "foot_trajectories.png", "Feet, raw and filtered")]
    (out / "report.html").write_text(render_report(
        result.parameters, result.symmetry, range_of_motion(result.kinematics), figures, result.warnings,
        [f"Input: {trajectories.source}, {trajectories.notes.get('markers', '')}", *methods(lowpass)],
        trajectories.source, rate, record, f"as in the file, up = {trajectories.up.tolist()}; metres"))
    (out / "analysis.json").write_text(json.dumps({
        **about, "forward": None if result.forward is None else result.forward.tolist(),
        "spatiotemporal_parameters": result.parameters, "symmetry": result.symmetry, "range_of_motion_deg": range_of_motion(result.kinematics),
        "warnings": result.warnings}, indent=1, default=str))
    cadence = result.parameters.get("cadence_steps_per_min")
    line = f"cadence {cadence['mean']:.1f} steps/min from {cadence['n']} steps" if cadence else "no complete steps found"
    print(f"{len(result.events)} events, {line}; outputs in {out}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK
