"""Normal reference and deviation score, 2D mode, height scaling and the exported files."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gait.analysis.analyze import analyze
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.outputs import write_mot
from gait.analysis.planar import LEG_TO_STATURE, scale_to_height, trajectories_2d
from gait.analysis.reference import gait_profile_score, gait_variable_scores, kinematic_reference, spatiotemporal_ranges
from gait.analysis.trajectories import Trajectories
from gait.analysis.validation.synthetic import SyntheticWalker
from gait.errors import InvalidInput
from gait.joints import HALPE_26

UP = np.array([0.0, 0.0, 1.0])


def test_schwartz_reference_curves():
    reference = kinematic_reference()
    assert len(reference) == 101
    # free-speed values of the paper's data at initial contact and in swing
    assert reference.knee_flexion_deg_mean[0] == pytest.approx(5.55, abs=0.01)
    assert reference.knee_flexion_deg_sd[0] == pytest.approx(5.66, abs=0.01)
    assert 55 < reference.knee_flexion_deg_mean.max() < 70 and reference.hip_flexion_deg_mean.min() < 0


def test_gait_variable_and_profile_scores():
    reference = kinematic_reference()
    subject = pd.DataFrame({"cycle_pct": reference.cycle_pct,
                            "left_knee_flexion_deg_mean": reference.knee_flexion_deg_mean,
                            "right_knee_flexion_deg_mean": reference.knee_flexion_deg_mean + 6.0})
    scores = gait_variable_scores(subject, reference)
    assert scores == {"left_knee_flexion_deg": pytest.approx(0.0), "right_knee_flexion_deg": pytest.approx(6.0)}
    assert gait_profile_score(scores) == pytest.approx(np.sqrt(18.0))


def test_normal_ranges_follow_pace_age_and_sex():
    adults = spatiotemporal_ranges(1.3)
    assert "normal pace" in adults["cadence_steps_per_min"].basis
    assert adults["speed_m_s"].low <= 1.3 <= adults["speed_m_s"].high
    woman = spatiotemporal_ranges(1.3, age_years=35, sex="female")
    assert woman["cadence_steps_per_min"].low == pytest.approx(110.4) and woman["cadence_steps_per_min"].high == pytest.approx(126.2)
    assert woman["step_length_m"].low == pytest.approx(0.609)
    slow = spatiotemporal_ranges(0.8, age_years=35, sex="female")
    assert "slow pace" in slow["cadence_steps_per_min"].basis
    with pytest.raises(InvalidInput, match="male or female"):
        spatiotemporal_ranges(1.0, sex="other")
    with pytest.raises(InvalidInput, match="no normal ranges for age"):
        spatiotemporal_ranges(1.0, age_years=120)


def _side_view_keypoints(trial, pixels_per_m: float = 400.0) -> np.ndarray:
    """Halpe-26 keypoints of the synthetic walker seen from its left side: world x -> image x,
    world z (up) -> image -y."""
    names = {"left_big_toe": "left_toe", "right_big_toe": "right_toe"}
    frames = len(trial.positions["pelvis"])
    keypoints = np.zeros((frames, len(HALPE_26), 3))
    for index, name in enumerate(HALPE_26):
        source = trial.positions.get(names.get(name, name))
        if source is not None:
            keypoints[:, index, 0] = 100 + pixels_per_m * source[:, 0]
            keypoints[:, index, 1] = 900 - pixels_per_m * source[:, 2]
            keypoints[:, index, 2] = 0.9
    return keypoints


def test_2d_mode_gives_timing_and_angles_and_lengths_in_leg_lengths():
    walker = SyntheticWalker(cadence_steps_per_min=100.0, step_length_m=0.7)
    trial = walker.generate(10.0, 30.0)
    three_d = analyze(Trajectories(dict(trial.positions), 30.0, UP, "3D", root_relative=True), ButterworthLowPass())
    planar = trajectories_2d(_side_view_keypoints(trial), 30.0, "2D keypoints")
    assert planar.planar and planar.length_unit == "leg"
    result = analyze(planar, ButterworthLowPass())
    assert result.parameters["cadence_steps_per_min"]["mean"] == pytest.approx(100.0, abs=1.0)
    leg = walker.thigh_m + walker.shank_m
    assert result.parameters["step_length_m"]["mean"] == pytest.approx(0.7 / leg, rel=0.05)  # in leg lengths
    assert "step_width_m" not in result.parameters  # no depth in 2D
    for angle in ("left_knee_flexion_deg", "right_thigh_angle_deg"):
        np.testing.assert_allclose(result.kinematics[f"{angle}_mean"], three_d.kinematics[f"{angle}_mean"], atol=2.0)
    scaled = trajectories_2d(_side_view_keypoints(trial), 30.0, "2D keypoints", height_m=leg / LEG_TO_STATURE)
    metres = analyze(scaled, ButterworthLowPass())
    assert metres.parameters["step_length_m"]["mean"] == pytest.approx(0.7, rel=0.05)
    with pytest.raises(InvalidInput, match="2D keypoints must be"):
        trajectories_2d(np.zeros((10, 5, 3)), 30.0, "bad")


def test_height_scales_lengths_of_unscaled_data():
    walker = SyntheticWalker()
    trial = walker.generate(6.0, 100.0)
    half_size = Trajectories({n: p * 0.5 for n, p in trial.positions.items()}, 100.0, UP, "half")
    scaled = scale_to_height(half_size, (walker.thigh_m + walker.shank_m) / LEG_TO_STATURE)
    np.testing.assert_allclose(scaled.positions["left_heel"], trial.positions["left_heel"], rtol=1e-3)
    assert scaled.length_uncertainty == pytest.approx(0.03) and "scaled" in scaled.notes["scale"]
    with pytest.raises(InvalidInput, match="implausible height"):
        scale_to_height(half_size, 4.0)


def test_mot_file_is_opensim_storage(tmp_path):
    path = tmp_path / "angles.mot"
    write_mot(path, {"knee": np.array([1.0, np.nan, 3.0])}, 100.0)
    lines = path.read_text().splitlines()
    assert lines[:6] == ["angles", "version=1", "nRows=3", "nColumns=2", "inDegrees=yes", "endheader"]
    assert lines[6] == "time\tknee" and lines[7] == "0.000000\t1.0000" and lines[8] == "0.010000\tNaN"


def test_gait_analyze_in_2d_mode(tmp_path):
    trial = SyntheticWalker(cadence_steps_per_min=100.0).generate(8.0, 30.0)
    path = tmp_path / "keypoints2d.npy"
    np.save(path, _side_view_keypoints(trial))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--rate-hz", "30", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "(2D)" in done.stderr
    report = (out / "report.html").read_text()
    assert "(2D, sagittal plane)" in report and "step length (leg)" in report
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF-")
    missing_rate = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--out", str(out)],
                                  capture_output=True, text=True, timeout=60)
    assert missing_rate.returncode == 2 and "need --rate-hz" in missing_rate.stderr


def test_gait_analyze_picks_the_cutoff_by_residual_analysis(tmp_path):
    from gait.analysis.trc import write_trc

    trial = SyntheticWalker().generate(8.0, 100.0)
    rng = np.random.default_rng(3)
    path = tmp_path / "walk.trc"
    write_trc(path, {n: p + rng.normal(0, 0.002, p.shape) for n, p in trial.positions.items()}, 100.0)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--cutoff-hz", "auto", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import json

    summary = json.loads((out / "analysis.json").read_text())
    assert 2.0 <= summary["cutoff_hz"] <= 15.0
    assert "residual analysis" in (out / "report.html").read_text()
    bad = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--cutoff-hz", "fast", "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "neither a frequency in Hz nor auto" in bad.stderr


def test_gait_analyze_through_the_service_matches_in_process(tmp_path):
    """`--service`: the recording goes into the store, the analysis service (started on loopback)
    analyses it and the bundle's files come out; the numbers are those of the in-process run. Both
    carry the audit trail, from the input's SHA-256 on."""
    import json
    import os

    from gait.analysis.trc import write_trc
    from gait.artifacts import sha256_file

    trial = SyntheticWalker().generate(8.0, 100.0)
    path = tmp_path / "walk.trc"
    write_trc(path, dict(trial.positions), 100.0)
    env = {**os.environ, "GAIT_HOME": str(tmp_path / "home"), "GAIT_STORE": "local"}
    env.pop("GAIT_ANALYSIS_ADDR", None)
    results = {}
    for mode, extra in (("local", []), ("service", ["--service"])):
        out = tmp_path / mode
        done = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--out", str(out), *extra],
                              capture_output=True, text=True, timeout=180, env=env)
        assert done.returncode == 0, done.stderr
        summary = json.loads((out / "analysis.json").read_text())
        results[mode] = summary["spatiotemporal_parameters"]
        assert (out / "report.pdf").is_file() and (out / "gait_analysis.xlsx").is_file()
        audit = summary["audit_trail"]  # the file as received, then this analysis: code, account, settings
        assert [record["stage"] for record in audit] == (["analysis"] if mode == "local" else ["recording", "analysis"])
        assert list(audit[0]["input_sha256"].values()) == [sha256_file(path)]
        assert audit[-1]["provenance"]["code"]["gait"] and audit[-1]["provenance"]["made_by"]["account"]
        report = (out / "report.html").read_text()
        assert "Audit trail" in report and sha256_file(path) in report
    assert results["service"]["cadence_steps_per_min"]["mean"] == pytest.approx(results["local"]["cadence_steps_per_min"]["mean"])
    assert results["service"]["step_length_m"] == pytest.approx(results["local"]["step_length_m"])
    again = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--out", str(tmp_path / "again"),
                            "--service"], capture_output=True, text=True, timeout=180, env=env)
    assert again.returncode == 0
    bad = tmp_path / "bad.trc"
    bad.write_text("not a trc\n")
    refused = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(bad), "--out", str(tmp_path / "bad"),
                              "--service"], capture_output=True, text=True, timeout=180, env=env)
    assert refused.returncode == 2 and refused.stderr.strip().startswith("gait: error: not a TRC file"), refused.stderr
    stored = list((tmp_path / "home").rglob("*"))
    assert not any("bad" in p.name or "walk" in p.name for p in stored), "no clinic file names in the store"


