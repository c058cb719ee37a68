"""Sliding-window message counting per key (a session or an account), time passed in as ns."""

from __future__ import annotations

from collections import deque

__all__ = ["MessageCounter"]


class MessageCounter:
    """Remembers when each key sent messages, to count them in a sliding window.

    A message at ``t`` is inside the window ending at ``now`` when ``now - window < t <= now``.
    Every message is recorded, accepted or not: a flood keeps counting against its sender.
    """

    def __init__(self) -> None:
        self._times: dict[str, deque[int]] = {}

    def count(self, key: str, now_ns: int, window_ns: int) -> int:
        """How many messages ``key`` sent in the window ending at ``now_ns`` (older ones are dropped)."""
        times = self._times.get(key)
        if times is None:
            return 0
        horizon = now_ns - window_ns
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._times[key]
            return 0
        return len(times)

    def record(self, key: str, now_ns: int) -> None:
        """Note one message from ``key`` at ``now_ns``."""
        self._times.setdefault(key, deque()).append(now_ns)

    def forget(self, key: str) -> None:
        """Drop everything known about ``key`` (e.g. when its session disconnects)."""
        self._times.pop(key, None)
