"""Console logging for the long-running commands: Twisted's log to stderr, one line per event."""

from __future__ import annotations

import sys

_started = False


def start_console_logging() -> None:
    """Send Twisted's log (errors, our events) to stderr once per process."""
    global _started
    if _started:
        return
    _started = True
    from twisted.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
