"""Bring a video (or a lab's recording) into the store as a `video` (`recording`) bundle keyed by
its content hash.

The clinic's file name is not kept anywhere: the bundle holds `source<ext>` and its checksum.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from gait.artifacts import Bundle, BundleWriter, find_bundle, sha256_file
from gait.errors import InvalidInput
from gait.store.base import ObjectStore

VIDEO_STAGE = "video"
_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp"}


def ingest_video(store: ObjectStore, path: Path) -> Bundle:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("the video file does not exist or is not a file")
    if path.stat().st_size == 0:
        raise InvalidInput("the video file is empty (0 bytes)")
    digest = sha256_file(path)
    key = f"{VIDEO_STAGE}/{digest[:32]}"
    existing = find_bundle(store, key)
    if existing is not None:
        return existing
    suffix = path.suffix.lower() if path.suffix.lower() in _SUFFIXES else ".bin"
    with BundleWriter(store, key, VIDEO_STAGE, {"name": "ingest", "version": "1"}, {}, {}) as writer:
        name = f"source{suffix}"
        shutil.copyfile(path, writer.path(name))
        writer.add(name, "video/*", "the video as received, byte for byte", {"sha256": digest})
        return writer.commit({"source_file": name, "bytes": path.stat().st_size})


RECORDING_STAGE = "recording"
_RECORDING_SUFFIXES = {".trc", ".c3d", ".csv", ".npy"}


def ingest_recording(store: ObjectStore, path: Path) -> Bundle:
    """A motion-capture file or 2D keypoints as a `recording` bundle (`source<ext>`)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("the file does not exist")
    suffix = path.suffix.lower()
    if suffix not in _RECORDING_SUFFIXES:
        raise InvalidInput(f"unknown recording type {suffix or '(none)'!r}; expected {', '.join(sorted(_RECORDING_SUFFIXES))}")
    digest = sha256_file(path)
    key = f"{RECORDING_STAGE}/{digest[:32]}"
    existing = find_bundle(store, key)
    if existing is not None:
        return existing
    with BundleWriter(store, key, RECORDING_STAGE, {"name": "ingest", "version": "1"}, {}, {}) as writer:
        name = f"source{suffix}"
        shutil.copyfile(path, writer.path(name))
        writer.add(name, "application/octet-stream", "the recording as received, byte for byte", {"sha256": digest})
        return writer.commit({"source_file": name, "bytes": path.stat().st_size})
