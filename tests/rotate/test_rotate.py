"""RotateService on real videos: rotation tags, overrides, and every kind of bad input."""
from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest

from gait.artifacts import Bundle, BundleWriter
from gait.ingest import ingest_video
from gait.v1 import stages_pb2
from gait.video import H264Writer, ffmpeg_exe, iter_frames, probe

SIZE = (640, 360)


@pytest.fixture(scope="module")
def upright_frames(short_clip: Path) -> list[np.ndarray]:
    return [cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA) for f in iter_frames(short_clip, limit=12)]


def _encode(frames: list[np.ndarray], path: Path) -> Path:
    height, width = frames[0].shape[:2]
    with H264Writer(path, width, height, 30.0, crf=12) as writer:
        for frame in frames:
            writer.write(frame)
    return path


@pytest.fixture(scope="module")
def phone_portrait_clip(upright_frames, tmp_path_factory) -> Path:
    """What a phone stores: frames turned 90 degrees clockwise plus a display matrix that turns them back."""
    folder = tmp_path_factory.mktemp("rotate")
    raw = _encode([cv2.rotate(f, cv2.ROTATE_90_CLOCKWISE) for f in upright_frames], folder / "raw.mp4")
    tagged = folder / "tagged.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-display_rotation:v:0", "90", "-i", str(raw),
                    "-c", "copy", str(tagged)], check=True)
    return tagged


def _rotate(stubs, store, path: Path, **options) -> stages_pb2.RotateResponse:
    video = ingest_video(store, path)
    return stubs.rotate.Rotate(stages_pb2.RotateRequest(video_key=video.key, **options), timeout=60)


def _first_frame(store, response, tmp_path: Path) -> np.ndarray:
    video = Bundle.open(store, response.outcome.bundle_key).fetch("upright.mp4", tmp_path)
    assert probe(video).rotation_meta_deg == 0, "the upright video must not carry a rotation tag any more"
    return next(iter_frames(video))


def test_rotation_tag_is_applied_to_the_pixels(stubs, store, phone_portrait_clip, upright_frames, tmp_path):
    assert probe(phone_portrait_clip).rotation_meta_deg == 270
    response = _rotate(stubs, store, phone_portrait_clip)
    assert response.rotation_applied_deg == 270
    assert (response.width, response.height) == SIZE and response.frames == len(upright_frames)
    frame = _first_frame(store, response, tmp_path).astype(float)
    assert np.abs(frame - upright_frames[0]).mean() < 6, "the output is not the upright picture"
    turned = cv2.rotate(upright_frames[0], cv2.ROTATE_180).astype(float)
    assert np.abs(frame - turned).mean() > 20


def test_override_rotates_clockwise(stubs, store, upright_frames, tmp_path):
    clip = _encode(upright_frames, tmp_path / "landscape.mp4")
    response = _rotate(stubs, store, clip, rotation_deg=90)
    assert (response.width, response.height, response.rotation_applied_deg) == (SIZE[1], SIZE[0], 90)
    frame = _first_frame(store, response, tmp_path / "out").astype(float)
    assert np.abs(frame - cv2.rotate(upright_frames[0], cv2.ROTATE_90_CLOCKWISE)).mean() < 6


def test_second_run_is_cached(stubs, store, phone_portrait_clip):
    first = _rotate(stubs, store, phone_portrait_clip)
    second = _rotate(stubs, store, phone_portrait_clip)
    assert second.outcome.cached and second.outcome.bundle_key == first.outcome.bundle_key


def test_cached_only_computes_nothing_and_answers_from_the_store(stubs, store, upright_frames, tmp_path):
    clip = _encode(upright_frames[:5], tmp_path / "five_frames.mp4")  # a video no other test rotates
    with pytest.raises(grpc.RpcError) as refused:
        _rotate(stubs, store, clip, cached_only=True)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND and "nothing computed" in refused.value.details()
    computed = _rotate(stubs, store, clip)
    assert not computed.outcome.cached, "the cached_only call committed a bundle"
    answered = _rotate(stubs, store, clip, cached_only=True)
    assert answered.outcome.cached and answered.outcome.bundle_key == computed.outcome.bundle_key
    assert answered.frames == computed.frames == 5


def _video_bundle_with(store, name: str, data: bytes) -> str:
    """A `video` bundle holding arbitrary bytes, as a client could upload it."""
    import hashlib

    key = f"video/test-{hashlib.sha256(data).hexdigest()[:24]}"
    with BundleWriter(store, key, "video", {"name": "test", "version": "1"}, {}, {}) as writer:
        writer.path(name).write_bytes(data)
        writer.add(name, "video/*", "test input")
        return writer.commit({"source_file": name}).key


def _truncated(demo_clip: Path) -> bytes:
    data = demo_clip.read_bytes()
    return data[: len(data) // 3]


def _zero_frames(tmp: Path) -> bytes:
    path = tmp / "zero.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=1",
                    "-frames:v", "0", "-c:v", "libx264", str(path)], check=True)
    return path.read_bytes()


def _audio_only(tmp: Path) -> bytes:
    path = tmp / "audio.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                    "-c:a", "aac", str(path)], check=True)
    return path.read_bytes()


@pytest.mark.parametrize("case, expected", [
    ("empty", "empty"),
    ("text", "not a readable video"),
    ("truncated", "truncated"),
    ("audio_only", "not a readable video"),
    ("zero_frames", "not a readable video"),
])
def test_bad_videos_are_rejected_without_leftovers(stubs, store, demo_clip, tmp_path, case, expected):
    data = {"empty": lambda: b"", "text": lambda: b"patient walked fine\n" * 50,
            "truncated": lambda: _truncated(demo_clip), "audio_only": lambda: _audio_only(tmp_path),
            "zero_frames": lambda: _zero_frames(tmp_path)}[case]()
    key = _video_bundle_with(store, "source.mp4", data)
    before = store.list("rotate/")
    with pytest.raises(grpc.RpcError) as error:
        stubs.rotate.Rotate(stages_pb2.RotateRequest(video_key=key), timeout=60)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in error.value.details()
    assert store.list("rotate/") == before, "a failed request left objects behind"


def test_bad_requests(stubs, store, phone_portrait_clip):
    video = ingest_video(store, phone_portrait_clip)
    cases = [
        (stages_pb2.RotateRequest(video_key=video.key, rotation_deg=45), grpc.StatusCode.INVALID_ARGUMENT, "rotation_deg"),
        (stages_pb2.RotateRequest(video_key="video/doesnotexist"), grpc.StatusCode.NOT_FOUND, "no artifact"),
        (stages_pb2.RotateRequest(video_key=""), grpc.StatusCode.INVALID_ARGUMENT, "no artifact key"),
        (stages_pb2.RotateRequest(video_key="../etc/passwd"), grpc.StatusCode.INVALID_ARGUMENT, "invalid artifact key"),
    ]
    for request, code, words in cases:
        with pytest.raises(grpc.RpcError) as error:
            stubs.rotate.Rotate(request, timeout=30)
        assert error.value.code() == code and words in error.value.details(), error.value.details()


def test_wrong_artifact_type(stubs, store, phone_portrait_clip):
    rotated = _rotate(stubs, store, phone_portrait_clip)
    with pytest.raises(grpc.RpcError) as error:
        stubs.rotate.Rotate(stages_pb2.RotateRequest(video_key=rotated.outcome.bundle_key), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'rotate' artifact" in error.value.details() and "'video'" in error.value.details()
