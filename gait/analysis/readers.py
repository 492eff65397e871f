"""Readers of the motion-capture files labs already have: OpenSim TRC, C3D (with the `c3d`
package) and CSV of named joints. Each returns Trajectories in metres with the vertical axis
detected; a malformed file raises InvalidInput naming the problem."""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from gait.analysis.forceplates import FORCE_THRESHOLD_N, contact_events, vertical_forces
from gait.analysis.markers import map_markers, pelvis_landmarks, with_pelvis_filled
from gait.analysis.trajectories import Trajectories, detect_up_axis
from gait.errors import InvalidInput

UNIT_TO_M = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}


def _unit_scale(units: str) -> float:
    try:
        return UNIT_TO_M[units.strip().lower()]
    except KeyError:
        raise InvalidInput(f"unknown length unit {units.strip()!r}; expected mm, cm or m") from None


def _trajectories(points: dict[str, np.ndarray], rate: float, scale: float, source: str,
                  mapping: dict[str, str] | None) -> Trajectories:
    points, filled = with_pelvis_filled(points)
    joints, used = map_markers(points, mapping)
    if not joints:
        raise InvalidInput(f"no marker of the {source} maps to a joint (give a mapping, e.g. --markers LHEEL=left_heel)")
    if not any(name.endswith(("_ankle", "_heel", "_toe")) for name in joints):
        raise InvalidInput(f"the {source} has no ankle, heel or toe trajectory (it maps to {', '.join(sorted(joints))}); "
                           "gait events need at least one foot (a mapping helps, e.g. --markers LANK=left_ankle)")
    joints = {name: p * scale for name, p in joints.items()}
    notes = {"markers": "; ".join(f"{joint} <- {'+'.join(markers)}" for joint, markers in sorted(used.items()))}
    landmarks = pelvis_landmarks({marker: p * scale for marker, p in points.items()})
    if landmarks and "left_hip" not in joints and "right_hip" not in joints:
        joints.update(landmarks)
        notes["hip joint centres"] = "Harrington et al. 2007 regression from ASIS and PSIS markers"
    if filled:
        notes["pelvis markers filled"] = (f"{filled} marker-frames where a pelvis marker was missing, placed as a rigid "
                                          "body from the others (Kabsch fit of their shape in the complete frames)")
    if any(np.isinf(p).any() for p in joints.values()):
        raise InvalidInput(f"the {source} holds infinite coordinates")
    return Trajectories(joints, rate, detect_up_axis(joints), source, notes)


def read_trc(path: Path, mapping: dict[str, str] | None = None) -> Trajectories:
    """OpenSim TRC: header with DataRate and Units, marker names on line 4, X/Y/Z columns."""
    lines = Path(path).read_text(errors="replace").splitlines()
    if not lines or not lines[0].startswith("PathFileType"):
        raise InvalidInput("not a TRC file: the first line must start with PathFileType")
    if len(lines) < 6:
        raise InvalidInput(f"the TRC file is only a header ({len(lines)} line{'s' if len(lines) > 1 else ''}): "
                           "no data rows")
    keys, values = lines[1].split("\t"), lines[2].split("\t")
    header = dict(zip((k.strip() for k in keys), (v.strip() for v in values)))
    try:
        rate = float(header["DataRate"])
    except (KeyError, ValueError):
        raise InvalidInput("TRC header has no valid DataRate") from None
    names = [n.strip() for n in lines[3].split("\t")[2:] if n.strip()]
    rows = [line for line in lines[5:] if line.strip()]
    if not names or not rows:
        raise InvalidInput("the TRC file names no markers or has no data rows")
    try:
        table = pd.read_csv(io.StringIO("\n".join(rows)), sep="\t", header=None, usecols=range(2 + 3 * len(names)))
        data = table.apply(pd.to_numeric, errors="raise").to_numpy(float)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InvalidInput(f"TRC data rows are malformed ({str(exc).splitlines()[0][:80]})") from None
    points = {name: data[:, 2 + 3 * i: 5 + 3 * i] for i, name in enumerate(names)}
    for xyz in points.values():
        xyz[(xyz == 0).all(axis=1)] = np.nan  # empty cells are gaps; so is 0, 0, 0, as some exporters write them
    return _trajectories(points, rate, _unit_scale(header.get("Units", "mm")), "TRC file", mapping)


