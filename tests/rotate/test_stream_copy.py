"""Rotate copies an upright, constant-rate H.264 stream as it is, and re-encodes everything else."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gait.video import ffmpeg_exe, probe
from services.rotate.upright import is_constant_rate, make_upright, read_video_stream

SIZE = "320x180"


def _clip(path: Path, *encoding: str, filters: str = "null") -> Path:
    """A 2 s test pattern with a sound track and a title, as a camera could write it."""
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=30:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-vf", filters, *encoding, "-c:a", "aac", "-shortest",
                    "-metadata", "title=patient 0042", "-metadata", "location=+48.85+002.35/", str(path)], check=True)
    return path


def _packets(path: Path) -> list[str]:
    """The video packets' checksums (framecrc): equal lists mean the same coded frames."""
    listing = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy",
                              "-f", "framecrc", "-"], capture_output=True, text=True, check=True).stdout
    return [line.split(",")[-1].split()[0] for line in listing.splitlines() if not line.startswith("#")]


def _container_tags(path: Path) -> str:
    return subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr


def test_an_upright_constant_rate_h264_source_is_copied_without_its_sound_or_tags(tmp_path):
    source = _clip(tmp_path / "camera.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    upright = make_upright(source, tmp_path / "upright.mp4", tmp_path / "proxy.mp4")
    assert upright.stream_copied and upright.frames == 60 and upright.fps == 30
    assert _packets(tmp_path / "upright.mp4") == _packets(source), "the coded frames were not copied as they are"
    described = _container_tags(tmp_path / "upright.mp4")
    assert "Audio:" not in described and "patient 0042" not in described and "+48.85" not in described
    assert probe(tmp_path / "proxy.mp4").frames == 60


@pytest.mark.parametrize("why, encoding, filters", [
    ("VP9 (not what every player reads)", ("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"), "null"),
    ("4:4:4 chroma", ("-c:v", "libx264", "-pix_fmt", "yuv444p"), "null"),
    ("variable frame rate", ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-fps_mode", "vfr"),
     "select='not(eq(mod(n\\,7)\\,3))'"),
])
def test_anything_else_is_re_encoded_at_a_constant_rate(tmp_path, why, encoding, filters):
    source = _clip(tmp_path / "camera.mkv", *encoding, filters=filters)
    upright = make_upright(source, tmp_path / "upright.mp4", tmp_path / "proxy.mp4")
    assert not upright.stream_copied, why
    stream = read_video_stream(tmp_path / "upright.mp4")
    assert stream.codec == "h264" and stream.pixel_format == "yuv420p"
    assert is_constant_rate(stream.presentation_ticks), why


def test_a_rotation_or_a_size_bound_is_never_copied(tmp_path):
    source = _clip(tmp_path / "camera.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    assert not make_upright(source, tmp_path / "turned.mp4", tmp_path / "p1.mp4", override_deg=180).stream_copied
    bounded = make_upright(source, tmp_path / "small.mp4", tmp_path / "p2.mp4", max_long_side=160)
    assert not bounded.stream_copied and (bounded.width, bounded.height) == (160, 90)


def test_constant_rate_allows_a_tick_of_rounding_and_nothing_more():
    assert is_constant_rate([0, 3003, 6006, 9009])
    assert is_constant_rate([0, 20, 40, 61, 81, 101])  # 29.97 fps at 600 ticks/s: 20.02 per frame
    assert not is_constant_rate([0, 512, 1024, 1700, 2212])  # a dropped or slowed frame
    assert not is_constant_rate([0]) and not is_constant_rate([0, 0, 0])
