"""TLS on the gRPC hops (gait/tls.py), with certificates made here: a real server on loopback with
TLS answers a TLS client and refuses a plaintext one and one that does not trust its CA; with
mutual TLS it serves only a client presenting a certificate its client CA signed; the exec probe
of the chart; and every unusable TLS file named by its variable at start-up."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from gait.client import StageCallFailed, call_stage
from gait.config import REPO_ROOT, ClientConfig, ServiceConfig, TlsConfig
from gait.health import check_grpc
from gait.rpc import build_server
from gait.tls import TlsMisconfigured, server_credentials
from gait.v1 import stages_pb2, stages_pb2_grpc
from tests.certs import Certificates, make_certificates


class Rotate(stages_pb2_grpc.RotateServiceServicer):
    def Rotate(self, request, context):
        return stages_pb2.RotateResponse(frames=7)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"), server_names=("gait-rotate",))


def server_tls(certs: Certificates, mutual: bool = False) -> TlsConfig:
    return TlsConfig(cert=certs.server.cert, key=certs.server.key, client_ca=certs.ca if mutual else None)


@contextmanager
def serving(tls: TlsConfig) -> Iterator[int]:
    server, port = build_server(ServiceConfig(stage="rotate", port=0, tls=tls), "RotateService",
                                lambda s: stages_pb2_grpc.add_RotateServiceServicer_to_server(Rotate(), s))
    try:
        yield port
    finally:
        server.stop(0)


def rotate(port: int, tls: TlsConfig, host: str = "localhost") -> stages_pb2.RotateResponse:
    config = ClientConfig(addresses={"rotate": f"{host}:{port}"}, timeout_s=10, tls=tls)
    return call_stage("rotate", "Rotate", stages_pb2.RotateRequest(video_key="video/x"), config, wait_for_ready=False)


def test_a_tls_server_answers_a_client_that_trusts_its_ca(certs):
    with serving(server_tls(certs)) as port:
        assert rotate(port, TlsConfig(ca=certs.ca)).frames == 7
        assert rotate(port, TlsConfig(ca=certs.ca), host="127.0.0.1").frames == 7


def test_a_tls_server_refuses_plaintext_and_untrusting_clients(certs):
    with serving(server_tls(certs)) as port:
        for tls in (TlsConfig(), TlsConfig(ca=certs.other_ca)):
            with pytest.raises(StageCallFailed) as refused:
                rotate(port, tls)
            assert refused.value.code == grpc.StatusCode.UNAVAILABLE, tls


def test_a_plaintext_server_is_not_taken_for_a_tls_one(certs):
    with serving(TlsConfig()) as port:
        assert rotate(port, TlsConfig()).frames == 7
        with pytest.raises(StageCallFailed) as refused:
            rotate(port, TlsConfig(ca=certs.ca))
        assert refused.value.code == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_serves_only_clients_with_a_certificate_of_its_client_ca(certs):
    with serving(server_tls(certs, mutual=True)) as port:
        for tls in (TlsConfig(ca=certs.ca), TlsConfig(ca=certs.ca, client_cert=certs.stranger.cert,
                                                      client_key=certs.stranger.key)):
            with pytest.raises(StageCallFailed) as refused:
                rotate(port, tls)
            assert refused.value.code == grpc.StatusCode.UNAVAILABLE, tls
        served = TlsConfig(ca=certs.ca, client_cert=certs.client.cert, client_key=certs.client.key)
        assert rotate(port, served).frames == 7


def test_a_renewed_server_certificate_is_served_without_a_restart(tmp_path, caplog):
    """As cert-manager renews the mounted Secret: the next connection gets the new certificate; a
    renewal that cannot be used (a key that is not PEM) is logged and the current one kept."""
    first, second = make_certificates(tmp_path / "first"), make_certificates(tmp_path / "second")
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"

    def install(made: Certificates) -> None:
        cert.write_bytes(made.server.cert.read_bytes())
        key.write_bytes(made.server.key.read_bytes())

    install(first)
    with serving(TlsConfig(cert=cert, key=key)) as port:
        assert rotate(port, TlsConfig(ca=first.ca)).frames == 7
        install(second)
        assert rotate(port, TlsConfig(ca=second.ca)).frames == 7
        with pytest.raises(StageCallFailed):
            rotate(port, TlsConfig(ca=first.ca))
        key.write_text("not a key")
        assert rotate(port, TlsConfig(ca=second.ca)).frames == 7
    assert "renewed TLS certificate not used" in caplog.text


def test_health_checks_follow_the_environment(certs, monkeypatch):
    """`gait health`, the smoke flow and `gait run --services external` check through check_grpc,
    which takes GAIT_TLS_* from the environment as the flows do."""
    with serving(server_tls(certs, mutual=True)) as port:
        assert not check_grpc(f"localhost:{port}")[0]
        monkeypatch.setenv("GAIT_TLS_CA", str(certs.ca))
        monkeypatch.setenv("GAIT_TLS_CLIENT_CERT", str(certs.client.cert))
        monkeypatch.setenv("GAIT_TLS_CLIENT_KEY", str(certs.client.key))
        assert check_grpc(f"localhost:{port}") == (True, f"localhost:{port} (server): SERVING")
        # the certificate must carry the name asked for
        healthy, line = check_grpc(f"127.0.0.1:{port}", server_name="gait-lift3d")
        assert not healthy and "UNAVAILABLE" in line


def probe(port: int, name: str, certs: Certificates) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAIT_TLS_CA": str(certs.ca), "GAIT_TLS_CLIENT_CERT": str(certs.client.cert),
           "GAIT_TLS_CLIENT_KEY": str(certs.client.key)}
    return subprocess.run([sys.executable, "-m", "gait.probe", str(port), name], capture_output=True, text=True,
                          env=env, cwd=REPO_ROOT, timeout=60)


def test_the_exec_probe_checks_the_pod_s_own_port_for_the_service_name(certs):
    """The chart's probe with TLS on: 127.0.0.1 in the pod, the certificate checked for the
    Service's name (here a server certificate for gait-rotate besides 127.0.0.1 and localhost)."""
    with serving(server_tls(certs, mutual=True)) as port:
        ok = probe(port, "gait-rotate", certs)
        assert ok.returncode == 0 and ok.stdout.strip() == f"127.0.0.1:{port} (server): SERVING", ok.stderr
        wrong = probe(port, "gait-pose2d", certs)
        assert wrong.returncode == 1 and "UNAVAILABLE" in wrong.stderr
    gone = probe(port, "gait-rotate", certs)
    assert gone.returncode == 1 and "UNAVAILABLE" in gone.stderr


