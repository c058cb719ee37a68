"""CompositeLog: one Log that forwards to several (e.g. file and screen, as QuickFIX/J's CompositeLog)."""

from __future__ import annotations

from collections.abc import Sequence

from ..session.session_id import SessionID
from .base import Log, LogFactory


class CompositeLog(Log):
    """Forwards every call to each of its logs, in order; a failing log does not starve the others."""

    def __init__(self, logs: Sequence[Log]) -> None:
        self.logs = tuple(logs)

    def _each(self, call: str, *args: object) -> None:
        first_error: BaseException | None = None
        for log in self.logs:
            try:
                getattr(log, call)(*args)
            except Exception as exc:  # every log gets the entry; the first failure is re-raised
                if first_error is None:
                    first_error = exc
        if first_error is not None:
            raise first_error

    def on_incoming(self, raw: bytes, now: float) -> None:
        self._each("on_incoming", raw, now)

    def on_outgoing(self, raw: bytes, now: float) -> None:
        self._each("on_outgoing", raw, now)

    def on_event(self, text: str, now: float) -> None:
        self._each("on_event", text, now)

    def clear(self) -> None:
        self._each("clear")

    def defer_writes(self) -> None:
        self._each("defer_writes")

    def write_deferred(self) -> None:
        self._each("write_deferred")

    def close(self) -> None:
        self._each("close")


class CompositeLogFactory(LogFactory):
    """Creates CompositeLogs from several factories."""

    def __init__(self, factories: Sequence[LogFactory]) -> None:
        self.factories = tuple(factories)

    def create(self, session_id: SessionID | None) -> Log:
        return CompositeLog([factory.create(session_id) for factory in self.factories])

    def close(self) -> None:
        for factory in self.factories:
            factory.close()
