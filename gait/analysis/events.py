"""Gait events (heel strike, toe off) per side from 3D keypoint trajectories.

Each detector is a small class: parameters in __init__, one action method `detect(positions,
sampling_rate_hz, forward, up)` taking named (frames, 3) trajectories in metres; the result is
the `events_` table (columns: side, event, frame, time_s, confidence), sorted by time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gait.analysis.filtering import residual_cutoff
from gait.analysis.trajectories import sides_present
from gait.analysis.treadmill import surface_velocity
from gait.errors import InvalidInput

EVENT_COLUMNS = ["side", "event", "frame", "time_s", "confidence"]


def _refine_peak(signal: np.ndarray, index: int) -> float:
    """Sub-frame peak position by a parabola through the peak and its neighbours."""
    if 0 < index < len(signal) - 1:
        a, b, c = signal[index - 1], signal[index], signal[index + 1]
        denominator = a - 2 * b + c
        if denominator != 0 and np.isfinite(denominator):
            return index + 0.5 * (a - c) / denominator
    return float(index)


def _peaks(signal: np.ndarray, sampling_rate_hz: float, min_interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Maxima at least `min_interval_s` apart; returns sub-frame positions and a confidence in [0, 1]
    (each peak's prominence relative to the median prominence, capped at 1)."""
    from scipy.signal import find_peaks

    finite = np.isfinite(signal)
    if finite.sum() < 3:
        return np.empty(0), np.empty(0)
    filled = np.interp(np.arange(len(signal)), np.flatnonzero(finite), signal[finite])
    spread = np.nanpercentile(signal, 95) - np.nanpercentile(signal, 5)
    index, properties = find_peaks(filled, distance=max(1, int(min_interval_s * sampling_rate_hz)),
                                   prominence=0.2 * spread)
    keep = finite[index]  # a peak inside a gap is an artefact of the interpolation
    index, prominence = index[keep], properties["prominences"][keep]
    if index.size == 0:
        return np.empty(0), np.empty(0)
    confidence = np.clip(prominence / np.median(prominence), 0, 1)
    # a peak next to missing samples is less certain
    confidence *= np.array([finite[max(0, i - 2): i + 3].mean() for i in index])
    return np.array([_refine_peak(filled, i) for i in index]), confidence


def _table(rows: list[tuple[str, str, float, float]], sampling_rate_hz: float) -> pd.DataFrame:
    table = pd.DataFrame(
        [(side, event, frame, frame / sampling_rate_hz, confidence) for side, event, frame, confidence in rows],
        columns=EVENT_COLUMNS,
    )
    return table.sort_values("time_s", ignore_index=True)


def _require(positions: dict[str, np.ndarray], names: list[str]) -> None:
    missing = [n for n in names if n not in positions]
    if missing:
        raise InvalidInput(f"event detection needs the trajectories {', '.join(missing)}")


@dataclass
class ZeniEventDetector:
    """Coordinate-based events: Zeni, Richards & Higginson (2008), Gait & Posture 27(4):710-714.

    Heel strike at each maximum of the heel's position relative to the pelvis along the walking
    direction, toe off at each minimum of the toe's. Without heels and toes the ankle stands in for
    both (Human3.6M keypoints).

    Parameters
    ----------
    min_step_interval_s
        Two events of one kind on one side are at least this far apart (a stride is ~1 s).
    """

    min_step_interval_s: float = 0.5

    name = "Zeni et al. 2008 (coordinate-based)"

    def detect(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, forward: np.ndarray,
               up: np.ndarray | None = None) -> ZeniEventDetector:
        _require(positions, ["pelvis"])
        forward = np.asarray(forward, float) / np.linalg.norm(forward)
        pelvis = positions["pelvis"]
        rows = []
        for side in sides_present(positions):
            heel = positions.get(f"{side}_heel", positions.get(f"{side}_ankle"))
            toe = positions.get(f"{side}_toe", positions.get(f"{side}_ankle"))
            if heel is None or toe is None:
                raise InvalidInput(f"event detection needs the {side} heel/toe or ankle trajectory")
            for event, signal in (("heel_strike", (heel - pelvis) @ forward), ("toe_off", -((toe - pelvis) @ forward))):
                frames, confidence = _peaks(signal, sampling_rate_hz, self.min_step_interval_s)
                rows += [(side, event, f, c) for f, c in zip(frames, confidence)]
        self.events_ = _table(rows, sampling_rate_hz)
        return self


