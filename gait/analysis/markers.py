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


def _marker(points: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    for marker, values in points.items():
        if _key(marker) == name:
            return values
    return None


def pelvis_landmarks(points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Hip joint centres and the pelvis's sagittal axis from Plug-in Gait pelvis markers (in
    metres): `left_hip`, `right_hip` by the regression of Harrington et al. (2007), J Biomech
    40:595-602, on pelvic width PW (ASIS to ASIS) and depth PD (mid-ASIS to mid-PSIS or sacrum) in
    the pelvis frame (x forwards, y up, z right; mm): x = -0.24 PD - 9.9, y = -0.30 PW - 10.9,
    z = +-(0.33 PW + 7.3); and `asis_mid`, `psis_mid` for pelvic tilt. Empty without LASI, RASI
    and LPSI + RPSI (or SACR)."""
    lasi, rasi = _marker(points, "lasi"), _marker(points, "rasi")
    lpsi, rpsi, sacrum = _marker(points, "lpsi"), _marker(points, "rpsi"), _marker(points, "sacr")
    if lasi is None or rasi is None or ((lpsi is None or rpsi is None) and sacrum is None):
        return {}
    front = 0.5 * (lasi + rasi)
    back = 0.5 * (lpsi + rpsi) if lpsi is not None and rpsi is not None else sacrum
    right = rasi - lasi
    width = np.linalg.norm(right, axis=1, keepdims=True)
    z = right / width
    forwards = front - back
    x = forwards - (forwards * z).sum(axis=1, keepdims=True) * z
    depth = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / depth
    y = np.cross(z, x)
    pw, pd = width * 1000, depth * 1000  # the regression is in millimetres
    along, up, lateral = (-0.24 * pd - 9.9) / 1000, (-0.30 * pw - 10.9) / 1000, (0.33 * pw + 7.3) / 1000
    centre = front + along * x + up * y
    return {"right_hip": centre + lateral * z, "left_hip": centre - lateral * z, "asis_mid": front, "psis_mid": back}
