"""MessageStore: the interface every FIX message store implements (memory, file, SQL).

It keeps what the session layer must not lose: the next sender and target sequence numbers,
the session creation time, and every outgoing message by its MsgSeqNum (for resends).  An
outgoing message is stored *before* it is written to the socket.  The shared contract test
suite in ``tests/store/`` runs against every implementation.

Deferred writes (group commit): between :meth:`MessageStore.defer_writes` and
:meth:`MessageStore.write_deferred` a backend may keep its writes in memory and persist them all
at once (the file store in one ``write``, the SQL store in one transaction).  Reads see the
deferred state at once.  The transport opens such a window around the frames of one socket read
and calls ``write_deferred`` *before* it writes the collected output to the socket, so the rule
"stored before sent" still holds for every message; a killed process loses at most the sequence
number increments of messages it received in that read and had not answered yet, which the peer
then resends (as with QuickFIX, whose target number moves after the application callback).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..session.session_id import SessionID


class MessageStoreError(Exception):
    """The store could not read or persist state (disk, database, corrupt file)."""


class MessageStore(ABC):
    """Sequence numbers and sent messages of one session."""

    @abstractmethod
    def next_sender_seq_num(self) -> int: ...

    @abstractmethod
    def next_target_seq_num(self) -> int: ...

    @abstractmethod
    def set_next_sender_seq_num(self, value: int) -> None: ...

    @abstractmethod
    def set_next_target_seq_num(self, value: int) -> None: ...

    def incr_next_sender_seq_num(self) -> None:
        self.set_next_sender_seq_num(self.next_sender_seq_num() + 1)

    def incr_next_target_seq_num(self) -> None:
        self.set_next_target_seq_num(self.next_target_seq_num() + 1)

    @abstractmethod
    def save(self, seq_num: int, raw: bytes) -> None:
        """Persist an outgoing message (exact wire bytes) under its MsgSeqNum."""

    def save_and_incr(self, seq_num: int, raw: bytes) -> None:
        """Persist an outgoing message and advance the next sender number in one step.

        Backends override this to make the two one durable write.
        """
        self.save(seq_num, raw)
        self.set_next_sender_seq_num(seq_num + 1)

    @abstractmethod
    def get_range(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Stored messages with ``begin <= seq <= end``, ascending; gaps are simply absent."""

    @abstractmethod
    def creation_time(self) -> float:
        """When the current session period's store was created (epoch seconds)."""

    @abstractmethod
    def reset(self, now: float) -> None:
        """Forget all messages, both sequence numbers back to 1, creation time = ``now``."""

    def refresh(self) -> None:
        """Reload state from the backing medium (QuickFIX RefreshOnLogon)."""

    def defer_writes(self) -> None:
        """Open a deferred-write window (see the module docstring); a no-op where writes are cheap."""

    def write_deferred(self) -> None:
        """Persist everything written since :meth:`defer_writes` and close the window.

        Raises :class:`MessageStoreError` when it cannot: the caller must then not send what it
        collected meanwhile.
        """

    def flush(self) -> None:
        """Make everything written so far durable."""

    def close(self) -> None:
        """Release files / connections."""


class MessageStoreFactory(ABC):
    """Creates the store for a session (one factory per configured backend)."""

    @abstractmethod
    def create(self, session_id: SessionID, now: float) -> MessageStore: ...

    def close(self) -> None:
        """Release shared resources (engines, directories)."""
