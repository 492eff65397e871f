"""Gait events and temporal parameters on a synthetic walker whose events are known exactly."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait.analysis.events import (
    EVENT_COLUMNS,
    MIN_TOE_OFF_CUTOFF_HZ,
    SupportVelocityEventDetector,
    ZeniEventDetector,
    _rise_to_share_of_peak,
    alternating,
    grounded,
    toe_off_cutoff_hz,
    walking_direction,
)
from gait.analysis.spatiotemporal import steps_table, summary
from gait.analysis.validation.synthetic import SyntheticWalker

UP = np.array([0.0, 0.0, 1.0])


def _errors(found: pd.DataFrame, truth: np.ndarray, duration_s: float) -> np.ndarray:
    truth = truth[(truth > 0.3) & (truth < duration_s - 0.3)]  # a peak at the very edge cannot be seen
    times = found.time_s.to_numpy()
    inside = times[(times > 0.25) & (times < duration_s - 0.25)]
    assert len(inside) == len(truth), f"{len(inside)} events found for {len(truth)} true ones"
    return np.array([times[np.argmin(np.abs(times - t))] - t for t in truth])


@pytest.mark.parametrize("rate_hz", [30.0, 100.0])
@pytest.mark.parametrize("cadence", [90.0, 115.0])
def test_zeni_finds_every_event_once(rate_hz, cadence):
    duration = 10.0
    trial = SyntheticWalker(cadence_steps_per_min=cadence).generate(duration, rate_hz)
    forward = walking_direction(trial.positions, UP)
    np.testing.assert_allclose(forward, [1, 0, 0], atol=0.02)
    events = ZeniEventDetector().detect(trial.positions, rate_hz, forward).events_
    assert list(events.columns) == EVENT_COLUMNS
    for side in ("left", "right"):
        strikes = _errors(events[(events.side == side) & (events.event == "heel_strike")], trial.heel_strikes_s[side], duration)
        offs = _errors(events[(events.side == side) & (events.event == "toe_off")], trial.toe_offs_s[side], duration)
        # The coordinate method's known bias: strike early, toe off late (the heel slows before contact).
        assert -0.09 < strikes.mean() < -0.02 and np.abs(strikes).max() < 0.1
        assert 0.02 < offs.mean() < 0.09 and np.abs(offs).max() < 0.1
    cadence_found = summary(steps_table(events))["cadence_steps_per_min"]["mean"]
    assert cadence_found == pytest.approx(cadence, abs=1.0)


def test_pelvis_relative_keypoints_give_the_same_events():
    trial = SyntheticWalker().generate(6.0, 50.0)
    relative = {name: p - trial.positions["pelvis"] for name, p in trial.positions.items()}
    forward = walking_direction(relative, UP)
    a = ZeniEventDetector().detect(trial.positions, 50.0, forward).events_
    b = ZeniEventDetector().detect(relative, 50.0, forward).events_
    pd.testing.assert_frame_equal(a, b)


def test_walking_direction_in_camera_axes():
    """Walking right to left past a camera: world x -> camera -x, world z (up) -> camera -y (down)."""
    trial = SyntheticWalker().generate(6.0, 30.0)
    to_camera = np.array([[-1, 0, 0], [0, 0, -1], [0, 1, 0]], float)  # rows: camera x, y, z from world
    camera = {name: p @ to_camera.T for name, p in trial.positions.items()}
    np.testing.assert_allclose(walking_direction(camera, np.array([0, -1, 0])), [-1, 0, 0], atol=0.02)


def test_asymmetry_shows_in_stance():
    trial = SyntheticWalker(right_step_scale=1.12).generate(12.0, 100.0)
    events = ZeniEventDetector().detect(trial.positions, 100.0, walking_direction(trial.positions, UP)).events_
    steps = steps_table(events)
    stance = steps.groupby("side").stance_pct.mean()
    assert stance["right"] - stance["left"] > 3  # true difference 7.2 points; Zeni under-reads it


def test_steps_skip_uncertain_events_and_missed_strikes():
    events = pd.DataFrame(
        [("left", "heel_strike", 0, 0.0, 1.0), ("right", "heel_strike", 0, 0.5, 1.0), ("left", "heel_strike", 0, 1.0, 0.2),
         ("right", "heel_strike", 0, 1.5, 1.0), ("left", "heel_strike", 0, 2.0, 1.0), ("right", "toe_off", 0, 2.1, 1.0)],
        columns=EVENT_COLUMNS)
    steps = steps_table(events)
    # the uncertain strike at 1.0 s is dropped: right 0.5 -> right 1.5 is no step; left 0.0 -> right 0.5 and
    # right 1.5 -> left 2.0 are (each row is the strike that ends its step).
    assert steps.heel_strike_s.tolist() == [0.5, 2.0]
    assert steps.side.tolist() == ["right", "left"]
    assert steps.step_time_s.tolist() == [0.5, 0.5]
    assert summary(steps)["cadence_steps_per_min"]["mean"] == pytest.approx(120.0)


@pytest.mark.parametrize("rate_hz", [30.0, 100.0])
def test_step_lengths_widths_and_speed(rate_hz):
    walker = SyntheticWalker(step_length_m=0.7, step_width_m=0.14, cadence_steps_per_min=100.0)
    trial = walker.generate(10.0, rate_hz)
    forward = walking_direction(trial.positions, UP)
    events = ZeniEventDetector().detect(trial.positions, rate_hz, forward).events_
    feet = {side: trial.positions[f"{side}_heel"] for side in ("left", "right")}
    parameters = summary(steps_table(events, feet, rate_hz, forward, UP))
    # heel to heel at contact: the trailing heel has already risen and rolled 1-2 cm forwards
    assert parameters["step_length_m"]["mean"] == pytest.approx(0.7, rel=0.03)
    assert parameters["step_width_m"]["mean"] == pytest.approx(0.14, abs=0.005)
    assert parameters["stride_length_m"]["mean"] == pytest.approx(1.4, rel=0.03)
    assert parameters["speed_m_s"]["mean"] == pytest.approx(trial.speed_m_s, rel=0.03)


def test_long_dropouts_are_reported_short_ones_bridged():
    from gait.analysis.analyze import analyze
    from gait.analysis.filtering import ButterworthLowPass
    from gait.analysis.trajectories import Trajectories

    trial = SyntheticWalker().generate(8.0, 100.0)
    positions = {name: p.copy() for name, p in trial.positions.items()}
    positions["left_heel"][300:305] = np.nan    # 0.05 s: bridged
    positions["right_toe"][400:460] = np.nan    # 0.6 s: reported
    positions["left_toe"][:50] = np.nan         # recording edge: not a dropout
    result = analyze(Trajectories(positions, 100.0, UP, "synthetic"), ButterworthLowPass())
    gaps = [w for w in result.warnings if "dropout" in w]
    assert gaps == ["right_toe: 1 dropout longer than 0.1 s (longest 0.60 s) left empty, not invented"]
    assert np.isnan(result.filtered["right_toe"][400:460]).all()


def test_symmetry_index():
    from gait.analysis.spatiotemporal import symmetry

    trial = SyntheticWalker(right_step_scale=1.12).generate(12.0, 100.0)
    events = ZeniEventDetector().detect(trial.positions, 100.0, walking_direction(trial.positions, UP)).events_
    result = symmetry(steps_table(events))
    stance = result["stance_pct"]
    assert stance["right"] > stance["left"]
    expected = 100 * abs(stance["left"] - stance["right"]) / ((stance["left"] + stance["right"]) / 2)
    assert stance["symmetry_index_pct"] == pytest.approx(expected) and stance["symmetry_index_pct"] > 4
    even = symmetry(steps_table(ZeniEventDetector().detect(SyntheticWalker().generate(12.0, 100.0).positions, 100.0,
                                                           np.array([1.0, 0, 0])).events_))
    assert even["step_time_s"]["symmetry_index_pct"] < 0.5


@pytest.mark.parametrize("belt_m_s", [0.0, 1.1])
def test_support_velocity_method_is_the_same_on_a_belt(belt_m_s):
    """On a treadmill every point moves back at the belt's speed while the body stays in place:
    the heel strikes found relative to the belt are those found overground, and so are the
    walking speed and the surface's velocity the detector measures."""
    rate = 100.0
    trial = SyntheticWalker(cadence_steps_per_min=105.0).generate(8.0, rate)
    drift = (trial.speed_m_s + belt_m_s) * trial.time_s if belt_m_s else 0.0
    shifted = {n: p - (np.stack([drift, 0 * trial.time_s, 0 * trial.time_s], axis=1) if belt_m_s else 0.0)
               for n, p in trial.positions.items()}
    forward = np.array([1.0, 0.0, 0.0])
    overground = SupportVelocityEventDetector().detect(trial.positions, rate, forward)
    detector = SupportVelocityEventDetector().detect(shifted, rate, forward)
    assert detector.walking_speed_m_s_ == pytest.approx(trial.speed_m_s, rel=0.05)
    assert detector.surface_velocity_m_s_ == pytest.approx(-(trial.speed_m_s + belt_m_s) if belt_m_s else 0.0, abs=0.05)
    strikes = detector.events_[detector.events_.event == "heel_strike"].time_s.to_numpy()
    reference = overground.events_[overground.events_.event == "heel_strike"].time_s.to_numpy()
    np.testing.assert_allclose(strikes, reference, atol=0.002)


