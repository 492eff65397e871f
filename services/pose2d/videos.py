"""The videos pose2d writes in its one pass over the upright frames: the skeleton overlay and, when
de-identifying (the default), the upright video again with every head blurred, the overlay drawn on
those blurred frames. No frame is decoded twice: the backend hands each frame to `on_frame`, which
queues it for a thread of its own, so the pose model never waits for the blurring, the drawing or
an encoder's pipe.

Heads: the subject's from its keypoints, every tracked person's from the person detections the
backend passes along, and faces no pose covers from BlazeFace (services/pose2d/faces.py) on every
n-th frame; gait.deidentify pads them in time and blurs them.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from gait.config import X264_PRESET
from gait.deidentify import PAD_S, DeidentifiedFrames, enlarged, head_box
from gait.video import H264Writer
from services.pose2d.faces import FaceDetector
from services.pose2d.outputs import draw_skeleton, overlay_scale

log = logging.getLogger(__name__)

FACE_DETECTIONS_PER_S = 2.5  # BlazeFace runs this often (every 12th frame at 30 fps; PAD_S bridges the rest):
                             # on two busy cores it costs 0.15-0.5 s a frame, the landmarks ~0.1
VIDEO_CRF = 23               # both videos: with GAIT_X264_PRESET's ultrafast (deblocked, gait.video), 42.1 dB
                             # PSNR on the demo against superfast's 41.4, 62 % of its CPU and 66 % of its
                             # memory (1.9 vs 3.1 CPU s, 123 vs 185 MB), files 2.0 times larger
FACE_TO_HEAD = 1.6           # a face box (brows to chin) enlarged to the head with its hair and ears
QUEUED_FRAMES = 2            # frames handed over and waiting for the video thread (5 MB each at 1768x994)

_DONE = object()


class VideoOutputs:
    """Use as a context manager around the backend's pass; pass `on_frame` as its frame callback.
    `deidentify_to`: where the de-identified upright video goes (None: not de-identifying);
    `overlay_to`: the overlay (None: no overlay)."""

    def __init__(self, width: int, height: int, fps: float, overlay_to: Path | None, deidentify_to: Path | None,
                 faces: FaceDetector | None, preset: str = X264_PRESET) -> None:
        if deidentify_to is not None and faces is None:
            raise ValueError("de-identifying needs the face detector")
        self.size, self.fps = (width, height), fps
        self.overlay_to, self.deidentify_to, self.faces, self.preset = overlay_to, deidentify_to, faces, preset
        self.scale = overlay_scale(width)
        self.face_stride = max(1, int(round(fps / FACE_DETECTIONS_PER_S)))
        self.face_frames = 0
        self.face_s = 0.0
        self._stack = ExitStack()
        self._overlay: H264Writer | None = None
        self._upright: H264Writer | None = None
        self._blurred: DeidentifiedFrames[np.ndarray | None] | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUED_FRAMES)
        self._thread = threading.Thread(target=self._work, daemon=True, name="pose2d-videos")
        self._failure: BaseException | None = None

    def __enter__(self) -> VideoOutputs:
        if self.overlay_to is not None:
            size = (int(round(self.size[0] * self.scale)), int(round(self.size[1] * self.scale)))
            self._overlay = self._stack.enter_context(H264Writer(self.overlay_to, *size, self.fps,
                                                                  crf=VIDEO_CRF, preset=self.preset))
        if self.deidentify_to is not None:
            self._upright = self._stack.enter_context(H264Writer(self.deidentify_to, *self.size, self.fps,
                                                                 crf=VIDEO_CRF, preset=self.preset))
            self._blurred = DeidentifiedFrames.for_rate(self.fps, self._write)
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self._queue.put(_DONE)  # the thread takes every item, after a failure too: this put cannot wait forever
        self._thread.join()
        failure = exc if exc_type is not None else self._failure
        if failure is None:
            with self._stack:  # the last frames, then the writers close (or abort, if that fails)
                if self._blurred is not None:
                    self._blurred.close()
        else:
            self._stack.__exit__(type(failure), failure, failure.__traceback__)  # the writers abort
            if exc_type is None:
                raise failure
        if exc_type is None:
            writers = {"upright": self._upright, "overlay": self._overlay}
            cpu = {name: round(w.cpu_s, 3) for name, w in writers.items() if w is not None}
            log.info("videos written: encoders %s CPU s; face detector on %d frames in %.2f s", cpu,
                     self.face_frames, self.face_s, extra={"phase": "pose2d.videos", "encoder_cpu_s": cpu,
                                                           "face_s": round(self.face_s, 3)})

    def on_frame(self, index: int, frame: np.ndarray, keypoints: np.ndarray | None, heads: np.ndarray) -> None:
        """Hand frame `index` over (it is blurred in place later: the caller lets go of it); waits
        while QUEUED_FRAMES are waiting, and raises what failed in the video thread."""
        if self._failure is not None:
            raise self._failure
        self._queue.put((index, frame, keypoints, heads))

    def _work(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self._failure is None:
                try:
                    self._process(*item)
                except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                    self._failure = exc

    def _process(self, index: int, frame: np.ndarray, keypoints: np.ndarray | None, heads: np.ndarray) -> None:
        if self._blurred is None:
            self._write(index, frame, keypoints)
            return
        boxes = [heads]
        subject = None if keypoints is None else head_box(keypoints)
        if subject is not None:
            boxes.append(subject[None])
        if index % self.face_stride == 0:
            assert self.faces is not None
            started = time.perf_counter()
            boxes.append(enlarged(self.faces.detect(frame), FACE_TO_HEAD))
            self.face_s += time.perf_counter() - started
            self.face_frames += 1
        self._blurred.push(index, frame, np.concatenate(boxes), keypoints)

    def _write(self, index: int, frame: np.ndarray, keypoints: np.ndarray | None) -> None:
        if self._upright is not None:
            self._upright.write(frame)
        if self._overlay is not None:
            self._overlay.write(draw_skeleton(frame, keypoints, self.scale))

    def summary(self) -> dict:
        """What the manifest says about de-identification."""
        if self._blurred is None:
            return {"deidentified": False,
                    "note": "not de-identified (requested for research use): the videos show faces as filmed"}
        return {
            "deidentified": True,
            "method": (f"heads blurred (shrunk to at most 6 blocks across, smoothed back) in every frame of the "
                       f"de-identified upright video and the overlay: the subject's from its keypoints (nose, eyes, "
                       f"ears, else above the shoulders), every tracked person's from the person detector, and "
                       f"faces no pose covers from BlazeFace full range (every {self.face_stride} frames, boxes x "
                       f"{FACE_TO_HEAD:g}); each head also blurred where it was {PAD_S:g} s before or after a frame "
                       f"it is lost in"),
            "frames_with_heads_blurred": self._blurred.blurred_frames,
            "head_boxes": self._blurred.boxes,
            "face_detector_frames": self.face_frames,
        }