def _foot(positions: dict[str, np.ndarray], side: str, part: str) -> np.ndarray:
    """The side's heel or toe, or its ankle where the foot has no such point."""
    points = positions.get(f"{side}_{part}", positions.get(f"{side}_ankle"))
    if points is None:
        raise InvalidInput(f"event detection needs the {side} {part} or ankle trajectory")
    return points


def _velocity(signal: np.ndarray, sampling_rate_hz: float) -> np.ndarray:
    return np.gradient(signal) * sampling_rate_hz


@dataclass
class OConnorEventDetector:
    """Velocity-based events: the foot velocity algorithm of O'Connor, Thorpe, O'Malley & Vaughan
    (2007), Gait & Posture 25(3):469-474.

    The foot centre is the midpoint of heel and toe (the ankle without them). Mid-swing is each
    peak of its forward velocity; heel strike is the first minimum of its vertical velocity within
    `max_contact_delay_s` after mid-swing, toe off the last maximum of its vertical velocity before
    it. Vertical velocity peaks smaller than 10 % of the signal's range are ignored, as in the paper.

    Parameters
    ----------
    min_step_interval_s
        Two mid-swings of one foot are at least this far apart.
    max_contact_delay_s
        Longest time from mid-swing to heel strike.
    """

    min_step_interval_s: float = 0.5
    max_contact_delay_s: float = 0.25
    name = "O'Connor et al. 2007 (foot velocity)"

    def detect(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, forward: np.ndarray,
               up: np.ndarray) -> OConnorEventDetector:
        forward = np.asarray(forward, float) / np.linalg.norm(forward)
        up = np.asarray(up, float) / np.linalg.norm(up)
        rows = []
        for side in sides_present(positions):
            centre = 0.5 * (_foot(positions, side, "heel") + _foot(positions, side, "toe"))
            forward_speed = _velocity(centre @ forward, sampling_rate_hz)
            vertical = _velocity(centre @ up, sampling_rate_hz)
            mid_swings, _ = _peaks(forward_speed, sampling_rate_hz, self.min_step_interval_s)
            spread = np.nanmax(vertical) - np.nanmin(vertical)
            rising = self._extrema(vertical, 0.1 * spread)
            falling = self._extrema(-vertical, 0.1 * spread)
            window = self.max_contact_delay_s * sampling_rate_hz
            previous = -np.inf
            for mid in mid_swings:
                after = falling[(falling > mid) & (falling < mid + window)]
                if after.size:
                    rows.append((side, "heel_strike", _refine_peak(-vertical, int(after[0])), 1.0))
                before = rising[(rising < mid) & (rising > previous)]
                if before.size:
                    rows.append((side, "toe_off", _refine_peak(vertical, int(before[-1])), 1.0))
                previous = mid
        self.events_ = _table(rows, sampling_rate_hz)
        return self

    @staticmethod
    def _extrema(signal: np.ndarray, height: float) -> np.ndarray:
        from scipy.signal import find_peaks

        filled = np.where(np.isfinite(signal), signal, -np.inf)
        index, _ = find_peaks(filled, height=height)
        return index


