"""What a valid result of each reader is: the invariants the analysis relies on."""
from __future__ import annotations

import numpy as np

from gait.alphapose_json import LAYOUTS, AlphaPoseSubject
from gait.analysis.trajectories import Trajectories
from gait.joints import COCO_17, HALPE_26
from gait.video import VideoInfo


def _finite_or_missing(values: np.ndarray, what: str) -> None:
    if np.isinf(values).any():
        raise AssertionError(f"{what} holds infinite values (missing is NaN)")


def check_trajectories(trajectories: Trajectories) -> None:
    frames = trajectories.frames
    assert frames > 0, "no frames"
    for name, positions in trajectories.positions.items():
        assert positions.shape == (frames, 3) and positions.dtype.kind == "f", (name, positions.shape, positions.dtype)
        _finite_or_missing(positions, name)
    assert np.isfinite(trajectories.sampling_rate_hz) and trajectories.sampling_rate_hz > 0
    assert sorted(np.abs(trajectories.up).tolist()) == [0.0, 0.0, 1.0], trajectories.up


def check_subject(subject: AlphaPoseSubject) -> None:
    frames, joints, values = subject.keypoints.shape
    assert frames > 0 and values == 3 and subject.layout in LAYOUTS.values(), subject.keypoints.shape
    assert joints == (len(COCO_17) if subject.layout == "coco17" else len(HALPE_26)), (joints, subject.layout)
    _finite_or_missing(subject.keypoints, "keypoints")


def check_video(info: VideoInfo) -> None:
    assert info.width > 0 and info.height > 0 and 0 < info.fps < 1000, info
    assert info.frames >= 0 and info.rotation_meta_deg in (0, 90, 180, 270), info
