"""MessageStore: the interface every FIX message store implements (memory, file, SQL).

It keeps what the session layer must not lose: the next sender and target sequence numbers,
the session creation time, and every outgoing message by its MsgSeqNum (for resends).  An
outgoing message is stored *before* it is written to the socket.  The shared contract test
suite in ``tests/store/`` runs against every implementation.
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
