"""Wide physiological limits on the spatiotemporal results: a value outside them is not a patient's
gait but a failure upstream (a wrong rotation, the wrong person tracked, a wrong scale), and is
said in the warnings and flagged in analysis.json, never reported as a finding.

The limits are deliberately wide, so that slow pathological walking (e.g. 0.1 m/s, 30 steps/min)
and brisk adult walking (2 m/s, 140 steps/min) both pass: Perry & Burnfield 2010, Gait Analysis,
and Hollman et al. 2011 (Gait & Posture 34:111) give adult means of 1.2-1.4 m/s, 100-120 steps/min
and 0.6-0.8 m steps; running begins near 170-180 steps/min and stance under 50 % of the cycle.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    label: str
    unit: str
    low: float
    high: float
    metric_only: bool = False  # a length: only checked when lengths are in metres


LIMITS = {
    "cadence_steps_per_min": Limit("cadence", "steps/min", 30.0, 200.0),
    "step_length_m": Limit("step length", "m", 0.1, 1.3, metric_only=True),
    "speed_m_s": Limit("walking speed", "m/s", 0.05, 2.5, metric_only=True),
    "stance_pct": Limit("stance", "% of the cycle", 45.0, 90.0),
}


def implausible(parameters: dict[str, dict], length_unit: str) -> dict[str, str]:
    """The parameters whose mean lies outside its limits, each with the sentence that says so."""
    found = {}
    for name, limit in LIMITS.items():
        mean = parameters.get(name, {}).get("mean")
        if mean is None or not math.isfinite(mean) or (limit.metric_only and length_unit != "m"):
            continue
        if not limit.low <= mean <= limit.high:
            found[name] = (f"implausible {limit.label}: {mean:.3g} {limit.unit}, outside {limit.low:g}-{limit.high:g} "
                           f"{limit.unit} for walking; not a finding but a failure upstream (a wrong rotation, the "
                           "wrong person tracked, a wrong scale)")
    return found
