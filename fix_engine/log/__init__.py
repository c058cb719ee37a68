"""FIX message and event logs (file, screen, SQL, composite, null) and ``create_log_factory``.

The SQL backend (``fix_engine.log.sql``) is imported only when ``create_log_factory`` is asked
for it, so importing this package does not load SQLAlchemy.
"""

from .base import Log, LogError, LogFactory, NullLog, NullLogFactory, format_log_timestamp
from .composite import CompositeLog, CompositeLogFactory
from .factory import create_log_factory
from .file import FileLog, FileLogFactory
from .screen import ScreenLog, ScreenLogFactory

__all__ = [
    "CompositeLog",
    "CompositeLogFactory",
    "FileLog",
    "FileLogFactory",
    "Log",
    "LogError",
    "LogFactory",
    "NullLog",
    "NullLogFactory",
    "ScreenLog",
    "ScreenLogFactory",
    "create_log_factory",
    "format_log_timestamp",
]
