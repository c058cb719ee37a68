"""TLS end to end with QuickFIX's configuration keys, over real sockets on 127.0.0.1.

fixgate's acceptor and initiator talk to each other, and to an independent TLS client (Python's
``ssl`` module, run in a reactor thread with socket timeouts).  Every wait is bounded and
event-driven: app callbacks, the initiator's connection attempts, or the client thread's result.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import ssl
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from twisted.internet import defer, reactor, threads
from twisted.internet._sslverify import TLSVersion
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).parent))

from certs import TestPki, make_pki  # noqa: E402
from harness import (  # noqa: E402
    RecordingApp,
    acceptor_from,
    echo,
    free_port,
    initiator_from,
    new_order,
    start_acceptor,
    wait_until,
)

from fix_engine.codec.encoding import encode_fields  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402
from fix_engine.transport.acceptor import AcceptorService  # noqa: E402
from fix_engine.transport.tls import (  # noqa: E402
    TlsConfigError,
    client_context_factory,
    protocol_range,
    server_context_factory,
)

CLIENT_SIDE = SessionID("FIX.4.4", "CLIENT1", "SERVER")
SERVER_SIDE = SessionID("FIX.4.4", "SERVER", "CLIENT1")
CLIENT_TIMEOUT = 10.0  # seconds: every socket operation of the independent client


# --- configuration -------------------------------------------------------------------------------


def server_tls(
    pki: TestPki, level: int = 2, *, cert: Path | None = None, key: Path | None = None, extra: str = ""
) -> str:
    return (
        f"SocketUseSSL=Y\nServerCertificateFile={cert or pki.server_cert}\n"
        f"ServerCertificateKeyFile={key or pki.server_key}\nCertificationAuthoritiesFile={pki.ca}\n"
        f"CertificateVerifyLevel={level}\n{extra}"
    )


def client_tls(pki: TestPki, *, cert: bool = True, ca: Path | None = None, extra: str = "") -> str:
    lines = ["SocketUseSSL=Y"]
    if cert:
        lines += [f"ClientCertificateFile={pki.client_cert}", f"ClientCertificateKeyFile={pki.client_key}"]
    if ca is not None:
        lines.append(f"CertificationAuthoritiesFile={ca}")
    return "\n".join(lines) + "\n" + extra


def acceptor_cfg(port: int, store: Path, tls: str) -> str:
    return f"""[DEFAULT]
ConnectionType=acceptor
SenderCompID=SERVER
SocketAcceptPort={port}
SocketAcceptAddress=127.0.0.1
FileStorePath={store}
NonStopSession=Y
HeartBtInt=30
DataDictionary=FIX44.xml
{tls}
[SESSION]
BeginString=FIX.4.4
TargetCompID=CLIENT1
"""


def initiator_cfg(port: int, store: Path, tls: str, host: str = "127.0.0.1") -> str:
    return f"""[DEFAULT]
ConnectionType=initiator
FileStorePath={store}
NonStopSession=Y
HeartBtInt=30
ReconnectInterval=1
DataDictionary=FIX44.xml
{tls}
[SESSION]
BeginString=FIX.4.4
SenderCompID=CLIENT1
TargetCompID=SERVER
SocketConnectHost={host}
SocketConnectPort={port}
"""


# --- an independent TLS client (Python's ssl module, run in a thread) ----------------------------


@dataclass
class TlsResult:
    """What the independent client saw: handshake, negotiated version/cipher, bytes, error."""

    handshake: bool = False
    version: str | None = None
    cipher: str | None = None
    received: bytes = b""
    error: str | None = None

    @property
    def refused(self) -> bool:
        """The server ended the connection (alert, reset or EOF) and sent no FIX bytes."""
        return self.error is not None and "timed out" not in self.error and self.received == b""

    def alerted(self, *alerts: str) -> bool:
        """Refused with one of the TLS ``alerts`` (OpenSSL's names, e.g. ``UNKNOWN_CA``)."""
        return self.refused and any(alert in (self.error or "") for alert in alerts)


_FRAME_END = re.compile(rb"\x0110=\d{3}\x01")


def logon_bytes(sender: str = "CLIENT1", target: str = "SERVER") -> bytes:
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]
    return encode_fields(
        [
            (8, b"FIX.4.4"),
            (35, b"A"),
            (34, b"1"),
            (49, sender.encode()),
            (52, now.encode()),
            (56, target.encode()),
            (98, b"0"),
            (108, b"30"),
        ]
    )