@pytest.mark.parametrize(("change", "variable", "reason"), [
    ({"cert": Path("/nonexistent/tls.crt")}, "GAIT_TLS_CERT=/nonexistent/tls.crt", "cannot read it"),
    ({"key": None}, "GAIT_TLS_CERT is set but GAIT_TLS_KEY is not", ""),
    ({"key": "client"}, "GAIT_TLS_KEY=", "not a readable private key of the certificate"),
    ({"cert": "not-pem"}, "GAIT_TLS_CERT=", "not a PEM file"),
    ({"client_ca": Path("/nonexistent/ca.crt")}, "GAIT_TLS_CLIENT_CA=/nonexistent/ca.crt", "cannot read it"),
    ({"cert": None, "key": None, "client_ca": "ca"}, "GAIT_TLS_CLIENT_CA is set but GAIT_TLS_CERT", ""),
])
def test_an_unusable_server_setting_is_named(certs, tmp_path, change, variable, reason):
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    files = {"client": certs.client.key, "not-pem": not_pem, "ca": certs.ca}
    fields = {**vars(server_tls(certs)), **{k: files.get(v, v) if isinstance(v, str) else v for k, v in change.items()}}
    with pytest.raises(TlsMisconfigured) as error:
        server_credentials(TlsConfig(**fields))
    assert variable in str(error.value) and reason in str(error.value)


@pytest.mark.parametrize(("tls", "variable"), [
    (TlsConfig(ca=Path("/nonexistent/ca.crt")), "GAIT_TLS_CA=/nonexistent/ca.crt: cannot read it"),
    (TlsConfig(client_cert=Path("/x.crt"), client_key=Path("/x.key")), "GAIT_TLS_CLIENT_CERT is set but GAIT_TLS_CA"),
])
def test_an_unusable_client_setting_fails_the_call_naming_it(tls, variable):
    with pytest.raises(StageCallFailed) as error:
        rotate(1, tls)
    assert error.value.code == grpc.StatusCode.FAILED_PRECONDITION and variable in error.value.details
    assert not error.value.transient


def test_a_service_with_an_unusable_tls_file_exits_at_start_naming_it(tmp_path):
    env = {**os.environ, "GAIT_TLS_CERT": str(tmp_path / "missing.crt"), "GAIT_TLS_KEY": str(tmp_path / "missing.key"),
           "GAIT_ROTATE_PORT": "0", "GAIT_STORE_DIR": str(tmp_path / "store")}
    result = subprocess.run([sys.executable, "-m", "services.rotate"], capture_output=True, text=True, env=env,
                            cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (f"gait: error: GAIT_TLS_CERT={tmp_path / 'missing.crt'}: "
                                                      "cannot read it (No such file or directory)")
