"""S3 over TLS (GAIT_S3_SECURE, GAIT_S3_CA_FILE): the real `minio` client against moto's S3 served
over HTTPS on loopback with a certificate made here, trusted through the CA file and refused
without it or with another CA."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from gait.config import StoreConfig
from gait.errors import TransientError
from gait.store import open_store
from gait.tls import TlsMisconfigured
from tests.certs import Certificates, make_certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("s3-tls"))


@pytest.fixture(scope="module")
def https_endpoint(certs) -> Iterator[str]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True,
                         request_handler=MotoRequestHandler, ssl_context=(str(certs.server.cert), str(certs.server.key)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"localhost:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def config(endpoint: str, ca_file: Path | None, secure: bool = True) -> StoreConfig:
    return StoreConfig(backend="s3", s3_endpoint=endpoint, s3_bucket=f"gait-{uuid.uuid4().hex[:12]}",
                       s3_access_key="test", s3_secret_key="test", s3_secure=secure, s3_ca_file=ca_file)


def test_the_store_speaks_https_to_an_endpoint_signed_by_the_ca_file(https_endpoint, certs):
    store = open_store(config(https_endpoint, certs.ca))
    store.put_bytes("video/abc/manifest.json", b"{}")
    assert store.get_bytes("video/abc/manifest.json") == b"{}"
    assert store.list("video/") == ["video/abc/manifest.json"]


@pytest.mark.parametrize("trust", ["system CAs", "another CA", "plain HTTP"])
def test_an_endpoint_the_store_cannot_verify_is_not_used(https_endpoint, certs, trust):
    settings = {"system CAs": (None, True), "another CA": (certs.other_ca, True), "plain HTTP": (None, False)}[trust]
    with pytest.raises(TransientError, match=f"object store {https_endpoint} unreachable"):
        open_store(config(https_endpoint, *settings))


@pytest.mark.parametrize(("ca_file", "secure", "message"), [
    (Path("/nonexistent/ca.pem"), True, "GAIT_S3_CA_FILE=/nonexistent/ca.pem: cannot read it"),
    (Path(__file__), True, f"GAIT_S3_CA_FILE={__file__}: not a PEM file"),
    (Path("/nonexistent/ca.pem"), False, "GAIT_S3_CA_FILE is set but GAIT_S3_SECURE is not true"),
])
def test_an_unusable_ca_file_is_named(https_endpoint, ca_file, secure, message):
    with pytest.raises(TlsMisconfigured, match=message):
        open_store(config(https_endpoint, ca_file, secure))


def test_the_ca_file_comes_from_the_environment(monkeypatch, certs):
    monkeypatch.setenv("GAIT_S3_SECURE", "true")
    monkeypatch.setenv("GAIT_S3_CA_FILE", str(certs.ca))
    assert StoreConfig.from_env().s3_ca_file == certs.ca
