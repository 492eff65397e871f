"""The subject's pose over a video, in two passes.

Pass 1 runs the person detector (on the whole frame and, for wide frames, on two square tiles;
every frame, or every n-th at high frame rates) and links the detections into tracks; the subject
is the best-ranked walker. Pass 2 runs the landmark model on the subject only: the ROI comes from
the previous frame's landmarks (MediaPipe's tracking) and is re-seeded from the subject's
detection when the pose was lost or the tracked ROI has drifted off the subject's detection.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from services.pose2d.blazepose.detector import Detection, PoseDetector
from services.pose2d.blazepose.landmarker import BODY_LANDMARKS, FramePose, PoseLandmarker
from services.pose2d.blazepose.roi import ROI_SCALE, Roi
from services.pose2d.blazepose.tracking import MAX_SIZE_RATIO, Candidate, Track, link_tracks, rank_walkers

log = logging.getLogger(__name__)

DRIFT_BODY = 0.35          # re-seed when the tracked ROI centre is this far (body sizes) from the detection's hip
DRIFT_SIZE_RATIO = 2.0     # ... or its size this many times off the detection's ROI
DETECTIONS_PER_S = 15.0    # pass 1 runs the detector about this often (every 2nd frame at 30 fps)

# (index, BGR frame, the subject's pose or None, every tracked person's detection in this frame)
FrameCallback = Callable[[int, np.ndarray, "FramePose | None", list[Detection]], None]


class NoPersonFound(Exception):
    """No person was detected in any frame."""


class EstimationCancelled(Exception):
    """should_continue() said stop."""


@dataclass(frozen=True)
class BlazePoseModels:
    """Paths of the two .tflite files."""

    detector: Path
    landmarker: Path


@dataclass
class SubjectChoice:
    track_id: int
    reason: str              # one sentence: why this person
    candidates: list[dict]   # one per person track, best first (see tracking.Candidate.as_dict)


@dataclass
class SubjectPose:
    image_landmarks: np.ndarray  # (frames, 33, 5) x px, y px, z (x's scale), visibility, presence; NaN where no pose
    world_landmarks: np.ndarray  # (frames, 33, 3) metres, hip-centred; NaN where no pose
    pose_score: np.ndarray       # (frames,) in [0, 1], 0 where no pose
    boxes: np.ndarray            # (frames, 4) x, y, w, h px of the landmark ROI used; NaN where no pose
    subject: SubjectChoice


_DONE = object()


def prefetched(frames: Iterator[np.ndarray], depth: int = 2) -> Iterator[np.ndarray]:
    """Decode on a background thread (OpenCV releases the GIL) while the models run. An error of the
    frame source is raised here, in the consumer; the source is closed when iteration stops."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    failure: list[BaseException] = []

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            failure.append(exc)
        finally:
            put(_DONE)

    thread = threading.Thread(target=produce, daemon=True, name="blazepose-decode")
    thread.start()
    try:
        while (item := buffer.get()) is not _DONE:
            yield item
        if failure:
            raise failure[0]
    finally:
        stop.set()
        while thread.is_alive():
            try:
                buffer.get_nowait()
            except queue.Empty:
                thread.join(0.05)
        close = getattr(frames, "close", None)
        if close is not None:
            close()