def tls_exchange(
    port: int,
    ca: Path,
    cert: Path | None = None,
    key: Path | None = None,
    *,
    send: bytes = b"",
    max_version: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
) -> TlsResult:
    """Blocking (run it in a thread): handshake, send ``send``, read one FIX frame or the end."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the server and its name
    ctx.load_verify_locations(str(ca))
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key))
    if max_version is not None:
        ctx.maximum_version = max_version
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    result = TlsResult()
    deadline = time.monotonic() + CLIENT_TIMEOUT
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                result.handshake = True
                result.version = tls.version()
                result.cipher = tls.cipher()[0]
                if send:
                    tls.sendall(send)
                    while not _FRAME_END.search(result.received):
                        tls.settimeout(max(0.05, deadline - time.monotonic()))
                        chunk = tls.recv(4096)
                        if not chunk:
                            result.error = "closed by the server"
                            break
                        result.received += chunk
    except (ssl.SSLError, OSError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def run_client(port: int, ca: Path, *args: object, **kw: object) -> defer.Deferred:
    return threads.deferToThread(tls_exchange, port, ca, *args, **kw)


# --- bounded stops -------------------------------------------------------------------------------

STOP_TIMEOUT = 10.0


async def within(d: defer.Deferred, timeout: float) -> bool:
    """True when ``d`` fires within ``timeout`` seconds (its result is left to later awaits)."""
    outcome: defer.Deferred = defer.Deferred()
    call = reactor.callLater(timeout, lambda: outcome.called or outcome.callback(False))

    def fired(result: object) -> object:
        if not outcome.called:
            call.cancel()
            outcome.callback(True)
        return result

    d.addBoth(fired)
    return bool(await outcome)


def _record_disconnects(service: object, reasons: list[str]) -> None:
    """Collect ``"ExceptionType: message"`` for every lost connection of the service's sessions."""
    for session in service.sessions:  # type: ignore[attr-defined]
        factory = session.factory
        build = factory.buildProtocol

        def buildProtocol(addr: object, build=build) -> object:
            protocol = build(addr)
            lost = protocol.connectionLost

            def connectionLost(reason: object = None) -> None:
                value = getattr(reason, "value", None)
                reasons.append(f"{type(value).__name__}: {value}")
                lost(reason)

            protocol.connectionLost = connectionLost
            return protocol

        factory.buildProtocol = buildProtocol


def _connections(service: object) -> list:
    protocols = [p for f in getattr(service, "factories", []) for p in f.connections]
    protocols += [s.host.protocol for s in getattr(service, "sessions", []) if s.host.protocol is not None]
    protocols += [
        h.protocol for f in getattr(service, "factories", []) for h in f.hosts if h.protocol is not None
    ]
    return [p for p in protocols if p.transport is not None and p.transport.connected]


# --- the test base -------------------------------------------------------------------------------


