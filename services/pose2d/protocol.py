"""What every 2D pose backend is: it turns an upright video into the walking subject's Halpe-26
(or COCO-17) keypoints. The embedded default is BlazePose (services/pose2d/blazepose/); AlphaPose's
FastPose (services/pose2d/alphapose/) implements the same interface; services/pose2d/registry.py
chooses between them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

# (index, BGR frame, the subject's Halpe-26 (26, 3) or None, the head boxes (n, 4) x0, y0, x1, y1 px of every
# person the backend tracks in this frame, from its person detections; gait.deidentify blurs them). The
# callback owns the frame: it may change it and keep it.
FrameCallback = Callable[[int, np.ndarray, np.ndarray | None, np.ndarray], None]


@dataclass
class Pose2DResult:
    keypoints: np.ndarray              # (frames, 26 | 17, 3) x px, y px, score; NaN x/y and score 0 where no pose
    scores: np.ndarray                 # (frames,) pose score, 0 where no pose
    boxes: np.ndarray                  # (frames, 4) x, y, w, h px, NaN where no pose
    subject: dict                      # which person was analyzed and why, with the candidates
    world: np.ndarray | None = None    # (frames, 33, 4) BlazePose world landmarks x, y, z m and visibility
    notes: dict = field(default_factory=dict)
    layout: str = "halpe26"            # joint layout of keypoints: "halpe26" or "coco17"
    heads: list[np.ndarray] = field(default_factory=list)  # per frame, the heads FrameCallback got


class Pose2DBackend(Protocol):
    name: str
    version: str
    models: tuple[dict[str, str], ...]  # the model files it loaded, name and sha256 (the audit trail)

    def estimate(self, video: Path, fps: float, on_frame: FrameCallback | None,
                 should_continue: Callable[[], bool], proxy: Path | None = None) -> Pose2DResult:
        """`proxy`: the same frames smaller (RotateService writes one), for finding people cheaply."""
