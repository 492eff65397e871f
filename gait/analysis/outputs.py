"""Every file of one gait analysis, written into a folder: the same set whether the analysis
service writes a bundle or `gait analyze` a lab's file.

Tables (CSV and one Excel workbook), OpenSim exports (TRC trajectories, MOT angles), plots (PNG
and SVG), the HTML report and its PDF, and analysis.json with the summary figures.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gait.analysis.analyze import GaitAnalysis, methods, range_of_motion
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.plots import plot_cycle_curves, plot_footfalls, plot_left_right, plot_trajectories
from gait.analysis.reference import (
    CHILDREN_NOTE,
    KINEMATICS_SOURCE,
    SPATIOTEMPORAL_SOURCE,
    gait_profile_score,
    gait_variable_scores,
    kinematic_reference,
    spatiotemporal_ranges,
)
from gait.analysis.report import LABELS, ReportFigure, render_report, write_pdf
from gait.analysis.spatiotemporal import LENGTHS
from gait.analysis.trajectories import Trajectories
from gait.analysis.trc import write_trc
from gait.errors import InvalidInput
from gait.joints import FOOT_JOINTS_3D
from gait.provenance import audit_lines
from gait.tables import keypoint_table, write_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SIDED_LABELS = {"step_time_s": "step time (s)", "stance_pct": "stance (% cycle)", "step_length_m": "step length (m)"}


@dataclass(frozen=True)
class OutputFile:
    name: str
    mime: str
    description: str
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReportContext:
    """What the report says about where the data come from."""
    source: str                      # e.g. "phone video, 3D keypoints"
    record: str                      # content hash of the analyzed data (no patient identifiers)
    axes: str
    provenance: list[str] = field(default_factory=list)      # lines before the methods (backends, subject choice)
    extra_figures: list[ReportFigure] = field(default_factory=list)
    age_years: float | None = None   # for the normal ranges
    sex: str | None = None
    mode: str = "3D"
    angle_sources: pd.DataFrame | None = None  # side view: 2D vs 3D evidence (kinematics.angle_source_evidence)
    near_side: str | None = None     # side view: the leg nearer the camera; the far one is left out of the GPS
    video_outputs: dict | None = None  # a video's run: whether its videos were de-identified (pose2d's manifest)
    audit: list[dict] = field(default_factory=list)  # gait.provenance records, inputs first: the audit trail


def angle_source(context: ReportContext) -> str:
    """Where the angles come from, for titles: the mode, or for a side view the 2D keypoints."""
    return "2D keypoints, side view" if context.angle_sources is not None else context.mode


def parameters_table(parameters: dict, normal_ranges: dict) -> pd.DataFrame:
    rows = []
    for name, values in parameters.items():
        normal = normal_ranges.get(name)
        rows.append((name, values.get("mean"), values.get("ci95_low"), values.get("ci95_high"), values.get("sd"),
                     values.get("cv_pct"), values.get("n"), values.get("few"),
                     normal.low if normal else np.nan, normal.high if normal else np.nan))
    return pd.DataFrame(rows, columns=["parameter", "mean", "ci95_low", "ci95_high", "sd", "cv_pct", "n",
                                       "too_few_values", "normal_low", "normal_high"])


def write_mot(path: Path, angles: dict[str, np.ndarray], rate_hz: float) -> None:
    """OpenSim storage (.mot) of angles in degrees: header, then time and one column per angle."""
    names = list(angles)
    frames = len(angles[names[0]]) if names else 0
    lines = [Path(path).stem, "version=1", f"nRows={frames}", f"nColumns={len(names) + 1}", "inDegrees=yes", "endheader",
             "\t".join(["time", *names])]
    for frame in range(frames):
        values = [f"{angles[n][frame]:.4f}" if np.isfinite(angles[n][frame]) else "NaN" for n in names]
        lines.append("\t".join([f"{frame / rate_hz:.6f}", *values]))
    Path(path).write_text("\n".join(lines) + "\n")


def _reference(notes: list[str]) -> pd.DataFrame | None:
    try:
        return kinematic_reference()
    except InvalidInput as exc:
        notes.append(str(exc))
        return None


def _deviation(scores: dict[str, float], trajectories: Trajectories, context: ReportContext) -> dict:
    """The deviation summary: every gait variable score, and the gait profile score of those that
    are scored (in a side view the far leg, partly hidden behind the near one, is shown, not scored)."""
    far = {"left": "right", "right": "left"}.get(context.near_side or "")
    scored = {name: value for name, value in scores.items() if far is None or not name.startswith(f"{far}_")}
    model = ("keypoints" if trajectories.root_relative or trajectories.planar
             else "markers through a sagittal segment model, not the full Plug-in Gait model")
    note = (f"Our angles come from {model}: offsets of a few degrees are expected, shapes and ranges compare "
            "better. The thigh angle is compared with the reference's hip flexion minus its pelvic tilt. "
            + (f"Side view: the {far} leg is the far one, partly hidden behind the {context.near_side}; its scores "
               "are shown but not in the profile score. " if far else "") + CHILDREN_NOTE)
    return {"scores": scores, "gps": gait_profile_score(scored), "scored": sorted(scored),
            "gps_all_angles": gait_profile_score(scores), "far_side": far, "source": KINEMATICS_SOURCE, "note": note}


def write_outputs(folder: Path, result: GaitAnalysis, trajectories: Trajectories, lowpass: ButterworthLowPass,
                  context: ReportContext) -> tuple[list[OutputFile], dict]:
    """Write every output into `folder`; returns what was written and the analysis.json summary."""
    rate = trajectories.sampling_rate_hz
    files: list[OutputFile] = []
    notes = [*result.warnings, *result.angle_notes]
    speed = result.parameters.get("speed_m_s", {}).get("mean")
    try:
        normal_ranges = spatiotemporal_ranges(speed, context.age_years, context.sex)
    except InvalidInput as exc:
        if context.age_years is not None or context.sex is not None:
            raise
        notes.append(str(exc))
        normal_ranges = {}
    if trajectories.length_unit != "m":
        normal_ranges = {k: v for k, v in normal_ranges.items() if k not in LENGTHS}
    reference = _reference(notes)
    scores = gait_variable_scores(result.kinematics, reference) if reference is not None else {}
    deviation = _deviation(scores, trajectories, context) if scores else None
    rom = range_of_motion(result.kinematics)
    parameters = parameters_table(result.parameters, normal_ranges)

    def add(name: str, mime: str, description: str, **meta) -> Path:
        files.append(OutputFile(name, mime, description, meta))
        return folder / name

    for name, table, description in (
        ("parameters.csv", parameters, "spatiotemporal parameters: mean, 95 % interval, SD, CV, n, normal range"),
        ("events.csv", result.events, f"heel strikes and toe offs per side ({result.events_method})"),
        ("steps.csv", result.steps, "one row per heel strike: step, stride, stance, lengths, speed"),
        ("kinematics.csv", result.kinematics, "mean and SD angle curves over 0-100 % of the gait cycle (deg)"),
        ("cycles.csv", result.cycles, "every cycle of every angle over 0-100 % of the gait cycle (deg)"),
        ("bouts.csv", result.bouts, "the straight walking bouts analyzed, with their walking direction"),
        *((("angle_sources.csv", context.angle_sources, "side view: the sagittal angles from the 2D keypoints, "
            "with the evidence (2D vs 3D and left vs right RMS differences of the mean curves, deg)"),)
          if context.angle_sources is not None else ()),
    ):
        table.to_csv(add(name, "text/csv", description, columns=list(table.columns)), index=False, float_format="%.6g")

    names = sorted(result.filtered)
    filtered = np.stack([result.filtered[n] for n in names], axis=1)
    write_trc(add("trajectories.trc", "text/plain", "filtered trajectories, OpenSim TRC", units="m", fps=rate),
              {n: result.filtered[n] for n in names}, rate)
    write_mot(add("angles.mot", "text/plain", "sagittal angles per frame, OpenSim MOT (NaN outside the walking bouts)",
                  units="deg", fps=rate), result.angles, rate)
    angles_table = pd.DataFrame({"time_s": np.arange(len(filtered)) / rate, **result.angles})
    about = {"source": context.source, "sampling rate (Hz)": rate, "lengths": "m", "angles": "deg", "axes": context.axes,
             "filter": f"Butterworth {lowpass.cutoff_hz:g} Hz, order {lowpass.order}, zero-phase",
             "events": result.events_method, "normal ranges": SPATIOTEMPORAL_SOURCE, "normal kinematics": KINEMATICS_SOURCE,
             **trajectories.notes, **{f"warning {i + 1}": w for i, w in enumerate(notes)}}
    write_workbook(add("gait_analysis.xlsx", XLSX, "summary, events, steps, kinematics, bouts, angles and filtered trajectories"), {
        "summary": parameters, "events": result.events, "steps": result.steps, "kinematics": result.kinematics,
        "cycles": result.cycles,
        "bouts": result.bouts, "angles_deg": angles_table,
        "filtered_m": keypoint_table(filtered, names, ("x", "y", "z"), rate)}, about)

    figures = []
    time_s = np.arange(len(filtered)) / rate
    if len(result.kinematics.columns) > 1:
        plot_cycle_curves(add("joint_angles.png", "image/png", "angles over the gait cycle with the normal band", units="deg"),
                          result.kinematics, f"Sagittal joint angles over the gait cycle ({angle_source(context)}), mean and SD",
                          reference)
        add("joint_angles.svg", "image/svg+xml", "the same plot as SVG", units="deg")
        figures.append(ReportFigure(folder / "joint_angles.png", "Sagittal joint angles over the gait cycle, mean and SD "
                                    "(left red, right blue; grey: normal mean and SD)"))
    plot_footfalls(add("footfalls.png", "image/png", "stance phases and walking bouts over time"), result.events,
                   len(time_s) / rate, result.bouts)  # the recording's duration: frames over rate
    add("footfalls.svg", "image/svg+xml", "the same plot as SVG")
    figures.append(ReportFigure(folder / "footfalls.png", "Footfalls: stance of each foot and the walking bouts analyzed"))
    if len(result.steps):
        plot_left_right(add("left_right.png", "image/png", "left and right means with 95 % intervals"), result.steps, SIDED_LABELS)
        add("left_right.svg", "image/svg+xml", "the same plot as SVG")
        figures.append(ReportFigure(folder / "left_right.png", "Left and right, mean and 95 % interval"))
    feet = [n for n in FOOT_JOINTS_3D if n in names]
    raw = np.stack([trajectories.positions[n] for n in feet], axis=1)
    plot_trajectories(add("foot_trajectories.png", "image/png", "raw vs filtered foot trajectories", units="m"),
                      time_s, raw, np.stack([result.filtered[n] for n in feet], axis=1), feet, ("x", "y", "z"), "m",
                      f"Feet, {context.source}, Butterworth {lowpass.cutoff_hz:g} Hz")
    add("foot_trajectories.svg", "image/svg+xml", "the same plot as SVG", units="m")
    figures.append(ReportFigure(folder / "foot_trajectories.png", "Feet, raw and filtered"))
    figures += context.extra_figures

    method_lines = [*context.provenance, *methods(lowpass, result.events_method),
                    f"Normal ranges: {SPATIOTEMPORAL_SOURCE}. Normal kinematics: {KINEMATICS_SOURCE}; deviation "
                    "score: Baker et al. 2009, Gait & Posture 30:265-269."]
    sources = None if context.angle_sources is None else context.angle_sources.to_dict(orient="records")
    html = render_report(result.parameters, result.symmetry, rom, figures, notes, method_lines, context.source, rate,
                         context.record, context.axes, normal_ranges, deviation, context.mode, trajectories.length_unit,
                         sources, audit_lines(context.audit))
    add("report.html", "text/html", "the analysis as a self-contained HTML page").write_text(html)
    problem = write_pdf(html, folder / "report.pdf")
    if problem:
        notes.append(problem)
    else:
        add("report.pdf", "application/pdf", "the same report as PDF")

    summary = {
        "source": context.source, "mode": context.mode, "sampling_rate_hz": rate, "events_method": result.events_method,
        "cutoff_hz": lowpass.cutoff_hz, "filter_order": lowpass.order,
        "forward": None if result.forward is None else result.forward.tolist(),
        "bouts": result.bouts.to_dict(orient="records"), "events": int(len(result.events)),
        "length_unit": trajectories.length_unit, "spatiotemporal_parameters": result.parameters, "symmetry": result.symmetry, "range_of_motion_deg": rom,
        "normal_ranges": {k: {"low": v.low, "high": v.high, "basis": v.basis} for k, v in normal_ranges.items()},
        "deviation": deviation, "angle_sources": sources, "warnings": notes, "video_outputs": context.video_outputs,
        "implausible": sorted(result.implausible), "audit_trail": context.audit,
        "labels": {k: {"label": label, "unit": unit} for k, (label, unit) in LABELS.items()},
    }
    add("analysis.json", "application/json", "summary figures, methods and warnings").write_text(
        json.dumps(summary, indent=1, default=_json_default))
    return files, summary


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
