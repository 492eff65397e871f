"""Spatiotemporal gait parameters from an events table and the feet's positions.

Definitions after Perry & Burnfield (2010) and Baker (2013), Measuring Walking: a (right) step
runs from the left heel strike to the right one, a stride from one heel strike to the same foot's
next; stance from heel strike to the same foot's toe off. Step length is the distance between
the two heels along the walking direction at the strike, step width their distance across it;
the strike instant for lengths is where that distance peaks within +-0.1 s of the detected
strike (the leading foot stops advancing at contact), so a detector's timing bias does not
shorten the steps.
Each row of the steps table is one heel strike and carries that foot's step, stride and stance.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

STEP_COLUMNS = ["side", "heel_strike_s", "step_time_s", "stride_time_s", "stance_time_s", "stance_pct",
                "step_length_m", "step_width_m", "stride_length_m", "speed_m_s", "swing_pct", "single_support_pct",
                "double_support_pct"]


MIN_CONFIDENCE = 0.5  # events less certain than this do not delimit steps


def steps_table(events: pd.DataFrame, feet: dict[str, np.ndarray] | None = None, sampling_rate_hz: float = 1.0,
                forward: np.ndarray | None = None, up: np.ndarray | None = None, max_step_s: float = 1.5) -> pd.DataFrame:
    """One row per heel strike that ends a complete step (the other foot struck last, within
    `max_step_s`). Stride and stance where the same foot's next strike and toe off are known;
    lengths when `feet` ({"left": (frames, 3), "right": ...} heel positions in metres) and the
    directions are given. Events below MIN_CONFIDENCE are left out."""
    events = events[events.confidence >= MIN_CONFIDENCE]
    strikes = events[events.event == "heel_strike"].sort_values("time_s")
    offs = events[events.event == "toe_off"]
    rows = []
    times, sides = strikes.time_s.to_numpy(), strikes.side.to_numpy()
    for i in range(1, len(times)):
        step = times[i] - times[i - 1]
        if sides[i - 1] == sides[i] or step > max_step_s:
            continue  # a missed strike or a pause: not a step
        side, other = sides[i], sides[i - 1]
        same = times[(sides == side) & (times > times[i])]
        stride = same[0] - times[i] if same.size and same[0] - times[i] <= 2 * max_step_s else np.nan
        own_offs = offs[(offs.side == side) & (offs.time_s > times[i])].time_s.to_numpy()
        stance = own_offs[0] - times[i] if own_offs.size and (np.isnan(stride) or own_offs[0] < times[i] + stride) else np.nan
        length = width = np.nan
        if feet is not None and forward is not None and up is not None:
            length, width = _step_geometry(feet[side], feet[other], times[i], sampling_rate_hz, forward, up)
        single, double = _support(times[i], stride, stance, times[sides == other], offs[offs.side == other].time_s.to_numpy())
        stance_pct = 100 * stance / stride if stride else np.nan
        rows.append([side, times[i], step, stride, stance, stance_pct, length, width, np.nan, np.nan, 100 - stance_pct,
                     single, double])
    table = pd.DataFrame(rows, columns=STEP_COLUMNS)
    # stride length: this step plus the other foot's next step (the two steps of this stride)
    for index in range(len(table) - 1):
        if table.side[index + 1] != table.side[index] and np.isfinite(table.stride_time_s[index]):
            table.loc[index, "stride_length_m"] = table.step_length_m[index] + table.step_length_m[index + 1]
    table["speed_m_s"] = table.stride_length_m / table.stride_time_s
    return table


def strides_table(events: pd.DataFrame, heel: np.ndarray | None = None, sampling_rate_hz: float = 1.0,
                  forward: np.ndarray | None = None, surface_m_s: float = 0.0, max_stride_s: float = 3.0) -> pd.DataFrame:
    """For a recording of one leg (a one-sided marker set): one row per heel strike that starts a
    complete stride of that foot, with the stride, its stance and swing; no steps, so no step
    time, step length, width or support phases. The stride length is the heel's forward
    displacement between its strikes relative to the surface it stands on (`surface_m_s`: minus
    the belt speed on a treadmill, 0 overground). Same columns as `steps_table`."""
    events = events[events.confidence >= MIN_CONFIDENCE]
    strikes = events[events.event == "heel_strike"].sort_values("time_s")
    rows = []
    for side in strikes.side.unique():
        times = strikes[strikes.side == side].time_s.to_numpy()
        offs = events[(events.side == side) & (events.event == "toe_off")].time_s.to_numpy()
        for start, stop in zip(times[:-1], times[1:]):
            stride = stop - start
            if stride > max_stride_s:
                continue  # a pause
            own = offs[(offs > start) & (offs < stop)]
            stance = own[0] - start if own.size else np.nan
            length = np.nan
            if heel is not None and forward is not None:
                a, b = (int(round(t * sampling_rate_hz)) for t in (start, stop))
                if b < len(heel):
                    length = float((heel[b] - heel[a]) @ forward) - surface_m_s * stride
            stance_pct = 100 * stance / stride
            rows.append([side, start, np.nan, stride, stance, stance_pct, np.nan, np.nan, length, length / stride,
                         100 - stance_pct, np.nan, np.nan])
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


CONTACT_WINDOW_S = 0.1


def _support(strike: float, stride: float, stance: float, other_strikes: np.ndarray,
             other_offs: np.ndarray) -> tuple[float, float]:
    """(single, double) support in % of the stride that starts at `strike`: single support while
    the other foot swings (its toe off to its heel strike), double support the rest of stance
    (initial: strike to the other's toe off; terminal: the other's strike to this foot's toe off).
    NaN unless the four events fall in their order within the stride."""
    if not (np.isfinite(stride) and np.isfinite(stance)):
        return np.nan, np.nan
    off = other_offs[(other_offs > strike) & (other_offs < strike + stance)]
    landing = other_strikes[(other_strikes > strike) & (other_strikes < strike + stance)]
    if not off.size or not landing.size or landing[0] <= off[0]:
        return np.nan, np.nan
    single = landing[0] - off[0]
    return 100 * single / stride, 100 * (stance - single) / stride


def _step_geometry(leading: np.ndarray, trailing: np.ndarray, strike_s: float, sampling_rate_hz: float,
                   forward: np.ndarray, up: np.ndarray) -> tuple[float, float]:
    """(length, width) of the step: heel-to-heel distance along and across the walking direction
    at the frame near the strike where the length peaks."""
    window = int(round(CONTACT_WINDOW_S * sampling_rate_hz))
    centre = int(round(strike_s * sampling_rate_hz))
    frames = np.arange(max(0, centre - window), min(len(leading), centre + window + 1))
    gaps = leading[frames] - trailing[frames]
    lengths = gaps @ forward
    if not np.isfinite(lengths).any():
        return float("nan"), float("nan")
    best = int(np.nanargmax(lengths))
    return float(lengths[best]), abs(float(gaps[best] @ np.cross(up, forward)))


SIDED = ("step_time_s", "stance_time_s", "stance_pct", "step_length_m")


def symmetry(steps: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Left and right means of the per-side parameters and their symmetry index,
    SI = 100 x |L - R| / ((L + R) / 2) (Robinson, Herzog & Nigg 1987); 0 is perfect symmetry."""
    result = {}
    for column in SIDED:
        means = {side: steps.loc[steps.side == side, column].dropna().mean() for side in ("left", "right")}
        if all(np.isfinite(v) for v in means.values()) and means["left"] + means["right"] != 0:
            index = 100 * abs(means["left"] - means["right"]) / ((means["left"] + means["right"]) / 2)
            result[column] = {"left": float(means["left"]), "right": float(means["right"]), "symmetry_index_pct": float(index)}
    return result


LENGTHS = ("step_length_m", "step_width_m", "stride_length_m", "speed_m_s")
MIN_STEPS_FOR_MEAN = 4


def _statistics(values: np.ndarray, scale_uncertainty: float) -> dict:
    from scipy.stats import t as student_t

    mean, sd = float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else float("nan")
    half = float(student_t.ppf(0.975, values.size - 1) * sd / np.sqrt(values.size)) if values.size > 1 else float("nan")
    if scale_uncertainty:
        half = float(np.hypot(half, 1.96 * scale_uncertainty * abs(mean)))
    return {"mean": mean, "sd": sd, "cv_pct": 100 * sd / mean if mean else float("nan"), "n": int(values.size),
            "ci95_low": mean - half, "ci95_high": mean + half, "few": bool(values.size < MIN_STEPS_FOR_MEAN)}


def summary(steps: pd.DataFrame, length_scale_uncertainty: float = 0.0) -> dict[str, dict[str, float]]:
    """Mean, SD, coefficient of variation (%), count and 95 % interval of each parameter; cadence
    in steps/min as 60 / the mean step time (`_cadence`).

    The interval is the mean's confidence interval from the step-to-step spread (Student's t with
    n - 1 degrees of freedom); for lengths and speed, a relative scale uncertainty (SD) adds
    1.96 x that share of the mean in quadrature. Fewer than MIN_STEPS_FOR_MEAN values are flagged
    (`few`), not hidden."""
    result = {}
    for column in ("step_time_s", "stride_time_s", "stance_time_s", "stance_pct", "swing_pct", "single_support_pct",
                   "double_support_pct", "step_length_m", "step_width_m", "stride_length_m", "speed_m_s"):
        values = steps[column].dropna().to_numpy() if column in steps else np.empty(0)
        if values.size:
            result[column] = _statistics(values, length_scale_uncertainty if column in LENGTHS else 0.0)
    if "step_time_s" in result:
        result["cadence_steps_per_min"] = _cadence(steps["step_time_s"].dropna().to_numpy(), result["step_time_s"])
    elif "stride_time_s" in result:  # one leg: two steps per stride, the other leg's taken to last as long
        half_strides = steps["stride_time_s"].dropna().to_numpy() / 2
        result["cadence_steps_per_min"] = {**_cadence(half_strides, _statistics(half_strides, 0.0)), "from_strides": True}
    return result


def _cadence(step_times_s: np.ndarray, step_time: dict) -> dict:
    """Cadence (steps/min) = 60 / the mean step time: the steps taken per minute. Its interval is
    the step time's, transformed; SD and CV are those of the per-step values 60 / step time. (The
    mean of 60 / step time would overstate the cadence of an uneven walk: steps of 0.7 and 1.3 s
    give 60 steps/min, not 69.)"""
    cadence = _statistics(60.0 / step_times_s, 0.0)
    mean = 60.0 / step_time["mean"]
    low, high = step_time["ci95_high"], step_time["ci95_low"]
    cadence.update(mean=mean, ci95_low=60.0 / low if low > 0 else float("nan"),
                   ci95_high=60.0 / high if high > 0 else float("nan"))
    cadence["cv_pct"] = 100 * cadence["sd"] / mean
    return cadence