class TlsTestBase(unittest.TestCase):
    timeout = 30

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-tls-"))
        self.pki = make_pki(self.tmp / "pki")
        self.services: list[object] = []

    async def _stop_all(self) -> None:
        """Stop every service; a stop that hangs is aborted and reported (bounded: STOP_TIMEOUT)."""
        hung = []
        for service in reversed(self.services):
            if service.running:
                stopping = defer.maybeDeferred(service.stopService)
                if not await within(stopping, STOP_TIMEOUT):
                    hung.append(type(service).__name__)
                    for protocol in _connections(service):
                        protocol.transport.abortConnection()
                    await stopping
            for port in getattr(service, "ports", []):
                await defer.maybeDeferred(port.stopListening)
        if hung:
            self.fail(f"stopService of {hung} did not finish within {STOP_TIMEOUT}s (connections left open)")

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._stop_all())

    async def acceptor(self, app: RecordingApp, port: int, tls: str) -> AcceptorService:
        service = acceptor_from(acceptor_cfg(port, self.tmp / f"acc-{port}", tls), app)
        self.services.append(service)
        await start_acceptor(service)
        return service

    def initiator(
        self,
        app: RecordingApp,
        port: int,
        tls: str,
        host: str = "127.0.0.1",
        *,
        disconnects: list | None = None,
    ):
        """Start an initiator; ``disconnects`` (optional) collects why each connection was lost."""
        store = self.tmp / f"ini-{len(self.services)}"
        service = initiator_from(initiator_cfg(port, store, tls, host), app)
        if disconnects is not None:
            _record_disconnects(service, disconnects)
        self.services.append(service)
        service.startService()
        return service

    def assertNoLogon(self, *apps: RecordingApp) -> None:
        for app in apps:
            self.assertEqual(
                [e.kind for e in app.events if e.kind in ("logon", "from_admin", "from_app")], []
            )

    async def assertInitiatorKeepsFailing(self, initiator, *apps: RecordingApp, attempts: int = 2) -> None:
        """Bounded: the initiator has connected ``attempts`` times and nobody logged on."""
        endpoint = initiator.sessions[0].endpoint
        await wait_until(lambda: endpoint.attempt >= attempts, timeout=10)
        self.assertNoLogon(*apps)


# --- 1. fixgate initiator <-> fixgate acceptor, mutual TLS ---------------------------------------


class MutualTlsTests(TlsTestBase):
    async def test_logon_messages_both_ways_and_logout(self) -> None:
        port = free_port()
        server, client = RecordingApp(reply=echo), RecordingApp()
        await self.acceptor(server, port, server_tls(self.pki, level=2))
        initiator = self.initiator(client, port, client_tls(self.pki, ca=self.pki.ca))
        await client.wait_for("logon")
        await server.wait_for("logon")

        client.registry.send_to_target(new_order("TLS1"), CLIENT_SIDE)
        received = await server.wait_for("from_app")
        self.assertEqual((received.message.msg_type, received.message.get(11)), ("D", "TLS1"))
        answer = await client.wait_for("from_app")
        self.assertEqual(
            (answer.message.msg_type, answer.message.get(11), answer.message.get(39)), ("8", "TLS1", "2")
        )

        initiator.sessions[0].host.logout("done")
        await client.wait_for("logout")
        await server.wait_for("logout")
        # the TLS connection carried the session: the acceptor saw the client's certificate
        # (level 2 would have refused the handshake otherwise) and the peer address
        self.assertEqual(server.count("logon"), 1)

    async def test_server_certificate_file_with_intermediate_chain(self) -> None:
        """ServerCertificateFile holding leaf + intermediate: a client trusting only the root verifies it."""
        port = free_port()
        server, client = RecordingApp(), RecordingApp()
        tls = server_tls(self.pki, level=2, cert=self.pki.chain_server_cert, key=self.pki.chain_server_key)
        await self.acceptor(server, port, tls)
        self.initiator(client, port, client_tls(self.pki, ca=self.pki.ca))
        await client.wait_for("logon")
        result = await run_client(
            port, self.pki.ca, self.pki.client_cert, self.pki.client_key, send=logon_bytes()
        )
        # the session is taken by the initiator: the second connection is dropped, but its
        # handshake (verifying the chain up to the root) completed
        self.assertTrue(result.handshake, result.error)


# --- 2. an independent client against CertificateVerifyLevel=2 -----------------------------------


