"""TLS contexts from QuickFIX's configuration keys, through pyOpenSSL (Twisted's ``ssl`` module).

Keys (QuickFIX names): ``SocketUseSSL``, ``ServerCertificateFile``, ``ServerCertificateKeyFile``,
``ClientCertificateFile``, ``ClientCertificateKeyFile``, ``CertificationAuthoritiesFile``,
``CertificateVerifyLevel`` (0: no peer verification; 1: verify the peer's certificate when it
presents one; 2 or more: require and verify it), ``SSLProtocol`` (Apache-style list such as
``all -SSLv2 -SSLv3 -TLSv1 -TLSv1_1`` or ``+TLSv1.2 +TLSv1.3``) and ``SSLCipherSuite`` (an
OpenSSL cipher string).  Every problem raises :class:`TlsConfigError` naming the session, the key
and the file.
"""

from __future__ import annotations

from pathlib import Path

from OpenSSL import SSL, crypto
from twisted.internet import ssl
from twisted.internet._sslverify import TLSVersion

from ..session.settings import SessionSettings


class TlsConfigError(ValueError):
    """A TLS key names a missing or unreadable file, or holds an unsupported value."""


_VERSIONS = {
    "tlsv1": TLSVersion.TLSv1_0,
    "tlsv1.0": TLSVersion.TLSv1_0,
    "tlsv1_0": TLSVersion.TLSv1_0,
    "tlsv1.1": TLSVersion.TLSv1_1,
    "tlsv1_1": TLSVersion.TLSv1_1,
    "tlsv1.2": TLSVersion.TLSv1_2,
    "tlsv1_2": TLSVersion.TLSv1_2,
    "tlsv1.3": TLSVersion.TLSv1_3,
    "tlsv1_3": TLSVersion.TLSv1_3,
}
_ORDER = [TLSVersion.TLSv1_0, TLSVersion.TLSv1_1, TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]


def protocol_range(settings: SessionSettings) -> tuple[TLSVersion, TLSVersion]:
    """(lowest, highest) TLS version allowed by ``SSLProtocol``; default TLS 1.2 to 1.3."""
    text = settings.ssl_protocol.strip()
    if not text:
        return TLSVersion.TLSv1_2, TLSVersion.TLSv1_3
    allowed: set[TLSVersion] = set()
    for token in text.replace(",", " ").split():
        sign = token[0] if token[0] in "+-" else "+"
        name = token.lstrip("+-").lower()
        if name == "all":
            group = set(_ORDER)
        elif name in ("sslv2", "sslv3"):
            continue  # never offered
        elif name in _VERSIONS:
            group = {_VERSIONS[name]}
        else:
            raise TlsConfigError(f"{_where(settings)}SSLProtocol: unknown protocol {token!r}")
        allowed = allowed | group if sign == "+" else allowed - group
    if not allowed:
        raise TlsConfigError(f"{_where(settings)}SSLProtocol: {text!r} leaves no TLS version enabled")
    ordered = [v for v in _ORDER if v in allowed]
    return ordered[0], ordered[-1]


def _where(settings: SessionSettings) -> str:
    return f"{settings.source or settings.session_id}: "


def _read(settings: SessionSettings, key: str, path: str) -> bytes:
    if not path:
        raise TlsConfigError(f"{_where(settings)}{key} is required when SocketUseSSL=Y")
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{_where(settings)}{key}: cannot read {path}: {exc.strerror}") from None


def _private_certificate(settings: SessionSettings, cert_key: str, cert_path: str, key_key: str, key_path: str) -> ssl.PrivateCertificate:
    cert_pem = _read(settings, cert_key, cert_path)
    key_pem = _read(settings, key_key, key_path) if key_path else cert_pem
    try:
        return ssl.PrivateCertificate.loadPEM(cert_pem + b"\n" + key_pem)
    except (crypto.Error, SSL.Error, ValueError) as exc:
        raise TlsConfigError(f"{_where(settings)}{cert_key}/{key_key}: not a PEM certificate and key: {exc}") from None


def _authorities(settings: SessionSettings) -> list[ssl.Certificate]:
    if not settings.certification_authorities_file:
        return []
    pem = _read(settings, "CertificationAuthoritiesFile", settings.certification_authorities_file)
    certs = []
    for block in pem.split(b"-----END CERTIFICATE-----"):
        if b"-----BEGIN CERTIFICATE-----" in block:
            try:
                certs.append(ssl.Certificate.loadPEM(block + b"-----END CERTIFICATE-----\n"))
            except (crypto.Error, SSL.Error, ValueError) as exc:
                raise TlsConfigError(f"{_where(settings)}CertificationAuthoritiesFile: bad certificate: {exc}") from None
    if not certs:
        raise TlsConfigError(f"{_where(settings)}CertificationAuthoritiesFile: no certificate in {settings.certification_authorities_file}")
    return certs


def _version_bounds(low: TLSVersion, high: TLSVersion) -> dict[str, TLSVersion]:
    """CertificateOptions keywords: raise the minimum, or lower it explicitly below TLS 1.2."""
    bounds = {"lowerMaximumSecurityTo": high}
    if _ORDER.index(low) < _ORDER.index(TLSVersion.TLSv1_2):
        bounds["insecurelyLowerMinimumTo"] = low
    else:
        bounds["raiseMinimumTo"] = low
    return bounds


def _ciphers(settings: SessionSettings) -> dict[str, object]:
    if not settings.ssl_cipher_suite:
        return {}
    ciphers = ssl.AcceptableCiphers.fromOpenSSLCipherString(settings.ssl_cipher_suite)
    return {"acceptableCiphers": ciphers}


def server_context_factory(settings: SessionSettings) -> ssl.CertificateOptions:
    """The acceptor's context: our certificate; client certificates per CertificateVerifyLevel."""
    cert = _private_certificate(
        settings,
        "ServerCertificateFile",
        settings.server_certificate_file,
        "ServerCertificateKeyFile",
        settings.server_certificate_key_file,
    )
    low, high = protocol_range(settings)
    level = settings.certificate_verify_level
    cas = _authorities(settings)
    if level >= 1 and not cas:
        raise TlsConfigError(f"{_where(settings)}CertificateVerifyLevel={level} needs CertificationAuthoritiesFile")
    options = ssl.CertificateOptions(
        privateKey=cert.privateKey.original,
        certificate=cert.original,
        verify=level >= 1,
        caCerts=[c.original for c in cas] if level >= 1 else None,
        requireCertificate=level >= 2,
        **_version_bounds(low, high),  # type: ignore[arg-type]
        **_ciphers(settings),  # type: ignore[arg-type]
    )
    return options


def client_context_factory(settings: SessionSettings, hostname: str) -> ssl.CertificateOptions:
    """The initiator's context: our client certificate if configured; verify the server by CA."""
    kwargs: dict[str, object] = {}
    if settings.client_certificate_file:
        cert = _private_certificate(
            settings,
            "ClientCertificateFile",
            settings.client_certificate_file,
            "ClientCertificateKeyFile",
            settings.client_certificate_key_file,
        )
        kwargs.update(privateKey=cert.privateKey.original, certificate=cert.original)
    cas = _authorities(settings)
    low, high = protocol_range(settings)
    verify = bool(cas)  # an initiator verifies the server whenever it is given CAs
    return ssl.CertificateOptions(
        verify=verify,
        caCerts=[c.original for c in cas] if verify else None,
        **_version_bounds(low, high),  # type: ignore[arg-type]
        **_ciphers(settings),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
