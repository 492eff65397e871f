"""pose2d's video thread: what fails there reaches the caller, and no half-written video is left."""
from __future__ import annotations

import numpy as np
import pytest

from gait.video import iter_frames
from services.pose2d.videos import VideoOutputs

NO_HEADS = np.zeros((0, 4), np.float32)


def test_frames_are_written_in_order(tmp_path):
    frames = [np.full((64, 96, 3), 16 * i, np.uint8) for i in range(12)]
    with VideoOutputs(96, 64, 30.0, tmp_path / "overlay.mp4", None, None) as videos:
        for index, frame in enumerate(frames):
            videos.on_frame(index, frame, None, NO_HEADS)
    written = list(iter_frames(tmp_path / "overlay.mp4"))
    assert len(written) == 12
    levels = [float(frame.mean()) for frame in written]
    assert levels == sorted(levels) and levels[-1] - levels[0] > 150, "the frames keep their order"


def test_a_failure_in_the_video_thread_reaches_the_caller_and_removes_the_video(tmp_path):
    out = tmp_path / "overlay.mp4"
    with pytest.raises(ValueError, match="frame size"):
        with VideoOutputs(96, 64, 30.0, out, None, None) as videos:
            for index in range(50):  # the thread fails on the first frame; the caller hears of it
                videos.on_frame(index, np.zeros((32, 32, 3), np.uint8), None, NO_HEADS)
    assert not out.exists(), "an aborted video is not left behind"


def test_a_failure_of_the_caller_aborts_the_videos(tmp_path):
    out = tmp_path / "overlay.mp4"
    with pytest.raises(RuntimeError, match="the model failed"):
        with VideoOutputs(96, 64, 30.0, out, None, None) as videos:
            videos.on_frame(0, np.zeros((64, 96, 3), np.uint8), None, NO_HEADS)
            raise RuntimeError("the model failed")
    assert not out.exists()
