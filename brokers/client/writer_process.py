"""ProcessRunner: the registry writer's batches in a child Python process, driven from the reactor.

The child is ``python -m brokers.client.writer_child`` (see that module for the program and the
wire format): it opens the registry itself and appends the client-order journal, so the SQL work
and the fsync run on another core instead of competing with the reactor for this process's GIL.
The reactor side is a ``ProcessProtocol`` (:class:`WriterChildProtocol`) on the child's stdin,
stdout and stderr -- no extra thread: a batch is pickled and written to the child's stdin, its
reply read from its stdout when it comes, and the Deferred ``run`` returned fires from there, on
the reactor.  One batch is in flight at a time (the writer guarantees it; the runner checks it).

**Lifecycle.**  ``start`` spawns the child (the registry password, if any, goes in the
environment, never on the command line).  The child says ``ready`` once its registry is open;
batches written before that wait in the pipe.  ``stop`` closes the child's stdin: it exits 0 after
the batch it is running (the writer drains first, so there is none) -- and is killed if it has not
exited ``stop_timeout`` seconds later.  ``close`` does the same without waiting.

**Loss.**  If the child exits (or is killed) while it was expected to live, or writes something
that is not a well-formed reply to the batch in flight, the runner is *lost*: a batch in flight
fails with :class:`~brokers.client.writer.RunnerLost` (its outcome is unknown: it may have
committed before the child died), else ``on_lost`` is called; a child that answered garbage is
killed.  The reason names the child's pid, how it ended, the error it reported at start (a bad
URL, an unreachable server) and the last lines it wrote to stderr.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from twisted.internet import defer, error, protocol
from twisted.python import log as twisted_log

from brokers.registry.database import is_memory_database, without_password

from .writer import Outcome, RunnerLost
from .writer_child import HEADER, MAX_FRAME, PASSWORD_ENV, Work, decode_error, encode_work, frame

__all__ = ["ProcessRunner", "WriterChildProtocol"]

CHILD_MODULE = "brokers.client.writer_child"
STDERR_TAIL = 20


class WriterChildProtocol(protocol.ProcessProtocol):
    """One writer child process: splits its stdout into frames and its stderr into lines for the runner."""

    def __init__(self, runner: ProcessRunner) -> None:
        self.runner = runner
        self._out = bytearray()
        self._err = bytearray()

    def outReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's API
        buffer = self._out
        buffer += data
        while len(buffer) >= HEADER.size and not self.runner.lost:
            (size,) = HEADER.unpack_from(buffer)
            if size > MAX_FRAME:
                self.runner.garbage(f"a frame of {size} bytes")
                return
            end = HEADER.size + size
            if len(buffer) < end:
                return
            body = bytes(buffer[HEADER.size:end])
            del buffer[:end]
            try:
                message = pickle.loads(body)  # noqa: S301 - our child's bytes
            except Exception as exc:  # noqa: BLE001 - anything unreadable is garbage
                self.runner.garbage(f"an unreadable frame ({exc!r})")
                return
            self.runner.received(message)

    def errReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's API
        self._err += data
        while b"\n" in self._err:
            line, _, rest = bytes(self._err).partition(b"\n")
            self._err[:] = rest
            self.runner.stderr_line(line.decode(errors="replace"))

    def processEnded(self, reason: Any) -> None:  # noqa: N802 - Twisted's API
        if self._err:
            self.runner.stderr_line(bytes(self._err).decode(errors="replace"))
            self._err.clear()
        self.runner.ended(reason)


class ProcessRunner:
    """A :class:`~brokers.client.writer.BatchRunner` running each batch in a child Python process
    (``python -m brokers.client.writer_child``) that owns a registry engine and the client-order journal."""

    def __init__(self, reactor: Any, registry_url: str, *, journal: str | os.PathLike[str] | None = None,
                 python: str = sys.executable, stop_timeout: float = 30.0,
                 echo: Callable[[str], None] | None = None, command: Sequence[str] | None = None,
                 gc_freeze: bool = True) -> None:
        if is_memory_database(registry_url):
            raise ValueError(f"an in-memory SQLite registry ({registry_url}) cannot be shared with a writer process")
        self.reactor = reactor
        self.registry_url = registry_url
        self.journal = str(Path(journal).resolve()) if journal is not None else None
        self.python = python
        #: the child's arguments after the interpreter (default ``-m brokers.client.writer_child``;
        #: tests put a stand-in child here); the registry, journal and parent arguments follow
        self.command = list(command) if command is not None else ["-m", CHILD_MODULE]
        self.stop_timeout = stop_timeout
        self.gc_freeze = gc_freeze  #: the child freezes its startup objects out of the cyclic GC (``GCFreeze``)
        self.echo: Callable[[str], None] = echo or (lambda text: twisted_log.msg(text))
        self.on_lost: Callable[[str], None] | None = None
        self.transport: Any = None
        self.pid: int | None = None
        self.ready = False
        #: why the runner is lost (see the module docstring), else None
        self.lost: str | None = None
        self._in_flight: tuple[int, defer.Deferred[Outcome]] | None = None
        self._stopping = False
        self._exited = False
        self._stopped: list[defer.Deferred[None]] = []
        self._kill_call: Any = None
        self._start_error: Exception | None = None
        self._stderr: deque[str] = deque(maxlen=STDERR_TAIL)

    # ---- BatchRunner ---------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """A child is running (spawned, not exited)."""
        return self.transport is not None and not self._exited

    def start(self) -> None:
        """Spawn the child (again after a clean stop; never after the runner was lost)."""
        if self.started or self.lost is not None:
            return
        self._exited = self._stopping = self.ready = False
        self._start_error = None
        self._stderr.clear()
        url, password = without_password(self.registry_url)
        args = [self.python, *self.command, "--registry", url, "--parent-pid", str(os.getpid()),
                "--gc-freeze", "Y" if self.gc_freeze else "N"]
        if self.journal is not None:
            args += ["--journal", self.journal]
        env = dict(os.environ)
        env.pop(PASSWORD_ENV, None)
        if password is not None:
            env[PASSWORD_ENV] = password
        root = str(Path(__file__).resolve().parents[2])  # the directory holding the brokers package
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        self.transport = self.reactor.spawnProcess(WriterChildProtocol(self), self.python, args, env=env)
        self.pid = self.transport.pid

    def run(self, work: Work) -> defer.Deferred[Outcome]:
        if self.lost is not None:
            return defer.fail(RunnerLost(self.lost))
        if self._in_flight is not None:
            raise RuntimeError(f"batch {self._in_flight[0]} is still in flight (one at a time)")
        if self._stopping and not self._exited:
            raise RuntimeError("the registry writer process is stopping")
        self.start()
        d: defer.Deferred[Outcome] = defer.Deferred()
        self._in_flight = (work.number, d)
        self.transport.write(frame(encode_work(work)))
        return d

    def stop(self) -> defer.Deferred[None]:
        """Close the child's stdin and fire once it exited (killed after ``stop_timeout`` seconds)."""
        if self.transport is None or self._exited:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._stopped.append(d)
        if not self._stopping:
            self._stopping = True
            self._close_stdin()
            self._kill_call = self.reactor.callLater(self.stop_timeout, self._stop_timed_out)
        return d

    def close(self) -> None:
        if self.transport is not None and not self._exited and not self._stopping:
            self._stopping = True
            self._close_stdin()

    # ---- from the protocol ---------------------------------------------------------------------

    def received(self, message: Any) -> None:
        """A message from the child (see ``writer_child``)."""
        tag = message[0] if isinstance(message, tuple) and message else None
        if tag == "ready" and len(message) == 2:
            self.ready = True
            self.echo(f"fixgate: registry writer process {message[1]} ready")
            return
        if tag == "fatal" and len(message) == 2:
            self._start_error = decode_error(message[1])
            return  # it exits now: ``ended`` reports the loss with this error
        in_flight = self._in_flight
        if tag in ("done", "failed") and in_flight is not None and message[1] == in_flight[0]:
            if tag == "done" and len(message) == 4 and isinstance(message[2], list):
                results = [None if e is None else decode_error(e) for e in message[2]]
                self._in_flight = None
                in_flight[1].callback((results, message[3]))
                return
            if tag == "failed" and len(message) == 3:
                self._in_flight = None
                in_flight[1].errback(decode_error(message[2]))
                return
        expected = f"a reply to batch {in_flight[0]}" if in_flight is not None else "nothing"
        self.garbage(f"{str(message)[:200]!r} while it was expected to send {expected}")

    def garbage(self, what: str) -> None:
        """The child wrote something that is not a well-formed message: it is killed, the runner lost."""
        self._lose(f"the registry writer process {self.pid} sent {what}")
        self._kill("sent garbage")

    def stderr_line(self, line: str) -> None:
        if line.strip():
            self._stderr.append(line)
            twisted_log.msg(f"fixgate registry writer [{self.pid}]: {line}")

    def ended(self, reason: Any) -> None:
        self._exited = True
        if self._kill_call is not None and self._kill_call.active():
            self._kill_call.cancel()
        self._kill_call = None
        value = getattr(reason, "value", reason)
        if isinstance(value, error.ProcessDone):
            how = "exited with status 0"
        elif isinstance(value, error.ProcessTerminated):
            how = (f"was killed by signal {value.signal}" if value.signal is not None
                   else f"exited with status {value.exitCode}")
        else:
            how = f"ended ({value})"
        if self._stopping and self._in_flight is None and self.lost is None:
            if not isinstance(value, error.ProcessDone):
                twisted_log.msg(f"fixgate: registry writer process {self.pid} {how} on stop")
        else:
            detail = ""
            if self._start_error is not None:
                what = "it reported" if self.ready else "it could not start"
                detail = f": {what}: {type(self._start_error).__name__}: {self._start_error}"
            tail = f"; its last stderr lines: {' | '.join(self._stderr)}" if self._stderr else ""
            self._lose(f"the registry writer process {self.pid} {how}{detail}{tail}")
        waiters, self._stopped = self._stopped, []
        for d in waiters:
            d.callback(None)

    # ---- internals -----------------------------------------------------------------------------

    def _lose(self, reason: str) -> None:
        if self.lost is not None:
            return
        self.lost = reason
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight[1].errback(RunnerLost(reason))
        elif self.on_lost is not None:
            self.on_lost(reason)

    def _close_stdin(self) -> None:
        try:
            self.transport.closeStdin()
        except Exception:  # noqa: BLE001 - already gone
            twisted_log.err(None, "fixgate: closing the registry writer process's stdin")

    def _stop_timed_out(self) -> None:
        self._kill_call = None
        self._kill(f"it did not exit within {self.stop_timeout}s of its stdin being closed")

    def _kill(self, why: str) -> None:
        if self._exited or self.transport is None:
            return
        twisted_log.msg(f"fixgate: killing the registry writer process {self.pid}: {why}")
        try:
            self.transport.signalProcess("KILL")
        except error.ProcessExitedAlready:
            pass