def test_support_velocity_events_come_after_zenis():
    """The heel still moves at about the walking speed at Zeni's strike and the toe at Zeni's toe
    off: the contact (heel slowed to 30 % of it) and the toe leaving (sped up to a third of its
    swing's peak) come later, one each per Zeni event."""
    trial = SyntheticWalker().generate(8.0, 100.0)
    forward = np.array([1.0, 0.0, 0.0])
    zeni = ZeniEventDetector().detect(trial.positions, 100.0, forward).events_
    velocity = SupportVelocityEventDetector().detect(trial.positions, 100.0, forward).events_
    for kind in ("heel_strike", "toe_off"):
        late = (velocity[velocity.event == kind].time_s.to_numpy() - zeni[zeni.event == kind].time_s.to_numpy())
        assert (late > 0.002).all() and (late < 0.2).all(), (kind, late)


def test_a_heel_still_dropping_has_not_landed():
    """A heel that slides forward slowly while it still descends (the slow walk's right heel):
    for markers (`up` given) the descent counts, so the strike comes later than by the forward
    velocity alone; for video keypoints (`heel_descent=False`) it does not, and
    heels that do not move vertically give the same strikes either way."""
    rate = 100.0
    trial = SyntheticWalker().generate(8.0, rate)
    forward, up = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    flat = {n: p * np.array([1.0, 1.0, 0.0]) if n.endswith("heel") else p for n, p in trial.positions.items()}

    def strikes(positions, **options):
        events = SupportVelocityEventDetector(**options).detect(positions, rate, forward, up).events_
        return events[events.event == "heel_strike"].time_s.to_numpy()

    forward_only = strikes(trial.positions, heel_descent=False)
    assert (strikes(trial.positions) - forward_only > 0.005).all()
    np.testing.assert_allclose(strikes(flat), strikes(flat, heel_descent=False))


