"""Make a phone video upright, at a constant frame rate, without audio or container metadata.

Phones store portrait video as landscape frames plus a display-matrix rotation that players
apply. Analysis needs the frames themselves upright, so the rotation is applied to the pixels
(ffmpeg's transpose filter, with ffmpeg's own auto-rotation off so it is applied exactly once)
and the video re-encoded as H.264 at a constant frame rate. An H.264 video that is already
upright, 4:2:0, at a constant frame rate, of even size and within the size bound is
stream-copied instead: the camera's own frames, no generation loss, under a third of the stage's CPU.
Either way audio and container metadata are dropped (voices, GPS position, device names can
identify a patient).
"""
from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from gait.errors import Cancelled, InvalidInput
from gait.video import X264_DEBLOCK, VideoInfo, ffmpeg_exe, probe, wait_for

log = logging.getLogger(__name__)

VALID_ROTATIONS = (0, 90, 180, 270)
# Clockwise rotation -> ffmpeg filter that applies it.
_FILTERS = {0: None, 90: "transpose=clock", 180: "hflip,vflip", 270: "transpose=cclock"}
_FRAME_PROGRESS = re.compile(r"^frame=(\d+)$")
_PACKET = re.compile(r"^\d+,\s*-?\d+,\s*(-?\d+),")
# Frame durations may differ by a tick of the container's clock (rounding), not more.
_CONSTANT_RATE_TICKS = 1
# The upright video is H.264 4:2:0 (what every player and browser reads: it is exported as
# video/upright.mp4 with --no-deidentify), so only such a source is copied; HEVC, VP9, AV1,
# 10-bit or 4:2:2 sources are re-encoded. yuvj420p is 4:2:0 at full range (some phones' H.264).
COPIED_PIXEL_FORMATS = ("yuv420p", "yuvj420p")
_STREAM = re.compile(r"Stream #0:\d+\S*: Video: (\w+)[^,]*, (\w+)")


@dataclass(frozen=True)
class UprightVideo:
    frames: int
    fps: float
    width: int
    height: int
    rotation_applied_deg: int
    source_rotation_meta_deg: int
    source_width: int
    source_height: int
    source_codec: str
    duration_s: float
    stream_copied: bool  # the source's frames as they were (upright, constant rate): not re-encoded

    def as_meta(self) -> dict:
        return asdict(self)


def choose_rotation(info: VideoInfo, override_deg: int | None) -> int:
    """The clockwise rotation to apply: the override when given, else the container's tag."""
    if override_deg is None:
        return info.rotation_meta_deg
    if override_deg not in VALID_ROTATIONS:
        raise InvalidInput(f"rotation_deg must be one of 0, 90, 180, 270 (got {override_deg})")
    return override_deg


PROXY_LONG_SIDE = 640
# The upright video is pose2d's input, and the landmarks, hence the gait events and angles, move
# with its encoding's noise by fractions of a frame. Five encodings of five inputs that rotate
# re-encodes (docs/validation.md, "Rotate's encoding") moved one file's heel-strike MAE by up to
# 9 ms, its toe-off MAE by up to 18 ms and its profile score by up to 1.7 deg, and no encoding was
# better on the five together. So it is chosen by cost: x264 `ultrafast` at CRF 23 with its
# deblocking filter on (X264_DEBLOCK; `ultrafast` turns it off) has the PSNR of `veryfast` at CRF 20 against the
# demo's frames (42.7 dB both) for half of rotate's CPU (4.4 against 9.4 CPU s) and a file 2.2
# times larger (8.0 against 3.6 MB).
# Changing it changes results: bump STAGE_VERSIONS[ROTATE].
UPRIGHT_PRESET, UPRIGHT_CRF = "ultrafast", 23
# x264's output depends on its thread count, which by default follows the machine's cores (1.5
# per core): the same video gave other upright and proxy frames, so other detections, landmarks
# and events, on an 8-core laptop than on a 2-core one. Pinned to the count the events were
# validated with (2 cores), every machine writes the same bytes (x264's assembly is bit-exact
# with its C code).
UPRIGHT_THREADS = 3


@dataclass(frozen=True)
class VideoStream:
    """The first video stream as the container stores it, read without decoding (~50 ms for the demo)."""

    codec: str
    pixel_format: str
    presentation_ticks: list[int]  # the packets' presentation timestamps, in display order


def read_video_stream(source: Path) -> VideoStream:
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "info", "-i", str(source),
               "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return VideoStream("", "", [])
    described = _STREAM.search(result.stderr)
    codec, pixel_format = described.groups() if described else ("", "")
    ticks = sorted(int(m.group(1)) for m in map(_PACKET.match, result.stdout.splitlines()) if m)
    return VideoStream(codec, pixel_format, ticks)


