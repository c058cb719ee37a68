"""The initiator side: connect, log on, reconnect every ReconnectInterval, rotate failover hosts.

Each initiator session runs under its own Twisted ``ClientService`` (DESIGN.md example 6): the
service keeps one connection up, retrying every ``ReconnectInterval`` seconds; the endpoint it
connects through rotates over ``SocketConnectHost``/``SocketConnectHost<n>`` so that each attempt
tries the next failover host.  Outside the session schedule the service is stopped (after a
Logout), and started again when the next period begins.  LogonTimeout is enforced by the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from twisted.application import internet, service
from twisted.internet import defer, endpoints, task
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory
from twisted.python import log as twisted_log
from zope.interface import implementer

from ..session.settings import SessionSettings
from .host import DEFAULT_REGISTRY, SessionHost, SessionRegistry
from .protocol import FixFactoryBase, FixProtocol
from .shutdown import wait_until

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IReactorTime

    from .session_builder import SessionBuilder


@implementer(IStreamClientEndpoint)
class FailoverEndpoint:
    """Tries ``endpoints[i]``, then ``endpoints[i+1]`` on the next attempt, wrapping around."""

    def __init__(self, endpoints_: Sequence[object]) -> None:
        if not endpoints_:
            raise ValueError("an initiator needs at least one SocketConnectHost/SocketConnectPort")
        self.endpoints = list(endpoints_)
        self.attempt = 0

    def connect(self, protocol_factory: object) -> defer.Deferred[object]:
        endpoint = self.endpoints[self.attempt % len(self.endpoints)]
        self.attempt += 1
        return endpoint.connect(protocol_factory)  # type: ignore[attr-defined, no-any-return]


class FixInitiatorFactory(Factory, FixFactoryBase):
    """Builds the protocol for one initiator session's connection attempts."""

    def __init__(self, host: SessionHost, settings: SessionSettings, clock: IReactorTime) -> None:
        self.host = host
        self.clock = clock
        self.max_message_size = settings.max_message_size
        self.socket_nodelay = settings.socket_nodelay

    def now(self) -> float:
        return self.clock.seconds()

    def call_later(self, delay: float, function: Callable[[], object]) -> IDelayedCall:
        return self.clock.callLater(delay, function)

    def buildProtocol(self, addr: object) -> FixProtocol:
        return FixProtocol(self, self.host)


class InitiatorSession:
    """One configured initiator session: its host, its ClientService and its schedule."""

    def __init__(
        self,
        settings: SessionSettings,
        host: SessionHost,
        reactor: object,
        clock: IReactorTime,
        endpoint_factory: Callable[[SessionSettings, str, int], object],
    ) -> None:
        self.settings = settings
        self.host = host
        self.clock = clock
        self.factory = FixInitiatorFactory(host, settings, clock)
        self.endpoint = FailoverEndpoint(
            [endpoint_factory(settings, h, p) for h, p in settings.socket_connect_hosts]
        )
        interval = settings.reconnect_interval
        self.client = internet.ClientService(
            self.endpoint, self.factory, retryPolicy=lambda _attempts: interval, clock=clock
        )
        self.client.setName(str(settings.session_id))

    def in_schedule(self, now: float) -> bool:
        schedule = self.settings.schedule
        return schedule is None or schedule.is_in_session(now)

    def supervise(self, now: float) -> None:
        """Start inside the schedule; Logout and stop outside it."""
        if self.in_schedule(now):
            if not self.client.running:
                self.client.startService()
        elif self.client.running:
            if self.host.connected and self.host.session.is_logged_on:
                self.host.logout("End of session")
            else:
                self.client.stopService()


class InitiatorService(service.Service):
    """Runs every initiator session of a config and ticks their timers once a second."""

    def __init__(
        self,
        settings: Iterable[SessionSettings],
        builder: SessionBuilder,
        reactor: object,
        clock: IReactorTime | None = None,
        registry: SessionRegistry = DEFAULT_REGISTRY,
        endpoint_factory: Callable[[SessionSettings, str, int], object] | None = None,
    ) -> None:
        self.reactor = reactor
        self.clock = clock or reactor  # type: ignore[assignment]
        self.registry = registry
        make_endpoint = endpoint_factory or self._default_endpoint
        self.sessions: list[InitiatorSession] = []
        for s in settings:
            host = builder.build(s, s.session_id, self.clock.seconds)
            registry.add(host)
            self.sessions.append(InitiatorSession(s, host, reactor, self.clock, make_endpoint))
        self._ticker = task.LoopingCall(self.tick)
        self._ticker.clock = self.clock

    def _default_endpoint(self, settings: SessionSettings, host: str, port: int) -> object:
        tcp = endpoints.TCP4ClientEndpoint(self.reactor, host, port, timeout=30)
        if settings.socket_use_ssl:
            from .tls import client_context_factory

            return endpoints.wrapClientTLS(client_context_factory(settings, host), tcp)
        return tcp

    def startService(self) -> None:
        super().startService()
        now = self.clock.seconds()
        for session in self.sessions:
            session.supervise(now)
        self._ticker.start(1.0, now=False)

    def tick(self) -> None:
        now = self.clock.seconds()
        for session in self.sessions:
            try:
                session.supervise(now)
                session.host.tick(now)
            except Exception:
                twisted_log.err(None, f"fixgate: timer of {session.host.session_id} failed")

    def stopService(self) -> defer.Deferred[object]:
        """Graceful stop: Logout every logged-on session, wait for the answer, then disconnect."""
        super().stopService()
        if self._ticker.running:
            self._ticker.stop()
        logging_out = []
        for session in self.sessions:
            if session.host.connected and session.host.session.is_logged_on:
                session.host.logout("Shutting down")
                logging_out.append(session)
        timeout = max((s.settings.logout_timeout for s in logging_out), default=0.0)
        d: defer.Deferred[object] = wait_until(
            self.clock, lambda: not any(s.host.connected for s in logging_out), timeout
        )

        def stop_clients(_: object) -> defer.Deferred[object]:
            for s in self.sessions:
                if s.host.protocol is not None:
                    s.host.protocol.drop("shutting down")  # unregisters the producer so TLS can close
            stops = [s.client.stopService() for s in self.sessions if s.client.running]
            return defer.DeferredList(stops)

        d.addCallback(stop_clients)
        return d
