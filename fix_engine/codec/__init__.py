"""fix_engine.codec: FIX tag=value messages, framing and encoding (pure, no I/O)."""

from .encoding import encode, encode_fields
from .errors import (
    FieldNotFound,
    FieldValueError,
    FixError,
    GarbledMessageError,
    MessageTooLargeError,
    ParseError,
)
from .framing import DEFAULT_MAX_MESSAGE_SIZE, Frame, FrameError, FrameParser, checksum
from .message import (
    FixMessage,
    RepeatingGroup,
    format_decimal,
    format_epoch_timestamp,
    format_utc_timestamp,
    to_fix_bytes,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "FieldNotFound",
    "FieldValueError",
    "FixError",
    "FixMessage",
    "Frame",
    "FrameError",
    "FrameParser",
    "GarbledMessageError",
    "MessageTooLargeError",
    "ParseError",
    "RepeatingGroup",
    "checksum",
    "encode",
    "encode_fields",
    "format_decimal",
    "format_epoch_timestamp",
    "format_utc_timestamp",
    "to_fix_bytes",
]
