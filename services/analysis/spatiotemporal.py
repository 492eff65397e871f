"""Temporal gait parameters from an events table: step and stride times, stance, cadence.

Definitions after Perry & Burnfield (2010) and the consensus of Baker (2013), Measuring Walking:
a step runs from one foot's heel strike to the other foot's, a stride from one heel strike to the
same foot's next; stance from heel strike to the same foot's toe off.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

STEP_COLUMNS = ["side", "heel_strike_s", "step_time_s", "stride_time_s", "stance_time_s", "stance_pct"]


MIN_CONFIDENCE = 0.5  # events less certain than this do not delimit steps


def steps_table(events: pd.DataFrame, max_step_s: float = 1.5) -> pd.DataFrame:
    """One row per heel strike that starts a complete step (the other foot strikes next, within
    `max_step_s`); stride and stance where the same foot's next strike and toe off are known.
    Events below MIN_CONFIDENCE are left out."""
    events = events[events.confidence >= MIN_CONFIDENCE]
    strikes = events[events.event == "heel_strike"].sort_values("time_s")
    offs = events[events.event == "toe_off"]
    rows = []
    times, sides = strikes.time_s.to_numpy(), strikes.side.to_numpy()
    for i in range(len(times) - 1):
        step = times[i + 1] - times[i]
        if sides[i + 1] == sides[i] or step > max_step_s:
            continue  # a missed strike or a pause: not a step
        same = times[(sides == sides[i]) & (times > times[i])]
        stride = same[0] - times[i] if same.size and same[0] - times[i] <= 2 * max_step_s else np.nan
        own_offs = offs[(offs.side == sides[i]) & (offs.time_s > times[i])].time_s.to_numpy()
        stance = own_offs[0] - times[i] if own_offs.size and (np.isnan(stride) or own_offs[0] < times[i] + stride) else np.nan
        rows.append((sides[i], times[i], step, stride, stance, 100 * stance / stride if stride else np.nan))
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


def summary(steps: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean, SD, coefficient of variation (%) and count of each parameter; cadence in steps/min."""
    result = {}
    for column in ("step_time_s", "stride_time_s", "stance_time_s", "stance_pct"):
        values = steps[column].dropna().to_numpy()
        if values.size:
            mean, sd = float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else float("nan")
            result[column] = {"mean": mean, "sd": sd, "cv_pct": 100 * sd / mean if mean else float("nan"), "n": int(values.size)}
    if "step_time_s" in result:
        result["cadence_steps_per_min"] = {"mean": 60.0 / result["step_time_s"]["mean"], "n": result["step_time_s"]["n"]}
    return result
