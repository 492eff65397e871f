"""Make a phone video upright and re-encode it as H.264 with constant frame rate.

Phones store portrait video as landscape frames plus a display-matrix rotation that players
apply. Analysis needs the frames themselves upright, so the rotation is applied to the pixels
(ffmpeg's transpose filter, with ffmpeg's own auto-rotation off so it is applied exactly once),
the tag is dropped, and so are audio and container metadata (voices, GPS position, device names
can identify a patient).
"""
from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from gait.errors import Cancelled, InvalidInput
from gait.video import VideoInfo, ffmpeg_exe, probe, wait_for

log = logging.getLogger(__name__)

VALID_ROTATIONS = (0, 90, 180, 270)
# Clockwise rotation -> ffmpeg filter that applies it.
_FILTERS = {0: None, 90: "transpose=clock", 180: "hflip,vflip", 270: "transpose=cclock"}
_FRAME_PROGRESS = re.compile(r"^frame=(\d+)$")


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
# The upright video is pose2d's input, and the landmarks, hence the gait events, move with its
# encoding's noise: on the demo clip, seven encodings (lossless to CRF 23, x264 ultrafast to
# veryfast) gave heel-strike errors of 21-32 ms, toe-off errors of 24-36 ms and 6-7 of 8 heel
# strikes found. Faster presets (ultrafast at CRF 23: 40 % of the encode CPU at the same PSNR)
# are therefore not taken without the validation corpus run again: this stays the encoding the
# events were validated on. Changing it changes results: bump STAGE_VERSIONS[ROTATE].
UPRIGHT_PRESET, UPRIGHT_CRF = "veryfast", 20
# x264's output depends on its thread count, which by default follows the machine's cores (1.5
# per core): the same video gave other upright and proxy frames, so other detections, landmarks
# and events, on an 8-core laptop than on a 2-core one. Pinned to the count the events were
# validated with (2 cores), every machine writes the same bytes (x264's assembly is bit-exact
# with its C code).
UPRIGHT_THREADS = 3


def make_upright(
    source: Path,
    target: Path,
    proxy: Path,
    override_deg: int | None = None,
    should_continue: Callable[[], bool] = lambda: True,
    max_long_side: int = 0,
) -> UprightVideo:
    """Write the upright H.264 video to `target`, and to `proxy` the same frames at most 640 px on
    their long side (what person detection needs, about 15 times cheaper to decode than a phone's
    full-HD frames). Frames longer than `max_long_side` px (0: no limit) are scaled down to it
    first, so what every later stage holds per frame is bounded. InvalidInput for files that are
    not usable video."""
    info = probe(source)
    rotation = choose_rotation(info, override_deg)
    bounded = (f"scale='if(gte(iw,ih),{max_long_side},-2)':'if(gte(iw,ih),-2,{max_long_side})'"
               if 0 < max_long_side < max(info.width, info.height) else None)
    upright = ",".join(f for f in (_FILTERS[rotation], bounded, "pad=ceil(iw/2)*2:ceil(ih/2)*2") if f)
    small = (f"scale='if(gte(iw,ih),{PROXY_LONG_SIDE},-2)':'if(gte(iw,ih),-2,{PROXY_LONG_SIDE})'")
    frames_in_step = ["-fps_mode", "cfr", "-r", f"{info.fps:.6f}", "-pix_fmt", "yuv420p", "-c:v", "libx264"]
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-xerror",
        "-progress", "pipe:1",
        # Apply the rotation once, ourselves, and reset the display matrix so players do not rotate again.
        "-noautorotate", "-display_rotation:v:0", "0", "-i", str(source),
        "-filter_complex", f"[0:v:0]{upright},split=2[full][small];[small]{small}[proxy]",
        "-map", "[full]", "-an", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1", *frames_in_step,
        "-preset", UPRIGHT_PRESET, "-crf", str(UPRIGHT_CRF),
        "-threads", str(UPRIGHT_THREADS), "-movflags", "+faststart", str(target),
        "-map", "[proxy]", "-an", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1", *frames_in_step,
        "-preset", "ultrafast", "-crf", "23", "-threads", str(UPRIGHT_THREADS), str(proxy),
    ]
    frames_written = _run_ffmpeg(command, should_continue, (target, proxy))
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
        duration_s=frames_written / upright.fps,
    )


def _run_ffmpeg(command: list[str], should_continue: Callable[[], bool], outputs: tuple[Path, ...]) -> int:
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
    log.info("ffmpeg: %d frames decoded, rotated and encoded twice in %.2f CPU s", frames, cpu_s,
             extra={"phase": "rotate.ffmpeg", "cpu_s": round(cpu_s, 3)})
    return frames


def _remove(paths: tuple[Path, ...]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
