"""FileLog: message and event logs as text files under FileLogPath (QuickFIX FileLog layout).

Per session (``<prefix>`` is :attr:`SessionID.file_prefix`, ``GLOBAL`` for the engine-wide log):

``<prefix>.messages.current.log``   incoming and outgoing messages, one per line
``<prefix>.event.current.log``      events, one per line

With ``split_directions=True`` messages go instead to ``<prefix>.incoming.current.log`` and
``<prefix>.outgoing.current.log``.  Each line is ``<UTC timestamp>: <payload>\\n`` as in
QuickFIX/J (``20261122-10:00:00.000: 8=FIX.4.4\\x019=...``).  Messages keep their SOH
delimiters, so a log file replays through ``fixgate decode``; a message whose data fields contain
a newline spans more than one line (frame by BodyLength, not by line, to be exact).  Every line
is flushed to the OS as it is written, except inside a write window (``defer_writes``, opened by
the transport around each socket read), whose lines are flushed together when it closes;
nothing is fsynced.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from ..session.session_id import SessionID
from .base import GLOBAL_LOG_NAME, Log, LogError, LogFactory, format_log_timestamp


class FileLog(Log):
    """Appends one session's messages and events to its files."""

    def __init__(
        self, directory: str, session_id: SessionID | None, *, split_directions: bool = False
    ) -> None:
        prefix = os.path.join(directory, session_id.file_prefix if session_id else GLOBAL_LOG_NAME)
        self.event_path = prefix + ".event.current.log"
        if split_directions:
            self.incoming_path = prefix + ".incoming.current.log"
            self.outgoing_path = prefix + ".outgoing.current.log"
        else:
            self.incoming_path = self.outgoing_path = prefix + ".messages.current.log"
        self._files: dict[str, BinaryIO] = {}
        self._deferring = False
        #: inside a write window: the lines written to each file, joined and written when it closes
        self._pending: dict[str, list[bytes]] = {}
        try:
            os.makedirs(directory, exist_ok=True)
            for path in (self.incoming_path, self.outgoing_path, self.event_path):
                if path not in self._files:
                    self._files[path] = open(path, "ab")  # noqa: SIM115 - held open until close()
        except OSError as exc:
            self.close()
            raise LogError(f"cannot open log files {prefix}.*: {exc}") from exc

    def _write(self, path: str, payload: bytes, now: float) -> None:
        if self._deferring and path in self._files:
            lines = self._pending.get(path)
            if lines is None:
                lines = self._pending[path] = []
            lines.append(format_log_timestamp(now) + b": " + payload + b"\n")
            return
        f = self._files.get(path)
        if f is None:
            raise LogError(f"log {path} is closed")
        try:
            f.write(format_log_timestamp(now) + b": " + payload + b"\n")
            f.flush()
        except OSError as exc:
            raise LogError(f"cannot write {path}: {exc}") from exc

    def on_incoming(self, raw: bytes, now: float) -> None:
        self._write(self.incoming_path, raw, now)

    def on_outgoing(self, raw: bytes, now: float) -> None:
        self._write(self.outgoing_path, raw, now)

    def on_event(self, text: str, now: float) -> None:
        self._write(self.event_path, text.encode("utf-8", "backslashreplace"), now)

    def defer_writes(self) -> None:
        self._deferring = True

    def write_deferred(self) -> None:
        self._deferring = False
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        try:
            for path, lines in pending.items():  # only the files written in the window
                f = self._files.get(path)
                if f is None:
                    raise LogError(f"log {path} is closed")
                f.write(lines[0] if len(lines) == 1 else b"".join(lines))
                f.flush()
        except OSError as exc:
            raise LogError(f"cannot write log files: {exc}") from exc

    def clear(self) -> None:
        """Truncate the files (QuickFIX FileLog::clear); lines of an open window are dropped too."""
        self._pending = {}
        try:
            for f in self._files.values():
                f.truncate(0)
        except OSError as exc:
            raise LogError(f"cannot clear log files: {exc}") from exc

    def close(self) -> None:
        if self._pending:
            try:
                self.write_deferred()  # what a window collected is not lost on close
            except LogError:
                pass
        self._deferring = False
        files, self._files = self._files, {}
        for f in files.values():
            f.close()


class FileLogFactory(LogFactory):
    """Creates a FileLog per session under one FileLogPath directory."""

    def __init__(self, directory: str, *, split_directions: bool = False) -> None:
        self.directory = directory
        self.split_directions = split_directions

    def create(self, session_id: SessionID | None) -> Log:
        return FileLog(self.directory, session_id, split_directions=self.split_directions)