@dataclass
class FootContactEventDetector:
    """Events where the foot meets and leaves the ground: heel strike when the heel, coming down,
    reaches the height it keeps in stance, toe off when the toe leaves its stance height.

    Each step is first found by Zeni's method (robust, but early for heel strike and late for toe
    off); around it, the heel's height above its stance level is followed to the sample where it
    drops below `contact_height_m` (more when the trajectory is noisy), and the contact instant is
    extrapolated from there along the heel's vertical velocity down to the stance level; toe off
    likewise, backwards from where the toe rises above it. This is the project's own refinement
    of the height-threshold idea behind kinematic contact detection (e.g. Mickelborough et al.
    2000, Gait & Posture 11(1):32-37, who threshold the heel's vertical velocity instead). It needs
    ground-fixed coordinates (heights, not pelvis-relative keypoints) and heel and toe points, and
    a sampling rate of at least 60 Hz; `choose_event_detector` falls back to Zeni otherwise.

    Parameters
    ----------
    contact_height_m
        Least height above the stance level at which the crossing is taken.
    noise_multiple
        The threshold is at least this many standard deviations of the trajectory's noise.
    search_s
        Half-width of the window around Zeni's event searched for the contact.
    """

    contact_height_m: float = 0.005
    noise_multiple: float = 3.0
    search_s: float = 0.2
    name = "foot contact (heel and toe height, refined from Zeni et al. 2008)"

    def detect(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, forward: np.ndarray,
               up: np.ndarray, raw: dict[str, np.ndarray] | None = None) -> FootContactEventDetector:
        """`raw` (the unfiltered trajectories) sets the noise level; without it the threshold is
        `contact_height_m`."""
        up = np.asarray(up, float) / np.linalg.norm(up)
        coarse = ZeniEventDetector().detect(positions, sampling_rate_hz, forward).events_
        rows = []
        for side in sides_present(positions):
            for event, part, direction in (("heel_strike", "heel", -1), ("toe_off", "toe", +1)):
                height = _foot(positions, side, part) @ up
                noise = _noise_sd(raw[f"{side}_{part}"] @ up, height) if raw and f"{side}_{part}" in raw else 0.0
                threshold = max(self.contact_height_m, self.noise_multiple * noise)
                for _, row in coarse[(coarse.side == side) & (coarse.event == event)].iterrows():
                    frame = self._contact(height, row.frame, sampling_rate_hz, threshold, direction)
                    if frame is not None:
                        rows.append((side, event, frame, row.confidence))
        self.events_ = _table(rows, sampling_rate_hz)
        return self

    def _contact(self, height: np.ndarray, around: float, rate: float, threshold: float, direction: int) -> float | None:
        """Sub-frame instant the height meets the stance level: coming down (`direction` -1, heel
        strike) or leaving it (+1, toe off); None when the window shows no clear crossing."""
        reach = int(round(self.search_s * rate))
        start, stop = max(0, int(around) - reach), min(len(height), int(around) + reach + 1)
        # the stance level: on the stance side of the event (after a strike, before a toe off)
        stance = height[int(around): min(len(height), int(around) + 2 * reach)] if direction < 0 else \
            height[max(0, int(around) - 2 * reach): int(around) + 1]
        stance = stance[np.isfinite(stance)]
        if stance.size < 3:
            return None
        level = float(np.percentile(stance, 20))
        above = height[start:stop] - level - threshold
        if not np.isfinite(above).all():
            return None
        # a strike: the last sample above the threshold before the heel stays below it;
        # a toe off: the first sample above it after the toe stayed below
        crossings = np.flatnonzero((above[:-1] > 0) & (above[1:] <= 0)) if direction < 0 else \
            np.flatnonzero((above[:-1] <= 0) & (above[1:] > 0))
        if crossings.size == 0:
            return None
        i = int(crossings[-1] if direction < 0 else crossings[0])
        fraction = above[i] / (above[i] - above[i + 1])
        crossing = start + i + fraction
        slope = (above[i + 1] - above[i])  # height change per frame at the crossing
        if slope * direction <= 0:
            return float(crossing)
        # extrapolate along the velocity from the threshold down to the stance level
        return float(crossing - direction * min(MAX_EXTRAPOLATION_S * rate, threshold / abs(slope)))


MAX_EXTRAPOLATION_S = 0.05


def _noise_sd(raw: np.ndarray, smooth: np.ndarray) -> float:
    residual = raw - smooth
    residual = residual[np.isfinite(residual)]
    return float(np.std(residual)) if residual.size > 10 else 0.0



