"""The acceptor side: listening ports, routing a new connection to its session by CompIDs.

* Many sessions share one port; the first message (the Logon) names the session by
  BeginString, SenderCompID and TargetCompID (plus sub/location IDs when configured).
* A ``[SESSION]`` whose TargetCompID is ``*`` is a template: any counterparty that logs on
  gets its own session (and store) created on the fly.
* ``AllowedRemoteAddresses`` restricts which peer addresses may carry a session (checked
  before a templated session is created for the peer).
* Only a Logon creates a templated session (as QuickFIX/J's dynamic sessions); one created for a
  connection that closes without the session having accepted a single message (refused Logon)
  is released again (registry, store and log), so a peer spraying CompIDs leaves nothing behind
  in memory and holds no file descriptors.
* Unknown sessions, garbled first frames and second connections for a session that is
  already connected are dropped without a reply (FIX session-level rules).
* A connection whose first message has not named its session within LogonTimeout (the longest
  of the port's sessions) is dropped: a silent or dribbling socket cannot stay forever.
* Input hold (inbound flow control, :meth:`FixAcceptorFactory.hold_input` /
  :meth:`AcceptorService.hold_input`): while in force, every connection that has named its session
  stops reading (:meth:`FixProtocol.hold_input`: each continuous hold lapses after
  ``max_input_hold`` seconds, so heartbeats still flow), and so does every connection that names
  its session while the hold is in force (right after its Logon is read).  A connection that has
  not sent its Logon yet keeps reading: a hold never makes a Logon time out, and a new connection
  brings at most one Logon's worth of work.  Boolean (not counted): the owner decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from twisted.application import service
from twisted.internet import endpoints, task
from twisted.internet.protocol import ServerFactory
from twisted.python import log as twisted_log

from ..codec.errors import ParseError
from ..codec.framing import Frame
from ..codec.message import FixMessage
from ..session.session_id import SessionID
from ..session.settings import SessionSettings
from .host import DEFAULT_REGISTRY, SessionHost, SessionRegistry
from .protocol import DEFAULT_MAX_INPUT_HOLD, FixFactoryBase, FixProtocol
from .shutdown import wait_until

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IReactorTime

    from .session_builder import SessionBuilder

_RouteKey = tuple[str, str, str]  # (BeginString, our CompID, their CompID)


class FixAcceptorFactory(ServerFactory, FixFactoryBase):
    """Builds a :class:`FixProtocol` per accepted connection and routes it to its session."""

    def __init__(
        self,
        settings: Iterable[SessionSettings],
        builder: SessionBuilder,
        clock: IReactorTime,
        registry: SessionRegistry = DEFAULT_REGISTRY,
    ) -> None:
        self.builder = builder
        self.clock = clock
        self.registry = registry
        self.settings = list(settings)
        self._by_key: dict[_RouteKey, list[tuple[SessionSettings, SessionHost]]] = defaultdict(list)
        self._templates: dict[tuple[str, str], SessionSettings] = {}
        self.connections: set[FixProtocol] = set()
        #: connections that have not named their session yet, with their LogonTimeout timer
        self._unbound: dict[FixProtocol, IDelayedCall] = {}
        #: templated sessions created for a connection and not yet used (see connection_closed)
        self._fresh: set[SessionHost] = set()
        #: how long a new connection may take to send its Logon (QuickFIX's LogonTimeout)
        self.logon_timeout = 10.0
        #: the input hold is in force (see :meth:`hold_input`)
        self.input_held = False
        if self.settings:
            self.max_message_size = max(s.max_message_size for s in self.settings)
            self.socket_nodelay = all(s.socket_nodelay for s in self.settings)
            self.logon_timeout = max(s.logon_timeout for s in self.settings)
        for s in self.settings:
            if s.is_templated:
                self._templates[(s.session_id.begin_string, s.session_id.sender_comp_id)] = s
            else:
                self._add_host(s, s.session_id)

    # ----- FixFactoryBase
    def now(self) -> float:
        return self.clock.seconds()

    def buildProtocol(self, addr: object) -> FixProtocol:
        return FixProtocol(self)

    def call_later(self, delay: float, function: Callable[[], object]) -> IDelayedCall:
        return self.clock.callLater(delay, function)

    def connection_opened(self, protocol: FixProtocol) -> None:
        self.connections.add(protocol)
        self._unbound[protocol] = self.clock.callLater(self.logon_timeout, self._logon_timed_out, protocol)

    def connection_bound(self, protocol: FixProtocol) -> None:
        self._cancel_logon_timer(protocol)
        if self.input_held:  # its Logon is read (and answered): held like the others from now on
            protocol.hold_input()

    # ----- input hold
    def hold_input(self) -> None:
        """Stop reading from every connection that named its session, and from every one that
        names it while the hold is in force, until :meth:`release_input` (each connection's hold
        lapses after ``max_input_hold`` seconds at a time: see :meth:`FixProtocol.hold_input`)."""
        if self.input_held:
            return
        self.input_held = True
        for protocol in list(self.connections):
            if protocol.host is not None:
                protocol.hold_input()

    def release_input(self) -> None:
        """End the hold: every connection reads again (unless its own write side is paused)."""
        if not self.input_held:
            return
        self.input_held = False
        for protocol in list(self.connections):
            protocol.release_input()

    def connection_closed(self, protocol: FixProtocol) -> None:
        self.connections.discard(protocol)
        self._cancel_logon_timer(protocol)
        host = protocol.host
        if host is not None and host in self._fresh and not host.connected:
            self._fresh.discard(host)
            if host.session.store.next_target_seq_num() == 1:  # nothing ever accepted from the peer
                self._release_host(host)

    def _cancel_logon_timer(self, protocol: FixProtocol) -> None:
        timer = self._unbound.pop(protocol, None)
        if timer is not None and timer.active():
            timer.cancel()

    def _logon_timed_out(self, protocol: FixProtocol) -> None:
        self._unbound.pop(protocol, None)
        if protocol.host is None:
            protocol.drop(f"no Logon within LogonTimeout ({self.logon_timeout:g}s)")

    def route(self, protocol: FixProtocol, frame: object) -> SessionHost | None:
        """The session named by a connection's first frame, or None (drop without reply)."""
        assert isinstance(frame, Frame)
        if frame.error is not None:
            self.event(f"Dropping {protocol.peer_host}: garbled first message ({frame.error.value})")
            return None
        try:
            msg = FixMessage.parse(frame.raw)
            begin = msg.get(8) or ""
            their = msg.get(49) or ""
            ours = msg.get(56) or ""
        except ParseError as exc:
            self.event(f"Dropping {protocol.peer_host}: malformed first message ({exc})")
            return None
        candidates = self._by_key.get((begin, ours, their), [])
        chosen: tuple[SessionSettings, SessionHost] | None = None
        for settings, host in candidates:
            if _sub_ids_match(settings.session_id, msg):
                chosen = (settings, host)
                break
        if chosen is None:
            template = self._templates.get((begin, ours))
            if template is None or not their:
                self.event(f"Dropping {protocol.peer_host}: unknown session {begin}:{ours}->{their}")
                return None
            if template.allowed_remote_addresses and protocol.peer_host not in template.allowed_remote_addresses:
                self.event(f"Dropping {protocol.peer_host}: not in AllowedRemoteAddresses of {begin}:{ours}->*")
                return None
            if msg.get_raw(35) != b"A":
                self.event(f"Dropping {protocol.peer_host}: first message for new session {begin}:{ours}->{their} is not a Logon")
                return None
            session_id = template.session_id.for_counterparty(their)
            chosen = self._add_host(template, session_id)
            self._fresh.add(chosen[1])
        settings, host = chosen
        if settings.allowed_remote_addresses and protocol.peer_host not in settings.allowed_remote_addresses:
            self.event(f"Dropping {protocol.peer_host}: not in AllowedRemoteAddresses of {host.session_id}")
            return None
        return host

    # ----- sessions
    def _add_host(self, settings: SessionSettings, session_id: SessionID) -> tuple[SessionSettings, SessionHost]:
        host = self.builder.build(settings, session_id, self.now)
        self.registry.add(host)
        pair = (settings, host)
        self._by_key[(session_id.begin_string, session_id.sender_comp_id, session_id.target_comp_id)].append(pair)
        return pair

    def _release_host(self, host: SessionHost) -> None:
        """Forget a templated session that was never used: its routing entry, registry entry,
        store and log (the store's files stay; the next Logon for it opens them again)."""
        session_id = host.session_id
        key = (session_id.begin_string, session_id.sender_comp_id, session_id.target_comp_id)
        pairs = [pair for pair in self._by_key.get(key, []) if pair[1] is not host]
        if pairs:
            self._by_key[key] = pairs
        else:
            self._by_key.pop(key, None)
        if self.registry.get(session_id) is host:
            self.registry.remove(session_id)
        try:
            host.session.store.close()
            if host.log is not None:
                host.log.close()
        except Exception:
            twisted_log.err(None, f"fixgate: closing the store or log of {session_id} failed")
        try:
            self.builder.application.on_destroy(session_id)
        except Exception:
            twisted_log.err(None, f"fixgate: on_destroy of {session_id} failed")
        self.event(f"Released {session_id}: created for a connection that never logged on")

    @property
    def hosts(self) -> list[SessionHost]:
        return [host for pairs in self._by_key.values() for _, host in pairs]

    def tick(self) -> None:
        """Once a second: heartbeats, test requests, timeouts, schedules of every session."""
        now = self.now()
        for host in self.hosts:
            try:
                host.tick(now)
            except Exception:
                twisted_log.err(None, f"fixgate: timer of {host.session_id} failed")

    def logout_all(self, text: str = "") -> None:
        for host in self.hosts:
            if host.connected:
                host.logout(text)