class ClientCertificateRequiredTests(TlsTestBase):
    async def test_client_without_certificate_is_refused(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port, server_tls(self.pki, level=2))
        result = await run_client(port, self.pki.ca, send=logon_bytes())
        self.assertTrue(result.alerted("CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE"), result)
        self.assertNoLogon(server)

    async def test_client_with_certificate_from_another_ca_is_refused(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port, server_tls(self.pki, level=2))
        result = await run_client(
            port, self.pki.ca, self.pki.rogue_cert, self.pki.rogue_key, send=logon_bytes()
        )
        self.assertTrue(result.alerted("UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN"), result)
        self.assertNoLogon(server)

    async def test_client_with_valid_certificate_logs_on(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port, server_tls(self.pki, level=2))
        result = await run_client(
            port, self.pki.ca, self.pki.client_cert, self.pki.client_key, send=logon_bytes()
        )
        self.assertTrue(result.handshake, result.error)
        answer = FixMessage.parse(result.received)
        self.assertEqual((answer.msg_type, answer.get(49), answer.get(56)), ("A", "SERVER", "CLIENT1"))
        await server.wait_for("logon")


# --- 3. CertificateVerifyLevel 0 and 1 -----------------------------------------------------------


class VerifyLevelTests(TlsTestBase):
    async def test_level_0_client_without_certificate_logs_on(self) -> None:
        port = free_port()
        server, client = RecordingApp(), RecordingApp()
        await self.acceptor(server, port, server_tls(self.pki, level=0))
        self.initiator(client, port, client_tls(self.pki, cert=False, ca=self.pki.ca))
        await client.wait_for("logon")
        await server.wait_for("logon")

    async def test_level_0_independent_client_without_certificate_logs_on(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port, server_tls(self.pki, level=0))
        result = await run_client(port, self.pki.ca, send=logon_bytes())
        self.assertEqual(FixMessage.parse(result.received).msg_type, "A", result)

    async def test_level_1_verifies_a_certificate_only_when_presented(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port, server_tls(self.pki, level=1))
        rogue = await run_client(
            port, self.pki.ca, self.pki.rogue_cert, self.pki.rogue_key, send=logon_bytes()
        )
        self.assertTrue(rogue.alerted("UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN"), rogue)
        self.assertNoLogon(server)
        anonymous = await run_client(port, self.pki.ca, send=logon_bytes())
        self.assertEqual(FixMessage.parse(anonymous.received).msg_type, "A", anonymous)


# --- 4. our initiator verifies the server --------------------------------------------------------


class ServerVerificationTests(TlsTestBase):
    async def test_initiator_refuses_server_signed_by_another_ca(self) -> None:
        port = free_port()
        server, client, control = RecordingApp(), RecordingApp(), RecordingApp()
        tls = server_tls(self.pki, level=0, cert=self.pki.rogue_server_cert, key=self.pki.rogue_server_key)
        await self.acceptor(server, port, tls)
        # control: an initiator trusting the rogue CA logs on to the very same acceptor
        control_service = self.initiator(control, port, client_tls(self.pki, ca=self.pki.rogue_ca))
        await control.wait_for("logon")
        self.assertTrue(await within(defer.maybeDeferred(control_service.stopService), STOP_TIMEOUT))
        await server.wait_for("logout")
        server.events.clear()
        reasons: list[str] = []
        initiator = self.initiator(client, port, client_tls(self.pki, ca=self.pki.ca), disconnects=reasons)
        await self.assertInitiatorKeepsFailing(initiator, client, server)
        self.assertTrue(reasons)
        for reason in reasons:
            self.assertIn("certificate verify failed", reason)

    async def test_initiator_refuses_certificate_for_another_host_name(self) -> None:
        port = free_port()
        server, client = RecordingApp(), RecordingApp()
        tls = server_tls(
            self.pki, level=0, cert=self.pki.other_name_server_cert, key=self.pki.other_name_server_key
        )
        await self.acceptor(server, port, tls)
        reasons: list[str] = []
        initiator = self.initiator(client, port, client_tls(self.pki, ca=self.pki.ca), disconnects=reasons)
        await self.assertInitiatorKeepsFailing(initiator, client, server)
        self.assertTrue(reasons)
        for reason in reasons:
            self.assertIn("VerificationError", reason)

    async def test_initiator_without_ca_file_does_not_verify(self) -> None:
        """QuickFIX's behaviour: no CertificationAuthoritiesFile, no server verification."""
        port = free_port()
        server, client = RecordingApp(), RecordingApp()
        tls = server_tls(self.pki, level=0, cert=self.pki.rogue_server_cert, key=self.pki.rogue_server_key)
        await self.acceptor(server, port, tls)
        self.initiator(client, port, client_tls(self.pki, cert=False))
        await client.wait_for("logon")


