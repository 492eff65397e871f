"""Reading and writing video: OpenCV to decode, the ffmpeg binary of `imageio-ffmpeg` (a PyPI
wheel with libx264) to write H.264, which every player and browser reads."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

# FFmpeg inside OpenCV prints its own complaints ("moov atom not found") to stderr; our errors say
# it better. Set OPENCV_FFMPEG_LOGLEVEL yourself to see them (e.g. 24 for warnings).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from gait.errors import InvalidInput  # noqa: E402


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    width: int          # stored (coded) size, before any display rotation
    height: int
    fps: float
    frames: int         # frame count declared by the container (0: none)
    rotation_meta_deg: int  # clockwise rotation the container asks players to apply (0/90/180/270)
    codec: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps if self.fps > 0 else 0.0


def open_capture(path: Path) -> cv2.VideoCapture:
    """A capture that returns frames as stored: rotation metadata is applied by us, explicitly."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InvalidInput("the file is not a readable video (no decodable video stream)")
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    return capture


def probe(path: Path) -> VideoInfo:
    """Container facts, or InvalidInput naming what is wrong with the file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("the video file does not exist")
    if path.stat().st_size == 0:
        raise InvalidInput("the video file is empty (0 bytes)")
    capture = open_capture(path)
    try:
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC))
        # OpenCV reports the clockwise rotation a player applies (a display matrix of +90, i.e.
        # counter-clockwise, reads as 270); checked against OpenCV's own auto-rotation in the tests.
        raw_orientation = capture.get(cv2.CAP_PROP_ORIENTATION_META)
        if not abs(raw_orientation) <= 360:  # a broken display matrix overflows OpenCV's int (-2**31 + ...)
            raise InvalidInput("the video's rotation tag is not a readable angle (a broken display matrix)")
        orientation = int(round(raw_orientation)) % 360
        info = VideoInfo(
            width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fps=float(capture.get(cv2.CAP_PROP_FPS)),
            frames=max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))),  # negative (a broken duration): none declared
            rotation_meta_deg=orientation,
            codec="".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 "),
        )
    finally:
        capture.release()
    if info.width <= 0 or info.height <= 0:
        raise InvalidInput("the video stream has no frame size")
    if not (0 < info.fps < 1000):
        raise InvalidInput(f"the video reports an implausible frame rate ({info.fps:g} fps)")
    if info.rotation_meta_deg % 90:
        raise InvalidInput(f"the video's rotation tag is {info.rotation_meta_deg} degrees, not a quarter turn "
                           "(0, 90, 180 or 270)")
    return info


def iter_frames(path: Path, limit: int | None = None) -> Iterator[np.ndarray]:
    """BGR uint8 frames as stored in the file."""
    capture = open_capture(path)
    try:
        count = 0
        while limit is None or count < limit:
            ok, frame = capture.read()
            if not ok:
                return
            count += 1
            yield frame
    finally:
        capture.release()


def wait_for(process: subprocess.Popen) -> float:
    """Wait for `process` to end (its returncode is then set, as by `wait()`); returns the CPU
    seconds (user + system) it used, which the stages log for the benchmarks' per-phase profile."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


SINGLE_THREAD_MAX_PIXELS = 1920 * 1088
# x264's deblocking filter on, at the strengths every preset but `ultrafast` already uses
# (`ultrafast` alone turns it off): no block edges in the videos gait writes, at any preset.
X264_DEBLOCK = ["-deblock", "0:0"]


class H264Writer:
    """Pipe BGR frames into ffmpeg/libx264 (yuv420p, faststart): a widely readable MP4.

    Frames are converted to yuv420p here (OpenCV's BT.601 limited-range conversion, the one
    ffmpeg's would apply): half the bytes through the pipe and, on the demo's 1768x994 frames,
    a quarter less CPU in total than ffmpeg's own conversion. Frames up to 1080p are encoded on one
    thread: x264 then needs 13 % less CPU and 70 MB less memory (demo, superfast) and still writes
    ~45 frames/s, faster than pose2d's pass produces them; larger frames use x264's threads.
    The deblocking filter is on at every preset (X264_DEBLOCK)."""

    def __init__(self, path: Path, width: int, height: int, fps: float, crf: int = 20, preset: str = "veryfast") -> None:
        self.path = Path(path)
        self.size = (width, height)
        self._pad = (height % 2, width % 2)  # yuv420p needs even sizes: padded by at most one pixel
        coded = f"{width + self._pad[1]}x{height + self._pad[0]}"
        command = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", coded, "-r", f"{fps:.6f}", "-i", "-",
            "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf), *X264_DEBLOCK,
            "-threads", "1" if width * height <= SINGLE_THREAD_MAX_PIXELS else "0",
            "-movflags", "+faststart", "-map_metadata", "-1", str(self.path),
        ]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        self.cpu_s = 0.0  # the encoder's CPU seconds, once closed

    def write(self, frame: np.ndarray) -> None:
        if frame.shape[1::-1] != self.size:
            raise ValueError(f"frame size {frame.shape[1::-1]} differs from the writer's {self.size}")
        if any(self._pad):
            frame = cv2.copyMakeBorder(frame, 0, self._pad[0], 0, self._pad[1], cv2.BORDER_CONSTANT, value=(0, 0, 0))
        assert self._process.stdin is not None
        self._process.stdin.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).data)

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
        self.cpu_s = wait_for(self._process)
        if self._process.returncode != 0:
            raise RuntimeError(f"ffmpeg failed writing video: {stderr.strip()[-300:]}")

    def abort(self) -> None:
        self._process.kill()
        self._process.wait()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