def read_c3d(path: Path, mapping: dict[str, str] | None = None) -> Trajectories:
    """C3D: point labels, rate and units from the parameters; a residual < 0, or a point at exactly
    0, 0, 0, marks a gap. The file's own gait events come with it: its EVENT group's, else the
    contacts its force plates show (gait/analysis/forceplates.py)."""
    import c3d

    try:
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "No analog data found" and friends
            reader = c3d.Reader(handle)
            if reader.point_used == 0:  # frames of no bytes: the reader would count up to the last frame declared
                raise InvalidInput("the C3D file holds no 3D points")
            names = reader.get("POINT:LABELS")
            if names is None or len(names.dimensions) > 2:  # the c3d package would count through the dimensions' product
                raise InvalidInput("the C3D file has no readable list of point labels (POINT:LABELS)")
            labels = [str(label).strip() for label in names.string_array]
            for more in range(2, MAX_LABEL_GROUPS + 1):  # over 255 points: POINT:LABELS2, LABELS3, ...
                names = reader.get(f"POINT:LABELS{more}")
                if names is None or len(names.dimensions) > 2:
                    break
                labels += [str(label).strip() for label in names.string_array]
            events = c3d_events(reader)
            with_plates = events is None and reader.analog_used and reader.get("FORCE_PLATFORM:USED") is not None
            frames, analog = [], []
            for _, points, samples in reader.read_frames():
                frames.append(points.copy())
                if with_plates:  # the analog data only where the plates give the file's events
                    analog.append(samples.copy())
            rate = float(reader.point_rate)
            units_param = reader.get("POINT:UNITS")
            units = units_param.string_value if units_param is not None else "mm"
            plates = _plates(reader, analog) if analog else []
            analog_rate = float(reader.analog_rate)
    except (InvalidInput, MemoryError):
        raise  # a MemoryError is a size the checks above missed: the fuzzers' memory bound finds those
    except Exception as exc:  # the c3d package fails on hostile bytes in many ways (struct.error, ZeroDivisionError, ...)
        raise InvalidInput(f"not a readable C3D file ({type(exc).__name__})") from None
    if not frames:
        raise InvalidInput("the C3D file has no frames")
    data = np.stack(frames)  # (frames, points, 5): x, y, z, residual, cameras
    xyz = np.where(data[..., 3:4] < 0, np.nan, data[..., :3])
    xyz[(xyz == 0).all(axis=-1)] = np.nan  # some writers mark a gap with 0, 0, 0 and a residual of 0
    points = {label: xyz[:, i] for i, label in enumerate(labels[:xyz.shape[1]])}  # labels beyond the points name nothing
    trajectories = _trajectories(points, rate, _unit_scale(units), "C3D file", mapping)
    if events is not None:
        return replace(trajectories, file_events=events, file_events_source="the file's EVENT group (the lab's events)")
    if plates:
        contacts = contact_events(plates, analog_rate, _unit_scale(units), trajectories.positions, rate, trajectories.up)
        if contacts is not None:
            return replace(trajectories, file_events=contacts, file_events_partial=True, file_events_source=(
                f"the file's force plates (vertical force through {FORCE_THRESHOLD_N:g} N, the foot over the plate)"))
    return trajectories


