"""Certificates made in the test, with `cryptography`: a CA, a server certificate for 127.0.0.1 and
localhost (plus any other names), a client certificate, and a second CA that signed none of them."""
from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA's certificate (what clients and a mutual-TLS server trust)
    server: Pair  # for 127.0.0.1, localhost and the extra names, signed by the CA
    client: Pair  # a client certificate signed by the CA
    other_ca: Path  # a CA that signed nothing here
    stranger: Pair  # a client certificate signed by the other CA


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pair:
    pair = Pair(folder / f"{stem}.crt", folder / f"{stem}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pair.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return pair


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
                 names: tuple[str, ...] = (), usage: x509.ObjectIdentifier | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    issuer_name, signer = (issuer[0].subject, issuer[1]) if issuer else (_name(subject), key)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True))
    if issuer is None:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                      content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False,
                                                      encipher_only=False, decipher_only=False), critical=True)
    if names:
        sans: list[x509.GeneralName] = []
        for name in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def make_certificates(folder: Path, server_names: tuple[str, ...] = ()) -> Certificates:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("gait test CA", ca_key, None)
    other = _certificate("another CA", other_key, None)
    server_key, client_key, stranger_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    server = _certificate("gait test server", server_key, (ca, ca_key), ("127.0.0.1", "localhost", *server_names),
                          ExtendedKeyUsageOID.SERVER_AUTH)
    client = _certificate("gait test client", client_key, (ca, ca_key), usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger = _certificate("stranger", stranger_key, (other, other_key), usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    return Certificates(ca=_write(folder, "ca", ca, ca_key).cert, server=_write(folder, "server", server, server_key),
                        client=_write(folder, "client", client, client_key),
                        other_ca=_write(folder, "other-ca", other, other_key).cert,
                        stranger=_write(folder, "stranger", stranger, stranger_key))
