"""Throwaway PKI for TLS tests: a CA, a server certificate and client certificates (PEM files)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class TestPki:
    """Paths of a CA and the certificates it signed (and one it did not: ``rogue_*``)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path
    rogue_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer_name: x509.Name, issuer_key, *, ca: bool, usage=None) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
            critical=False,
        )
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate | None = None, key=None) -> Path:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
        )
    return path


def make_pki(directory: Path) -> TestPki:
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = _name("fixgate test CA")
    ca_cert = _cert("fixgate test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = _key()
    server_cert = _cert("localhost", server_key, ca_name, ca_key, ca=False, usage=ExtendedKeyUsageOID.SERVER_AUTH)
    client_key = _key()
    client_cert = _cert("CLIENT1", client_key, ca_name, ca_key, ca=False, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    rogue_ca_key = _key()
    rogue_key = _key()
    rogue_cert = _cert("ROGUE", rogue_key, _name("rogue CA"), rogue_ca_key, ca=False, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    return TestPki(
        ca=_write(directory / "ca.crt", ca_cert),
        server_cert=_write(directory / "server.crt", server_cert),
        server_key=_write(directory / "server.key", key=server_key),
        client_cert=_write(directory / "client.crt", client_cert),
        client_key=_write(directory / "client.key", key=client_key),
        rogue_cert=_write(directory / "rogue.crt", rogue_cert),
        rogue_key=_write(directory / "rogue.key", key=rogue_key),
    )
