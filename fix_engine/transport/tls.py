"""TLS contexts from QuickFIX's configuration keys, through pyOpenSSL (Twisted's ``ssl`` module).

Keys (QuickFIX names): ``SocketUseSSL``, ``ServerCertificateFile``, ``ServerCertificateKeyFile``,
``ClientCertificateFile``, ``ClientCertificateKeyFile``, ``CertificationAuthoritiesFile``,
``CertificateVerifyLevel``, ``SSLProtocol`` and ``SSLCipherSuite``.

* Certificate files are PEM.  A certificate file may hold the leaf certificate followed by its
  intermediate CAs (the chain is sent to the peer); when the key file is not given, the key is
  read from the certificate file.  Encrypted private keys are not supported.
* ``CertificateVerifyLevel`` (acceptor): 0 no client certificate is asked for; 1 a client
  certificate is verified against ``CertificationAuthoritiesFile`` when the client presents one;
  2 or more a client certificate is required and verified.  Levels 1 and 2 need
  ``CertificationAuthoritiesFile``.
* Initiator: when ``CertificationAuthoritiesFile`` is set, the server's certificate must chain to
  one of those CAs *and* name the connected host (``SocketConnectHost``: a DNS name or an IP
  address, matched against the certificate's subjectAltName); without it the server is not
  verified (QuickFIX's behaviour).
* ``SSLProtocol``: Apache-style list such as ``all -SSLv2 -SSLv3 -TLSv1 -TLSv1_1`` or
  ``+TLSv1.2 +TLSv1.3``.  Tokens add (``+`` or no sign) or remove (``-``) versions, starting from
  nothing, or from the default (TLS 1.2 and 1.3) when the first token removes (``-TLSv1.3`` means
  TLS 1.2 only).  SSLv2/SSLv3 are accepted and never offered.  The result must be a contiguous
  range (OpenSSL takes a minimum and a maximum).  Default: TLS 1.2 to 1.3.
* ``SSLCipherSuite``: an OpenSSL cipher string; it governs TLS 1.2 and below (TLS 1.3 suites are
  OpenSSL's defaults, as with Apache's plain ``SSLCipherSuite``).

Every problem raises :class:`TlsConfigError` naming the session (its ``file:line``), the key and
the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL, crypto
from twisted.internet import ssl
from twisted.internet._sslverify import TLSVersion
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator

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
_DEFAULT = (TLSVersion.TLSv1_2, TLSVersion.TLSv1_3)
_LABEL = {
    TLSVersion.TLSv1_0: "TLSv1",
    TLSVersion.TLSv1_1: "TLSv1.1",
    TLSVersion.TLSv1_2: "TLSv1.2",
    TLSVersion.TLSv1_3: "TLSv1.3",
}


def protocol_range(settings: SessionSettings) -> tuple[TLSVersion, TLSVersion]:
    """(lowest, highest) TLS version allowed by ``SSLProtocol``; default TLS 1.2 to 1.3."""
    text = settings.ssl_protocol.strip()
    tokens = text.replace(",", " ").split()
    if not tokens:
        return _DEFAULT
    allowed: set[TLSVersion] = set(_ORDER[_ORDER.index(_DEFAULT[0]) :]) if tokens[0][0] == "-" else set()
    for token in tokens:
        sign = token[0] if token[0] in "+-" else "+"
        name = token.lstrip("+-").lower()
        if name == "all":
            group = set(_ORDER)
        elif name in ("sslv2", "sslv3"):
            continue  # never offered
        elif name in _VERSIONS:
            group = {_VERSIONS[name]}
        else:
            raise TlsConfigError(
                f"{_where(settings)}SSLProtocol: unknown protocol {token!r} in {text!r}"
                " (known: all, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)"
            )
        allowed = allowed | group if sign == "+" else allowed - group
    if not allowed:
        raise TlsConfigError(f"{_where(settings)}SSLProtocol: {text!r} leaves no TLS version enabled")
    ordered = [v for v in _ORDER if v in allowed]
    low, high = ordered[0], ordered[-1]
    holes = [v for v in _ORDER[_ORDER.index(low) : _ORDER.index(high) + 1] if v not in allowed]
    if holes:
        raise TlsConfigError(
            f"{_where(settings)}SSLProtocol: {text!r} enables {_LABEL[low]} and {_LABEL[high]} but not "
            f"{', '.join(_LABEL[v] for v in holes)}; give a contiguous range of versions"
        )
    return low, high


def _where(settings: SessionSettings) -> str:
    return f"{settings.source or settings.session_id}: "


def _read(settings: SessionSettings, key: str, path: str) -> bytes:
    if not path:
        raise TlsConfigError(f"{_where(settings)}{key} is required when SocketUseSSL=Y")
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{_where(settings)}{key}: cannot read {path}: {exc.strerror or exc}") from None


def _certificates(settings: SessionSettings, key: str, path: str) -> list[x509.Certificate]:
    """Every PEM certificate in ``path`` (at least one), in file order."""
    pem = _read(settings, key, path)
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise TlsConfigError(f"{_where(settings)}{key}: no PEM certificate in {path}")
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TlsConfigError(f"{_where(settings)}{key}: bad PEM certificate in {path}: {exc}") from None
    return certs


def _private_key(settings: SessionSettings, key: str, path: str, pem: bytes) -> Any:
    try:
        loaded = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise TlsConfigError(
            f"{_where(settings)}{key}: the private key in {path} is encrypted; give an unencrypted PEM key"
        ) from None
    except (ValueError, crypto.Error) as exc:
        raise TlsConfigError(f"{_where(settings)}{key}: no usable PEM private key in {path}: {exc}") from None
    return loaded


def _identity(
    settings: SessionSettings, cert_key: str, cert_path: str, key_key: str, key_path: str
) -> dict[str, Any]:
    """CertificateOptions keywords for our certificate (+ chain) and its private key.

    pyOpenSSL takes ``cryptography`` objects here (its own X509/PKey are deprecated for these).
    """
    certs = _certificates(settings, cert_key, cert_path)
    if key_path:
        key = _private_key(settings, key_key, key_path, _read(settings, key_key, key_path))
    else:
        key = _private_key(settings, cert_key, cert_path, _read(settings, cert_key, cert_path))
    check = SSL.Context(SSL.TLS_METHOD)
    try:
        check.use_certificate(certs[0])
        check.use_privatekey(key)
        check.check_privatekey()
    except SSL.Error:
        raise TlsConfigError(
            f"{_where(settings)}{key_key}: the key in {key_path or cert_path} does not match the certificate "
            f"in {cert_path} ({cert_key})"
        ) from None
    identity: dict[str, Any] = {"privateKey": key, "certificate": certs[0]}
    if len(certs) > 1:
        identity["extraCertChain"] = certs[1:]
    return identity


def _authorities(settings: SessionSettings) -> list[crypto.X509]:
    """The trusted CAs (pyOpenSSL objects: ``X509Store.add_cert`` takes nothing else)."""
    if not settings.certification_authorities_file:
        return []
    certs = _certificates(settings, "CertificationAuthoritiesFile", settings.certification_authorities_file)
    return [crypto.X509.from_cryptography(c) for c in certs]


def _version_bounds(low: TLSVersion, high: TLSVersion) -> dict[str, TLSVersion]:
    """CertificateOptions keywords: raise the minimum, or lower it explicitly below TLS 1.2."""
    bounds = {"lowerMaximumSecurityTo": high}
    if _ORDER.index(low) < _ORDER.index(TLSVersion.TLSv1_2):
        bounds["insecurelyLowerMinimumTo"] = low
    else:
        bounds["raiseMinimumTo"] = low
    return bounds


def _common(settings: SessionSettings) -> dict[str, Any]:
    """Version bounds and cipher list shared by both sides."""
    options: dict[str, Any] = dict(_version_bounds(*protocol_range(settings)))
    if settings.ssl_cipher_suite:
        ciphers = ssl.AcceptableCiphers.fromOpenSSLCipherString(settings.ssl_cipher_suite)
        options["acceptableCiphers"] = ciphers
    return options


def _certificate_options(settings: SessionSettings, **options: Any) -> ssl.CertificateOptions:
    try:
        return ssl.CertificateOptions(**options)
    except ValueError as exc:
        if settings.ssl_cipher_suite and "cipher" in str(exc).lower():
            raise TlsConfigError(
                f"{_where(settings)}SSLCipherSuite: {settings.ssl_cipher_suite!r} selects no cipher "
                "OpenSSL supports here"
            ) from None
        raise TlsConfigError(f"{_where(settings)}TLS settings rejected: {exc}") from None


def server_context_factory(settings: SessionSettings) -> ssl.CertificateOptions:
    """The acceptor's context: our certificate; client certificates per CertificateVerifyLevel."""
    identity = _identity(
        settings,
        "ServerCertificateFile",
        settings.server_certificate_file,
        "ServerCertificateKeyFile",
        settings.server_certificate_key_file,
    )
    level = settings.certificate_verify_level
    cas = _authorities(settings)
    if level >= 1 and not cas:
        raise TlsConfigError(
            f"{_where(settings)}CertificateVerifyLevel={level} needs CertificationAuthoritiesFile"
        )
    return _certificate_options(
        settings,
        verify=level >= 1,
        caCerts=cas if level >= 1 else None,
        requireCertificate=level >= 2,
        **identity,
        **_common(settings),
    )


