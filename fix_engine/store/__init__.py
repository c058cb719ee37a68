"""FIX message stores: sequence numbers and sent messages per session (memory, file, SQL).

The SQL backend (``fix_engine.store.sql``) is imported only when ``create_store_factory`` is
asked for it, so importing this package does not load SQLAlchemy.
"""

from .base import MessageStore, MessageStoreError, MessageStoreFactory
from .factory import create_store_factory
from .file import FileStore, FileStoreFactory
from .memory import MemoryStore, MemoryStoreFactory

__all__ = [
    "FileStore",
    "FileStoreFactory",
    "MemoryStore",
    "MemoryStoreFactory",
    "MessageStore",
    "MessageStoreError",
    "MessageStoreFactory",
    "create_store_factory",
]
