"""Marker and column names of motion-capture files mapped onto the project's joint names.

Labels are compared without case, separators or a Vicon subject prefix (`Patient01:LHEE` is
`LHEE`) or OpenCap's `_study` suffix. Built-in aliases cover Vicon Plug-in Gait (LHEE, LTOE,
LANK, LKNE, LASI, RPSI, SACR, ...), the calcaneus and metatarsal markers of IOR, CAST and Helen
Hayes sets (LCAL, LMT2, LFM2, LLM, LLMAL, ...), OpenSim's and OpenCap's (L.Heel, r_calc_study,
R.ASIS, ...), Pose2Sim's (RBigToe, RHeel), the project's own names and common spellings (LHeel,
L_Heel, left heel). Markers that name the same point are averaged (a lateral and a medial
malleolus give the ankle's centre); a joint centre the lab's model exported (LHJC, LKJC, LAJC)
is used instead of that joint's markers. The fifth metatarsal head stands in for the toe only where a
foot has no toe marker (it leaves the ground a few ms earlier: docs/validation.md). Pelvis
markers (ASIS, PSIS, sacrum) are averaged into `pelvis` in the frames that have them all; the
readers first fill a marker missing in a frame as a rigid body from the other three (or more).
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from gait.joints import FOOT_POINTS, H36M_17, HALPE_26

# Plug-in Gait's pelvis marker names, and the other spellings of each
PELVIS_SPELLINGS = {
    "lasi": ("lasi", "lasis", "leftasis"), "rasi": ("rasi", "rasis", "rightasis"),
    "lpsi": ("lpsi", "lpsis", "leftpsis"), "rpsi": ("rpsi", "rpsis", "rightpsis"),
    "sacr": ("sacr", "sacrum", "sacral", "vsacral", "sac"),
}
# a part's marker stems, after a side prefix (l, left, r, right)
_PART_STEMS = {
    "heel": ("hee", "heel", "cal", "calc", "calcn", "fcc"),
    "toe": ("toe", "bigtoe", "mt2", "fm2", "mh2", "met2", "toetip"),
    "ankle": ("ank", "ankle", "lm", "lmal", "latmal", "anklelat", "lateralmalleolus", "malleolus",
              "mm", "mma", "mmal", "medmal", "anklemed", "medialmalleolus", "mankle"),
    "knee": ("kne", "knee", "kneelat", "lfe", "le", "lek", "lateralepicondyle", "mfe", "me", "mek",
             "kneemed", "mknee"),
    "shoulder": ("sho", "shoulder"), "elbow": ("elb", "elbow"), "wrist": ("wra", "wrist"),
}
# joint centres a lab's model exported as points (Plug-in Gait's LHJC, OpenCap's RHJC_study):
# where a file has one, it is the joint, and the surface markers of that joint are not averaged in
_JOINT_CENTRES = {"hip": "hjc", "knee": "kjc", "ankle": "ajc"}
_TOE_STANDINS = ("mt1", "fm1", "mh1", "mt5", "fm5", "mh5", "met5", "5meta", "5mh", "smalltoe")  # a foot without a toe marker
_UNSIDED = {"c7": "neck", "clav": "thorax"}
_PROJECT = set(H36M_17) | set(HALPE_26) | set(FOOT_POINTS)
_SIDES = {"left": ("l", "left"), "right": ("r", "right")}


def _key(name: str) -> str:
    """A label as compared: the part after a subject prefix, lower case, letters and digits only,
    without OpenCap's `study` suffix."""
    key = re.sub(r"[^a-z0-9]", "", name.rsplit(":", 1)[-1].lower())
    return key.removesuffix("study") or key


def _aliases() -> dict[str, str]:
    table = {}
    for name in _PROJECT - {"left_small_toe", "right_small_toe"}:  # the small toe is a stand-in, below
        table[_key(name)] = name
        if name.startswith(("left_", "right_")):
            side, joint = name.split("_", 1)
            table[_key(side[0] + joint)] = name          # lheel, rknee
    table.update({_key(spelling): "pelvis" for spellings in PELVIS_SPELLINGS.values() for spelling in spellings})
    table.update(_UNSIDED)
    for side, prefixes in _SIDES.items():
        for part, stems in _PART_STEMS.items():
            table.update({prefix + stem: f"{side}_{part}" for prefix in prefixes for stem in stems})
    table[_key("hip")] = table[_key("midhip")] = "pelvis"
    return table


ALIASES = _aliases()
JOINT_CENTRES = {prefix + stem: f"{side}_{part}" for side, prefixes in _SIDES.items() for prefix in prefixes
                 for part, stem in _JOINT_CENTRES.items()}
