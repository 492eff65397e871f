"""Linking per-frame person detections into tracks, and choosing the person who walks.

Distances are in body sizes (the detector's full-body circle, 2 x mid-hip to scale point) while
linking, and in body heights (body size / 1.15) where people read them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from services.pose2d.blazepose.detector import Detection

log = logging.getLogger(__name__)

BODY_SIZE_PER_HEIGHT = 1.15  # detector body size / standing height: median 1.14 (p10-p90 1.05-1.25) over the
                             # demo clip's walker, 134 tiled detections against her landmarks
MAX_GAP_S = 0.5             # a track survives this long without a detection
MAX_JUMP_BODY = 0.2         # hip distance from the predicted position allowed at once, in body sizes ...
MAX_SPEED_BODY_S = 1.5      # ... plus this much per second since the last detection (brisk walking is ~0.6)
MAX_SIZE_RATIO = 1.6        # a detection this much larger or smaller than the track is someone else
BOX_WEIGHT = 0.25           # extra cost of a box that does not overlap the track's last box, in body sizes
VELOCITY_WINDOW_S = 0.5     # a track's velocity comes from its last half second
MIN_TRACK_S = 0.5           # shorter tracks are not candidates (unless there is nothing else)
ENDPOINT_WINDOW_S = 1.0     # start and end positions are medians over a track's first and last second
MOTION_STEP_S = 1.0         # moving time is counted in steps this long ...
MIN_WALK_SPEED = 0.2        # ... in which the hip moves at least this many body heights per second
DEPTH_HEIGHTS_PER_LOG_SIZE = 2.5  # walking from d1 to d2 covers |d1 - d2| while the image size changes by
                                  # log(d1 / d2); at 2-6 body heights from the camera the ratio is 2.5-4


@dataclass
class Track:
    track_id: int
    frames: list[int] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)
    _by_frame: dict[int, Detection] = field(default_factory=dict, repr=False)

    @property
    def first_frame(self) -> int:
        return self.frames[0]

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    def add(self, frame: int, detection: Detection) -> None:
        self.frames.append(frame)
        self.detections.append(detection)
        self._by_frame[frame] = detection

    def hips(self) -> np.ndarray:
        return np.array([d.hip for d in self.detections], dtype=np.float64).reshape(-1, 2)

    def sizes(self) -> np.ndarray:
        return np.array([max(d.body_size, 1.0) for d in self.detections], dtype=np.float64)

    def body_size(self, recent: int | None = None) -> float:
        """Median body size (px), over the last `recent` detections if given."""
        sizes = self.sizes()
        return float(np.median(sizes[-recent:] if recent else sizes))

    def detection_at(self, frame: int) -> Detection | None:
        return self._by_frame.get(frame)

    def predicted_hip(self, frame: int, fps: float) -> np.ndarray:
        """Where the hip centre should be at `frame`, robust to the detector's frame-to-frame
        keypoint jitter: the median of the last half second's hips moved on at the velocity between
        the medians of its two halves (capped at MAX_SPEED_BODY_S). Tracks too short to tell a
        velocity: the median of their last three hips."""
        window = int(round(VELOCITY_WINDOW_S * fps))
        frames = np.asarray(self.frames[-(window + 1):], dtype=np.float64)
        t = frames[frames >= self.last_frame - window]
        hips = np.array([d.hip for d in self.detections[-t.size:]], dtype=np.float64)
        if t.size < 4 or t[-1] - t[0] < 0.2 * fps:
            return np.median(hips[-3:], axis=0)
        half = t.size // 2
        elapsed = np.median(t[half:]) - np.median(t[:half])
        velocity = (np.median(hips[half:], axis=0) - np.median(hips[:half], axis=0)) / elapsed  # px per frame
        limit = MAX_SPEED_BODY_S * self.body_size(recent=t.size) / fps
        speed = float(np.hypot(*velocity))
        if speed > limit:
            velocity = velocity * (limit / speed)
        return np.median(hips, axis=0) + velocity * (frame - np.median(t))


def _box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, 4) x (B, 4) x0, y0, x1, y1 boxes -> (A, B) IoU."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    intersection = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def link_tracks(detections_per_frame: list[list[Detection]], fps: float) -> list[Track]:
    """Hungarian matching of each frame's detections to the live tracks.

    The cost is the hip's distance from where the track should be (constant velocity), in the
    track's body sizes, plus BOX_WEIGHT x (1 - box IoU). A pair is allowed only within the
    distance a person can cover since the track's last detection and at a similar body size (which
    also tells apart people at different depths). Unmatched detections start new tracks; a track
    with no detection for MAX_GAP_S ends.
    """
    max_gap = max(1, int(round(MAX_GAP_S * fps)))
    tracks: list[Track] = []
    for frame, detections in enumerate(detections_per_frame):
        live = [t for t in tracks if frame - t.last_frame <= max_gap]
        unmatched = set(range(len(detections)))
        if live and detections:
            hips = np.array([d.hip for d in detections], dtype=np.float64)
            sizes = np.array([max(d.body_size, 1.0) for d in detections])
            boxes = np.array([d.box for d in detections], dtype=np.float64)
            predicted = np.array([t.predicted_hip(frame, fps) for t in live])
            track_sizes = np.array([t.body_size(recent=15) for t in live])
            gaps = np.array([frame - t.last_frame for t in live], dtype=np.float64)
            distance = np.linalg.norm(hips[None] - predicted[:, None], axis=2) / track_sizes[:, None]
            limit = MAX_JUMP_BODY + MAX_SPEED_BODY_S * gaps / fps
            similar = np.abs(np.log(sizes[None] / track_sizes[:, None])) <= np.log(MAX_SIZE_RATIO)
            allowed = (distance <= limit[:, None]) & similar
            iou = _box_iou_matrix(np.array([t.detections[-1].box for t in live], dtype=np.float64), boxes)
            cost = distance + BOX_WEIGHT * (1 - iou)
            rows, cols = _assign(np.where(allowed, cost, 1e6))
            for i, j in zip(rows, cols):
                if allowed[i, j]:
                    live[i].add(frame, detections[j])
                    unmatched.discard(j)
        for j in sorted(unmatched):
            track = Track(track_id=len(tracks))
            track.add(frame, detections[j])
            tracks.append(track)
    log.debug("linked %d detections in %d frames into %d tracks",
              sum(len(d) for d in detections_per_frame), len(detections_per_frame), len(tracks))
    return tracks


@dataclass
class Candidate:
    track: Track
    displacement_heights: float  # net hip displacement, first second to last second, in body heights
    moving_s: float              # time spent moving at walking speed or faster
    duration_s: float            # first to last detection
    score: float
    body_height_px: float
    same_as_subject: bool = False  # its detections lie on the subject's tracked pose (a duplicate or broken-off piece)

    def as_dict(self) -> dict:
        return {
            "track_id": self.track.track_id,
            "first_frame": self.track.first_frame,
            "last_frame": self.track.last_frame,
            "frames": len(self.track.frames),
            "displacement_body_heights": round(self.displacement_heights, 2),
            "score": round(float(self.score), 3),
            "moving_s": round(self.moving_s, 2),
            "duration_s": round(self.duration_s, 2),
            "body_height_px": round(self.body_height_px, 1),
            "same_person_as_subject": self.same_as_subject,
        }


def _heights_between(hip_a: np.ndarray, size_a: float, hip_b: np.ndarray, size_b: float, height: float) -> float:
    """Distance between two positions in body heights: across the image directly, toward or away
    from the camera through the change of body size."""
    lateral = float(np.hypot(*(hip_b - hip_a))) / height
    depth = abs(float(np.log(size_b / size_a)))
    return float(np.hypot(lateral, DEPTH_HEIGHTS_PER_LOG_SIZE * depth))


def motion(track: Track, fps: float) -> tuple[float, float, float]:
    """A track's net displacement (body heights), its time spent moving (s) and its body height (px).

    Positions are medians (of hip and body size) over the track's first and last second, and over
    consecutive one-second steps for the moving time, so the detector's keypoint jitter and a few
    stray detections do not count as movement. A step counts as moving at MIN_WALK_SPEED or more.
    """
    frames = np.asarray(track.frames)
    hips, sizes = track.hips(), track.sizes()
    height = float(np.median(sizes)) / BODY_SIZE_PER_HEIGHT
    span = frames[-1] - frames[0] + 1
    window = max(1, min(int(round(ENDPOINT_WINDOW_S * fps)), span // 3))
    first, last = frames < frames[0] + window, frames > frames[-1] - window
    displacement = _heights_between(np.median(hips[first], axis=0), float(np.median(sizes[first])),
                                     np.median(hips[last], axis=0), float(np.median(sizes[last])), height)
    step = max(1, int(round(MOTION_STEP_S * fps)))
    if span < 2 * step:  # too short for steps: the whole track is one
        moving = float(span / fps) if displacement / (span / fps) >= MIN_WALK_SPEED and span > 1 else 0.0
        return displacement, moving, height
    bins = (frames - frames[0]) // step
    points = [(np.median(frames[bins == b]), np.median(hips[bins == b], axis=0), float(np.median(sizes[bins == b])))
              for b in np.unique(bins)]
    moving = 0.0
    for (t0, hip0, size0), (t1, hip1, size1) in zip(points, points[1:]):
        elapsed = (t1 - t0) / fps
        if elapsed > 0 and _heights_between(hip0, size0, hip1, size1, height) / elapsed >= MIN_WALK_SPEED:
            moving += float(elapsed)
    return displacement, moving, height


def rank_walkers(tracks: list[Track], fps: float) -> list[Candidate]:
    """Tracks ranked as walkers, best first: net displacement (body heights) x sqrt(time moving, s).

    A walker covers ground steadily; a bystander stands; someone who stands for long and then
    jumps down or dashes off moves for a short time only; a false detection that jitters moves
    little once medians over a second are taken. Tracks shorter than MIN_TRACK_S are left out
    unless nothing else is there.
    """
    candidates = []
    for track in tracks:
        duration = (track.last_frame - track.first_frame + 1) / fps
        displacement, moving, height = motion(track, fps)
        score = displacement * np.sqrt(moving) + 1e-3 * duration
        candidates.append(Candidate(track, displacement, moving, duration, float(score), height))
    lasting = [c for c in candidates if c.duration_s >= MIN_TRACK_S]
    return sorted(lasting or candidates, key=lambda c: -c.score)


def _assign(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The least-cost assignment (Hungarian method); SciPy's optimize (0.8 s to import) is loaded on
    the first use, not when the pose2d service starts."""
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment(cost)
