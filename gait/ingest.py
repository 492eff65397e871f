"""Bring a video (or a lab's recording, or AlphaPose results made elsewhere) into the store as a
`video` (`recording`, `pose2d`) bundle keyed by its content hash.

The clinic's file name is not kept anywhere: the bundle holds `source<ext>` and its checksum.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath

import numpy as np

from gait.alphapose_json import read_alphapose_json
from gait.artifacts import Bundle, BundleWriter, cached_stage, sha256_file
from gait.contracts import INGEST, INGEST_VERSION, KEYPOINTS_2D, POSE2D, RECORDING, VIDEO
from gait.errors import ArtifactNotFound, InvalidInput
from gait.joints import COCO_17, HALPE_26
from gait.store.base import ObjectStore, check_key

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp"}


def ingest_video(store: ObjectStore, path: Path) -> Bundle:
    """The video file as a `video` bundle keyed by its content (`source<ext>`)."""
    return ingest_video_found(store, path)[0]


def ingest_video_found(store: ObjectStore, path: Path) -> tuple[Bundle, bool]:
    """`ingest_video`, and whether the bundle was in the store already."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("the video file does not exist or is not a file")
    if path.stat().st_size == 0:
        raise InvalidInput("the video file is empty (0 bytes)")
    suffix = path.suffix.lower() if path.suffix.lower() in VIDEO_SUFFIXES else ".bin"
    return _ingest_file(store, VIDEO, path, suffix, "video/*", "the video as received, byte for byte")


def ingest_stored_video(store: ObjectStore, key: str) -> Bundle:
    """A video that is already an object in the store (a file of an archive uploaded to the bucket)
    as a `video` bundle. The object is downloaded once, to hash it; its name is not kept, and the
    errors do not repeat it (an archive's names can identify a patient)."""
    try:
        check_key(key)
    except ValueError:
        raise InvalidInput("the object's name is not a valid store key (letters, digits, '.', '_', '-', '/')") from None
    with tempfile.TemporaryDirectory(prefix="gait-ingest-") as folder:
        path = Path(folder) / f"source{PurePosixPath(key).suffix.lower()}"
        try:
            store.get_file(key, path)
        except ArtifactNotFound:
            raise InvalidInput("there is no object with this key in the store") from None
        return ingest_video(store, path)


# what `gait analyze` reads: motion capture (TRC, C3D, CSV) and 2D keypoints (.npy, AlphaPose .json)
RECORDING_SUFFIXES = (".trc", ".c3d", ".csv", ".npy", ".json")


def ingest_recording(store: ObjectStore, path: Path) -> Bundle:
    """A motion-capture file or 2D keypoints as a `recording` bundle (`source<ext>`)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("the file does not exist")
    suffix = path.suffix.lower()
    if suffix not in RECORDING_SUFFIXES:
        raise InvalidInput(f"unknown recording type {suffix or '(none)'!r}; expected {', '.join(RECORDING_SUFFIXES)}")
    return _ingest_file(store, RECORDING, path, suffix, "application/octet-stream",
                        "the recording as received, byte for byte")[0]


def _ingest_file(store: ObjectStore, kind: str, path: Path, suffix: str, mime: str,
                 description: str) -> tuple[Bundle, bool]:
    """`path` byte for byte as a `kind` bundle keyed by its content (`source<suffix>`), and
    whether it was there already."""
    digest = sha256_file(path)

    def compute(key: str) -> Bundle:
        with BundleWriter(store, key, kind, {"name": INGEST, "version": INGEST_VERSION}, {}, {}) as writer:
            name = f"source{suffix}"
            shutil.copyfile(path, writer.path(name))
            writer.add(name, mime, description, {"sha256": digest})
            return writer.commit({"source_file": name, "bytes": path.stat().st_size})

    return cached_stage(store, kind, INGEST_VERSION, {"file": digest}, {}, compute)


ALPHAPOSE_RESULTS = {"name": "alphapose-results", "version": "external"}


def ingest_alphapose_results(store: ObjectStore, path: Path, fps: float, width: int, height: int) -> Bundle:
    """An AlphaPose results JSON made elsewhere as a `pose2d` bundle, which lift3d and the analysis
    take as they take pose2d's own: the file byte for byte, and the walker's keypoints2d.npy. The
    video is not needed, only its frame rate and size (MotionBERT normalises by the image size)."""
    if not fps > 0 or not width > 0 or not height > 0:
        raise InvalidInput("the video's frame rate and image size must be positive")
    if not Path(path).is_file():
        raise InvalidInput("the file does not exist")
    config = {"fps": float(fps), "width": int(width), "height": int(height)}
    return cached_stage(store, POSE2D, ALPHAPOSE_RESULTS["version"], {"alphapose-results": sha256_file(path)}, config,
                        lambda key: _write_alphapose_results(store, key, Path(path), config))[0]


def _write_alphapose_results(store: ObjectStore, key: str, path: Path, config: dict) -> Bundle:
    subject = read_alphapose_json(path)
    joints = list(HALPE_26 if subject.layout == "halpe26" else COCO_17)
    image = {"units": "px", "axes": {"x": "right in the image", "y": "down"}, **config,
             "frames": len(subject.keypoints), "layout": subject.layout, "joints": joints}
    found = np.isfinite(subject.keypoints[:, :, 0]).any(axis=1)
    with BundleWriter(store, key, POSE2D, ALPHAPOSE_RESULTS, {}, config) as writer:
        shutil.copyfile(path, writer.path("alphapose-results.json"))
        writer.add("alphapose-results.json", "application/json", "the AlphaPose results as received, byte for byte", image)
        writer.add_npy(KEYPOINTS_2D, subject.keypoints.astype(np.float32),
                       f"the walker's 2D keypoints (frames, {len(joints)}, 3): x, y, score; NaN where not found",
                       {**image, "channels": ["x", "y", "score"]})
        return writer.commit({**config, "frames": len(subject.keypoints), "layout": subject.layout,
                              "detection_rate": float(found.mean()), "frames_per_second": 0.0,
                              "subject": {"track_id": subject.track_id, "reason": subject.reason}})
