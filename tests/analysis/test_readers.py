"""Motion-capture readers and `gait analyze`, on a synthetic walk written in each format."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import c3d
import numpy as np
import pandas as pd
import pytest

from gait.analysis.markers import map_markers, parse_mapping, with_pelvis_filled
from gait.analysis.readers import read_trajectories
from gait.analysis.trc import write_trc
from gait.analysis.validation.synthetic import SyntheticWalker
from gait.errors import InvalidInput

RATE = 100.0
PLUG_IN_GAIT = {"LHEE": "left_heel", "RHEE": "right_heel", "LTOE": "left_toe", "RTOE": "right_toe",
                "LANK": "left_ankle", "RANK": "right_ankle", "LKNE": "left_knee", "RKNE": "right_knee"}


@pytest.fixture(scope="module")
def trial():
    return SyntheticWalker(cadence_steps_per_min=104.0).generate(8.0, RATE)


def _lab_markers(trial) -> dict[str, np.ndarray]:
    """Plug-in Gait names in millimetres, y up (a common lab convention): world (x, y, z) -> (x, z, -y)."""
    to_lab = lambda p: np.stack([p[:, 0], p[:, 2], -p[:, 1]], axis=1) * 1000  # noqa: E731
    markers = {code: to_lab(trial.positions[joint]) for code, joint in PLUG_IN_GAIT.items()}
    pelvis = to_lab(trial.positions["pelvis"])
    for code, offset in {"LASI": [0.1, 0, -120], "RASI": [0.1, 0, 120], "LPSI": [-0.1, 0, -50], "RPSI": [-0.1, 0, 50]}.items():
        markers[code] = pelvis + np.array(offset) * [1000, 1, 1]
    return markers


ANALOG_PER_FRAME = 10


def _write_c3d(path, markers: dict[str, np.ndarray], first_labels: int | None = None,
               plates: list[tuple[np.ndarray, np.ndarray]] | None = None,
               events: list[tuple[str, str, float]] | None = None) -> None:
    """Plug-in Gait markers as a C3D (mm); `first_labels`: that many in POINT:LABELS, the rest in
    POINT:LABELS2 (as a file of over 255 points has them); `plates`: force plates (type 2) as
    (corners (4, 3) mm, vertical force in N at ANALOG_PER_FRAME samples per frame), their six
    channels each and one more channel (an EMG) in the analog data; `events`: an EVENT group of
    (context, label, time in s as Vicon counts it: frame n at (n - 1) / rate)."""
    import warnings

    warnings.filterwarnings("ignore", message="No analog data", category=UserWarning)
    plates = plates or []
    writer = c3d.Writer(point_rate=RATE, analog_rate=RATE * ANALOG_PER_FRAME if plates else 0.0, point_units="mm  ")
    names = list(markers)
    frames = len(markers[names[0]])
    stacked = np.stack([markers[n] for n in names], axis=1).astype(np.float32)  # (frames, points, 3)
    points = np.zeros((frames, len(names), 5), np.float32)
    points[..., :3] = stacked
    points[20:23, 0, 3] = -1  # a three-frame gap in the first marker
    analog = np.zeros((frames, 6 * len(plates) + 1, ANALOG_PER_FRAME if plates else 0), np.float32)
    for plate, (_, force) in enumerate(plates):
        analog[:, 6 * plate + 2] = -force.reshape(frames, ANALOG_PER_FRAME)  # the plate's z points down
    writer.add_frames(list(zip(points, analog)) if plates else [(p, np.zeros((0, 0), np.float32)) for p in points])
    writer.set_point_labels(names[:first_labels])
    if first_labels is not None:
        label_str, size = c3d.Writer.pack_labels(names[first_labels:])
        writer.point_group.add_str("LABELS2", "Point labels, continued.", label_str, size, len(names) - first_labels)
    if plates:
        writer.set_analog_labels([f"{kind}{plate + 1}" for plate in range(len(plates))
                                  for kind in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")] + ["EMG1"])
        group = writer.add_group(3, "FORCE_PLATFORM", "force plates")
        count = len(plates)
        group.add_param("USED", desc="plates", bytes_per_element=2, bytes=np.int16(count).tobytes(), dimensions=[])
        group.add_param("TYPE", desc="types", bytes_per_element=2, bytes=np.full(count, 2, np.int16).tobytes(),
                        dimensions=[count])
        group.add_param("CHANNEL", desc="channels", bytes_per_element=2,
                        bytes=np.arange(1, 6 * count + 1, dtype=np.int16).tobytes(), dimensions=[6, count])
        corners = np.stack([c for c, _ in plates]).astype(np.float32)
        group.add_param("CORNERS", desc="corners", bytes_per_element=4, bytes=corners.tobytes(), dimensions=[3, 4, count])
    if events:
        group = writer.add_group(4, "EVENT", "events")
        group.add_param("USED", desc="events", bytes_per_element=2, bytes=np.int16(len(events)).tobytes(), dimensions=[])
        for name, index in (("CONTEXTS", 0), ("LABELS", 1)):
            label_str, size = c3d.Writer.pack_labels([event[index] for event in events])
            group.add_str(name, name.lower(), label_str, size, len(events))
        times = np.array([[0.0, event[2]] for event in events], np.float32)  # minutes, seconds
        group.add_param("TIMES", desc="times", bytes_per_element=4, bytes=times.tobytes(), dimensions=[2, len(events)])
    with open(path, "wb") as handle:
        writer.write(handle)


def _write_csv(path, trial) -> None:
    table = {"time_s": trial.time_s}
    for name in ("pelvis", "left_heel", "right_heel", "left_toe", "right_toe", "left_ankle", "right_ankle"):
        for axis, column in zip("xyz", trial.positions[name].T):
            table[f"{name}_{axis}"] = column
    pd.DataFrame(table).to_csv(path, index=False)


@pytest.mark.parametrize("kind", ["trc", "c3d", "csv"])
def test_each_format_reads_back_in_metres_with_up_found(kind, trial, tmp_path):
    path = tmp_path / f"walk.{kind}"
    if kind == "trc":
        write_trc(path, _lab_markers(trial), RATE, units="mm")
    elif kind == "c3d":
        _write_c3d(path, _lab_markers(trial))
    else:
        _write_csv(path, trial)
    trajectories = read_trajectories(path)
    assert trajectories.sampling_rate_hz == pytest.approx(RATE)
    expected_up = [0, 0, 1] if kind == "csv" else [0, 1, 0]
    np.testing.assert_array_equal(trajectories.up, expected_up)
    heel = trajectories.positions["left_heel"]
    truth = trial.positions["left_heel"]
    lab = truth if kind == "csv" else np.stack([truth[:, 0], truth[:, 2], -truth[:, 1]], axis=1)
    finite = np.isfinite(heel).all(axis=1)
    np.testing.assert_allclose(heel[finite], lab[finite], atol=1e-4)
    if kind == "c3d":
        assert np.isnan(trajectories.positions["left_heel"][20:23]).all(), "residual -1 must read as a gap"
    assert "pelvis" in trajectories.positions


@pytest.mark.parametrize("kind", ["trc", "c3d"])
def test_a_point_at_exactly_the_origin_is_a_gap(kind, trial, tmp_path):
    """Some exporters write a gap as 0, 0, 0 (with a residual of 0 in a C3D): read as the origin,
    the heel would jump a metre and back."""
    markers = _lab_markers(trial)
    markers["RHEE"][100:110] = 0.0
    path = tmp_path / f"zeros.{kind}"
    write_trc(path, markers, RATE, units="mm") if kind == "trc" else _write_c3d(path, markers)
    heel = read_trajectories(path).positions["right_heel"]
    assert np.isnan(heel[100:110]).all() and np.isfinite(heel[90:100]).all()


def test_point_labels_past_the_first_group_are_read(trial, tmp_path):
    """A C3D of more than 255 points names the rest in POINT:LABELS2 (and so on): its markers
    there are read like the others."""
    path = tmp_path / "labels2.c3d"
    _write_c3d(path, _lab_markers(trial), first_labels=5)
    assert {"left_knee", "right_knee", "pelvis"} <= set(read_trajectories(path).positions)  # LKNE, RKNE, LASI... in LABELS2


def _plate_under(foot: list[np.ndarray], start_s: float, stop_s: float, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """A plate 600 mm wide (corners in mm, lab y up: x forwards, z across) around where `foot`'s
    points (lab mm) stand from start_s to stop_s, so wide that the other foot swings over it;
    loaded with 700 N meanwhile (20 ms ramps), nothing before or after."""
    a, b = int(start_s * RATE), int(stop_s * RATE)
    stance = np.concatenate([p[a:b] for p in foot])
    centre = stance[:, 2].mean()
    low = np.array([stance[:, 0].min() - 40, centre - 300])
    high = np.array([stance[:, 0].max() + 40, centre + 300])
    corners = np.array([[low[0], 0, low[1]], [high[0], 0, low[1]], [high[0], 0, high[1]], [low[0], 0, high[1]]])
    time = np.arange(frames * ANALOG_PER_FRAME) / (RATE * ANALOG_PER_FRAME)
    force = 700 * np.clip(np.minimum(time - start_s, stop_s - time) / 0.02, 0, 1)  # 20 N: 0.6 ms in
    return corners, force


def test_force_plates_give_the_contacts_of_the_foot_that_stands_on_them(trial, tmp_path):
    """Two plates, one under a right stance, one under a left one, and a third that nobody steps
    on: their contacts are the events the file carries (the foot that stays on the plate, not
    the one swinging over it); the analysis compares its own with them."""
    from gait.analysis.analyze import analyze
    from gait.analysis.filtering import ButterworthLowPass

    markers = _lab_markers(trial)
    frames = len(markers["LHEE"])
    truth = {}
    plates = []
    for side, code in (("right", "R"), ("left", "L")):
        strike = trial.heel_strikes_s[side][2]
        off = trial.toe_offs_s[side][trial.toe_offs_s[side] > strike][0]
        truth[side] = (strike, off)
        plates.append(_plate_under([markers[f"{code}HEE"], markers[f"{code}TOE"]], strike, off, frames))
    plates.append((plates[0][0] + [3000, 0, 0], np.random.default_rng(0).normal(0, 5, frames * ANALOG_PER_FRAME)))
    path = tmp_path / "plates.c3d"
    _write_c3d(path, markers, plates=plates)
    trajectories = read_trajectories(path)
    assert "force plates" in trajectories.file_events_source
    events = trajectories.file_events
    assert len(events) == 4
    for side, (strike, off) in truth.items():
        own = events[events.side == side].set_index("event").time_s
        assert own["heel_strike"] == pytest.approx(strike, abs=0.002) and own["toe_off"] == pytest.approx(off, abs=0.002)
    (note,) = [w for w in analyze(trajectories, ButterworthLowPass()).warnings if "gait events from" in w]
    assert note.startswith("4 gait events from the file's force plates") and "2 of 2 matched" in note, note
    assert "extra" not in note  # plates see only some steps: the others are not extra


@pytest.mark.parametrize("events", [
    [("Left", "Foot Strike", 1.0), ("Left", "Foot Off", 1.6), ("Right", "Foot Strike", 1.5), ("General", "Event", 2.0)],
    [("General", "LHS", 1.0), ("", "LTO", 1.6), ("General", "RHS", 1.5), ("", "Foot Strike", 2.0)],  # Visual3D's
])
def test_the_gait_events_of_a_c3d_are_read_as_vicon_or_visual3d_writes_them(events, trial, tmp_path):
    path = tmp_path / "events.c3d"
    _write_c3d(path, _lab_markers(trial), events=events)
    trajectories = read_trajectories(path)
    found = trajectories.file_events
    assert "EVENT group" in trajectories.file_events_source
    assert list(zip(found.side, found.event)) == [("left", "heel_strike"), ("right", "heel_strike"), ("left", "toe_off")]
    np.testing.assert_allclose(found.time_s, [1.0, 1.5, 1.6], atol=1e-6)  # the file starts at frame 1: time 0


def test_a_force_plate_group_that_cannot_be_read_leaves_the_markers(trial, tmp_path):
    markers = _lab_markers(trial)
    frames = len(markers["LHEE"])
    plates = [_plate_under([markers["RHEE"]], trial.heel_strikes_s["right"][2], trial.heel_strikes_s["right"][2] + 0.5,
                           frames)]
    path = tmp_path / "plates.c3d"
    _write_c3d(path, markers, plates=plates)
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw).replace(b"CHANNEL", b"CHANNEX"))  # no channels: no plate to read
    trajectories = read_trajectories(path)
    assert trajectories.file_events is None and "left_heel" in trajectories.positions


def test_a_csv_of_a_lab_export_with_its_own_column_names(trial, tmp_path):
    """Marker names with upper-case axes and other separators (LHEE.X, "RTOE Y", LASI:Z) and a
    "Time (s)" column, in mm."""
    table = {"Time (s)": trial.time_s}
    separators = iter(".  :" * 10)
    for code, p in _lab_markers(trial).items():
        separator = next(separators)
        for axis, column in zip("XYZ", p.T):
            table[f"{code}{separator}{axis}"] = column
    path = tmp_path / "export.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    trajectories = read_trajectories(path, units="mm")
    assert trajectories.sampling_rate_hz == pytest.approx(RATE)
    assert {"left_heel", "right_toe", "pelvis", "left_knee"} <= set(trajectories.positions)
    np.testing.assert_allclose(trajectories.positions["left_heel"][:, 1], trial.positions["left_heel"][:, 2], atol=1e-6)


def test_pelvis_is_the_mean_of_asis_and_psis(trial):
    joints, sources = map_markers(_lab_markers(trial))
    assert sorted(sources["pelvis"]) == ["LASI", "LPSI", "RASI", "RPSI"]
    np.testing.assert_allclose(joints["pelvis"][:, 1], trial.positions["pelvis"][:, 2] * 1000, atol=1e-6)


@pytest.mark.parametrize("labels", [
    {"Patient01:LHEE": "left_heel", "Patient01:RTOE": "right_toe", "Patient01:LASI": "pelvis"},  # Vicon's subject prefix
    {"r_calc_study": "right_heel", "L_toe_study": "left_toe", "r_mankle_study": "right_ankle", "L.ASIS_study": "pelvis"},
    {"LCAL": "left_heel", "RFM2": "right_toe", "LLMAL": "left_ankle", "RLEK": "right_knee", "V.Sacral": "pelvis"},
    {"L.Heel": "left_heel", "R.Toe": "right_toe", "L.Knee.Lat": "left_knee", "R.PSIS": "pelvis"},
    {"RHeel": "right_heel", "LBigToe": "left_toe", "RAnkle": "right_ankle", "Hip": "pelvis"},  # Pose2Sim
])
def test_marker_sets_of_other_labs_and_tools(labels):
    points = {label: np.ones((3, 3)) for label in labels}
    _, sources = map_markers(points)
    assert {joint: markers for joint, markers in sources.items()} == {joint: [label] for label, joint in labels.items()}


def test_a_joint_centre_the_lab_exported_is_the_joint_and_a_custom_mapping_wins_over_it():
    points = {"LKNE": np.zeros((2, 3)), "LMFE": np.full((2, 3), 2.0), "LKJC": np.ones((2, 3)), "RHJC_study": np.ones((2, 3)),
              "LHEE": np.ones((2, 3))}
    _, sources = map_markers(points)
    assert sources["left_knee"] == ["LKJC"] and sources["right_hip"] == ["RHJC_study"]
    _, sources = map_markers(points, {"LKNE": "left_knee"})
    assert sources["left_knee"] == ["LKNE"]
    _, sources = map_markers({"LKNE": np.zeros((2, 3)), "LMFE": np.full((2, 3), 2.0), "LHEE": np.ones((2, 3))})
    assert sources["left_knee"] == ["LKNE", "LMFE"]  # lateral and medial epicondyles: the knee's centre


def test_the_fifth_metatarsal_stands_in_only_for_a_foot_without_a_toe_marker():
    points = {name: np.full((3, 3), value) for value, name in enumerate(["LHEE", "LMT5", "RHEE", "RTOE", "RMT5"])}
    joints, sources = map_markers(points)
    assert sources["left_toe"] == ["LMT5"] and sources["right_toe"] == ["RTOE"]
    assert joints["right_toe"][0, 0] == 3.0


def test_a_medial_and_a_lateral_malleolus_give_the_ankle_centre():
    joints, _ = map_markers({"LANK": np.zeros((2, 3)), "LMMA": np.full((2, 3), 2.0), "LHEE": np.ones((2, 3))})
    np.testing.assert_allclose(joints["left_ankle"], 1.0)


def test_a_pelvis_marker_missing_for_a_while_is_filled_as_a_rigid_body(trial, tmp_path):
    """LASI hidden for 0.5 s: the pelvis (the mean of four markers) would jump by a third of
    LASI's distance from the centre (about 4 cm) to the mean of the other three; it is filled
    from them instead, and the hip joint centres stay."""
    markers = _lab_markers(trial)
    markers["LASI"][300:350] = np.nan
    path = tmp_path / "gap.trc"
    write_trc(path, markers, RATE, units="mm")
    trajectories = read_trajectories(path)
    pelvis, truth = trajectories.positions["pelvis"], trial.positions["pelvis"]
    np.testing.assert_allclose(pelvis[:, 1], truth[:, 2], atol=1e-5)  # lab y is the walker's height
    assert np.isfinite(trajectories.positions["left_hip"][300:350]).all()
    assert "50 marker-frames" in trajectories.notes["pelvis markers filled"]
    assert with_pelvis_filled({"LASI": markers["LASI"], "RASI": markers["RASI"], "SACR": markers["RPSI"]})[1] == 0


def test_a_pelvis_marker_the_file_names_but_never_saw_is_left_out(trial):
    markers = {**_lab_markers(trial), "SACR": np.full((int(8 * RATE), 3), np.nan)}
    joints, sources = map_markers(markers)
    assert "SACR" not in sources["pelvis"] and np.isfinite(joints["pelvis"]).all()


def test_custom_mapping(trial, tmp_path):
    markers = {f"M{i}": p for i, p in enumerate(_lab_markers(trial).values())}
    path = tmp_path / "custom.trc"
    write_trc(path, markers, RATE, units="mm")
    with pytest.raises(InvalidInput, match="maps to a joint"):
        read_trajectories(path)
    codes = list(PLUG_IN_GAIT) + ["LASI", "RASI", "LPSI", "RPSI"]
    mapping = {f"M{i}": PLUG_IN_GAIT.get(code, "pelvis") for i, code in enumerate(codes)}
    trajectories = read_trajectories(path, mapping=mapping)
    assert {"left_heel", "right_toe", "pelvis"} <= set(trajectories.positions)
    with pytest.raises(ValueError, match="not a joint name"):
        parse_mapping("M0=left_foot_thing")


@pytest.mark.parametrize("name, content, words", [
    ("bad.trc", b"hello\nworld\n", "not a TRC file"),
    ("short.trc", b"PathFileType\t4\n", r"only a header \(1 line\)"),
    ("header.trc", b"PathFileType\t4\t(X/Y/Z)\tw.trc\nDataRate\tUnits\n100\tmm\nFrame#\tTime\tLHEE\nX1\tY1\tZ1\n",
     r"only a header \(5 lines\): no data rows"),
    ("nofeet.csv", b"time_s,pelvis_x,pelvis_y,pelvis_z,left_knee_x,left_knee_y,left_knee_z\n0,0,0,1,0,0,0.5\n"
     b"0.01,0,0,1,0,0,0.5\n", "no ankle, heel or toe trajectory"),
    ("bad.c3d", b"\x00" * 512, "C3D"),
    ("bad.csv", b"a,b\n1,2\n", "_x"),
    ("notime.csv", b"left_ankle_x,left_ankle_y,left_ankle_z\n0,0,0\n", "sampling rate"),
    ("empty.trc", b"", "empty"),
    ("walk.mov", b"\x00\x01", "unsupported file type"),
])
def test_malformed_files_name_the_problem(name, content, words, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=words):
        read_trajectories(path)


def test_gait_analyze_command(trial, tmp_path):
    path = tmp_path / "walk.trc"
    write_trc(path, _lab_markers(trial), RATE, units="mm")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"cadence 10[34]\.\d steps/min", result.stderr)
    summary = json.loads((out / "analysis.json").read_text())
    assert summary["spatiotemporal_parameters"]["cadence_steps_per_min"]["mean"] == pytest.approx(104.0, abs=0.5)
    assert summary["events_method"].startswith("foot velocity in the support frame")  # auto: the method the validation corpus supports
    sheets = pd.read_excel(out / "gait_analysis.xlsx", sheet_name=None)
    assert {"summary", "events", "steps", "kinematics", "cycles", "bouts", "angles_deg", "filtered_m", "about"} <= set(sheets)
    for name in ("foot_trajectories", "footfalls", "left_right"):  # no hip centres among the markers: no angles
        assert (out / f"{name}.png").stat().st_size > 10_000 and (out / f"{name}.svg").is_file()
    for name in ("parameters.csv", "events.csv", "steps.csv", "kinematics.csv", "bouts.csv", "trajectories.trc",
                 "angles.mot"):
        assert (out / name).stat().st_size > 50, name
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    report = (out / "report.html").read_text()
    assert "walking speed (m/s)" in report and "TRC file" in report and "walk.trc" not in report
    bad = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(tmp_path / "nope.c3d"), "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip() == "gait: error: the file does not exist"


def test_events_file_on_a_file_without_events_is_one_line_and_exit_2(trial, tmp_path):
    path = tmp_path / "walk.trc"
    write_trc(path, _lab_markers(trial), RATE, units="mm")
    result = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(path), "--out", str(tmp_path / "out"),
                             "--events", "file"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip().startswith("gait: error: --events file: the recording "
                                                                       "carries no gait events"), result.stderr


def test_a_session_of_trials_gives_each_its_outputs_and_a_table_of_all(trial, tmp_path):
    """`gait analyze FOLDER`: every C3D and TRC in it analyzed into a folder of its own, a row
    per trial and their mean in trials.csv / trials.xlsx; a bad trial is one line and exit code
    2, and the others are still analyzed."""
    session = tmp_path / "session"
    session.mkdir()
    write_trc(session / "walk01.trc", _lab_markers(trial), RATE, units="mm")
    _write_c3d(session / "walk02.c3d", _lab_markers(trial))
    (session / "broken.trc").write_text("hello\n")
    (session / "notes.txt").write_text("not a trial\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "gaitcli.main", "analyze", str(session), "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "gait: error: broken.trc: not a TRC file" in result.stderr
    assert "2 of 3 trials analyzed" in result.stderr and "Traceback" not in result.stderr
    table = pd.read_csv(out / "trials.csv")
    assert list(table.trial) == ["broken.trc", "walk01.trc", "walk02.c3d", "mean of 2 trials"]
    assert table.status[0].startswith("not analyzed: not a TRC file")
    assert table.cadence_steps_per_min[1:].to_numpy() == pytest.approx(104.0, abs=0.5)
    assert (out / "walk01" / "report.pdf").is_file() and (out / "walk02" / "analysis.json").is_file()
    assert not (out / "broken").exists()
    assert list(pd.read_excel(out / "trials.xlsx", sheet_name=None)) == ["trials", "about"]
