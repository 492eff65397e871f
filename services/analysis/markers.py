"""Marker and column names of motion-capture files mapped onto the project's joint names.

Built-in aliases cover Vicon Plug-in Gait (LHEE, LTOE, LANK, LKNE, LASI, RPSI, ...), the
project's own names and common spellings (LHeel, L_Heel, left heel). Pelvis markers (ASIS, PSIS,
sacrum) are averaged into `pelvis`.
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from gait.joints import FOOT_POINTS, H36M_17, HALPE_26

PELVIS_MARKERS = ("lasi", "rasi", "lpsi", "rpsi", "sacr")
_PLUG_IN_GAIT = {
    "lhee": "left_heel", "rhee": "right_heel", "ltoe": "left_toe", "rtoe": "right_toe",
    "lank": "left_ankle", "rank": "right_ankle", "lkne": "left_knee", "rkne": "right_knee",
    "lsho": "left_shoulder", "rsho": "right_shoulder", "lelb": "left_elbow", "relb": "right_elbow",
    "lwra": "left_wrist", "rwra": "right_wrist", "c7": "neck", "clav": "thorax",
    **{name: "pelvis" for name in PELVIS_MARKERS},
}
_PROJECT = set(H36M_17) | set(HALPE_26) | set(FOOT_POINTS)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _aliases() -> dict[str, str]:
    table = {_key(k): v for k, v in _PLUG_IN_GAIT.items()}
    for name in _PROJECT:
        table[_key(name)] = name
        if name.startswith(("left_", "right_")):
            side, joint = name.split("_", 1)
            table[_key(side[0] + joint)] = name          # lheel, rknee
            table[_key(side[0] + "_" + joint)] = name    # l_heel
    table[_key("left_big_toe")], table[_key("right_big_toe")] = "left_toe", "right_toe"
    table[_key("hip")] = table[_key("midhip")] = "pelvis"
    return table


ALIASES = _aliases()


def parse_mapping(text: str) -> dict[str, str]:
    """`LHEEL=left_heel,RHEEL=right_heel` -> {"LHEEL": "left_heel", ...}; unknown joints refused."""
    mapping = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        if "=" not in item:
            raise ValueError(f"marker mapping {item!r} is not NAME=joint")
        marker, joint = (s.strip() for s in item.split("=", 1))
        if joint not in _PROJECT and joint != "pelvis":
            raise ValueError(f"{joint!r} is not a joint name of the project (e.g. left_heel, pelvis)")
        mapping[marker] = joint
    return mapping


def map_markers(points: dict[str, np.ndarray], custom: dict[str, str] | None = None) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Rename markers to joints (custom mapping first, then the aliases); markers that map to the
    same joint are averaged (pelvis from ASIS/PSIS). Returns the joints and which markers made each."""
    custom = {_key(k): v for k, v in (custom or {}).items()}
    sources: dict[str, list[str]] = {}
    for marker in points:
        joint = custom.get(_key(marker)) or ALIASES.get(_key(marker))
        if joint:
            sources.setdefault(joint, []).append(marker)
    joints = {}
    for joint, markers in sources.items():
        stacked = np.stack([points[m] for m in markers])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames where every marker is missing stay NaN
            joints[joint] = np.nanmean(stacked, axis=0) if len(markers) > 1 else stacked[0]
    return joints, sources
