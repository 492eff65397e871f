"""Linking per-frame person detections into tracks, and choosing the person who walks."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from services.pose2d.blazepose.detector import Detection

MAX_GAP_S = 0.5            # a track survives this long without a detection
MAX_JUMP_BODY = 0.15       # hip movement allowed between consecutive frames, in body sizes
MAX_SPEED_BODY_S = 1.5     # plus this much per second of gap (brisk walking is about 0.5)
MAX_SIZE_RATIO = 1.6       # a detection this much larger or smaller than the track is someone else
MIN_TRACK_S = 0.5          # shorter tracks are not candidates
ENDPOINT_WINDOW_S = 0.5    # start and end positions are medians over this long


@dataclass
class Track:
    track_id: int
    frames: list[int] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    def add(self, frame: int, detection: Detection) -> None:
        self.frames.append(frame)
        self.detections.append(detection)

    def hips(self) -> np.ndarray:
        return np.array([d.hip for d in self.detections])

    def body_size(self, recent: int | None = None) -> float:
        """Median body size, over the last `recent` detections if given."""
        return float(np.median([d.body_size for d in self.detections[-recent if recent else 0:]]))

    def detection_at(self, frame: int) -> Detection | None:
        index = np.searchsorted(self.frames, frame)
        return self.detections[index] if index < len(self.frames) and self.frames[index] == frame else None


def link_tracks(detections_per_frame: list[list[Detection]], fps: float) -> list[Track]:
    """Hungarian matching of each frame's detections to the live tracks, on hip distance in body
    sizes (gated by how far a person can move in the gap and by body size, which tells apart people
    at different depths and the detector's occasional merged boxes); unmatched detections start new
    tracks."""
    max_gap = max(1, int(round(MAX_GAP_S * fps)))
    tracks: list[Track] = []
    for frame, detections in enumerate(detections_per_frame):
        live = [t for t in tracks if frame - t.last_frame <= max_gap]
        unmatched = list(range(len(detections)))
        if live and detections:
            cost = np.empty((len(live), len(detections)))
            limit = np.empty(len(live))
            for i, track in enumerate(live):
                last, size = track.detections[-1], max(track.body_size(recent=15), 1.0)
                limit[i] = MAX_JUMP_BODY + MAX_SPEED_BODY_S * (frame - track.last_frame) / fps
                for j, detection in enumerate(detections):
                    size_ratio = abs(np.log(max(detection.body_size, 1.0) / size))
                    distance = np.hypot(*(detection.hip - last.hip)) / size
                    cost[i, j] = distance if size_ratio <= np.log(MAX_SIZE_RATIO) else np.inf
            rows, cols = linear_sum_assignment(np.where(cost <= limit[:, None], cost, 1e6))  # inf -> 1e6: solvable
            for i, j in zip(rows, cols):
                if cost[i, j] <= limit[i]:
                    live[i].add(frame, detections[j])
                    unmatched.remove(j)
        for j in unmatched:
            track = Track(track_id=len(tracks))
            track.add(frame, detections[j])
            tracks.append(track)
    return tracks


@dataclass
class Candidate:
    track: Track
    displacement_body: float  # net hip displacement between the track's first and last half second
    duration_s: float
    score: float
    same_as_subject: bool = False  # its detections lie on the subject's tracked pose (a broken-off piece)

    def as_dict(self) -> dict:
        return {
            "track_id": self.track.track_id,
            "first_frame": self.track.frames[0],
            "last_frame": self.track.last_frame,
            "frames": len(self.track.frames),
            "displacement_body_sizes": round(self.displacement_body, 2),
            "duration_s": round(self.duration_s, 2),
            "score": round(float(self.score), 3),
            "same_person_as_subject": self.same_as_subject,
        }


def rank_walkers(tracks: list[Track], fps: float) -> list[Candidate]:
    """Tracks scored as walkers: net displacement (body sizes) x sqrt(seen duration in seconds).

    A body size is the detector's full-body circle (2 x mid-hip to scale point), about 1.4 times
    the person's height.

    A walker covers ground steadily; a bystander stands, a jumper moves once. Endpoints are
    medians over half a second so a few bad detections do not count as movement.
    """
    window = max(1, int(round(ENDPOINT_WINDOW_S * fps)))
    candidates = []
    for track in tracks:
        duration = (track.last_frame - track.frames[0] + 1) / fps
        if duration < MIN_TRACK_S and len(tracks) > 1:
            continue
        hips = track.hips()
        start, end = np.median(hips[:window], axis=0), np.median(hips[-window:], axis=0)
        displacement = float(np.hypot(*(end - start)) / max(track.body_size(), 1.0))
        seen = len(track.frames) / fps
        candidates.append(Candidate(track, displacement, duration, displacement * np.sqrt(seen) + 1e-3 * seen))
    return sorted(candidates, key=lambda c: -c.score)
