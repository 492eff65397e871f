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
from gait.analysis.analyze import MIN_STEPS

LABELS = {
    "cadence_steps_per_min": ("cadence", "steps/min"),
    "step_time_s": ("step time", "s"),
    "stride_time_s": ("stride time", "s"),
    "stance_time_s": ("stance time", "s"),
    "stance_pct": ("stance", "% of cycle"),
    "swing_pct": ("swing", "% of cycle"),
    "single_support_pct": ("single support", "% of cycle"),
    "double_support_pct": ("double support", "% of cycle"),
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
                  warnings: list[str], methods: list[str], source: str, rate_hz: float, record: str, axes: str,
                  normal_ranges: dict | None = None, deviation: dict | None = None, mode: str = "3D",
                  length_unit: str = "m", angle_sources: list[dict] | None = None, audit: list[str] | None = None) -> str:
    """The report as one HTML string. `normal_ranges`: parameter -> NormalRange; `deviation`:
    {"scores": {angle: GVS}, "gps": float, "scored": [angles in the GPS], "source": str, "note": str}
    (Baker et al. 2009); `angle_sources`: rows of kinematics.angle_source_evidence (side view);
    `audit`: one line per step that made the result (gait.provenance.audit_lines)."""
    normal_ranges = normal_ranges or {}
    rows = []
    for key, (label, unit) in LABELS.items():
        if key in parameters:
            values = parameters[key]
            if length_unit != "m":
                unit = unit.replace("m/s", f"{length_unit}/s") if unit == "m/s" else length_unit if unit == "m" else unit
            normal = normal_ranges.get(key)
            mean = values.get("mean")
            outside = normal is not None and mean is not None and math.isfinite(mean) and not normal.low <= mean <= normal.high
            rows.append({"label": f"{label} ({unit})", "mean": _number(mean), "sd": _number(values.get("sd")),
                         "cv": _number(values.get("cv_pct"), 2), "n": values.get("n", "-"),
                         "interval": f"{_number(values.get('ci95_low'))} - {_number(values.get('ci95_high'))}",
                         "normal": f"{_number(normal.low)} - {_number(normal.high)}" if normal else "-",
                         "outside": outside, "flag": values.get("few", values.get("n", 0) < MIN_STEPS)})
    sides = [{"label": f"{LABELS[key][0]} ({LABELS[key][1] if length_unit == 'm' or 'm' not in LABELS[key][1] else length_unit})", "left": _number(values["left"]),
              "right": _number(values["right"]), "index": _number(values["symmetry_index_pct"], 2)}
             for key, values in symmetry.items() if key in LABELS]
    basis = next(iter(normal_ranges.values())).basis if normal_ranges else ""
    return _TEMPLATES.get_template("report.html.j2").render(
        sides=sides, created=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), version=gait.__version__, source=source,
        rate_hz=rate_hz, record=record, parameters=rows, min_steps=MIN_STEPS, normal_basis=basis, mode=mode,
        range_of_motion=[(name.replace("_deg", "").replace("_", " "), value) for name, value in range_of_motion.items()],
        deviation=deviation, angle_sources=angle_sources or [],
        figures=[{"data": base64.b64encode(f.png.read_bytes()).decode(), "caption": f.caption} for f in figures if f.png.is_file()],
        warnings=warnings, methods=methods, axes=axes, audit=audit or [],
    )


def write_pdf(html: str, path: Path) -> str | None:
    """The report as PDF (WeasyPrint); None when done, else the reason it could not be made."""
    try:
        import weasyprint
    except OSError as exc:  # the Pango library WeasyPrint draws text with is missing
        return f"no PDF: WeasyPrint needs the Pango library ({exc.__class__.__name__}); install libpango-1.0-0"
    weasyprint.HTML(string=html).write_pdf(path)
    return None