@dataclass
class SupportVelocityEventDetector:
    """Heel strike where the landing heel has slowed down to `strike_fraction` of the walking
    speed, toe off where the leaving toe has sped up to `off_fraction` of its swing's peak forward
    velocity, both measured relative to the surface the foot stands on.

    The surface's velocity is the feet's most frequent forward velocity (the stance foot's:
    gait/analysis/treadmill.py): about 0 overground, minus the belt speed on a treadmill,
    minus the walking speed for pelvis-relative keypoints; the walking speed is the pelvis's
    median forward velocity relative to it. So one criterion holds overground, on a belt and on
    video keypoints. Zeni et al. (2008) find each event first: the heel furthest ahead of the
    pelvis, the toe furthest behind it, where each moves at about the walking speed. From there
    the heel decelerates to nearly 0 at contact, but not to 0 (the marker or keypoint sits above
    and behind the contact point and moves as the foot rolls onto the ground), and the toe is
    still on the ground when it reaches the walking speed (it rolls over the toe tip first). The
    heel strike is where the heel's speed falls through its fraction of the walking speed; the toe
    off where the toe's forward velocity last rises through its fraction of the peak it reaches in
    the swing that follows (up to that foot's next Zeni heel strike): each stride scaled by its own
    swing, so a slow or short-stepping leg of an uneven walk is judged by its own speed, not by the
    walking speed both legs share. Both are interpolated between samples. For markers
    (`heel_descent`, `up` given) the heel's speed counts its descent too: a heel that slides
    forward slowly while it still drops has not landed. Video keypoints' heights are not precise
    enough for that (in the image) or carry the pelvis's own rise and fall (pelvis-relative 3D):
    there only the forward velocity counts (docs/validation.md). This is the velocity-threshold
    idea of Ghoussayni, Stevens, Durham & Ewins (2004), Gait & Posture 20(3):266-272 (a fixed
    50 mm/s there), with the thresholds relative to the walking speed and in the support
    surface's frame: our own variant, its two fractions chosen on the validation corpus's real
    recordings with every value tried shown (docs/validation.md). Without heels and toes the
    ankles stand in. Toe off is a fast event: where `toe_off_positions` are given (the analysis
    filters them at the feet's own cutoff, `toe_off_cutoff_hz`), toe offs are found in those.

    Parameters
    ----------
    strike_fraction
        Share of the walking speed the heel has slowed to at contact.
    off_fraction
        Share of its swing's peak forward velocity the toe has reached when it leaves the ground.
    heel_descent
        Whether the heel's vertical velocity counts in its speed (markers: True; video keypoints:
        False).
    search_s
        Longest time searched after Zeni's heel strike for the crossing; without one (or without
        a rise in the swing after Zeni's toe off) Zeni's instant is kept at half its confidence.
    """

    strike_fraction: float = 0.3
    off_fraction: float = 0.33
    heel_descent: bool = True
    search_s: float = 0.35
    name = "foot velocity in the support frame (after Ghoussayni et al. 2004 and Zeni et al. 2008)"

    def detect(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, forward: np.ndarray,
               up: np.ndarray | None = None,
               toe_off_positions: dict[str, np.ndarray] | None = None) -> SupportVelocityEventDetector:
        forward = np.asarray(forward, float) / np.linalg.norm(forward)
        rows = self._events(positions, sampling_rate_hz, forward, up, "heel_strike" if toe_off_positions else None)
        if toe_off_positions:
            rows += self._events(toe_off_positions, sampling_rate_hz, forward, up, "toe_off")
        self.events_ = _table(rows, sampling_rate_hz)
        return self

    def _events(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, forward: np.ndarray,
                up: np.ndarray | None, only: str | None) -> list[tuple[str, str, float, float]]:
        """Rows (side, event, frame, confidence) of both kinds of event, or of `only` that one."""
        zeni = ZeniEventDetector().detect(positions, sampling_rate_hz, forward).events_
        coarse = zeni if only is None else zeni[zeni.event == only]
        surface = surface_velocity(positions, forward, sampling_rate_hz)
        walking = float(np.nanmedian(_velocity(positions["pelvis"] @ forward, sampling_rate_hz))) - surface
        if only != "toe_off":  # the speeds the heel strikes were scaled by
            self.walking_speed_m_s_, self.surface_velocity_m_s_ = walking, surface
        if not walking >= MIN_WALKING_SPEED_M_S:  # no progression to scale by (or NaN): Zeni's events as they are
            return [(e.side, e.event, e.frame, e.confidence) for e in coarse.itertuples()]
        reach = int(round(self.search_s * sampling_rate_hz))
        velocities = {(side, part): _velocity(_foot(positions, side, part) @ forward, sampling_rate_hz) - surface
                      for side in set(coarse.side) for part in ("heel", "toe")}
        if self.heel_descent and up is not None:
            up = np.asarray(up, float) / np.linalg.norm(up)
            for side in set(coarse.side):
                descent = _velocity(_foot(positions, side, "heel") @ up, sampling_rate_hz)
                velocities[(side, "heel")] = np.hypot(velocities[(side, "heel")], descent)
        rows = []
        for event in coarse.itertuples():
            strike = event.event == "heel_strike"
            velocity = velocities[(event.side, "heel" if strike else "toe")]
            if strike:
                crossing = _crossing(velocity, int(event.frame), reach, self.strike_fraction * walking, falling=True)
            else:
                later = zeni[(zeni.side == event.side) & (zeni.event == "heel_strike") & (zeni.frame > event.frame)]
                swing_end = later.frame.min() if len(later) else event.frame + MAX_SWING_S * sampling_rate_hz
                start = int(event.frame - TOE_OFF_LEAD_S * sampling_rate_hz)
                crossing = _rise_to_share_of_peak(velocity, start, int(np.ceil(swing_end)), self.off_fraction)
            if crossing is not None:
                rows.append((event.side, event.event, crossing, event.confidence))
            elif not _gap_in(velocity, (int(round(event.frame)) - 1, int(round(event.frame)) + 2)):
                rows.append((event.side, event.event, event.frame, 0.5 * event.confidence))  # Zeni's instant, less sure
            # else Zeni's extremum lies on the edge of a dropout, the true one may be inside it: the
            # event was not seen, and none is made up
        return rows


