"""Read an AlphaPose results JSON (made by AlphaPose itself, or by pose2d) into one walker's keypoints.

AlphaPose writes a JSON list with one entry per detected person and frame:
`{image_id, category_id, keypoints: [x, y, score] * K, score, box, idx}`. `image_id` is the
frame's file name ("12.jpg" for videos; any name with the frame number in it for image
folders); `idx` is the person's track id when AlphaPose tracked people (`--pose_track`), else
the person's rank in the frame (some versions write it as a one-element list). K is 26
(Halpe-26), 17 (COCO-17) or 136 (Halpe-136, whose first 26 points are Halpe-26).

The walker is the person (`idx`) with the largest summed detection score over the clip, the
person seen most often and most surely; in a frame with several entries of that `idx`, the one
scored highest. Frames without the walker are NaN with score 0; the clip ends at the last frame
anyone was seen in (AlphaPose writes nothing for empty frames).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gait.errors import InvalidInput
from gait.joints import COCO_17, HALPE_26

HALPE_136_POINTS = 136
LAYOUTS = {len(HALPE_26): "halpe26", len(COCO_17): "coco17", HALPE_136_POINTS: "halpe26"}
FRAME_NUMBER = re.compile(r"(\d+)(?!.*\d)")  # the last run of digits in the name
MAX_FRAMES = 432_000  # an hour at 120 fps: a later frame number is not a clip's (the dense array would not fit)


@dataclass(frozen=True)
class AlphaPoseSubject:
    """The chosen person's keypoints, dense over frames 0..last frame seen."""

    keypoints: np.ndarray  # (frames, 26 or 17, 3) x, y, score in pixels
    layout: str            # "halpe26" or "coco17"
    track_id: int
    reason: str


def frame_number(image_id: object, entry: int) -> int:
    if isinstance(image_id, int) and not isinstance(image_id, bool) and image_id >= 0:
        number = image_id
    else:
        match = FRAME_NUMBER.search(Path(image_id).stem) if isinstance(image_id, str) else None
        if match is None:
            raise InvalidInput(f"AlphaPose entry {entry}: image_id {image_id!r} has no frame number")
        digits = match.group(1).lstrip("0") or "0"
        number = int(digits) if len(digits) <= len(str(MAX_FRAMES)) else MAX_FRAMES
    if number >= MAX_FRAMES:
        shown = repr(image_id) if len(repr(image_id)) <= 40 else f"{repr(image_id)[:36]}..."
        raise InvalidInput(f"AlphaPose entry {entry}: image_id {shown} is frame {MAX_FRAMES} or later "
                           "(more than an hour at 120 fps)")
    return number


def track_of(idx: object, entry: int) -> int:
    if isinstance(idx, list) and len(idx) == 1:
        idx = idx[0]
    if isinstance(idx, (int, float)) and not isinstance(idx, bool) and float(idx).is_integer():
        return int(idx)
    raise InvalidInput(f"AlphaPose entry {entry}: idx {idx!r} is not a person number")


def parse_entries(results: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(frames, tracks, scores, keypoints (n, K, 3), K) of every entry, checked."""
    if not isinstance(results, list) or not results:
        raise InvalidInput("not AlphaPose results: expected a non-empty JSON list of detections")
    frames, tracks, scores, points = [], [], [], []
    count = None
    for entry, item in enumerate(results):
        if not isinstance(item, dict) or not {"image_id", "keypoints"} <= item.keys():
            raise InvalidInput(f"AlphaPose entry {entry} needs image_id and keypoints")
        values = item["keypoints"]
        if not isinstance(values, list) or len(values) % 3 or len(values) // 3 not in LAYOUTS:
            size = len(values) if isinstance(values, list) else type(values).__name__
            raise InvalidInput(f"AlphaPose entry {entry}: keypoints must hold 26, 17 or 136 x, y, score "
                               f"triples; got {size} values")
        if count is not None and len(values) // 3 != count:
            raise InvalidInput(f"AlphaPose entry {entry}: {len(values) // 3} keypoints, the entries before had {count}")
        count = len(values) // 3
        try:
            array = np.asarray(values, dtype=float).reshape(count, 3)
            score = float(item.get("score", np.nanmean(array[:, 2])))
        except (TypeError, ValueError, OverflowError):
            raise InvalidInput(f"AlphaPose entry {entry}: keypoints and score must be numbers") from None
        if np.isinf(array).any() or np.isinf(score):
            raise InvalidInput(f"AlphaPose entry {entry}: keypoints and score must be finite numbers")
        frames.append(frame_number(item["image_id"], entry))
        tracks.append(track_of(item.get("idx", 0), entry))
        scores.append(score)
        points.append(array)
    return np.array(frames), np.array(tracks), np.array(scores), np.stack(points), count


def subject_keypoints(results: object) -> AlphaPoseSubject:
    frames, tracks, scores, points, count = parse_entries(results)
    weight = {track: scores[tracks == track].sum() for track in np.unique(tracks)}
    subject = int(max(weight, key=weight.get))
    ours = np.flatnonzero(tracks == subject)
    ours = ours[np.argsort(scores[ours], kind="stable")]  # the highest score of a frame is written last
    joints = len(COCO_17) if count == len(COCO_17) else len(HALPE_26)
    dense = np.full((frames.max() + 1, joints, 3), np.nan)
    dense[:, :, 2] = 0.0
    dense[frames[ours]] = points[ours, :joints]
    seen = len(np.unique(frames[ours]))
    reason = (f"person {subject} of {len(weight)} in the file: the largest summed detection score "
              f"({weight[subject]:.1f}), seen in {seen} of {len(dense)} frames")
    return AlphaPoseSubject(dense, LAYOUTS[count], subject, reason)


def read_alphapose_json(path: Path) -> AlphaPoseSubject:
    """The walker's keypoints from an AlphaPose results file; InvalidInput names what is wrong."""
    if not path.is_file():
        raise InvalidInput("the file does not exist")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("not AlphaPose results: the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not AlphaPose results: invalid JSON at line {exc.lineno} ({exc.msg})") from None
    except RecursionError:
        raise InvalidInput("not AlphaPose results: the JSON is nested too deeply") from None
    return subject_keypoints(results)
