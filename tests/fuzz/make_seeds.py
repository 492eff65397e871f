"""Write the fuzzers' seed corpus, tests/fuzz/seeds/<reader>/: small valid files of each format,
made from the synthetic walker (a few frames each), so that the fuzzers start deep in each reader.

    python -m tests.fuzz.make_seeds
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import c3d
import cv2
import numpy as np

from gait.analysis.trc import write_trc
from gait.analysis.validation.synthetic import SyntheticWalker
from gait.joints import COCO_17, HALPE_26
from gait.video import H264Writer

SEEDS = Path(__file__).parent / "seeds"
RATE_HZ = 50.0
FRAMES = 4
PLUG_IN_GAIT = {"LHEE": "left_heel", "RHEE": "right_heel", "LTOE": "left_toe", "RTOE": "right_toe",
                "LANK": "left_ankle", "RANK": "right_ankle", "LKNE": "left_knee", "RKNE": "right_knee"}
PELVIS_OFFSETS_M = {"LASI": (0.1, 0.12, 0.0), "RASI": (0.1, -0.12, 0.0), "LPSI": (-0.1, 0.05, 0.0),
                    "RPSI": (-0.1, -0.05, 0.0)}


def _walk() -> dict[str, np.ndarray]:
    """The walker's joints over FRAMES frames, metres, z up, rounded to the millimetre."""
    trial = SyntheticWalker().generate(FRAMES / RATE_HZ, RATE_HZ)
    return {name: np.round(p[:FRAMES], 3) for name, p in trial.positions.items()}


def _plug_in_gait(walk: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Plug-in Gait markers in millimetres with pelvis markers (the hip-centre regression runs)."""
    markers = {code: walk[joint] * 1000 for code, joint in PLUG_IN_GAIT.items()}
    for code, offset in PELVIS_OFFSETS_M.items():
        markers[code] = (walk["pelvis"] + offset) * 1000
    return markers


def _trc(walk: dict[str, np.ndarray], folder: Path) -> None:
    write_trc(folder / "plug_in_gait_mm.trc", _plug_in_gait(walk), RATE_HZ, units="mm")
    joints = {name: walk[name].copy() for name in ("pelvis", "left_knee", "left_ankle", "right_heel")}
    joints["left_ankle"][1] = np.nan  # a gap: empty fields
    write_trc(folder / "joints_m_gap.trc", joints, RATE_HZ, units="m")


def _c3d(walk: dict[str, np.ndarray], folder: Path, name: str, scale: float) -> None:
    """scale < 0: float points; > 0: integer points of that many millimetres."""
    markers = _plug_in_gait(walk)
    points = np.zeros((FRAMES, len(markers), 5), np.float32)
    points[..., :3] = np.stack(list(markers.values()), axis=1)
    points[1, 0, 3] = -1  # a gap in the first marker
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No analog data found"
        writer = c3d.Writer(point_rate=RATE_HZ, point_scale=scale, point_units="mm  ")
        writer.add_frames([(p, np.zeros((0, 0), np.float32)) for p in points])
        writer.set_point_labels(list(markers))
        with open(folder / name, "wb") as handle:
            writer.write(handle)


def _csv(walk: dict[str, np.ndarray], folder: Path) -> None:
    names = ("pelvis", "left_heel", "right_heel", "left_ankle", "right_ankle", "left_knee")
    for file, time in (("joints_time_s.csv", "time_s"), ("joints_time.csv", "time")):
        header = [time] + [f"{n}_{axis}" for n in names for axis in "xyz"]
        rows = [",".join(header)]
        for frame in range(FRAMES):
            rows.append(",".join([f"{frame / RATE_HZ:g}"] + [f"{v:g}" for n in names for v in walk[n][frame]]))
        (folder / file).write_text("\n".join(rows) + "\n")


def _alphapose(folder: Path) -> None:
    """Pixel keypoints of a standing figure, two people in the Halpe-26 file."""
    for file, joints, idx, image in (("halpe26.json", HALPE_26, 1, "{}.jpg"), ("coco17.json", COCO_17, [0], "frame_{:04d}.png")):
        entries = []
        for frame in range(2):
            for person in ((0, 1) if joints is HALPE_26 else (0,)):
                points = [[100.0 + 10 * j + 50 * person, 50.0 + 20 * j, 0.9] for j in range(len(joints))]
                entries.append({"image_id": image.format(frame), "category_id": 1,
                                "keypoints": [round(v, 1) for p in points for v in p], "score": 2.5 - person,
                                "box": [90.0, 40.0, 300.0, 600.0], "idx": idx if person == 0 else 2})
        (folder / file).write_text(json.dumps(entries))


def _video(folder: Path) -> None:
    """Three 16 x 16 frames: H.264 in MP4 (as phones write) and MJPEG in AVI (OpenCV's writer)."""
    frames = [np.full((16, 16, 3), 40 * i, np.uint8) for i in range(3)]
    with H264Writer(folder / "h264.mp4", 16, 16, 30.0, crf=40, preset="ultrafast") as writer:
        for frame in frames:
            writer.write(frame)
    avi = cv2.VideoWriter(str(folder / "mjpeg.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (16, 16))
    for frame in frames:
        avi.write(frame)
    avi.release()


def main() -> None:
    walk = _walk()
    folders = {name: SEEDS / name for name in ("trc", "c3d", "csv", "alphapose", "video")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    _trc(walk, folders["trc"])
    _c3d(walk, folders["c3d"], "float_points.c3d", -1.0)
    _c3d(walk, folders["c3d"], "integer_points.c3d", 0.1)
    _csv(walk, folders["csv"])
    _alphapose(folders["alphapose"])
    _video(folders["video"])


if __name__ == "__main__":
    main()