def _plates(reader, analog: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The force plates' vertical forces (gait/analysis/forceplates.py); none where the file's
    FORCE_PLATFORM group cannot be read (the markers are still the recording)."""
    try:
        return vertical_forces(reader, np.concatenate(analog, axis=1))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return []


MAX_LABEL_GROUPS = 40  # 10,000 points: more than any lab's model writes

EVENT_NAMES = {  # labels as compared: lower case, letters only
    "heel_strike": ("footstrike", "heelstrike", "initialcontact", "footcontact", "hs", "fs", "ic", "on"),
    "toe_off": ("footoff", "toeoff", "terminalcontact", "finalcontact", "to", "fo", "tc", "off"),
}
KIND_OF_NAME = {name: kind for kind, names in EVENT_NAMES.items() for name in names}
SIDE_NAMES = {"left": "left", "l": "left", "right": "right", "r": "right"}
FILE_EVENT_COLUMNS = ["side", "event", "time_s"]


def gait_event(context: str, label: str) -> tuple[str, str] | None:
    """(side, heel_strike or toe_off) of a C3D event: Vicon's "Foot Strike" / "Foot Off" with the
    side as its context, or a label that names both (Visual3D's and others' LHS, RTO, Left Foot
    Off, ...); None for any other event."""
    name, side = re.sub(r"[^a-z]", "", label.lower()), SIDE_NAMES.get(re.sub(r"[^a-z]", "", context.lower()))
    if side and name in KIND_OF_NAME:
        return side, KIND_OF_NAME[name]
    for prefix in ("left", "right", "l", "r"):
        if name.startswith(prefix) and name[len(prefix):] in KIND_OF_NAME:
            return SIDE_NAMES[prefix], KIND_OF_NAME[name[len(prefix):]]
    return None


def c3d_events(reader) -> pd.DataFrame | None:
    """The gait events of a C3D's EVENT group (`gait_event`), times relative to the file's first
    frame (Vicon's event time t is frame t x rate + 1, frames counted from 1); None where the file
    has none (other events, "General" ones, are not gait events)."""
    try:
        labels = [s.strip() for s in reader.get("EVENT:LABELS").string_array]
        contexts_param = reader.get("EVENT:CONTEXTS")
        contexts = [s.strip() for s in contexts_param.string_array] if contexts_param is not None else [""] * len(labels)
        times = np.asarray(reader.get("EVENT:TIMES").float_array, float).reshape(-1, 2)  # minutes, seconds
    except (AttributeError, ValueError, TypeError):  # no EVENT group, or one of other shapes
        return None
    start = (reader.first_frame - 1) / float(reader.point_rate)
    rows = []
    for context, label, (minutes, seconds) in zip(contexts, labels, times):
        event = gait_event(context, label)
        if event is not None and np.isfinite(seconds):
            rows.append((*event, 60 * minutes + seconds - start))
    if not rows:
        return None
    return pd.DataFrame(rows, columns=FILE_EVENT_COLUMNS).sort_values("time_s", ignore_index=True)


COORDINATE_COLUMN = re.compile(r"^(?P<name>.+?)[ _.:-]+(?P<axis>[xyzXYZ])$")
TIME_COLUMNS = ("time_s", "time", "times", "time(s)", "times(s)", "t")  # compared without case or spaces


def read_csv(path: Path, rate_hz: float | None = None, units: str = "m", mapping: dict[str, str] | None = None) -> Trajectories:
    """CSV with three columns per point, <name>_x, <name>_y, <name>_z (any case; `.`, space, `:`
    or `-` also separate: LHEE.X, "LHEE X"), and a time column (time_s, time, Time (s), ...) or a
    rate given."""
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"not a readable CSV file ({type(exc).__name__})") from None
    triples: dict[str, dict[str, str]] = {}
    for column in table.columns:
        found = COORDINATE_COLUMN.match(str(column).strip())
        if found:
            triples.setdefault(found["name"], {})[found["axis"].lower()] = column
    points = {name: table[[axes[a] for a in "xyz"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
              for name, axes in sorted(triples.items()) if len(axes) == 3}
    if not points:
        raise InvalidInput("the CSV has no <joint>_x, <joint>_y, <joint>_z columns")
    time_column = next((c for c in table.columns if re.sub(r"\s", "", str(c)).lower() in TIME_COLUMNS), None)
    if rate_hz is None:
        if time_column is None:
            raise InvalidInput("the CSV has no time_s column: give the sampling rate")
        times = pd.to_numeric(table[time_column], errors="coerce").to_numpy(float)
        if not np.isfinite(times).all():
            raise InvalidInput(f"the CSV's {time_column} column holds a value that is not a number")
        steps = np.diff(times)
        if steps.size == 0 or not np.all(steps > 0):
            raise InvalidInput("the CSV's time column is not increasing")
        rate_hz = 1.0 / float(np.median(steps))
    return _trajectories(points, rate_hz, _unit_scale(units), "CSV file", mapping)


def read_trajectories(path: Path, rate_hz: float | None = None, units: str | None = None,
                      mapping: dict[str, str] | None = None) -> Trajectories:
    """By file extension: .trc, .c3d or .csv."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("the file does not exist")
    if path.stat().st_size == 0:
        raise InvalidInput("the file is empty")
    suffix = path.suffix.lower()
    if suffix == ".trc":
        return read_trc(path, mapping)
    if suffix == ".c3d":
        return read_c3d(path, mapping)
    if suffix == ".csv":
        return read_csv(path, rate_hz, units or "m", mapping)
    raise InvalidInput(f"unsupported file type {suffix!r}; expected .trc, .c3d or .csv")
