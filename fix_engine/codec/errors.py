"""The codec's error hierarchy: every malformed input raises one of these, never a bare exception."""

from __future__ import annotations


class FixError(Exception):
    """Root of every error fixgate raises about FIX content."""


class ParseError(FixError):
    """The bytes are not a well-formed FIX message."""

    def __init__(self, message: str, *, tag: int | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.tag = tag
        self.offset = offset


class GarbledMessageError(ParseError):
    """A frame that fails BodyLength/CheckSum/header-order checks.

    The session layer ignores garbled messages without consuming a sequence number.
    """


class MessageTooLargeError(GarbledMessageError):
    """A peer announced a BodyLength beyond the configured maximum message size."""


class FieldValueError(FixError):
    """A field value cannot be converted to the requested FIX data type."""

    def __init__(self, tag: int, value: bytes | str, type_name: str) -> None:
        super().__init__(f"tag {tag}: {value!r} is not a valid {type_name}")
        self.tag = tag
        self.value = value
        self.type_name = type_name


class FieldNotFound(FixError, KeyError):
    """A required field is absent from a message."""

    def __init__(self, tag: int) -> None:
        super().__init__(f"tag {tag} not present")
        self.tag = tag

    def __str__(self) -> str:  # KeyError would quote the message
        return f"tag {self.tag} not present"