# --- 5. SSLProtocol and SSLCipherSuite -----------------------------------------------------------


class ProtocolAndCipherTests(TlsTestBase):
    async def test_tls13_only_acceptor_refuses_tls12_client(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port, server_tls(self.pki, level=0, extra="SSLProtocol=+TLSv1.3\n"))
        old = await run_client(port, self.pki.ca, send=logon_bytes(), max_version=ssl.TLSVersion.TLSv1_2)
        self.assertFalse(old.handshake, old)
        self.assertTrue(old.alerted("PROTOCOL_VERSION", "HANDSHAKE_FAILURE"), old)
        self.assertNoLogon(server)
        new = await run_client(port, self.pki.ca, send=logon_bytes())
        self.assertEqual(new.version, "TLSv1.3")
        self.assertEqual(FixMessage.parse(new.received).msg_type, "A")

    async def test_minus_tls13_leaves_tls12(self) -> None:
        port = free_port()
        await self.acceptor(
            RecordingApp(), port, server_tls(self.pki, level=0, extra="SSLProtocol=-TLSv1.3\n")
        )
        result = await run_client(port, self.pki.ca)
        self.assertEqual(result.version, "TLSv1.2", result)

    async def test_cipher_suite_is_applied(self) -> None:
        port, open_port = free_port(), free_port()
        tls12 = "SSLProtocol=+TLSv1.2\n"
        await self.acceptor(
            RecordingApp(),
            port,
            server_tls(self.pki, level=0, extra=tls12 + "SSLCipherSuite=ECDHE-ECDSA-AES128-GCM-SHA256\n"),
        )
        await self.acceptor(RecordingApp(), open_port, server_tls(self.pki, level=0, extra=tls12))
        v12 = ssl.TLSVersion.TLSv1_2
        disjoint = await run_client(
            port, self.pki.ca, max_version=v12, ciphers="ECDHE-ECDSA-AES256-GCM-SHA384"
        )
        self.assertFalse(disjoint.handshake, disjoint)
        self.assertTrue(disjoint.alerted("HANDSHAKE_FAILURE", "NO_SHARED_CIPHER"), disjoint)
        # control: the same client is served by an acceptor without SSLCipherSuite
        control = await run_client(
            open_port, self.pki.ca, max_version=v12, ciphers="ECDHE-ECDSA-AES256-GCM-SHA384"
        )
        self.assertEqual(control.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384", control)
        both = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"
        chosen = await run_client(port, self.pki.ca, max_version=v12, ciphers=both)
        self.assertEqual(chosen.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256", chosen)


def _settings(tls: str, connection: str = "acceptor"):
    if connection == "acceptor":
        text = acceptor_cfg(9999, Path("/tmp/unused-store"), tls)
    else:
        text = initiator_cfg(9999, Path("/tmp/unused-store"), tls)
    return parse_config(text, f"test-{connection}.cfg").sessions[0]


class ProtocolRangeTests(unittest.SynchronousTestCase):
    V10, V11, V12, V13 = TLSVersion.TLSv1_0, TLSVersion.TLSv1_1, TLSVersion.TLSv1_2, TLSVersion.TLSv1_3

    def range_of(self, text: str):
        return protocol_range(_settings(f"SSLProtocol={text}\n", "initiator"))

    def test_ranges(self) -> None:
        cases = {
            "+TLSv1.2 +TLSv1.3": (self.V12, self.V13),
            "+TLSv1.3": (self.V13, self.V13),
            "TLSv1.2": (self.V12, self.V12),
            "-TLSv1.3": (self.V12, self.V12),
            "+TLSv1.2 -TLSv1.3": (self.V12, self.V12),
            "all -SSLv2 -SSLv3 -TLSv1 -TLSv1_1": (self.V12, self.V13),
            "all -TLSv1.3": (self.V10, self.V12),
            "all,-TLSv1,-TLSv1.1": (self.V12, self.V13),
            "+TLSv1_2 +tlsv1_3": (self.V12, self.V13),
        }
        for text, expected in cases.items():
            self.assertEqual(self.range_of(text), expected, text)

    def test_default_is_tls12_to_tls13(self) -> None:
        self.assertEqual(protocol_range(_settings("", "initiator")), (self.V12, self.V13))

    def test_garbage_names_the_key_and_the_session(self) -> None:
        settings = _settings("SSLProtocol=TLSv9\n", "initiator")
        with self.assertRaises(TlsConfigError) as caught:
            protocol_range(settings)
        message = str(caught.exception)
        self.assertIn(settings.source, message)
        self.assertIn("SSLProtocol", message)
        self.assertIn("TLSv9", message)

    def test_nothing_left_or_holes_are_errors(self) -> None:
        for text in ("-TLSv1.2 -TLSv1.3", "+TLSv1 +TLSv1.3", "SSLv3"):
            with self.assertRaises(TlsConfigError, msg=text) as caught:
                self.range_of(text)
            self.assertIn("SSLProtocol", str(caught.exception))


# --- 6. configuration errors ---------------------------------------------------------------------


class ConfigErrorTests(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-tls-cfg-"))
        self.pki = make_pki(self.tmp / "pki")

    def error_of(self, call, settings) -> str:
        with self.assertRaises(TlsConfigError) as caught:
            call(settings)
        message = str(caught.exception)
        self.assertTrue(message.startswith(settings.source + ": "), message)
        return message

    def test_missing_server_certificate_names_source_key_and_file(self) -> None:
        missing = self.tmp / "nowhere" / "server.crt"
        settings = _settings(server_tls(self.pki, cert=missing))
        self.assertRegex(settings.source, r"^test-acceptor\.cfg:\d+$")
        message = self.error_of(server_context_factory, settings)
        self.assertIn("ServerCertificateFile", message)
        self.assertIn(str(missing), message)

    async def test_acceptor_service_fails_with_the_config_error(self) -> None:
        """Whether the service validates when built or when it listens, the TlsConfigError comes out."""
        missing = self.tmp / "nowhere" / "server.crt"
        cfg = acceptor_cfg(free_port(), self.tmp / "store", server_tls(self.pki, cert=missing))
        service = None
        with self.assertRaises(TlsConfigError) as caught:
            service = acceptor_from(cfg, RecordingApp())
            await service.listen()
        self.assertIn(str(missing), str(caught.exception))
        self.assertEqual(getattr(service, "ports", []), [])

    def test_missing_client_certificate_fails_when_the_initiator_is_built(self) -> None:
        missing = self.tmp / "nowhere" / "client.key"
        tls = f"SocketUseSSL=Y\nClientCertificateFile={self.pki.client_cert}\nClientCertificateKeyFile={missing}\n"
        with self.assertRaises(TlsConfigError) as caught:
            initiator_from(initiator_cfg(free_port(), self.tmp / "store", tls), RecordingApp())
        self.assertIn("ClientCertificateKeyFile", str(caught.exception))
        self.assertIn(str(missing), str(caught.exception))
        self.assertIn("test-initiator.cfg:", str(caught.exception))

    def test_client_key_without_client_certificate(self) -> None:
        settings = _settings(f"SocketUseSSL=Y\nClientCertificateKeyFile={self.pki.client_key}\n", "initiator")
        message = self.error_of(lambda s: client_context_factory(s, "localhost"), settings)
        self.assertIn("ClientCertificateFile", message)

    def test_missing_ca_file(self) -> None:
        missing = self.tmp / "nowhere" / "ca.crt"
        settings = _settings(client_tls(self.pki, ca=missing), "initiator")
        message = self.error_of(lambda s: client_context_factory(s, "127.0.0.1"), settings)
        self.assertIn("CertificationAuthoritiesFile", message)
        self.assertIn(str(missing), message)

    def test_verify_level_2_without_ca_file(self) -> None:
        tls = (
            f"SocketUseSSL=Y\nServerCertificateFile={self.pki.server_cert}\n"
            f"ServerCertificateKeyFile={self.pki.server_key}\nCertificateVerifyLevel=2\n"
        )
        message = self.error_of(server_context_factory, _settings(tls))
        self.assertIn("CertificateVerifyLevel=2", message)
        self.assertIn("CertificationAuthoritiesFile", message)

    def test_key_that_does_not_match_the_certificate(self) -> None:
        message = self.error_of(
            server_context_factory, _settings(server_tls(self.pki, key=self.pki.client_key))
        )
        self.assertIn("ServerCertificateKeyFile", message)
        self.assertIn(str(self.pki.client_key), message)
        self.assertIn("does not match", message)

    def test_certificate_file_without_key_and_no_key_file(self) -> None:
        tls = f"SocketUseSSL=Y\nServerCertificateFile={self.pki.server_cert}\n"
        message = self.error_of(server_context_factory, _settings(tls))
        self.assertIn("ServerCertificateFile", message)
        self.assertIn("private key", message)

    def test_key_inside_the_certificate_file(self) -> None:
        combined = self.tmp / "server.pem"
        combined.write_bytes(self.pki.server_cert.read_bytes() + self.pki.server_key.read_bytes())
        server_context_factory(_settings(f"SocketUseSSL=Y\nServerCertificateFile={combined}\n"))

    def test_encrypted_key_is_reported(self) -> None:
        key = serialization.load_pem_private_key(self.pki.server_key.read_bytes(), password=None)
        encrypted = self.tmp / "encrypted.key"
        encrypted.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"pw"),
            )
        )
        message = self.error_of(server_context_factory, _settings(server_tls(self.pki, key=encrypted)))
        self.assertIn("encrypted", message)
        self.assertIn(str(encrypted), message)

    def test_ca_file_without_certificate(self) -> None:
        empty = self.tmp / "empty.crt"
        empty.write_bytes(b"not a certificate\n")
        settings = _settings(client_tls(self.pki, ca=empty), "initiator")
        message = self.error_of(lambda s: client_context_factory(s, "localhost"), settings)
        self.assertIn("CertificationAuthoritiesFile", message)
        self.assertIn(str(empty), message)

    def test_cipher_suite_selecting_nothing(self) -> None:
        settings = _settings(server_tls(self.pki, extra="SSLCipherSuite=NO-SUCH-CIPHER\n"))
        message = self.error_of(server_context_factory, settings)
        self.assertIn("SSLCipherSuite", message)
        self.assertIn("NO-SUCH-CIPHER", message)

    def test_bad_ssl_protocol_through_the_factories(self) -> None:
        acceptor = _settings(server_tls(self.pki, extra="SSLProtocol=TLSv9\n"))
        self.assertIn("SSLProtocol", self.error_of(server_context_factory, acceptor))
        initiator = _settings(client_tls(self.pki, ca=self.pki.ca, extra="SSLProtocol=TLSv9\n"), "initiator")
        self.assertIn(
            "SSLProtocol", self.error_of(lambda s: client_context_factory(s, "localhost"), initiator)
        )

    def test_relative_certificate_paths_resolve_against_the_config_directory(self) -> None:
        tls = (
            "SocketUseSSL=Y\nServerCertificateFile=server.crt\nServerCertificateKeyFile=server.key\n"
            "CertificationAuthoritiesFile=ca.crt\nCertificateVerifyLevel=2\n"
        )
        text = acceptor_cfg(9999, Path("/tmp/unused-store"), tls)
        settings = parse_config(text, "test-acceptor.cfg", base_dir=self.pki.ca.parent).sessions[0]
        self.assertEqual(Path(settings.server_certificate_file), self.pki.server_cert)
        server_context_factory(settings)
