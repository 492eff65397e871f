"""A self-contained HTML report of one analysis: opens offline (no CDN, images inline), carries no
patient identifiers, prints cleanly."""
from __future__ import annotations

import base64
import math
import time
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

import gait
from services.analysis.gait_analysis import MIN_STEPS

LABELS = {
    "cadence_steps_per_min": ("cadence", "steps/min"),
    "step_time_s": ("step time", "s"),
    "stride_time_s": ("stride time", "s"),
    "stance_time_s": ("stance time", "s"),
    "stance_pct": ("stance", "% of cycle"),
    "step_length_m": ("step length", "m"),
    "step_width_m": ("step width", "m"),
    "stride_length_m": ("stride length", "m"),
    "speed_m_s": ("walking speed", "m/s"),
}
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html", "j2"]))


@dataclass(frozen=True)
class ReportFigure:
    png: Path
    caption: str


def _number(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}g}"


def render_report(parameters: dict, symmetry: dict, range_of_motion: dict[str, float], figures: list[ReportFigure],
                  warnings: list[str], methods: list[str], source: str, rate_hz: float, record: str, axes: str) -> str:
    rows = []
    for key, (label, unit) in LABELS.items():
        if key in parameters:
            values = parameters[key]
            rows.append({"label": f"{label} ({unit})", "mean": _number(values.get("mean")),
                         "sd": _number(values.get("sd")), "cv": _number(values.get("cv_pct"), 2),
                         "n": values.get("n", "-"), "flag": values.get("n", 0) < MIN_STEPS})
    sides = [{"label": f"{LABELS[key][0]} ({LABELS[key][1]})", "left": _number(values["left"]),
              "right": _number(values["right"]), "index": _number(values["symmetry_index_pct"], 2)}
             for key, values in symmetry.items() if key in LABELS]
    return _TEMPLATES.get_template("report.html.j2").render(
        sides=sides, created=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), version=gait.__version__, source=source,
        rate_hz=rate_hz, record=record, parameters=rows, min_steps=MIN_STEPS,
        range_of_motion=[(name.replace("_deg", "").replace("_", " "), value) for name, value in range_of_motion.items()],
        figures=[{"data": base64.b64encode(f.png.read_bytes()).decode(), "caption": f.caption} for f in figures if f.png.is_file()],
        warnings=warnings, methods=methods, axes=axes,
    )