def test_support_velocity_without_progression_keeps_zenis_events():
    """Someone shifting from foot to foot on the spot (no walking speed to scale the thresholds by):
    Zeni's events are kept as they are, not moved by thresholds of about 0 m/s."""
    rng = np.random.default_rng(3)
    t = np.arange(600) / 100.0
    sway = np.stack([0 * t, 0.02 * np.sin(2 * np.pi * 0.8 * t), 0.01 * np.sin(2 * np.pi * 0.8 * t) ** 2], axis=1)
    positions = {"pelvis": np.zeros((600, 3))}
    for side, offset in (("left", 0.0), ("right", np.pi)):
        shift = np.roll(sway, int(offset * 20), axis=0)
        for part, base in (("heel", [-0.05, 0.1, 0.05]), ("toe", [0.15, 0.1, 0.02])):
            positions[f"{side}_{part}"] = np.asarray(base) + shift + rng.normal(0, 0.001, shift.shape)
    forward = np.array([1.0, 0.0, 0.0])
    detector = SupportVelocityEventDetector().detect(positions, 100.0, forward)
    assert detector.walking_speed_m_s_ < 0.1
    pd.testing.assert_frame_equal(detector.events_, ZeniEventDetector().detect(positions, 100.0, forward).events_)


def test_cadence_of_an_uneven_walk_is_steps_per_minute():
    """Steps of 0.7 s and 1.3 s alternating: 2 steps every 2 s, 60 steps/min (the mean of
    60 / step time would say 69)."""
    times = np.cumsum([0.0] + [0.7, 1.3] * 6)
    events = pd.DataFrame({"side": ["left", "right"] * 6 + ["left"], "event": "heel_strike", "frame": times * 100,
                           "time_s": times, "confidence": 1.0})
    cadence = summary(steps_table(events, max_step_s=1.5))["cadence_steps_per_min"]
    assert cadence["mean"] == pytest.approx(60.0) and cadence["ci95_low"] < 60.0 < cadence["ci95_high"]