TOE_STANDINS = {prefix + stem: f"{side}_toe" for side, prefixes in _SIDES.items() for prefix in prefixes
                for stem in _TOE_STANDINS}


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
    """Rename markers to joints. For each joint the first of these that the file has is used: the
    custom mapping, a joint centre the lab's model exported, the aliases, the toe's stand-ins;
    markers that map to the same joint are averaged. The pelvis is the mean of its markers only in
    frames that have them all (fill them first: `with_pelvis_filled`), so that it does not jump to
    a subset's mean where one is missing; a marker the file names but never saw is left out.
    Returns the joints and which markers made each."""
    custom = {_key(k): v for k, v in (custom or {}).items()}
    tiers: tuple[dict[str, list[str]], ...] = ({}, {}, {}, {})  # custom, joint centres, aliases, stand-ins
    for marker in points:
        key = _key(marker)
        for tier, table in enumerate((custom, JOINT_CENTRES, ALIASES, TOE_STANDINS)):
            if key in table:
                joint = table[key]
                if joint != "pelvis" or np.isfinite(points[marker]).any():
                    tiers[tier].setdefault(joint, []).append(marker)
                break
    sources: dict[str, list[str]] = {}
    for tier in tiers:
        for joint, markers in tier.items():
            sources.setdefault(joint, markers)
    joints = {}
    for joint, markers in sources.items():
        stacked = np.stack([points[m] for m in markers])
        if joint == "pelvis":
            joints[joint] = stacked.mean(axis=0)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames where every marker is missing stay NaN
            joints[joint] = np.nanmean(stacked, axis=0)
    return joints, sources


def with_pelvis_filled(points: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
    """The markers with the pelvis's (ASIS, PSIS, sacrum under any spelling) filled as one rigid
    body (`rigid_fill`) where one is missing; and how many marker-frames were filled."""
    names = [m for m in points if any(_key(m) in spellings for spellings in PELVIS_SPELLINGS.values())
             and np.isfinite(points[m]).any()]
    if len(names) < MIN_RIGID_MARKERS + 1:  # three markers fill nothing: two cannot place the third
        return points, 0
    stacked = np.stack([points[m] for m in names])
    filled = rigid_fill(stacked)
    count = int((np.isfinite(filled).all(axis=2) & ~np.isfinite(stacked).all(axis=2)).sum())
    return {**points, **dict(zip(names, filled))}, count


MIN_RIGID_MARKERS = 3  # a rigid body's pose needs three points that are not on a line
SHAPE_FRAMES = 200  # complete frames, evenly spread, that give the body's shape


def rigid_fill(markers: np.ndarray) -> np.ndarray:
    """Markers on one rigid body, (markers, frames, 3) with NaN where missing: each missing one
    is placed where the body's shape, fitted (Kabsch 1976) to the markers present in that frame,
    puts it, in frames with at least MIN_RIGID_MARKERS present. The shape is the median of up to
    SHAPE_FRAMES frames that have every marker, in the body's own frame; without such frames
    nothing is filled."""
    filled = markers.copy()
    present = np.isfinite(markers).all(axis=2)  # (markers, frames)
    complete = present.all(axis=0)
    if len(markers) < MIN_RIGID_MARKERS or not complete.any() or complete.all():
        return filled
    sample = np.flatnonzero(complete)
    reference = _shape(markers[:, sample[np.linspace(0, len(sample) - 1, min(len(sample), SHAPE_FRAMES)).astype(int)]])
    for frame in np.flatnonzero(~complete & (present.sum(axis=0) >= MIN_RIGID_MARKERS)):
        seen = present[:, frame]
        rotation, moved, origin = _kabsch(reference[seen], markers[seen, frame])
        filled[~seen, frame] = (reference[~seen] - origin) @ rotation.T + moved
    return filled


def _shape(complete: np.ndarray) -> np.ndarray:
    """The median shape of (markers, frames, 3) complete frames, each frame aligned to the first."""
    first = complete[:, 0]
    aligned = []
    for frame in range(complete.shape[1]):
        rotation, moved, origin = _kabsch(complete[:, frame], first)
        aligned.append((complete[:, frame] - origin) @ rotation.T + moved)
    return np.median(np.stack(aligned), axis=0)


def _kabsch(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rotation R and the centroids (target's, source's) with R (source - c_s) + c_t ~ target."""
    source_centre, target_centre = source.mean(axis=0), target.mean(axis=0)
    u, _, vt = np.linalg.svd((source - source_centre).T @ (target - target_centre))
    flip = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    rotation = vt.T @ np.diag([1.0, 1.0, flip]) @ u.T
    return rotation, target_centre, source_centre


def _marker(points: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    """The pelvis marker `name` (Plug-in Gait's: lasi, ...) under any of its spellings."""
    for marker, values in points.items():
        if _key(marker) in PELVIS_SPELLINGS[name]:
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
