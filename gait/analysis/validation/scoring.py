"""Detected gait events against reference events: one-to-one matching within a tolerance, and
the figures reported per recording and method (MAE, bias, matched, missed, extra, cadence)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TOLERANCE_S = 0.1  # a detected event further than this from every reference event matches none
MAX_STEP_S = 1.5  # as the steps table: a longer interval is a pause, not a step


@dataclass(frozen=True)
class EventScore:
    """One kind of event (both sides) of one recording and method. Errors are detected minus
    reference, in seconds; `missed` counts reference events with no match, `extra` detected events
    with none, both only inside the scored span."""

    errors_s: np.ndarray
    missed: int
    extra: int
    reference: int

    @property
    def mae_ms(self) -> float:
        return float(1000 * np.mean(np.abs(self.errors_s))) if self.errors_s.size else float("nan")

    @property
    def bias_ms(self) -> float:
        return float(1000 * np.mean(self.errors_s)) if self.errors_s.size else float("nan")

    @property
    def matched(self) -> int:
        return int(self.errors_s.size)


def match(found_s: np.ndarray, reference_s: np.ndarray, tolerance_s: float = TOLERANCE_S) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (index into found, index into reference) matched one to one, closest pairs first,
    none further apart than `tolerance_s`."""
    found_s, reference_s = np.asarray(found_s, float), np.asarray(reference_s, float)
    if not found_s.size or not reference_s.size:
        return np.empty(0, int), np.empty(0, int)
    distance = np.abs(found_s[:, None] - reference_s[None, :])
    pairs = np.argwhere(distance <= tolerance_s)
    pairs = pairs[np.argsort(distance[pairs[:, 0], pairs[:, 1]], kind="stable")]
    used_found, used_reference, kept = set(), set(), []
    for i, j in pairs:
        if i not in used_found and j not in used_reference:
            used_found.add(i)
            used_reference.add(j)
            kept.append((i, j))
    kept_array = np.array(kept, dtype=int).reshape(-1, 2)
    return kept_array[:, 0], kept_array[:, 1]


def score_events(found: pd.DataFrame, reference: pd.DataFrame, event: str, span_s: tuple[float, float],
                 tolerance_s: float = TOLERANCE_S) -> EventScore:
    """Score one kind of event over both sides. `found` and `reference` have columns side, event,
    time_s. Scored are the reference events inside `span_s`, except those a boolean column
    `visible` marks as seen to happen but not timed (a foot hidden). A detection that matches an
    unscored reference event is neither scored nor extra; the others count as extra only inside
    the span widened by the tolerance (outside it the reference says nothing)."""
    errors, missed, extra, total = [], 0, 0, 0
    low, high = span_s
    visible = reference["visible"] if "visible" in reference else pd.Series(True, index=reference.index)
    for side in ("left", "right"):
        mine = reference[(reference.side == side) & (reference.event == event)]
        scored = (visible[mine.index] & mine.time_s.between(low, high)).to_numpy()
        truth = mine.time_s.to_numpy(float)[scored]
        detected = found[(found.side == side) & (found.event == event)].time_s.to_numpy(float)
        detected = detected[(detected >= low - tolerance_s) & (detected <= high + tolerance_s)]
        unscored, _ = match(detected, mine.time_s.to_numpy(float)[~scored], tolerance_s)
        detected = np.delete(detected, unscored)
        i, j = match(detected, truth, tolerance_s)
        errors.extend(detected[i] - truth[j])
        missed += truth.size - j.size
        extra += detected.size - i.size
        total += truth.size
    return EventScore(np.array(errors, float), missed, extra, total)


def cadence_steps_per_min(events: pd.DataFrame, span_s: tuple[float, float]) -> float:
    """Cadence from the heel strikes of both feet inside the span: 60 / the mean interval between
    consecutive strikes of alternate feet (a missed strike or a pause is not counted as a step)."""
    strikes = events[(events.event == "heel_strike") & events.time_s.between(*span_s)].sort_values("time_s")
    times, sides = strikes.time_s.to_numpy(float), strikes.side.to_numpy()
    steps = np.diff(times)[sides[1:] != sides[:-1]]
    steps = steps[steps <= MAX_STEP_S]
    return float(60.0 / np.mean(steps)) if steps.size else float("nan")
