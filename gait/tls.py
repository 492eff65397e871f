"""TLS of the gRPC hops (docs/security.md): the server's credentials (its certificate and key, and
with a client CA mutual TLS: only clients with a certificate that CA signed are served) and the
client's channel (the CA it trusts, and its own certificate for mutual TLS).

Every PEM file is read and checked when it is used: a server's at start-up, and again before a
new connection's handshake once a file has changed (a renewed certificate, as cert-manager writes
it into the mounted Secret, is served without a restart; a renewal that cannot be used is logged
and the current one kept); a client's at each call. A missing, unreadable or mismatched file is
one TlsMisconfigured naming the variable that points at it.
"""
from __future__ import annotations

import logging
import ssl
from pathlib import Path

import grpc

from gait.config import TlsConfig
from gait.errors import GaitError

log = logging.getLogger(__name__)


class TlsMisconfigured(GaitError):
    """A GAIT_TLS_* setting names a file that is missing, unreadable, not PEM or not a matching
    certificate and key: a property of the deployment, not retried."""

    status = grpc.StatusCode.FAILED_PRECONDITION


def _read(variable: str, path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TlsMisconfigured(f"{variable}={path}: cannot read it ({exc.strerror or exc})") from None
    if b"-----BEGIN " not in data:
        raise TlsMisconfigured(f"{variable}={path}: not a PEM file")
    return data


def read_certificates(variable: str, path: Path) -> bytes:
    """The PEM certificate(s) at `path`, checked to parse."""
    data = _read(variable, path)
    try:
        ssl.create_default_context(cadata=data.decode("ascii", "replace"))
    except (ssl.SSLError, ValueError) as exc:
        raise TlsMisconfigured(f"{variable}={path}: not a readable PEM certificate ({exc})") from None
    return data


def _pair(cert_variable: str, cert: Path, key_variable: str, key: Path) -> tuple[bytes, bytes]:
    """(certificate chain, private key), checked to belong together."""
    chain = read_certificates(cert_variable, cert)
    private_key = _read(key_variable, key)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(str(cert), str(key))
    except ssl.SSLError as exc:
        raise TlsMisconfigured(f"{key_variable}={key}: not a readable private key of the certificate "
                               f"{cert_variable}={cert} ({exc.reason or exc})") from None
    return chain, private_key


def _both_or_neither(first: tuple[str, Path | None], second: tuple[str, Path | None]) -> bool:
    (first_name, first_path), (second_name, second_path) = first, second
    if (first_path is None) != (second_path is None):
        given, missing = (first_name, second_name) if first_path is not None else (second_name, first_name)
        raise TlsMisconfigured(f"{given} is set but {missing} is not: give both")
    return first_path is not None


def server_credentials(tls: TlsConfig) -> grpc.ServerCredentials | None:
    """The server's TLS credentials, or None (plaintext) when GAIT_TLS_CERT/GAIT_TLS_KEY are unset."""
    if not _both_or_neither(("GAIT_TLS_CERT", tls.cert), ("GAIT_TLS_KEY", tls.key)):
        if tls.client_ca is not None:
            raise TlsMisconfigured("GAIT_TLS_CLIENT_CA is set but GAIT_TLS_CERT/GAIT_TLS_KEY are not: "
                                   "mutual TLS needs the server's own certificate")
        return None
    reloading = _ReloadingServerCertificate(tls)
    return grpc.dynamic_ssl_server_credentials(reloading.configuration(), reloading.fetch,
                                               require_client_authentication=tls.client_ca is not None)


class _ReloadingServerCertificate:
    """The server's certificate configuration, read again when one of its files changed (gRPC asks
    `fetch` before each new connection's handshake; None keeps the current configuration)."""

    def __init__(self, tls: TlsConfig) -> None:
        self.tls = tls
        self.files = [path for path in (tls.cert, tls.key, tls.client_ca) if path is not None]
        self.stamps = self._stamps()

    def _stamps(self) -> list[tuple[int, int]]:
        stamps = []
        for path in self.files:
            try:
                stat = path.stat()
            except OSError:
                stamps.append((0, 0))
                continue
            stamps.append((stat.st_mtime_ns, stat.st_size))
        return stamps

    def configuration(self) -> grpc.ServerCertificateConfiguration:
        chain, key = _pair("GAIT_TLS_CERT", self.tls.cert, "GAIT_TLS_KEY", self.tls.key)
        client_ca = read_certificates("GAIT_TLS_CLIENT_CA", self.tls.client_ca) if self.tls.client_ca else None
        return grpc.ssl_server_certificate_configuration(((key, chain),), root_certificates=client_ca)

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        stamps = self._stamps()
        if stamps == self.stamps:
            return None
        try:
            configuration = self.configuration()
        except TlsMisconfigured as exc:  # mid-renewal, or a bad one: keep serving the current certificate
            log.warning("renewed TLS certificate not used", extra={"reason": str(exc)})
            return None
        self.stamps = stamps
        log.info("TLS certificate reloaded", extra={"files": [str(path) for path in self.files]})
        return configuration


def channel_credentials(tls: TlsConfig) -> grpc.ChannelCredentials | None:
    """The client's TLS credentials, or None (plaintext) when GAIT_TLS_CA is unset."""
    has_cert = _both_or_neither(("GAIT_TLS_CLIENT_CERT", tls.client_cert), ("GAIT_TLS_CLIENT_KEY", tls.client_key))
    if tls.ca is None:
        if has_cert:
            raise TlsMisconfigured("GAIT_TLS_CLIENT_CERT is set but GAIT_TLS_CA is not: a client certificate is "
                                   "presented only over TLS, which needs the CA that signed the server's")
        return None
    ca = read_certificates("GAIT_TLS_CA", tls.ca)
    if not has_cert:
        return grpc.ssl_channel_credentials(root_certificates=ca)
    chain, key = _pair("GAIT_TLS_CLIENT_CERT", tls.client_cert, "GAIT_TLS_CLIENT_KEY", tls.client_key)
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=chain)


def open_channel(address: str, tls: TlsConfig, server_name: str = "") -> grpc.Channel:
    """A channel to `address`: TLS when the client side of `tls` is configured, else plaintext.
    `server_name`: the name the server's certificate is checked for instead of the address's host
    (a pod's probe connects to 127.0.0.1 but the certificate names the Service)."""
    credentials = channel_credentials(tls)
    if credentials is None:
        return grpc.insecure_channel(address)
    options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
    return grpc.secure_channel(address, credentials, options=options)
