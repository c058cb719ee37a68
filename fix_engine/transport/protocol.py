"""FixProtocol: one TCP/TLS connection carrying one FIX session (Twisted Protocol).

The protocol is thin (DESIGN.md, example 1): it feeds bytes to a :class:`FrameParser`, hands
each frame to the pure :class:`~fix_engine.session.session.Session` through its
:class:`~fix_engine.transport.host.SessionHost`, and performs the actions that come back
(write bytes, drop the connection).  An acceptor-side connection is bound to its session only
when the first frame (the Logon) names it.

Output of one read is written once: while ``dataReceived`` hands its frames to the session,
everything the session (and the application, through ``send_to_target``) sends is collected
and goes to the transport as one ``write`` at the end (or before the connection is dropped).
The session's message store is a deferred-write window for the same span
(:meth:`MessageStore.defer_writes`): its writes are persisted in one go *before* the collected
output is written, so every message is still stored before it is sent.  If the store cannot
persist them, nothing collected is sent and the connection is aborted.

Back-pressure: the protocol registers itself as a streaming producer on its transport.  When
the peer reads slower than we write, Twisted pauses us; we stop reading from that peer (so it
cannot make us produce more) and, if its unsent output passes the session's MaxPendingOutput
bytes (``SessionSettings.max_pending_output``, 64 MiB by default; a factory's
``max_pending_output``, when set, overrides it for all its connections), we abort it.  Other
sessions on the same reactor are never blocked.

Input hold (inbound flow control, :meth:`FixProtocol.hold_input` / :meth:`FixProtocol.release_input`):
the owner of the connection (the acceptor factory, for the gateway: when the registry backlog is
too deep) may ask us to stop reading from the peer, so that TCP pushes back on a fast sender the
way a synchronous engine (QuickFIX) does.  The hold is a boolean (not reference-counted: one owner
decides, repeated calls are no-ops) and is independent of the write-side pause above: reading is
paused while EITHER applies, and ending one does not resume reading while the other still applies.
Frames already read when the hold starts are processed normally; only further socket reads stop.

* Heartbeat safety: one continuous hold lasts at most :attr:`FixProtocol.max_input_hold` seconds
  (the factory's ``max_input_hold``, 1 s by default, and never more than a quarter of the session's
  HeartBtInt).  Then the hold *lapses*: the connection reads again until one read has delivered at
  least one complete message (what the peer sent meanwhile: its heartbeats, test requests, orders),
  and is held again for another period if the hold is still asked for.  So a held peer is never
  silent for us (nor our TestRequests unanswered) for longer than a fraction of HeartBtInt, and
  gets at least one read per period: the hold throttles, it never starves.  Timers run on the
  factory's clock (``call_later``); a factory without a clock cannot hold (the request is ignored).
* TLS: the TLS layer must read to make progress writing (handshake, alerts, renegotiation), so the
  write-side pause never stops its reads.  An input hold pauses the underlying TCP transport's
  reads, but only once the handshake is done (we are told through ``IHandshakeListener``; a TLS
  connection that never tells us keeps reading while held).  A TLS 1.2 renegotiation that the peer
  starts during a hold waits at most until the hold lapses.

Hostile peers: a frame announcing more than MaxMessageSize drops the connection (the framer
never buffers more than one frame's worth); bytes that arrive after we decided to close are
not read; a connection we close gracefully but whose peer does not read what is left to flush
is aborted after ``close_timeout`` seconds (else a non-reading peer would keep the socket
forever); an exception while routing or handling a frame drops that connection only (logged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from twisted.internet import interfaces
from twisted.internet.protocol import Protocol
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.python import log as twisted_log
from zope.interface import implementer

from ..codec.framing import Frame, FrameError, FrameParser
from ..session.actions import Action, Disconnect, Event, Send
from ..session.settings import DEFAULT_MAX_PENDING_OUTPUT

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall
    from twisted.python.failure import Failure

    from ..log.base import Log
    from ..store.base import MessageStore
    from .host import SessionHost

#: Seconds a gracefully closed connection may take to flush its output before it is aborted.
DEFAULT_CLOSE_TIMEOUT = 10.0
#: Seconds one continuous input hold may last by default (also capped at HeartBtInt / 4).
DEFAULT_MAX_INPUT_HOLD = 1.0

_TOO_LARGE = FrameError.TOO_LARGE


@implementer(interfaces.IPushProducer, interfaces.IHandshakeListener)
class FixProtocol(Protocol):
    """A connection speaking FIX; bound to at most one :class:`SessionHost`."""

    def __init__(self, factory: FixFactoryBase, host: SessionHost | None = None) -> None:
        self.factory = factory
        self.host: SessionHost | None = host
        self.parser = FrameParser(max_message_size=factory.max_message_size)
        self.peer_host = ""
        self._paused = False
        self._pending_while_paused = 0
        self._closing = False
        #: output collected while ``dataReceived`` runs (None: write at once)
        self._batch: list[bytes] | None = None
        #: the session store whose deferred-write window is open during this read
        self._deferring: MessageStore | None = None
        #: the session log whose write window is open during this read
        self._deferring_log: Log | None = None
        #: aborts a gracefully closed connection whose output does not flush in time
        self._close_timer: IDelayedCall | None = None
        #: input hold (see the module docstring): asked for; lapsed (reading until one frame arrived)
        self._input_held = False
        self._hold_lapsed = False
        #: ends one continuous hold after ``max_input_hold`` seconds
        self._hold_timer: IDelayedCall | None = None
        #: we told the transport (for TLS: the TCP transport under it) to stop reading
        self._reading_paused = False
        #: TLS only: the handshake is done (we may pause the TCP transport's reads)
        self._tls_ready = False

    # ----- Twisted callbacks
    def connectionMade(self) -> None:
        peer = self.transport.getPeer()
        self.peer_host = getattr(peer, "host", "")
        self.transport.registerProducer(self, True)
        self._set_nodelay()
        if self.host is not None:
            if not self.host.attach(self):
                self.drop("session already connected")
                return
            self.perform(self.host.session.on_connect(self.factory.now()))
        else:
            self.factory.connection_opened(self)

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return  # we are closing this connection: nothing more is read (or buffered)
        try:
            frames = self.parser.feed(data)
        except Exception:  # pragma: no cover - the parser never raises; belt and braces
            twisted_log.err(None, "fixgate: framing failed")
            self.drop("framing error")
            return
        if not frames:
            return
        if self._hold_lapsed:  # the peer was heard while a lapsed hold read: held again
            self._rehold()
        outer = self._batch
        batch = self._batch = [] if outer is None else outer
        try:
            self._frames_received(frames)
        finally:
            if outer is None:
                self._batch = None
                if self._commit_store() and batch:
                    self._write_now(batch[0] if len(batch) == 1 else b"".join(batch))
                    self._send_now()

    def _frames_received(self, frames: list[Frame]) -> None:
        now = self.factory.now
        flush_every = self.factory.flush_every_frames if len(frames) > self.factory.flush_every_frames else 0
        countdown = flush_every
        for frame in frames:
            if self._closing:
                return
            host = self.host
            if host is None:
                try:
                    host = self.factory.route(self, frame)
                except Exception:
                    twisted_log.err(None, f"fixgate: routing the first message from {self.peer_host} failed")
                    self.drop("internal error")
                    return
                if host is None:
                    self.drop("no session for first message")
                    return
                if not host.attach(self):
                    self.drop(f"{host.session_id} is already logged on from another connection")
                    return
                self.host = host
                self.factory.connection_bound(self)
            elif frame.error is _TOO_LARGE:
                self.drop(f"message larger than MaxMessageSize ({self.parser.max_message_size} bytes)")
                return
            if self._deferring is None and self._batch is not None:
                self._open_windows(host)
            try:
                actions = host.session.on_frame(frame, now())
            except Exception:
                twisted_log.err(None, f"fixgate: session {host.session_id} failed on a frame")
                self.drop("internal error")
                return
            self.perform(actions)
            if flush_every:
                countdown -= 1
                if not countdown:
                    countdown = flush_every
                    self._flush_early()

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._closing = True
        self._cancel_hold_timer()
        timer = self._close_timer
        if timer is not None:
            self._close_timer = None
            if timer.active():
                timer.cancel()
        host = self.host
        if host is not None and host.protocol is self:
            host.detach(self)
            if reason is not None:
                host.event(f"Disconnected: {reason.getErrorMessage()}")
            try:
                self.perform(host.session.on_disconnect(self.factory.now()), connected=False)
            except Exception:
                twisted_log.err(None, f"fixgate: session {host.session_id} failed on disconnect")
        self.factory.connection_closed(self)

    # ----- actions from the pure session
    def perform(self, actions: list[Action], connected: bool = True) -> None:
        for action in actions:
            kind = type(action)  # the action classes are final: no isinstance chain per message
            if kind is Send:
                if connected and not self._closing:
                    self.write(action.data)  # type: ignore[union-attr]
            elif kind is Event:
                if self.host is not None:
                    self.host.event(action.text)  # type: ignore[union-attr]
            elif kind is Disconnect:
                if connected:
                    self.drop(action.reason)  # type: ignore[union-attr]
            elif isinstance(action, Send):  # subclasses (none in fixgate itself)
                if connected and not self._closing:
                    self.write(action.data)
            elif isinstance(action, Disconnect):
                if connected:
                    self.drop(action.reason)
            elif isinstance(action, Event) and self.host is not None:
                self.host.event(action.text)

    def _flush_early(self) -> None:
        """In the middle of a long read: hand what is collected to the kernel now, so that the
        peer works on it while we process the rest (instead of both sides taking turns)."""
        batch = self._batch
        if not batch or self._closing or not self._commit_store():
            return
        data = batch[0] if len(batch) == 1 else b"".join(batch)
        batch.clear()
        self._write_now(data)
        self._send_now()

    def _send_now(self) -> None:
        """Hand what the transport buffered to the kernel now instead of on the reactor's next
        turn (one event-loop round trip less per read: lower latency, fewer wake-ups)."""
        if not self._paused and not self._closing:
            do_write = getattr(self.transport, "doWrite", None)  # a socket transport's flush
            if do_write is not None:
                do_write()  # an error leaves the writer registered: the reactor sees it next

    @contextmanager
    def output_batch(self) -> Iterator[None]:
        """Collect what is sent inside the ``with`` block and write it as one group: the
        store and log windows close first, then one socket write (the same as for the answers
        of one read).  Inside ``dataReceived`` it adds nothing: that read's group is used."""
        if self._batch is not None or self.host is None or self._closing:
            yield
            return
        batch = self._batch = []
        self._open_windows(self.host)
        try:
            yield
        finally:
            self._batch = None
            if self._commit_store() and batch:
                self._write_now(batch[0] if len(batch) == 1 else b"".join(batch))

    def _open_windows(self, host: SessionHost) -> None:
        """Open the deferred-write windows of the session's store and log for this read."""
        store = self._deferring = host.session.store
        store.defer_writes()
        log = host.log
        if log is not None:
            self._deferring_log = log
            log.defer_writes()

    def _write_store(self) -> bool:
        """Close the store's and the log's write windows; False (logged) when the store could
        not persist (a log that cannot write is reported and otherwise ignored)."""
        log = self._deferring_log
        if log is not None:
            self._deferring_log = None
            try:
                log.write_deferred()
            except Exception:
                twisted_log.err(None, "fixgate: the session log could not write")
        store = self._deferring
        if store is None:
            return True
        self._deferring = None
        try:
            store.write_deferred()
        except Exception:
            twisted_log.err(None, "fixgate: the message store could not persist; output withheld")
            return False
        return True

    def _commit_store(self) -> bool:
        """:meth:`_write_store`, aborting the connection when the store failed."""
        if self._write_store():
            return True
        batch = self._batch
        if batch:
            batch.clear()
        self.drop("message store failure", abort=True)
        return False

    def write(self, data: bytes) -> None:
        batch = self._batch
        if batch is not None:
            batch.append(data)
            return
        self._write_now(data)

    def _write_now(self, data: bytes) -> None:
        if self._paused:
            self._pending_while_paused += len(data)
            if self._pending_while_paused > self.max_pending_output:
                # loseConnection would wait to flush what this reader never reads: abort
                self.drop("slow consumer: unsent output over the limit", abort=True)
                return
        self.transport.write(data)

    def drop(self, reason: str, abort: bool = False) -> None:
        """Close the connection (after flushing what was written, unless ``abort``)."""
        if self._closing:
            return
        self._closing = True
        if not abort:
            self.transport.unregisterProducer()  # TLS does not close while a producer is registered
        batch = self._batch
        stored = self._write_store()
        if batch:  # what the session sent before deciding to disconnect (a Logout) goes first
            if not abort and stored:
                self.transport.write(b"".join(batch))
            batch.clear()
        if self.host is not None:
            self.host.event(f"Disconnecting: {reason}")
        else:
            self.factory.event(f"Disconnecting {self.peer_host}: {reason}")
        if abort:
            self.transport.abortConnection()
        else:
            self.transport.loseConnection()
            self._close_timer = self.factory.call_later(self.factory.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        """The peer did not read what was left to flush within ``close_timeout``: abort."""
        self._close_timer = None
        if self.host is not None and self.host.protocol is self:
            self.host.event(f"Output not flushed within {self.factory.close_timeout:g}s of closing: aborting")
        else:
            self.factory.event(f"Aborting {self.peer_host}: output not flushed within {self.factory.close_timeout:g}s")
        self.transport.abortConnection()

    @property
    def max_pending_output(self) -> int:
        """Unsent bytes this connection's peer may accumulate while not reading: the factory's
        override if set, else the bound session's MaxPendingOutput (the default before binding)."""
        override = self.factory.max_pending_output
        if override is not None:
            return override
        host = self.host
        if host is None:
            return DEFAULT_MAX_PENDING_OUTPUT
        return host.session.settings.max_pending_output

    @property
    def closing(self) -> bool:
        """True once the connection is being closed (no more output is written)."""
        return self._closing

    @property
    def paused(self) -> bool:
        """True while the transport holds our output back (the peer reads slower than we write)."""
        return self._paused

    def timer_tick(self, now: float) -> None:
        if self.host is not None and not self._closing:
            self.perform(self.host.session.on_timer(now))

    # ----- IPushProducer (our transport tells us to stop producing output)
    def pauseProducing(self) -> None:
        self._paused = True
        # stop reading the peer's requests meanwhile (plain TCP; TLS must keep reading to make
        # progress writing -- handshake, alerts: there MaxPendingOutput alone bounds a slow consumer)
        self._sync_reading()

    def resumeProducing(self) -> None:
        self._paused = False
        self._pending_while_paused = 0
        self._sync_reading()  # reads again unless input is held

    def stopProducing(self) -> None:
        self._closing = True

    # ----- IHandshakeListener (TLS)
    def handshakeCompleted(self) -> None:
        """The TLS handshake is done: from now on an input hold may pause the TCP reads."""
        self._tls_ready = True
        self._sync_reading()

    # ----- input hold (inbound flow control; see the module docstring)
    def hold_input(self) -> None:
        """Stop reading from the peer (frames already read are still processed) until
        :meth:`release_input`; each continuous hold lapses after :attr:`max_input_hold` seconds.
        Idempotent (a boolean, not a count)."""
        if self._input_held or self._closing:
            return
        self._input_held = True
        self._hold_lapsed = False
        self._arm_hold_timer()
        self._sync_reading()

    def release_input(self) -> None:
        """End the hold: read again (unless the write side is paused).  Idempotent."""
        if not self._input_held:
            return
        self._input_held = False
        self._hold_lapsed = False
        self._cancel_hold_timer()
        self._sync_reading()

    @property
    def input_held(self) -> bool:
        """True while a hold is asked for (including while it has lapsed and reads)."""
        return self._input_held

    @property
    def reading_paused(self) -> bool:
        """True while we keep the socket from being read (write-side pause or input hold)."""
        return self._reading_paused

    @property
    def max_input_hold(self) -> float:
        """Seconds one continuous hold may last: the factory's ``max_input_hold``, at most a
        quarter of the session's (negotiated) HeartBtInt."""
        cap = self.factory.max_input_hold
        host = self.host
        if host is not None:
            heart_bt_int = getattr(host.session, "heart_bt_int", 0) or 0
            if heart_bt_int > 0:
                cap = min(cap, heart_bt_int / 4)
        return cap

    def _arm_hold_timer(self) -> None:
        self._cancel_hold_timer()
        self._hold_timer = self.factory.call_later(self.max_input_hold, self._hold_timed_out)
        if self._hold_timer is None:  # no clock: a hold could never end by itself, so none starts
            self._hold_lapsed = True

    def _cancel_hold_timer(self) -> None:
        timer = self._hold_timer
        if timer is not None:
            self._hold_timer = None
            if timer.active():
                timer.cancel()

    def _hold_timed_out(self) -> None:
        """The hold cap: read again until one read delivered a message (then :meth:`_rehold`)."""
        self._hold_timer = None
        if not self._input_held or self._closing:
            return
        self._hold_lapsed = True
        self._sync_reading()

    def _rehold(self) -> None:
        """A lapsed hold heard from its peer: hold again for another period (still asked for)."""
        self._hold_lapsed = False
        self._arm_hold_timer()
        self._sync_reading()

    def _sync_reading(self) -> None:
        """Make the socket's reading match what is asked: paused while the write side is paused
        (plain TCP only) or input is held (not lapsed; TLS: once the handshake is done)."""
        transport = self.transport
        if transport is None or self._closing:
            return
        held = self._input_held and not self._hold_lapsed
        if isinstance(transport, TLSMemoryBIOProtocol):
            pause = held and self._tls_ready
            target = transport.transport  # the TCP transport under the TLS layer
        else:
            pause = held or self._paused
            target = transport
        if pause == self._reading_paused or target is None:
            return
        self._reading_paused = pause
        if pause:
            target.pauseProducing()
        else:
            target.resumeProducing()

    def _set_nodelay(self) -> None:
        if self.factory.socket_nodelay:
            try:
                self.transport.setTcpNoDelay(True)
            except (AttributeError, OSError):
                pass


class FixFactoryBase:
    """What a :class:`FixProtocol` needs from its factory (acceptor and initiator factories)."""

    max_message_size: int = 1 << 20
    #: unsent-output cap for every connection of this factory; None: each session's
    #: MaxPendingOutput (``SessionSettings.max_pending_output``)
    max_pending_output: int | None = None
    #: seconds a gracefully closed connection may take to flush before it is aborted
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT
    #: in a read of more frames than this, the output so far is flushed every this many frames
    flush_every_frames: int = 10
    #: seconds one continuous input hold of a connection may last (at most HeartBtInt/4 per
    #: session; see :meth:`FixProtocol.hold_input`)
    max_input_hold: float = DEFAULT_MAX_INPUT_HOLD
    socket_nodelay: bool = True

    def now(self) -> float:
        raise NotImplementedError

    def route(self, protocol: FixProtocol, frame: object) -> SessionHost | None:
        return None

    def call_later(self, delay: float, function: Callable[[], object]) -> IDelayedCall | None:
        """Schedule ``function`` on the factory's clock (None: this factory has no clock)."""
        return None

    def connection_opened(self, protocol: FixProtocol) -> None:
        pass

    def connection_bound(self, protocol: FixProtocol) -> None:
        """An acceptor-side connection's first message named its session."""

    def connection_closed(self, protocol: FixProtocol) -> None:
        pass

    def event(self, text: str) -> None:
        twisted_log.msg(text)
