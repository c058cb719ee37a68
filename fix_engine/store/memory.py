"""MemoryStore: a MessageStore that keeps everything in process memory (QuickFIX MemoryStore)."""

from __future__ import annotations

from ..session.session_id import SessionID
from .base import MessageStore, MessageStoreFactory


class MemoryStore(MessageStore):
    """Sequence numbers and sent messages of one session, lost when the process ends.

    For tests and for sessions that reset on every logon.  ``refresh`` has nothing to reload.
    """

    def __init__(self, now: float) -> None:
        self._next_sender = 1
        self._next_target = 1
        self._creation_time = now
        self._messages: dict[int, bytes] = {}

    def next_sender_seq_num(self) -> int:
        return self._next_sender

    def next_target_seq_num(self) -> int:
        return self._next_target

    def set_next_sender_seq_num(self, value: int) -> None:
        self._next_sender = value

    def set_next_target_seq_num(self, value: int) -> None:
        self._next_target = value

    def save(self, seq_num: int, raw: bytes) -> None:
        self._messages[seq_num] = bytes(raw)

    def get_range(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        if end < begin:
            return []
        messages = self._messages
        if end - begin + 1 <= len(messages):
            return [(seq, messages[seq]) for seq in range(begin, end + 1) if seq in messages]
        return sorted((seq, raw) for seq, raw in messages.items() if begin <= seq <= end)

    def creation_time(self) -> float:
        return self._creation_time

    def reset(self, now: float) -> None:
        self._messages.clear()
        self._next_sender = 1
        self._next_target = 1
        self._creation_time = now


class MemoryStoreFactory(MessageStoreFactory):
    """Creates a fresh MemoryStore per session."""

    def create(self, session_id: SessionID, now: float) -> MessageStore:
        return MemoryStore(now)