def test_toe_offs_come_from_the_positions_given_for_them():
    """Heel strikes from `positions`, toe offs from `toe_off_positions` (the analysis low-passes
    those at the feet's own cutoff): with the same positions for both the events are unchanged."""
    trial = SyntheticWalker().generate(8.0, 100.0)
    forward = np.array([1.0, 0.0, 0.0])
    alone = SupportVelocityEventDetector().detect(trial.positions, 100.0, forward).events_
    split = SupportVelocityEventDetector().detect(trial.positions, 100.0, forward, toe_off_positions=trial.positions).events_
    pd.testing.assert_frame_equal(alone, split)
    later = {n: np.roll(p, 3, axis=0) for n, p in trial.positions.items()}  # 30 ms later
    moved = SupportVelocityEventDetector().detect(trial.positions, 100.0, forward, toe_off_positions=later).events_
    for kind, shift in (("heel_strike", 0.0), ("toe_off", 0.03)):
        found = moved[moved.event == kind].time_s.to_numpy()
        for t in alone[(alone.event == kind) & alone.time_s.between(0.5, 7.5)].time_s:
            assert np.min(np.abs(found - t - shift)) < 0.002, (kind, t)


def test_toe_off_cutoff_is_the_feet_own():
    """Residual analysis of the feet: clean marker-like data give a cutoff well above the
    analysis's 6 Hz, very noisy ones a low one (never below 2 Hz), a recording too short for a
    residual analysis the fallback."""
    trial = SyntheticWalker().generate(10.0, 100.0)
    rng = np.random.default_rng(0)
    feet = {n: p for n, p in trial.positions.items() if n.endswith(("_heel", "_toe"))}
    clean = toe_off_cutoff_hz({n: p + rng.normal(0, 0.0005, p.shape) for n, p in feet.items()}, 100.0, 6.0)
    noisy = toe_off_cutoff_hz({n: p + rng.normal(0, 0.03, p.shape) for n, p in feet.items()}, 100.0, 6.0)
    assert clean > 8.0 and MIN_TOE_OFF_CUTOFF_HZ <= noisy < clean
    assert toe_off_cutoff_hz({n: p[:10] for n, p in feet.items()}, 100.0, 6.0) == 6.0


