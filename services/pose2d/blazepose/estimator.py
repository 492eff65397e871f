"""The subject's pose over a video, in two passes.

Pass 1 runs the person detector on every frame and links the detections into tracks; the
subject is the best-ranked walker. Pass 2 runs the landmark model on the subject only: the ROI
comes from the previous frame's landmarks (MediaPipe's tracking) and is re-seeded from the
subject's detection when the pose was lost or the tracked ROI has drifted off the subject.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from services.pose2d.blazepose.detector import Detection, PoseDetector
from services.pose2d.blazepose.landmarker import BODY_LANDMARKS, FramePose, PoseLandmarker
from services.pose2d.blazepose.roi import Roi
from services.pose2d.blazepose.tracking import Candidate, Track, link_tracks, rank_walkers

DRIFT_BODY = 0.35  # re-seed when the tracked hip centre is this far (body sizes) from the detection
DETECTIONS_PER_S = 15.0  # pass 1 runs the detector at about this rate (every 2nd frame at 30 fps)


class NoPersonFound(Exception):
    """No person was detected in any frame."""


class EstimationCancelled(Exception):
    """should_continue() said stop."""


@dataclass(frozen=True)
class BlazePoseModels:
    detector: Path
    landmarker: Path


@dataclass
class SubjectChoice:
    track_id: int
    reason: str
    candidates: list[dict]


@dataclass
class SubjectPose:
    image_landmarks: np.ndarray  # (frames, 33, 5) x px, y px, z, visibility, presence; NaN where no pose
    world_landmarks: np.ndarray  # (frames, 33, 3) metres; NaN where no pose
    pose_score: np.ndarray       # (frames,) 0 where no pose
    boxes: np.ndarray            # (frames, 4) x, y, w, h px of the ROI used; NaN where no pose
    subject: SubjectChoice


def prefetched(frames: Iterator[np.ndarray], depth: int = 4) -> Iterator[np.ndarray]:
    """Decode on a background thread (OpenCV releases the GIL) while the models run."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        buffer.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        finally:
            buffer.put(done)

    thread = threading.Thread(target=produce, daemon=True, name="gait-decode")
    thread.start()
    try:
        while (item := buffer.get()) is not done:
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                buffer.get_nowait()
            except queue.Empty:
                thread.join(0.05)


class BlazePoseEstimator:
    def __init__(self, models: BlazePoseModels, num_threads: int = 2, min_detection_score: float = 0.5) -> None:
        self.detector = PoseDetector(models.detector, num_threads, min_detection_score)
        self.landmarker = PoseLandmarker(models.landmarker, num_threads)

    def estimate(
        self,
        open_frames: Callable[[], Iterator[np.ndarray]],
        fps: float,
        on_frame: Callable[[int, np.ndarray, FramePose | None], None] | None = None,
        should_continue: Callable[[], bool] = lambda: True,
        open_detection_frames: Callable[[], Iterator[np.ndarray]] | None = None,
        detection_scale: float = 1.0,
    ) -> SubjectPose:
        """`open_detection_frames` may give the same frames smaller (a proxy video), whose
        coordinates times `detection_scale` are those of `open_frames`; pass 1 then decodes those."""
        every = max(1, int(round(fps / DETECTIONS_PER_S)))
        detections: list[list[Detection]] = []
        for index, frame in enumerate(prefetched((open_detection_frames or open_frames)())):
            if not should_continue():
                raise EstimationCancelled()
            found = self.detector.detect(frame) if index % every == 0 else []
            detections.append([d.scaled(detection_scale) for d in found] if detection_scale != 1 else found)
        tracks = link_tracks(detections, fps)
        if not tracks:
            raise NoPersonFound(f"no person was detected in any of the {len(detections)} frames")
        ranked = rank_walkers(tracks, fps)
        poses = self._follow(open_frames, ranked[0].track, on_frame, should_continue)
        return self._assemble(poses, self._explain(ranked, poses))

    @staticmethod
    def _explain(ranked: list[Candidate], poses: list[FramePose | None]) -> SubjectChoice:
        """Name the subject and why; tracks whose detections sit on the subject's tracked pose are
        pieces of the same person (the detector lost and found them), not other people."""
        hips = [None if p is None else p.image_landmarks[[23, 24], :2].mean(axis=0) for p in poses]
        for candidate in ranked[1:]:
            on_subject = [hips[f] is not None and np.hypot(*(d.hip - hips[f])) < DRIFT_BODY * d.body_size
                          for f, d in zip(candidate.track.frames, candidate.track.detections)]
            candidate.same_as_subject = float(np.mean(on_subject)) > 0.5
        best = ranked[0]
        others = [c for c in ranked[1:] if not c.same_as_subject]
        reason = (f"person {best.track.track_id} walks: moves {best.displacement_body:.1f} body sizes over "
                  f"{best.duration_s:.1f} s, the most of {len(others) + 1} tracked "
                  f"{'person' if not others else 'people'}")
        if others:
            reason += f" (next: person {others[0].track.track_id}, {others[0].displacement_body:.1f} body sizes)"
        return SubjectChoice(best.track.track_id, reason, [c.as_dict() for c in ranked])

    def _follow(self, open_frames, track: Track, on_frame, should_continue) -> list[FramePose | None]:
        poses: list[FramePose | None] = []
        previous: FramePose | None = None
        for index, frame in enumerate(prefetched(open_frames())):
            if not should_continue():
                raise EstimationCancelled()
            detection = track.detection_at(index)
            roi = self._roi(previous, detection)
            pose = self.landmarker.run(frame, roi) if roi is not None else None
            if pose is None and detection is not None and previous is not None:
                pose = self.landmarker.run(frame, _detection_roi(detection))  # tracking lost: re-seed once
            poses.append(pose)
            previous = pose
            if on_frame is not None:
                on_frame(index, frame, pose)
        return poses

    @staticmethod
    def _roi(previous: FramePose | None, detection: Detection | None) -> Roi | None:
        if previous is None:
            return _detection_roi(detection) if detection is not None else None
        tracked = previous.next_roi()
        if detection is not None:
            drift = np.hypot(tracked.cx - detection.hip[0], tracked.cy - detection.hip[1]) / max(detection.body_size, 1.0)
            if drift > DRIFT_BODY:
                return _detection_roi(detection)
        return tracked

    @staticmethod
    def _assemble(poses: list[FramePose | None], subject: SubjectChoice) -> SubjectPose:
        frames = len(poses)
        image = np.full((frames, BODY_LANDMARKS, 5), np.nan, np.float32)
        world = np.full((frames, BODY_LANDMARKS, 3), np.nan, np.float32)
        score = np.zeros(frames, np.float32)
        boxes = np.full((frames, 4), np.nan, np.float32)
        for index, pose in enumerate(poses):
            if pose is not None:
                image[index] = pose.image_landmarks[:BODY_LANDMARKS]
                world[index] = pose.world_landmarks[:BODY_LANDMARKS]
                score[index] = pose.score
                boxes[index] = pose.roi.box()
        return SubjectPose(image, world, score, boxes, subject)


def _detection_roi(detection: Detection) -> Roi:
    return Roi.from_alignment_points(detection.keypoints[0], detection.keypoints[1])
