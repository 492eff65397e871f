"""Bundles: manifests, checksums, deterministic keys, and nothing visible after a failure."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gait.artifacts import Bundle, BundleWriter, derive_bundle_key, find_bundle
from gait.errors import ArtifactNotFound, CorruptArtifact, InvalidInput
from gait.ingest import ingest_video

BACKEND = {"name": "test", "version": "1"}


def _write(store, key="pose2d/k1", stage="pose2d", inputs=None):
    with BundleWriter(store, key, stage, BACKEND, inputs or {}, {"cutoff_hz": 6}) as writer:
        writer.add_npy("points.npy", np.arange(12, dtype=np.float32).reshape(2, 2, 3), "points",
                       {"units": "px", "joints": ["a", "b"]})
        writer.add_json("facts.json", {"fps": 30}, "facts")
        return writer.commit({"frames": 2})


def test_round_trip_and_manifest(any_store):
    bundle = _write(any_store)
    opened = Bundle.open(any_store, "pose2d/k1", expected_stage="pose2d")
    assert opened.manifest == bundle.manifest
    manifest = opened.manifest
    assert manifest["schema"] == "gait.bundle/1" and manifest["stage"] == "pose2d" and manifest["meta"] == {"frames": 2}
    entry = manifest["files"]["points.npy"]
    assert entry["meta"]["shape"] == [2, 2, 3] and entry["meta"]["units"] == "px" and len(entry["sha256"]) == 64
    assert entry["key"].startswith("pose2d/k1/") and entry["bytes"] > 0
    np.testing.assert_array_equal(opened.read_npy("points.npy"), np.arange(12).reshape(2, 2, 3))
    assert opened.read_json("facts.json") == {"fps": 30}
    assert manifest["config"] == {"cutoff_hz": 6} and manifest["backend"] == BACKEND


def test_inputs_are_recorded(any_store):
    video = _write(any_store, key="video/v1", stage="video")
    bundle = _write(any_store, inputs={"video": video})
    assert bundle.manifest["inputs"] == {"video": {"key": "video/v1", "digest": video.digest}}


def test_every_manifest_says_who_made_it_and_the_lineage_reaches_the_input(any_store, tmp_path, monkeypatch):
    """The audit trail: code version, account and requester in each manifest; the chain of bundles
    from the ingested file (its SHA-256 as received) to the last stage."""
    from gait.artifacts import sha256_file
    from gait.provenance import audit_lines, audit_records, requested_by

    monkeypatch.setenv("GAIT_SERVICE_ACCOUNT", "system:serviceaccount:gait:pose2d")
    import gait.provenance

    gait.provenance._process_account.cache_clear()
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    video = ingest_video(any_store, clip)
    token = requested_by.set("clinician@workstation")
    try:
        pose = _write(any_store, inputs={"video": video})
        lifted = _write(any_store, key="lift3d/k2", stage="lift3d", inputs={"pose2d": pose})
    finally:
        requested_by.reset(token)
        gait.provenance._process_account.cache_clear()
    made = lifted.manifest["provenance"]
    assert made["code"]["gait"] and made["code"]["commit"] != ""
    assert made["made_by"]["account"] == "system:serviceaccount:gait:pose2d" and made["requested_by"] == "clinician@workstation"
    records = audit_records(Bundle.open(any_store, lifted.key).lineage())
    assert [r["stage"] for r in records] == ["video", "pose2d", "lift3d"]
    assert list(records[0]["input_sha256"].values()) == [sha256_file(clip)]
    lines = audit_lines(records)
    assert sha256_file(clip) in lines[0] and "requested by clinician@workstation" in lines[2]


def test_keys_are_deterministic():
    key = derive_bundle_key("lift3d", "1", {"pose2d": "d1"}, {"a": 1, "b": 2})
    assert key == derive_bundle_key("lift3d", "1", {"pose2d": "d1"}, {"b": 2, "a": 1})
    assert key.startswith("lift3d/")
    for other in (derive_bundle_key("lift3d", "2", {"pose2d": "d1"}, {"a": 1, "b": 2}),
                  derive_bundle_key("lift3d", "1", {"pose2d": "d2"}, {"a": 1, "b": 2}),
                  derive_bundle_key("lift3d", "1", {"pose2d": "d1"}, {"a": 1, "b": 3})):
        assert other != key


def test_corruption_is_detected(any_store, tmp_path):
    bundle = _write(any_store)
    any_store.put_bytes(bundle.files["facts.json"]["key"], b'{"fps": 25}')
    with pytest.raises(CorruptArtifact, match="checksum"):
        bundle.read_json("facts.json")
    with pytest.raises(CorruptArtifact):
        bundle.fetch("facts.json", tmp_path)
    assert not (tmp_path / "facts.json").exists()


def test_failure_before_commit_leaves_nothing(any_store):
    with pytest.raises(RuntimeError):
        with BundleWriter(any_store, "pose2d/k2", "pose2d", BACKEND, {}, {}) as writer:
            writer.add_json("a.json", {}, "a")
            raise RuntimeError("the stage failed")
    assert any_store.list("pose2d/") == []
    assert find_bundle(any_store, "pose2d/k2") is None


def test_failed_commit_removes_what_it_uploaded(any_store):
    class ManifestFails:
        def __init__(self, store):
            self.store = store

        def __getattr__(self, name):
            return getattr(self.store, name)

        def put_bytes(self, key, data):
            raise ConnectionError("store went away")

    with pytest.raises(ConnectionError):
        _write(ManifestFails(any_store))
    assert any_store.list("pose2d/") == []


def test_open_errors(any_store):
    _write(any_store)
    with pytest.raises(InvalidInput, match="'pose2d' artifact, but a 'lift3d' artifact is needed"):
        Bundle.open(any_store, "pose2d/k1", expected_stage="lift3d")
    with pytest.raises(ArtifactNotFound, match="no artifact bundle"):
        Bundle.open(any_store, "pose2d/missing")
    with pytest.raises(InvalidInput, match="no artifact key"):
        Bundle.open(any_store, "")
    any_store.put_bytes("pose2d/bad/manifest.json", b"not json")
    with pytest.raises(CorruptArtifact):
        Bundle.open(any_store, "pose2d/bad")
    any_store.put_bytes("pose2d/other/manifest.json", json.dumps({"schema": "else"}).encode())
    with pytest.raises(InvalidInput, match="not a gait bundle"):
        Bundle.open(any_store, "pose2d/other")


def test_ingest_is_content_addressed_and_keeps_no_file_name(any_store, tmp_path):
    video = tmp_path / "Jane_Doe_1984-03-02_gait.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(1000))
    first = ingest_video(any_store, video)
    objects_before = any_store.list("video/")
    second = ingest_video(any_store, video)
    assert first.key == second.key and any_store.list("video/") == objects_before
    stored = b"".join(any_store.get_bytes(k) for k in any_store.list("video/") if k.endswith(".json"))
    assert b"Jane" not in stored and b"1984" not in stored
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        ingest_video(any_store, empty)


def test_a_workbook_of_the_same_tables_has_the_same_bytes(tmp_path):
    """A workbook holds its creation time (fixed here); a bundle's digest, and so every later stage's
    key, must not change with the clock (two fresh stores give the same keys)."""
    import time

    import pandas as pd

    from gait.artifacts import sha256_file
    from gait.tables import write_workbook

    paths = [tmp_path / "first.xlsx", tmp_path / "second.xlsx"]
    for path in paths:
        write_workbook(path, {"keypoints": pd.DataFrame({"frame": [0, 1], "x": [1.5, np.nan]})}, {"fps": 30})
        time.sleep(1.1)  # the next save is in another second
    assert sha256_file(paths[0]) == sha256_file(paths[1])
    tables = pd.read_excel(paths[1], sheet_name=None)
    assert list(tables) == ["keypoints", "about"] and tables["keypoints"]["x"].iloc[0] == 1.5
