"""Both store backends behind one fixture: a local folder, and S3 through the real `minio` client
against moto's S3-compatible server, started here on loopback for the session."""
from __future__ import annotations

import socket
import uuid

import pytest

from gait.config import StoreConfig
from gait.store import open_store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


def s3_config(endpoint: str, bucket: str | None = None) -> StoreConfig:
    return StoreConfig(backend="s3", s3_endpoint=endpoint, s3_bucket=bucket or f"gait-{uuid.uuid4().hex[:12]}",
                       s3_access_key="test", s3_secret_key="test")


@pytest.fixture(params=["local", "s3"])
def any_store(request, tmp_path):
    if request.param == "local":
        return open_store(StoreConfig(backend="local", local_dir=tmp_path / "store"))
    return open_store(s3_config(request.getfixturevalue("s3_endpoint")))