def toe_off_cutoff_hz(positions: dict[str, np.ndarray], sampling_rate_hz: float, fallback_hz: float) -> float:
    """The low-pass cutoff for finding toe offs: the feet's own, by residual analysis of the heel,
    toe and ankle coordinates (Winter 2009), never below MIN_TOE_OFF_CUTOFF_HZ; `fallback_hz`
    where the recording is too short or too slow for one. The analysis's 6 Hz suits neither kind
    of data: it smooths a marker's take-off (the crossing comes early) and leaves a video
    keypoint's scatter (docs/validation.md, every cutoff tried on every real recording)."""
    feet = [p[:, axis] for name, p in positions.items() if name.endswith(("_heel", "_toe", "_ankle"))
            for axis in range(p.shape[1])]
    try:
        return max(MIN_TOE_OFF_CUTOFF_HZ, residual_cutoff(feet, sampling_rate_hz))
    except InvalidInput:
        return fallback_hz


MIN_TOE_OFF_CUTOFF_HZ = 2.0  # twice a stride's frequency: below it the steps themselves are smoothed away
TOE_OFF_LEAD_S = 0.1  # a toe off is searched from this long before Zeni's (the pelvis's speed varies)
MAX_SWING_S = 1.0  # the swing searched for its peak when no later heel strike bounds it
MIN_WALKING_SPEED_M_S = 0.1


def _rise_to_share_of_peak(signal: np.ndarray, start: int, stop: int, share: float) -> float | None:
    """Sub-sample position where `signal` last rises through `share` of its peak in [start, stop)
    before that peak; None without a positive peak or a rise within the span (or across a gap)."""
    start, stop = max(start, 0), min(stop, len(signal))
    if stop - start < 3 or not np.isfinite(signal[start:stop]).any():
        return None
    peak = start + int(np.nanargmax(signal[start:stop]))
    level = share * signal[peak]
    if not level > 0:
        return None
    for i in range(peak, start, -1):
        before, after = signal[i - 1], signal[i]
        if not np.isfinite(before):
            return None
        if before < level <= after:
            return i - 1 + (level - before) / (after - before)
    return None


def _gap_in(signal: np.ndarray, span: tuple[int, int]) -> bool:
    """Whether `signal` has missing samples in [start, stop)."""
    start, stop = max(span[0], 0), min(span[1], len(signal))
    return bool(np.isnan(signal[start:stop]).any())


def _crossing(signal: np.ndarray, start: int, reach: int, level: float, falling: bool) -> float | None:
    """Sub-sample position of the first crossing of `level` by `signal` (downwards if `falling`,
    else upwards) within `reach` samples from `start`; None without one."""
    sign = 1.0 if falling else -1.0
    for i in range(max(start, 0), min(start + reach, len(signal) - 1)):
        a, b = sign * (signal[i] - level), sign * (signal[i + 1] - level)
        if np.isfinite(a) and np.isfinite(b) and a >= 0 > b:
            return i + a / (a - b)
    return None


@dataclass
class RecordedEvents:
    """The events the file carries (a lab's, marked from force plates or by eye: a C3D's EVENT
    group) in place of a detection; `table` has columns side, event, time_s."""

    table: pd.DataFrame
    name = "the file's own events (the lab's)"

    def within(self, start: int, stop: int, sampling_rate_hz: float) -> pd.DataFrame:
        """The events in frames [start, stop), as a detector's `events_` of that slice (frames from
        `start`, confidence 1)."""
        frames = self.table.time_s.to_numpy(float) * sampling_rate_hz
        inside = self.table[(frames >= start) & (frames < stop)]
        rows = [(e.side, e.event, e.time_s * sampling_rate_hz - start, 1.0) for e in inside.itertuples()]
        return _table(rows, sampling_rate_hz)


EventDetector = (ZeniEventDetector | OConnorEventDetector | FootContactEventDetector | SupportVelocityEventDetector
                 | RecordedEvents)