def is_constant_rate(times: list[int]) -> bool:
    """Every frame lasts as long as the others, to a tick: what a phone's variable-rate recording is not."""
    if len(times) < 2:
        return False
    steps = [b - a for a, b in zip(times, times[1:])]
    typical = sorted(steps)[len(steps) // 2]
    return typical > 0 and all(abs(step - typical) <= _CONSTANT_RATE_TICKS for step in steps)


def can_stream_copy(source: Path, info: VideoInfo) -> bool:
    """Whether the stored frames already are what the stage writes, once no rotation and no
    scaling are to be applied: no rotation tag, even-sized, 8-bit 4:2:0 H.264 at a constant
    frame rate."""
    if info.rotation_meta_deg or info.width % 2 or info.height % 2:
        return False
    stream = read_video_stream(source)
    return (stream.codec == "h264" and stream.pixel_format in COPIED_PIXEL_FORMATS
            and is_constant_rate(stream.presentation_ticks))


def make_upright(
    source: Path,
    target: Path,
    proxy: Path,
    override_deg: int | None = None,
    should_continue: Callable[[], bool] = lambda: True,
    max_long_side: int = 0,
) -> UprightVideo:
    """Write the upright H.264 video to `target` (the source's own stream where `can_stream_copy`),
    and to `proxy` the same frames at most 640 px on their long side
    (what person detection needs, about 15 times cheaper to decode than a phone's full-HD frames).
    Frames longer than `max_long_side` px (0: no limit) are scaled down to it first, so what every
    later stage holds per frame is bounded. InvalidInput for files that are not usable video."""
    info = probe(source)
    rotation = choose_rotation(info, override_deg)
    bounded = (f"scale='if(gte(iw,ih),{max_long_side},-2)':'if(gte(iw,ih),-2,{max_long_side})'"
               if 0 < max_long_side < max(info.width, info.height) else None)
    copied = rotation == 0 and bounded is None and can_stream_copy(source, info)
    upright = ",".join(f for f in (_FILTERS[rotation], bounded, "pad=ceil(iw/2)*2:ceil(ih/2)*2") if f)
    small = (f"scale='if(gte(iw,ih),{PROXY_LONG_SIDE},-2)':'if(gte(iw,ih),-2,{PROXY_LONG_SIDE})'")
    frames_in_step = ["-fps_mode", "cfr", "-r", f"{info.fps:.6f}", "-pix_fmt", "yuv420p", "-c:v", "libx264"]
    private = ["-an", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1"]
    if copied:
        graph = f"[0:v:0]{small}[proxy]"
        full = ["-map", "0:v:0", *private, "-c:v", "copy"]
    else:
        graph = f"[0:v:0]{upright},split=2[full][small];[small]{small}[proxy]"
        full = ["-map", "[full]", *private, *frames_in_step, "-preset", UPRIGHT_PRESET, "-crf", str(UPRIGHT_CRF),
                *X264_DEBLOCK, "-threads", str(UPRIGHT_THREADS)]
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-xerror",
        "-progress", "pipe:1",
        # Apply the rotation once, ourselves, and reset the display matrix so players do not rotate again.
        "-noautorotate", "-display_rotation:v:0", "0", "-i", str(source),
        "-filter_complex", graph,
        *full, "-movflags", "+faststart", str(target),
        "-map", "[proxy]", *private, *frames_in_step,
        "-preset", "ultrafast", "-crf", "23", "-threads", str(UPRIGHT_THREADS), str(proxy),
    ]
    frames_written = _run_ffmpeg(command, should_continue, (target, proxy), copied)
    if frames_written == 0:
        raise InvalidInput("the video has no decodable frames")
    upright = probe(target)
    if info.frames > 0 and frames_written < 0.9 * info.frames:
        target.unlink(missing_ok=True)
        proxy.unlink(missing_ok=True)
        raise InvalidInput(
            f"the video is truncated: only {frames_written} of the {info.frames} frames it declares could be decoded"
        )
    return UprightVideo(
        frames=frames_written, fps=upright.fps, width=upright.width, height=upright.height,
        rotation_applied_deg=rotation, source_rotation_meta_deg=info.rotation_meta_deg,
        source_width=info.width, source_height=info.height, source_codec=info.codec,
        duration_s=frames_written / upright.fps, stream_copied=copied,
    )


def _run_ffmpeg(command: list[str], should_continue: Callable[[], bool], outputs: tuple[Path, ...],
                copied: bool) -> int:
    """Run ffmpeg, following its progress; returns the number of frames written. On failure the
    outputs are removed."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    frames = 0
    assert process.stdout is not None
    for line in process.stdout:
        match = _FRAME_PROGRESS.match(line.strip())
        if match:
            frames = int(match.group(1))
        if not should_continue():
            process.kill()
            process.wait()
            _remove(outputs)
            raise Cancelled("rotation cancelled: the request's deadline passed")
    if process.stderr:
        process.stderr.read()  # drained; -loglevel error keeps it short
    cpu_s = wait_for(process)
    if process.returncode != 0:
        _remove(outputs)
        raise InvalidInput(f"the video is corrupt or truncated: decoding stopped with an error after {frames} frames")
    log.info("ffmpeg: %d frames decoded, %s in %.2f CPU s", frames,
             "the video stream-copied (already upright, constant rate), the proxy encoded" if copied
             else "rotated and encoded twice", cpu_s,
             extra={"phase": "rotate.ffmpeg", "cpu_s": round(cpu_s, 3)})
    return frames


def _remove(paths: tuple[Path, ...]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
