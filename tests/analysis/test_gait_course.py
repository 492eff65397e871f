"""The whole analysis on synthetic walks with known events: event methods and their accuracy,
walking bouts (standing, a turn), direction towards or away from a camera, intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait.analysis.analyze import analyze, choose_event_detector
from gait.analysis.events import (
    FootContactEventDetector,
    OConnorEventDetector,
    SupportVelocityEventDetector,
    ZeniEventDetector,
)
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.spatiotemporal import summary
from gait.analysis.trajectories import Trajectories
from gait.analysis.validation.synthetic import SyntheticWalker, with_standing, with_turn
from gait.errors import InvalidInput

UP = np.array([0.0, 0.0, 1.0])


def _matched_errors(events: pd.DataFrame, truth: dict[str, np.ndarray], kind: str, start_s: float, stop_s: float):
    """Signed errors of the found events against the true ones inside [start_s, stop_s], and the
    numbers of true events missed and found events extra there."""
    errors, missed, extra = [], 0, 0
    for side in ("left", "right"):
        found = events[(events.side == side) & (events.event == kind)].time_s.to_numpy()
        found = found[(found > start_s) & (found < stop_s)]
        true = truth[side][(truth[side] > start_s + 0.15) & (truth[side] < stop_s - 0.15)]
        used = set()
        for t in true:
            i = int(np.argmin(np.abs(found - t))) if found.size else -1
            if i >= 0 and abs(found[i] - t) < 0.2 and i not in used:
                errors.append(found[i] - t)
                used.add(i)
            else:
                missed += 1
        inner = (found > start_s + 0.35) & (found < stop_s - 0.35)
        extra += sum(1 for i in np.flatnonzero(inner) if i not in used)
    return np.array(errors), missed, extra


@pytest.mark.parametrize("rate_hz", [100.0, 150.0])
@pytest.mark.parametrize("noise_m", [0.0, 0.001])
def test_foot_contact_method_on_the_synthetic_walker(rate_hz, noise_m):
    """On our own walker (no flat-foot landing, no belt) the foot-contact method finds heel strikes
    within 20 ms and toe offs within 10 ms: the method's behaviour on the model it was made from.
    On real recordings it is the least accurate (tests/analysis/test_validation.py)."""
    trial = SyntheticWalker(cadence_steps_per_min=108.0).generate(12.0, rate_hz)
    rng = np.random.default_rng(1)
    noisy = {name: p + rng.normal(0, noise_m, p.shape) for name, p in trial.positions.items()}
    result = analyze(Trajectories(noisy, rate_hz, UP, "synthetic markers"), ButterworthLowPass(), "contact")
    assert result.events_method.startswith(FootContactEventDetector.name)
    for kind, truth, limit in (("heel_strike", trial.heel_strikes_s, 0.020), ("toe_off", trial.toe_offs_s, 0.010)):
        errors, missed, extra = _matched_errors(result.events, truth, kind, 0.5, 11.5)
        assert missed == 0 and extra == 0
        assert np.abs(errors).mean() <= limit, f"{kind}: {1000 * np.abs(errors).mean():.1f} ms"
    assert result.parameters["cadence_steps_per_min"]["mean"] == pytest.approx(108.0, abs=1.0)


def test_oconnor_finds_one_strike_and_one_toe_off_per_stride():
    trial = SyntheticWalker().generate(10.0, 100.0)
    events = OConnorEventDetector().detect(trial.positions, 100.0, np.array([1.0, 0, 0]), UP).events_
    for kind, truth in (("heel_strike", trial.heel_strikes_s), ("toe_off", trial.toe_offs_s)):
        errors, missed, extra = _matched_errors(events, truth, kind, 0.5, 9.5)
        assert missed == 0 and extra == 0
        assert np.abs(errors).max() < 0.1  # its own timing on this walker: see benchmarks/analysis.py


def test_auto_event_method_is_the_one_the_corpus_supports():
    """auto = the support-frame velocity method on markers and keypoints alike (docs/validation.md:
    the foot-contact method, best on the synthetic walker, is the worst on the real recordings)."""
    trial = SyntheticWalker().generate(4.0, 100.0)
    markers = Trajectories(dict(trial.positions), 100.0, UP, "markers")
    detector, reason = choose_event_detector(markers)
    assert isinstance(detector, SupportVelocityEventDetector) and "validation corpus" in reason
    assert isinstance(choose_event_detector(markers, "contact")[0], FootContactEventDetector)
    assert isinstance(choose_event_detector(markers, "zeni")[0], ZeniEventDetector)
    video = Trajectories({n: p - trial.positions["pelvis"] for n, p in trial.positions.items()}, 30.0, UP, "keypoints",
                         root_relative=True)
    assert isinstance(choose_event_detector(video)[0], SupportVelocityEventDetector)
    ankles_only = Trajectories({n: p for n, p in trial.positions.items() if not n.endswith(("heel", "toe"))}, 100.0, UP, "h36m")
    assert isinstance(choose_event_detector(ankles_only)[0], SupportVelocityEventDetector)  # the ankles stand in for the heels
    assert isinstance(choose_event_detector(markers, "oconnor")[0], OConnorEventDetector)
    with pytest.raises(InvalidInput, match="foot-contact event method needs"):
        choose_event_detector(video, "contact")
    with pytest.raises(InvalidInput, match="unknown event method"):
        choose_event_detector(markers, "magic")


def test_standing_and_a_turn_are_not_analyzed_as_gait():
    """Stand 3 s, walk 5 s, turn 180 degrees over 2 s, walk back 5 s, stand 2 s: two bouts, each
    with its own walking direction, no event in the turn or while standing, cadence right."""
    walk = SyntheticWalker(cadence_steps_per_min=104.0).generate(12.0, 100.0)
    trial = with_standing(with_turn(walk, 5.0, 2.0), 3.0, 2.0)
    result = analyze(Trajectories(dict(trial.positions), 100.0, UP, "course"), ButterworthLowPass(), "contact")
    assert len(result.bouts) == 2
    first, second = result.bouts.itertuples()
    assert 2.5 < first.start_s < 3.6 and 7.0 < first.stop_s < 8.2      # walking from 3 s, turning from 8 s
    assert 9.8 < second.start_s < 11.0 and 14.5 < second.stop_s < 15.2  # turn ends at 10 s, standing from 15 s
    assert first.forward_x == pytest.approx(1.0, abs=0.05) and second.forward_x == pytest.approx(-1.0, abs=0.05)
    times = result.events.time_s
    assert not ((times > 8.0) & (times < 10.0)).any() and not (times < 2.9).any() and not (times > 15.0).any()
    for kind, truth in (("heel_strike", trial.heel_strikes_s), ("toe_off", trial.toe_offs_s)):
        for bout in result.bouts.itertuples():
            errors, missed, extra = _matched_errors(result.events, truth, kind, bout.start_s, bout.stop_s)
            assert missed == 0 and extra == 0 and np.abs(errors).mean() < 0.02
    assert result.parameters["cadence_steps_per_min"]["mean"] == pytest.approx(104.0, abs=1.0)
    assert result.parameters["speed_m_s"]["mean"] == pytest.approx(walk.speed_m_s, rel=0.03)
    assert any("2 straight walking bouts analyzed" in w for w in result.warnings)


@pytest.mark.parametrize("towards", [True, False])
def test_walking_towards_or_away_from_a_camera(towards):
    """Keypoints in camera axes (x right, y down, z away), pelvis-relative, 30 frames/s."""
    trial = SyntheticWalker(cadence_steps_per_min=100.0).generate(10.0, 30.0)
    sign = -1.0 if towards else 1.0  # world x (forward) -> camera z: towards the camera is -z
    to_camera = np.array([[0, 1, 0], [0, 0, -1], [sign, 0, 0]], float)  # rows: camera x, y, z from world
    camera = {n: (p - trial.positions["pelvis"]) @ to_camera.T for n, p in trial.positions.items()}
    trajectories = Trajectories(camera, 30.0, np.array([0.0, -1.0, 0.0]), "camera", root_relative=True)
    result = analyze(trajectories, ButterworthLowPass())
    np.testing.assert_allclose(result.forward, [0, 0, sign], atol=0.05)
    assert result.parameters["cadence_steps_per_min"]["mean"] == pytest.approx(100.0, abs=1.0)
    assert result.parameters["step_length_m"]["mean"] == pytest.approx(0.65, rel=0.05)


def test_intervals_from_the_step_to_step_spread_and_the_scale():
    steps = pd.DataFrame({"step_time_s": [0.5, 0.6, 0.55, 0.52, 0.58], "step_length_m": [0.6, 0.7, 0.65, 0.62, 0.68]})
    for column in ("stride_time_s", "stance_time_s", "stance_pct", "step_width_m", "stride_length_m", "speed_m_s"):
        steps[column] = np.nan
    plain = summary(steps)
    values = steps.step_time_s.to_numpy()
    half = 2.776445 * values.std(ddof=1) / np.sqrt(5)  # t(0.975, 4 degrees of freedom)
    assert plain["step_time_s"]["ci95_low"] == pytest.approx(values.mean() - half, rel=1e-5)
    assert plain["step_time_s"]["ci95_high"] == pytest.approx(values.mean() + half, rel=1e-5)
    assert not plain["step_time_s"]["few"]
    cadence = plain["cadence_steps_per_min"]
    # steps per minute: 60 / the mean step time; the spread is that of the per-step values
    assert cadence["mean"] == pytest.approx(60 / values.mean()) and cadence["sd"] == pytest.approx(np.std(60 / values, ddof=1))
    assert cadence["ci95_low"] == pytest.approx(60 / (values.mean() + half), rel=1e-5)
    assert cadence["ci95_low"] < cadence["mean"] < cadence["ci95_high"]
    scaled = summary(steps, length_scale_uncertainty=0.1)
    assert scaled["step_time_s"]["ci95_high"] == plain["step_time_s"]["ci95_high"]  # times carry no scale
    assert scaled["step_length_m"]["ci95_high"] - scaled["step_length_m"]["mean"] > 1.96 * 0.1 * 0.65
    few = summary(steps.iloc[:3])
    assert few["step_time_s"]["few"] and few["cadence_steps_per_min"]["few"]


def test_asymmetric_stance_shows_with_the_contact_method():
    trial = SyntheticWalker(right_step_scale=1.12).generate(12.0, 100.0)
    result = analyze(Trajectories(dict(trial.positions), 100.0, UP, "markers"), ButterworthLowPass(), "contact")
    stance = result.symmetry["stance_pct"]
    assert stance["left"] == pytest.approx(60.0, abs=1.0) and stance["right"] == pytest.approx(67.2, abs=1.0)


def test_keypoints_without_feet_fall_back_to_the_ankles():
    """A lift3d backend without heels and toes (MotionBERT on COCO-17) writes NaN feet."""
    from gait.analysis.keypoints import keypoint_trajectories
    from gait.joints import H36M_17

    trial = SyntheticWalker(cadence_steps_per_min=100.0).generate(8.0, 30.0)
    h36m = np.full((len(trial.positions["pelvis"]), 17, 3), np.nan)
    for index, name in enumerate(H36M_17):
        if name in trial.positions:
            h36m[:, index] = trial.positions[name] - trial.positions["pelvis"]
    h36m[:, H36M_17.index("thorax")] = np.nan
    trajectories = keypoint_trajectories(h36m, np.full((len(h36m), 4, 3), np.nan), 30.0)
    assert not any(name.endswith(("heel", "toe")) for name in trajectories.positions)
    result = analyze(trajectories, ButterworthLowPass())
    assert result.parameters["cadence_steps_per_min"]["mean"] == pytest.approx(100.0, abs=1.0)


def test_low_keypoint_confidence_lowers_event_confidence_and_drops_steps():
    trial = SyntheticWalker(cadence_steps_per_min=100.0).generate(10.0, 30.0)
    relative = {n: p - trial.positions["pelvis"] for n, p in trial.positions.items()}
    confidence = {name: np.ones(len(p)) for name, p in relative.items()}
    confidence["left_heel"][150:] = 0.2  # the left heel unsure after 5 s
    sure = analyze(Trajectories(relative, 30.0, UP, "keypoints", root_relative=True), ButterworthLowPass())
    unsure = analyze(Trajectories(relative, 30.0, UP, "keypoints", root_relative=True, confidence=confidence),
                     ButterworthLowPass())
    late_left = (unsure.events.side == "left") & (unsure.events.event == "heel_strike") & (unsure.events.time_s > 5.2)
    assert late_left.any() and (unsure.events.confidence[late_left] < 0.3).all()
    assert unsure.parameters["step_time_s"]["n"] < sure.parameters["step_time_s"]["n"]


def test_single_and_double_support():
    """Stance 60 %: the other foot swings 40 % (single support), double support 2 x 10 %, with the
    foot-contact method, whose events on this walker are within a few ms."""
    trial = SyntheticWalker(stance_fraction=0.60).generate(12.0, 100.0)
    result = analyze(Trajectories(dict(trial.positions), 100.0, UP, "markers"), ButterworthLowPass(), "contact")
    p = result.parameters
    assert p["stance_pct"]["mean"] == pytest.approx(60.0, abs=0.5)
    assert p["swing_pct"]["mean"] == pytest.approx(40.0, abs=0.5)
    assert p["single_support_pct"]["mean"] == pytest.approx(40.0, abs=1.0)  # events within a few ms
    assert p["double_support_pct"]["mean"] == pytest.approx(20.0, abs=1.0)


def test_a_walker_entering_and_leaving_the_view_keeps_every_step():
    """Keypoints that start and stop mid-walk (the walker crosses the image): the bout spans all
    the valid frames, no half-second is cut at either edge, and the strikes inside are found."""
    trial = SyntheticWalker(cadence_steps_per_min=110.0).generate(8.0, 30.0)
    relative = {n: p - trial.positions["pelvis"] for n, p in trial.positions.items()}
    for p in relative.values():
        p[:30], p[-30:] = np.nan, np.nan  # out of view for the first and last second
    result = analyze(Trajectories(relative, 30.0, UP, "keypoints", root_relative=True), ButterworthLowPass())
    (bout,) = result.bouts.itertuples()
    assert bout.start_s == pytest.approx(1.0, abs=0.05) and bout.stop_s == pytest.approx(7.0, abs=0.05)
    errors, missed, _ = _matched_errors(result.events, trial.heel_strikes_s, "heel_strike", 1.3, 6.7)
    assert missed == 0 and len(errors) >= 9


def test_a_hip_line_seen_badly_is_not_a_turn():
    """The hip line swings 60 degrees out and back within a second (keypoints of a walker
    coming out from behind a tree): one bout over the whole walk, not two cut at a "turn"; a
    real 180 degree turn still splits a walk (test above)."""
    trial = SyntheticWalker().generate(10.0, 100.0)
    positions = dict(trial.positions)
    angle = np.radians(60.0) * np.exp(-(((trial.time_s - 5.0) / 0.3) ** 2))
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    for name in ("left_hip", "right_hip"):
        offset = positions[name] - positions["pelvis"]
        turned = np.column_stack([cos[:, 0] * offset[:, 0] - sin[:, 0] * offset[:, 1],
                                  sin[:, 0] * offset[:, 0] + cos[:, 0] * offset[:, 1], offset[:, 2]])
        positions[name] = positions["pelvis"] + turned
    result = analyze(Trajectories(positions, 100.0, UP, "markers"), ButterworthLowPass())
    assert len(result.bouts) == 1 and result.bouts.stop_s[0] - result.bouts.start_s[0] > 9.0


@pytest.mark.parametrize("cadence", [50.0, 104.0, 130.0])
def test_the_stride_time_comes_from_the_feet_apart(cadence):
    """The bouts judge stepping over one stride: the walk's own, from the autocorrelation of the
    feet's distance apart; none for someone standing."""
    from gait.analysis.bouts import stride_period_s

    walker = SyntheticWalker(cadence_steps_per_min=cadence)
    trial = walker.generate(12.0, 100.0)
    apart = (trial.positions["left_heel"] - trial.positions["right_heel"])[:, 0]
    valid = np.ones(len(apart), bool)
    assert stride_period_s(apart, valid, 100.0) == pytest.approx(walker.stride_time_s, abs=0.02)
    assert stride_period_s(np.full(len(apart), 0.1), valid, 100.0) is None