def walking_direction(positions: dict[str, np.ndarray], up: np.ndarray) -> np.ndarray:
    """Unit vector of the direction of progression, from the feet's motion relative to the pelvis.

    Relative to the pelvis each foot swings forward quickly (swing, ~40 % of a stride) and drifts
    back slowly (stance, ~60 %): the axis is the main horizontal axis of that motion, pointing the
    way the feet move during the shorter phase. Works on root-relative keypoints (no global
    translation needed).
    """
    up = np.asarray(up, float) / np.linalg.norm(up)
    names = [n for n in positions if n.endswith(("_heel", "_toe", "_ankle")) and n.split("_")[0] in ("left", "right")]
    if not names:
        raise InvalidInput("the walking direction needs foot or ankle trajectories")
    pelvis = positions.get("pelvis", 0.0)
    relative = np.stack([positions[n] - pelvis for n in names])  # (feet, frames, 3)
    horizontal = relative - (relative @ up)[..., None] * up
    samples = horizontal.reshape(-1, 3)
    samples = samples[np.isfinite(samples).all(axis=1)]
    if len(samples) < 10:
        raise InvalidInput("too few valid foot positions to find the walking direction")
    _, vectors = np.linalg.eigh(np.cov(samples.T))
    axis = vectors[:, -1]
    velocity = np.diff(horizontal @ axis, axis=1)
    if np.mean(velocity[np.isfinite(velocity)] > 0) > 0.5:
        axis = -axis
    return axis


def alternating(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, left out): a foot lands once per swing, so between two heel strikes of one foot it
    has left the ground. Where a foot has two heel strikes with no toe off of it in between, the
    detections disagree with each other, not with gait: only the most confident strike of the run
    is kept. Seen on a 10-bit HEVC copy of the demo clip, where a second right heel strike 0.13 s
    after the left one, with the right foot still in stance, made a 0.13 s step and a cadence 11 %
    too high. Toe offs are not pruned the same way: a method that misses heel strikes (O'Connor's
    on the corpus) has two real toe offs in a row, and a toe off delimits no step."""
    keep = np.ones(len(events), dtype=bool)
    for _, foot in events.sort_values("time_s").groupby("side", sort=False):
        kinds = foot.event.to_numpy()
        run_starts = np.flatnonzero(np.r_[True, kinds[1:] != kinds[:-1]])
        for run in np.split(np.arange(len(foot)), run_starts[1:]):
            if run.size > 1 and kinds[run[0]] == "heel_strike":
                best = run[int(np.argmax(foot.confidence.to_numpy()[run]))]
                keep[events.index.get_indexer(foot.index[run[run != best]])] = False
    return events[keep].reset_index(drop=True), events[~keep].reset_index(drop=True)


MIN_FLIGHT_S = 0.2  # less than any walking swing (0.3 s and more): both feet leaving within it is a wrong toe off


def grounded(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, left out): walking keeps a foot on the ground, so after one foot's toe off the other
    foot stays down until the first has landed again. Two toe offs of opposite feet less than
    MIN_FLIGHT_S apart with no heel strike between them would put both feet in the air at once
    for less than any swing lasts: one of them is not a toe off. The trailing foot (the one that
    landed earlier) leaves first, so the toe off of the foot that struck more recently is left
    out (the less confident one where neither strike is known). Seen on the demo clip, where the
    left foot, half outside the image 0.3 s after its strike, gave a toe off 0.06 s after the
    right one. Two toe offs further apart are not pruned: a method that misses heel strikes
    (O'Connor's on the corpus) has real toe offs with no strike between them."""
    keep = pd.Series(True, index=events.index)
    history: dict[str, list] = {"left": [], "right": []}  # each foot's kept events so far
    for event in events.sort_values("time_s", kind="stable").itertuples():
        other = "right" if event.side == "left" else "left"
        theirs = history[other][-1] if history[other] else None
        if (event.event == "toe_off" and theirs is not None and theirs.event == "toe_off"
                and event.time_s - theirs.time_s < MIN_FLIGHT_S):
            mine_struck = max((e.time_s for e in history[event.side] if e.event == "heel_strike"), default=None)
            their_struck = max((e.time_s for e in history[other] if e.event == "heel_strike"), default=None)
            if mine_struck is not None and their_struck is not None:
                drop_mine = mine_struck > their_struck
            else:
                drop_mine = event.confidence <= theirs.confidence
            if drop_mine:
                keep[event.Index] = False
                continue
            keep[theirs.Index] = False
            history[other].pop()
        history[event.side].append(event)
    return events[keep.to_numpy()].reset_index(drop=True), events[~keep.to_numpy()].reset_index(drop=True)