def test_a_toe_off_is_a_share_of_its_own_swing():
    """An uneven walk: one leg swings twice as fast as the other. Each toe off is where that toe
    reaches a third of its own swing's peak, the same phase of each swing (a share of the walking
    speed, which both legs share, would put the slow leg's late). No rise: none."""
    t = np.arange(100) / 100.0
    swing = np.where((t >= 0.2) & (t <= 0.6), np.sin(np.pi * (t - 0.2) / 0.4), 0.0)
    expected = 100 * (0.2 + 0.4 * np.arcsin(1 / 3) / np.pi)
    for peak_m_s in (1.5, 3.0):
        assert _rise_to_share_of_peak(peak_m_s * swing, 0, 100, 1 / 3) == pytest.approx(expected, abs=0.3)
    gap = 3.0 * swing
    gap[24] = np.nan  # the rise (between samples 24 and 25) is in a gap: no instant to stand behind
    assert _rise_to_share_of_peak(gap, 0, 100, 1 / 3) is None
    assert _rise_to_share_of_peak(-swing, 0, 100, 1 / 3) is None


def _events(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([(side, event, 100 * t, t, c) for side, event, t, c in rows], columns=EVENT_COLUMNS)


def test_a_second_heel_strike_of_a_foot_still_in_stance_is_left_out():
    """The HEVC copy of the demo clip: a right heel strike 0.13 s after the left one, the right foot
    not having left the ground since its own strike at 5.71 s."""
    walk = [("right", "heel_strike", 4.50, 0.99), ("left", "toe_off", 4.62, 0.99), ("left", "heel_strike", 5.08, 0.99),
            ("right", "toe_off", 5.21, 0.95), ("right", "heel_strike", 5.71, 0.99), ("left", "toe_off", 5.83, 0.99),
            ("left", "heel_strike", 6.27, 0.99), ("right", "heel_strike", 6.40, 0.52), ("left", "toe_off", 6.49, 0.21)]
    before = steps_table(_events(walk))
    assert before.step_time_s.min() == pytest.approx(0.13)
    kept, left_out = alternating(_events(walk))
    assert left_out[["side", "event", "time_s"]].values.tolist() == [["right", "heel_strike", 6.40]]
    assert len(kept) == len(walk) - 1 and kept.time_s.is_monotonic_increasing
    assert steps_table(kept).step_time_s.min() > 0.55


def test_of_two_strikes_in_a_row_the_more_confident_stays_and_toe_offs_are_not_pruned():
    walk = [("left", "heel_strike", 1.00, 0.6), ("left", "heel_strike", 1.10, 0.9), ("left", "toe_off", 1.70, 0.9),
            ("left", "toe_off", 2.80, 0.8), ("left", "heel_strike", 3.00, 0.9), ("right", "heel_strike", 1.55, 0.9)]
    kept, left_out = alternating(_events(walk))
    assert left_out.time_s.tolist() == [1.00]
    assert sorted(kept.time_s) == [1.10, 1.55, 1.70, 2.80, 3.00]  # two toe offs in a row: a strike was missed


def test_a_toe_off_while_the_other_foot_is_in_the_air_is_left_out():
    """The demo clip's end: the left foot lands at 6.29 s, the right (trailing) foot leaves at 6.51 s,
    and a left toe off at 6.58 s (the foot half outside the image) would have both feet in the air."""
    walk = [("right", "heel_strike", 5.71, 0.99), ("left", "toe_off", 5.85, 0.99), ("left", "heel_strike", 6.29, 0.75),
            ("right", "toe_off", 6.51, 0.29), ("left", "toe_off", 6.58, 0.57)]
    kept, left_out = grounded(_events(walk))
    assert left_out[["side", "event", "time_s"]].values.tolist() == [["left", "toe_off", 6.58]]
    assert len(kept) == 4
    before = steps_table(_events(walk))
    assert before.stance_time_s.min() < 0.3  # the 0.29 s "stance" the wrong toe off made
    assert not (steps_table(kept).stance_time_s < 0.5).any()


def test_the_earlier_toe_off_goes_when_its_foot_landed_more_recently_and_far_apart_ones_stay():
    walk = [("left", "heel_strike", 1.00, 0.9), ("right", "heel_strike", 1.60, 0.9), ("right", "toe_off", 1.70, 0.9),
            ("left", "toe_off", 1.75, 0.6)]
    kept, left_out = grounded(_events(walk))
    assert left_out[["side", "time_s"]].values.tolist() == [["right", 1.70]]
    # O'Connor's method misses heel strikes: real toe offs half a stride apart with no strike between
    missed_strikes = [("left", "toe_off", 1.0, 0.9), ("right", "toe_off", 1.6, 0.9), ("left", "toe_off", 2.2, 0.9)]
    kept, left_out = grounded(_events(missed_strikes))
    assert left_out.empty and len(kept) == 3
    # neither foot's strike known: the less confident goes
    kept, left_out = grounded(_events([("left", "toe_off", 1.0, 0.9), ("right", "toe_off", 1.1, 0.4)]))
    assert left_out.time_s.tolist() == [1.1]


def test_recorded_events_are_taken_as_the_file_gives_them_and_refused_where_there_are_none():
    from gait.analysis.analyze import analyze, choose_event_detector
    from gait.analysis.events import RecordedEvents
    from gait.analysis.filtering import ButterworthLowPass
    from gait.analysis.trajectories import Trajectories
    from gait.errors import InvalidInput

    table = pd.DataFrame({"side": ["left", "right", "left"], "event": ["heel_strike", "toe_off", "heel_strike"],
                          "time_s": [0.5, 1.25, 2.0]})
    within = RecordedEvents(table).within(100, 300, 100.0)  # frames 100-299 of a 100 Hz recording
    assert within.frame.tolist() == [25.0, 100.0] and within.confidence.tolist() == [1.0, 1.0]
    trial = SyntheticWalker().generate(6.0, 100.0)
    plain = Trajectories(trial.positions, 100.0, UP, "synthetic")
    with pytest.raises(InvalidInput, match="carries no gait events"):
        choose_event_detector(plain, "file")
    strikes = trial.heel_strikes_s["left"]
    standing = Trajectories({name: np.concatenate([p, np.repeat(p[-1:], 300, axis=0)]) for name, p in trial.positions.items()},
                            100.0, UP, "synthetic", file_events=pd.DataFrame(
                                {"side": "left", "event": "heel_strike", "time_s": [strikes[2], 7.5]}),
                            file_events_source="a test")
    result = analyze(standing, ButterworthLowPass(), "file")  # 7.5 s: while standing still, after the walk
    assert result.events.time_s.tolist() == pytest.approx([strikes[2]])
    assert "1 of the file's 2 events lie outside the walking bouts" in " ".join(result.warnings)
    assert not any("gait events from the file" in w for w in analyze(plain, ButterworthLowPass()).warnings)


def test_one_leg_gives_its_strides_and_a_cadence_of_two_steps_per_stride():
    """A one-sided marker set: no steps, but the strides, stance, swing, stride length and speed
    of that leg, and the cadence as two steps per stride, said so."""
    from gait.analysis.analyze import analyze
    from gait.analysis.filtering import ButterworthLowPass
    from gait.analysis.trajectories import Trajectories

    walker = SyntheticWalker(cadence_steps_per_min=104.0)
    trial = walker.generate(10.0, 100.0)
    right = {name: p for name, p in trial.positions.items() if not name.startswith("left_")}
    result = analyze(Trajectories(right, 100.0, UP, "synthetic"), ButterworthLowPass())
    parameters = result.parameters
    assert "step_time_s" not in parameters and "step_length_m" not in parameters
    assert parameters["stride_time_s"]["mean"] == pytest.approx(walker.stride_time_s, abs=0.01)
    assert parameters["cadence_steps_per_min"]["mean"] == pytest.approx(104.0, abs=1.0)
    assert parameters["cadence_steps_per_min"]["from_strides"]
    assert parameters["stride_length_m"]["mean"] == pytest.approx(2 * walker.step_length_m, rel=0.02)
    assert parameters["speed_m_s"]["mean"] == pytest.approx(trial.speed_m_s, rel=0.02)
    assert any(w.startswith("one leg only: strides") for w in result.warnings)