class BlazePoseEstimator:
    def __init__(self, models: BlazePoseModels, num_threads: int = 2, min_detection_score: float = 0.5,
                 detections_per_s: float | None = DETECTIONS_PER_S, tile_wide_frames: bool = True) -> None:
        """`detections_per_s`: how often pass 1 runs the detector (None: on every frame);
        `tile_wide_frames`: also search two square tiles of frames 1.4 times wider than high (or
        the reverse), where people are 1.8 times larger than in the letterboxed whole frame."""
        self.detector = PoseDetector(models.detector, num_threads, min_detection_score)
        self.landmarker = PoseLandmarker(models.landmarker, num_threads)
        self.detections_per_s = detections_per_s
        self.tile_wide_frames = tile_wide_frames

    def detection_stride(self, fps: float) -> int:
        """Pass 1 runs the detector on every this many frames."""
        if not self.detections_per_s:
            return 1
        return max(1, int(round(fps / self.detections_per_s)))

    def estimate(
        self,
        open_frames: Callable[[], Iterator[np.ndarray]],
        fps: float,
        on_frame: FrameCallback | None = None,
        should_continue: Callable[[], bool] = lambda: True,
        open_detection_frames: Callable[[], Iterator[np.ndarray]] | None = None,
        detection_scale: float = 1.0,
    ) -> SubjectPose:
        """The walking subject's pose in every frame of `open_frames()` (BGR uint8).

        `open_detection_frames` may give the same frames smaller (a proxy video), whose
        coordinates times `detection_scale` are those of `open_frames`; pass 1 then decodes those.
        Raises NoPersonFound when nobody is detected, EstimationCancelled when should_continue()
        turns False.
        """
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        started, cpu_started = time.perf_counter(), time.process_time()
        stride = self.detection_stride(fps)
        detections = self.detect_people(open_detection_frames or open_frames, stride, should_continue,
                                        detection_scale)
        pass1, pass1_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        tracks = link_tracks(detections, fps)
        if not tracks:
            raise NoPersonFound(f"no person was detected in any of the {len(detections)} frames "
                                f"(detector run on every {stride} frame(s))")
        ranked = rank_walkers(tracks, fps)
        subject = ranked[0].track
        log.info("pass 1: %d frames in %.2f s (%.0f frames/s), %d tracks, subject: track %d",
                 len(detections), pass1, len(detections) / max(pass1, 1e-9), len(tracks), subject.track_id,
                 extra={"phase": "pose2d.pass1", "seconds": round(pass1, 3), "cpu_s": round(pass1_cpu, 3)})
        started, cpu_started = time.perf_counter(), time.process_time()
        poses = self.follow(open_frames, subject, on_frame, should_continue, tracks)
        pass2, pass2_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        log.info("pass 2: %d frames in %.2f s (%.0f frames/s), pose in %d",
                 len(poses), pass2, len(poses) / max(pass2, 1e-9), sum(p is not None for p in poses),
                 extra={"phase": "pose2d.pass2", "seconds": round(pass2, 3), "cpu_s": round(pass2_cpu, 3)})
        return _assemble(poses, _explain(ranked, poses))

    def detect_people(self, open_frames: Callable[[], Iterator[np.ndarray]], stride: int = 1,
                      should_continue: Callable[[], bool] = lambda: True,
                      scale: float = 1.0) -> list[list[Detection]]:
        """Pass 1: each frame's detections (empty on the frames the detector skips), in the
        coordinates of frames `scale` times larger than these."""
        detect = self.detector.detect_tiled if self.tile_wide_frames else self.detector.detect
        detections: list[list[Detection]] = []
        for index, frame in enumerate(prefetched(open_frames())):
            if not should_continue():
                raise EstimationCancelled("pose estimation cancelled during person detection")
            found = detect(frame) if index % stride == 0 else []
            detections.append([d.scaled(scale) for d in found] if scale != 1 else found)
        return detections

    def follow(self, open_frames: Callable[[], Iterator[np.ndarray]], track: Track,
               on_frame: FrameCallback | None = None,
               should_continue: Callable[[], bool] = lambda: True,
               people: list[Track] | None = None) -> list[FramePose | None]:
        """Pass 2: the landmarks of the person of `track` in every frame (None where not found);
        `on_frame` also gets the detections of `people` (every track) in the frame."""
        poses: list[FramePose | None] = []
        previous: FramePose | None = None
        counts = {"tracked": 0, "seeded": 0, "drifted": 0, "lost": 0}
        for index, frame in enumerate(prefetched(open_frames())):
            if not should_continue():
                raise EstimationCancelled("pose estimation cancelled during landmark tracking")
            detection = track.detection_at(index)
            pose = None
            if previous is not None:
                roi = previous.next_roi()
                if detection is not None and _drifted(roi, detection):
                    counts["drifted"] += 1
                else:
                    pose = self.landmarker.run(frame, roi)
                    counts["tracked" if pose is not None else "lost"] += 1
            if pose is None and detection is not None:
                pose = self.landmarker.run(frame, Roi.from_detection(detection.keypoints))
                counts["seeded"] += pose is not None
            poses.append(pose)
            previous = pose
            if on_frame is not None:
                on_frame(index, frame, pose, [d for person in people or () if (d := person.detection_at(index))])
        log.debug("pass 2 ROIs: %s", counts)
        return poses


def _drifted(roi: Roi, detection: Detection) -> bool:
    """Has the tracked ROI left the subject's detection (for another person, or the background)?"""
    seed = Roi.from_detection(detection.keypoints)
    off = float(np.hypot(roi.cx - detection.hip[0], roi.cy - detection.hip[1])) / max(detection.body_size, 1.0)
    ratio = max(roi.size, 1.0) / max(seed.size, 1.0)
    return off > DRIFT_BODY or not 1 / DRIFT_SIZE_RATIO <= ratio <= DRIFT_SIZE_RATIO


def _explain(ranked: list[Candidate], poses: list[FramePose | None]) -> SubjectChoice:
    """Name the subject and why. Tracks whose detections mostly sit on the subject's tracked pose,
    at the subject's size, are the subject too (duplicate or broken-off detections), not other
    people."""
    tracked = {index: (pose.hip_centre, pose.roi.size / ROI_SCALE)
               for index, pose in enumerate(poses) if pose is not None}
    for candidate in ranked[1:]:
        on_subject = []
        for frame, detection in zip(candidate.track.frames, candidate.track.detections):
            hip, size = tracked.get(frame, (None, 0.0))
            on_subject.append(hip is not None and float(np.hypot(*(detection.hip - hip))) < DRIFT_BODY * size
                              and abs(np.log(max(detection.body_size, 1.0) / max(size, 1.0))) < np.log(MAX_SIZE_RATIO))
        candidate.same_as_subject = float(np.mean(on_subject)) > 0.5
    best = ranked[0]
    others = [c for c in ranked[1:] if not c.same_as_subject]
    reason = (f"track {best.track.track_id} walks the most: {best.displacement_heights:.1f} body heights "
              f"from start to end, moving for {best.moving_s:.1f} of {best.duration_s:.1f} s "
              f"(frames {best.track.first_frame}-{best.track.last_frame})")
    if others:
        runner_up = others[0]
        reason += (f"; the next of {len(others)} other track{'s' if len(others) > 1 else ''}, "
                   f"track {runner_up.track.track_id}: {runner_up.displacement_heights:.1f} body heights, "
                   f"moving for {runner_up.moving_s:.1f} of {runner_up.duration_s:.1f} s")
    else:
        reason += "; nobody else was tracked"
    return SubjectChoice(best.track.track_id, reason, [c.as_dict() for c in ranked])


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