def test_axes_can_be_given(tmp_path):
    from gait.analysis.recording import AnalyzeOptions, parse_axis, read_recording
    from gait.analysis.trc import write_trc

    np.testing.assert_array_equal(parse_axis("-y"), [0, -1, 0])
    with pytest.raises(InvalidInput, match="must be x, y or z"):
        parse_axis("w")
    trial = SyntheticWalker().generate(6.0, 100.0)
    path = tmp_path / "walk.trc"
    write_trc(path, dict(trial.positions), 100.0)
    given = read_recording(path, AnalyzeOptions(up_axis="z"))
    np.testing.assert_array_equal(given.up, [0, 0, 1])
    assert given.notes["up axis"] == "z (given)"
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--out", str(out),
                           "--forward-axis=-x"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import json

    bouts = json.loads((out / "analysis.json").read_text())["bouts"]
    assert bouts[0]["forward_x"] == 1.0  # the line given, the way along it found from the walk
    vertical = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--out", str(out),
                               "--forward-axis", "z"], capture_output=True, text=True, timeout=120)
    assert vertical.returncode == 2 and "cannot be the vertical" in vertical.stderr


def test_plot_titles_say_where_the_angles_come_from():
    import pandas as pd

    from gait.analysis.outputs import ReportContext, angle_source

    side_view = ReportContext("phone video", "abc", "axes", angle_sources=pd.DataFrame({"angle": ["left_knee_flexion_deg"]}))
    assert angle_source(side_view) == "2D keypoints, side view"
    assert angle_source(ReportContext("TRC file", "abc", "axes")) == "3D"