def _sub_ids_match(session_id: SessionID, msg: FixMessage) -> bool:
    """Configured sub/location IDs must match the Logon's (ours are its Target*, theirs Sender*)."""
    pairs = (
        (session_id.sender_sub_id, 57),
        (session_id.sender_location_id, 143),
        (session_id.target_sub_id, 50),
        (session_id.target_location_id, 142),
    )
    return all(not configured or msg.get(tag) == configured for configured, tag in pairs)


class AcceptorService(service.MultiService):
    """Listens on every configured (address, port) and ticks the sessions' timers.

    ``endpoint_factory(settings) -> IStreamServerEndpoint`` lets TLS and tests choose the
    endpoint; by default a TCP endpoint on SocketAcceptAddress:SocketAcceptPort (TLS when
    ``SocketUseSSL=Y``).
    """

    def __init__(
        self,
        settings: Iterable[SessionSettings],
        builder: SessionBuilder,
        reactor: object,
        clock: IReactorTime | None = None,
        registry: SessionRegistry = DEFAULT_REGISTRY,
        endpoint_factory: Callable[[SessionSettings], object] | None = None,
    ) -> None:
        super().__init__()
        self.reactor = reactor
        self.clock = clock or reactor  # type: ignore[assignment]
        self.registry = registry
        self.factories: list[FixAcceptorFactory] = []
        self.ports: list[object] = []
        self._endpoint_factory = endpoint_factory or self._default_endpoint
        groups: dict[tuple[str, int, bool], list[SessionSettings]] = defaultdict(list)
        for s in settings:
            if s.socket_accept_port is None:
                raise ValueError(f"{s.source or s.session_id}: acceptor session has no SocketAcceptPort")
            groups[(s.socket_accept_address, s.socket_accept_port, s.socket_use_ssl)].append(s)
        self._groups = list(groups.values())
        for group in self._groups:
            _check_same_tls(group)
        for group in self._groups:
            self.factories.append(FixAcceptorFactory(group, builder, self.clock, registry))
        self._ticker = task.LoopingCall(self.tick)
        self._ticker.clock = self.clock

    def _default_endpoint(self, settings: SessionSettings) -> object:
        port = settings.socket_accept_port or 0
        interface = settings.socket_accept_address or ""
        if settings.socket_use_ssl:
            from .tls import server_context_factory

            return endpoints.SSL4ServerEndpoint(
                self.reactor, port, server_context_factory(settings), interface=interface, backlog=511
            )
        return endpoints.TCP4ServerEndpoint(self.reactor, port, interface=interface, backlog=511)

    def startService(self) -> None:
        super().startService()
        self._ticker.start(1.0, now=False)

    async def listen(self) -> list[object]:
        """Start listening on every port (use from tests that need the bound port numbers)."""
        for group, factory in zip(self._groups, self.factories, strict=True):
            endpoint = self._endpoint_factory(group[0])
            port = await endpoint.listen(factory)  # type: ignore[attr-defined]
            self.ports.append(port)
        return self.ports

    def privilegedStartService(self) -> None:
        super().privilegedStartService()
        from twisted.internet import defer

        self.listening = defer.ensureDeferred(self.listen())
        self.listening.addErrback(self._listen_failed)

    def _listen_failed(self, failure: object) -> None:
        twisted_log.err(failure, "fixgate: could not listen")
        if getattr(self.reactor, "running", False):
            self.reactor.stop()  # type: ignore[attr-defined]

    def stopService(self) -> object:
        """Graceful stop: Logout every session, wait LogoutTimeout for the answers, then close."""
        from twisted.internet import defer

        if self._ticker.running:
            self._ticker.stop()
        for factory in self.factories:
            factory.logout_all("Server shutting down")
        stop_listening = [defer.maybeDeferred(p.stopListening) for p in self.ports]  # type: ignore[attr-defined]
        self.ports = []
        timeout = max((s.logout_timeout for g in self._groups for s in g), default=2.0)
        connections = [proto for factory in self.factories for proto in factory.connections]

        def all_closed() -> bool:
            return not any(p.transport is not None and p.transport.connected for p in connections)

        def force(closed: bool) -> None:
            if not closed:
                for proto in connections:
                    if proto.transport is not None and proto.transport.connected:
                        proto.transport.abortConnection()

        closing = wait_until(self.clock, all_closed, timeout).addCallback(force)
        done = defer.DeferredList([*stop_listening, closing])

        def _flush(result: object) -> object:
            for host in self.registry:
                store = getattr(host.session, "store", None)
                if store is not None:
                    store.flush()
            return result

        done.addBoth(_flush)
        super().stopService()
        return done

    def tick(self) -> None:
        for factory in self.factories:
            factory.tick()

    # ----- input hold (inbound flow control)
    def hold_input(self) -> None:
        """Stop reading client input on every port (see :meth:`FixAcceptorFactory.hold_input`)."""
        for factory in self.factories:
            factory.hold_input()

    def release_input(self) -> None:
        """Read client input again on every port."""
        for factory in self.factories:
            factory.release_input()

    @property
    def input_held(self) -> bool:
        return any(factory.input_held for factory in self.factories)

    @property
    def max_input_hold(self) -> float:
        """Seconds one continuous hold of a connection may last (each session: at most HeartBtInt/4)."""
        return min((factory.max_input_hold for factory in self.factories), default=DEFAULT_MAX_INPUT_HOLD)

    @max_input_hold.setter
    def max_input_hold(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"max_input_hold must be positive, not {seconds!r}")
        for factory in self.factories:
            factory.max_input_hold = seconds

    @property
    def bound_ports(self) -> list[int]:
        return [p.getHost().port for p in self.ports]  # type: ignore[attr-defined]



_TLS_KEYS = (
    ("ServerCertificateFile", "server_certificate_file"),
    ("ServerCertificateKeyFile", "server_certificate_key_file"),
    ("CertificationAuthoritiesFile", "certification_authorities_file"),
    ("CertificateVerifyLevel", "certificate_verify_level"),
    ("SSLProtocol", "ssl_protocol"),
    ("SSLCipherSuite", "ssl_cipher_suite"),
)


def _check_same_tls(group: list[SessionSettings]) -> None:
    """Sessions sharing a TLS port share one TLS context: their TLS keys must agree."""
    first = group[0]
    if not first.socket_use_ssl:
        return
    for other in group[1:]:
        for key, attribute in _TLS_KEYS:
            if getattr(other, attribute) != getattr(first, attribute):
                raise ValueError(
                    f"{other.source or other.session_id}: {key} differs from {first.source or first.session_id} "
                    f"although both accept on port {first.socket_accept_port}"
                )