def client_context_factory(settings: SessionSettings, hostname: str) -> IOpenSSLClientConnectionCreator:
    """The initiator's connection creator for ``hostname``.

    Presents our client certificate when one is configured.  With CertificationAuthoritiesFile
    the server must present a certificate that chains to those CAs and names ``hostname``.
    """
    options = _common(settings)
    if settings.client_certificate_key_file and not settings.client_certificate_file:
        raise TlsConfigError(
            f"{_where(settings)}ClientCertificateKeyFile is set ({settings.client_certificate_key_file}) "
            "but ClientCertificateFile is not"
        )
    if settings.client_certificate_file:
        options.update(
            _identity(
                settings,
                "ClientCertificateFile",
                settings.client_certificate_file,
                "ClientCertificateKeyFile",
                settings.client_certificate_key_file,
            )
        )
    cas = _authorities(settings)
    if not cas:  # IOpenSSLClientConnectionCreator (zope-declared, invisible to mypy)
        return cast(IOpenSSLClientConnectionCreator, _certificate_options(settings, **options))
    _certificate_options(settings, **options)  # config errors surface here, with the session's name
    trust = ssl.trustRootFromCertificates([ssl.Certificate(c) for c in cas])
    return ssl.optionsForClientTLS(hostname, trustRoot=trust, extraCertificateOptions=options)
