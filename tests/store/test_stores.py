"""The ObjectStore contract, on both backends."""
from __future__ import annotations

import socket
import time

import pytest

from gait.errors import ArtifactNotFound, TransientError
from gait.store import LocalStore, open_store
from tests.store.conftest import s3_config


def test_bytes_and_files_round_trip(any_store, tmp_path):
    any_store.put_bytes("pose2d/abc/x.json", b'{"a": 1}')
    source = tmp_path / "video.bin"
    source.write_bytes(bytes(range(256)) * 4000)
    any_store.put_file("video/k/source.mp4", source)
    assert any_store.get_bytes("pose2d/abc/x.json") == b'{"a": 1}'
    target = tmp_path / "fetched" / "video.bin"
    any_store.get_file("video/k/source.mp4", target)
    assert target.read_bytes() == source.read_bytes()
    assert any_store.exists("video/k/source.mp4") and not any_store.exists("video/k/other")
    assert any_store.list("video/") == ["video/k/source.mp4"]
    assert any_store.list("pose2d/abc/") == ["pose2d/abc/x.json"]
    assert any_store.list("nothing/") == []
    any_store.delete("video/k/source.mp4")
    any_store.delete("video/k/source.mp4")  # absent: no error
    assert not any_store.exists("video/k/source.mp4")


def test_missing_objects_raise_not_found(any_store, tmp_path):
    with pytest.raises(ArtifactNotFound, match="no artifact at key 'a/b'"):
        any_store.get_bytes("a/b")
    with pytest.raises(ArtifactNotFound):
        any_store.get_file("a/b", tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "", "a/../b", "a/.hidden/../x", "a b"])
def test_unsafe_keys_are_refused(any_store, key):
    with pytest.raises(ValueError, match="invalid artifact key"):
        any_store.put_bytes(key, b"x")


def test_local_writes_are_atomic(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "store")
    store.put_bytes("a/b", b"first")

    def broken_replace(*_):
        raise OSError("disk full")

    monkeypatch.setattr("gait.store.local.os.replace", broken_replace)
    with pytest.raises(OSError):
        store.put_bytes("a/b", b"second")
    monkeypatch.undo()
    assert store.get_bytes("a/b") == b"first", "a failed write must leave the old object whole"
    leftovers = [p.name for p in (tmp_path / "store").rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_unreachable_s3_is_transient_and_quick():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    started = time.perf_counter()
    with pytest.raises(TransientError, match="unreachable"):
        open_store(s3_config(f"127.0.0.1:{port}"))
    assert time.perf_counter() - started < 10


def test_two_clients_see_one_bucket(s3_endpoint):
    config = s3_config(s3_endpoint)
    writer, reader = open_store(config), open_store(config)
    writer.put_bytes("rotate/k/manifest.json", b"{}")
    assert reader.get_bytes("rotate/k/manifest.json") == b"{}"
    assert reader.location == f"s3://{s3_endpoint}/{config.s3_bucket}"
