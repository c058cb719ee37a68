"""Throwaway PKI for TLS tests: CAs, server and client certificates (PEM files).

``make_pki(dir)`` writes:

* ``ca.crt``: the test CA; ``server.crt``/``server.key`` (localhost, 127.0.0.1, serverAuth) and
  ``client.crt``/``client.key`` (CN CLIENT1, clientAuth), both signed by it;
* ``rogue_ca.crt`` and ``rogue.crt``/``rogue.key`` (a client certificate) and
  ``rogue_server.crt``/``rogue_server.key`` (localhost, 127.0.0.1), signed by that other CA;
* ``other_name_server.crt``/``.key``: signed by the test CA but for ``elsewhere.example`` only;
* ``chain_server.crt``/``.key``: a server certificate signed by an intermediate CA (itself signed
  by the test CA), the file holding the leaf followed by the intermediate.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOCAL_NAMES = (x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")))


@dataclass
class TestPki:
    """Paths of the PEM files written by :func:`make_pki`."""

    __test__ = False  # not a pytest test class

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_ca: Path
    rogue_cert: Path
    rogue_key: Path
    rogue_server_cert: Path
    rogue_server_key: Path
    other_name_server_cert: Path
    other_name_server_key: Path
    chain_server_cert: Path
    chain_server_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer_name: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    usage: x509.ObjectIdentifier | None = None,
    names: tuple[x509.GeneralName, ...] = LOCAL_NAMES,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
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
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_cert(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(_pem(c) for c in certs))
    return path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return path


def make_pki(directory: Path) -> TestPki:
    directory.mkdir(parents=True, exist_ok=True)
    server_auth, client_auth = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    ca_key, ca_name = _key(), _name("fixgate test CA")
    ca_cert = _cert("fixgate test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = _key()
    server_cert = _cert("localhost", server_key, ca_name, ca_key, ca=False, usage=server_auth)
    client_key = _key()
    client_cert = _cert("CLIENT1", client_key, ca_name, ca_key, ca=False, usage=client_auth)

    rogue_ca_key, rogue_ca_name = _key(), _name("rogue CA")
    rogue_ca_cert = _cert("rogue CA", rogue_ca_key, rogue_ca_name, rogue_ca_key, ca=True)
    rogue_key = _key()
    rogue_cert = _cert("ROGUE", rogue_key, rogue_ca_name, rogue_ca_key, ca=False, usage=client_auth)
    rogue_server_key = _key()
    rogue_server_cert = _cert(
        "localhost", rogue_server_key, rogue_ca_name, rogue_ca_key, ca=False, usage=server_auth
    )

    other_key = _key()
    other_cert = _cert(
        "elsewhere.example",
        other_key,
        ca_name,
        ca_key,
        ca=False,
        usage=server_auth,
        names=(x509.DNSName("elsewhere.example"),),
    )

    inter_key, inter_name = _key(), _name("fixgate test intermediate CA")
    inter_cert = _cert("fixgate test intermediate CA", inter_key, ca_name, ca_key, ca=True)
    chain_key = _key()
    chain_cert = _cert("localhost", chain_key, inter_name, inter_key, ca=False, usage=server_auth)

    d = directory
    return TestPki(
        ca=_write_cert(d / "ca.crt", ca_cert),
        server_cert=_write_cert(d / "server.crt", server_cert),
        server_key=_write_key(d / "server.key", server_key),
        client_cert=_write_cert(d / "client.crt", client_cert),
        client_key=_write_key(d / "client.key", client_key),
        rogue_ca=_write_cert(d / "rogue_ca.crt", rogue_ca_cert),
        rogue_cert=_write_cert(d / "rogue.crt", rogue_cert),
        rogue_key=_write_key(d / "rogue.key", rogue_key),
        rogue_server_cert=_write_cert(d / "rogue_server.crt", rogue_server_cert),
        rogue_server_key=_write_key(d / "rogue_server.key", rogue_server_key),
        other_name_server_cert=_write_cert(d / "other_name_server.crt", other_cert),
        other_name_server_key=_write_key(d / "other_name_server.key", other_key),
        chain_server_cert=_write_cert(d / "chain_server.crt", chain_cert, inter_cert),
        chain_server_key=_write_key(d / "chain_server.key", chain_key),
    )
