"""SessionRejectReason (373) codes, their QuickFIX wording, and the Violation record validation returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class SessionRejectReason(IntEnum):
    """FIX SessionRejectReason (373) values."""

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED_FOR_MESSAGE_TYPE = 2
    UNDEFINED_TAG = 3
    TAG_SPECIFIED_WITHOUT_A_VALUE = 4
    VALUE_IS_INCORRECT = 5
    INCORRECT_DATA_FORMAT_FOR_VALUE = 6
    DECRYPTION_PROBLEM = 7
    SIGNATURE_PROBLEM = 8
    COMPID_PROBLEM = 9
    SENDINGTIME_ACCURACY_PROBLEM = 10
    INVALID_MSGTYPE = 11
    XML_VALIDATION_ERROR = 12
    TAG_APPEARS_MORE_THAN_ONCE = 13
    TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER = 14
    REPEATING_GROUP_FIELDS_OUT_OF_ORDER = 15
    INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP = 16
    NON_DATA_VALUE_INCLUDES_FIELD_DELIMITER = 17
    INVALID_UNSUPPORTED_APPLICATION_VERSION = 18
    OTHER = 99


#: Text (58) of a session Reject, as QuickFIX writes it (operators grep for these).
REJECT_REASON_TEXT: dict[int, str] = {
    0: "Invalid tag number",
    1: "Required tag missing",
    2: "Tag not defined for this message type",
    3: "Undefined Tag",
    4: "Tag specified without a value",
    5: "Value is incorrect (out of range) for this tag",
    6: "Incorrect data format for value",
    7: "Decryption problem",
    8: "Signature problem",
    9: "CompID problem",
    10: "SendingTime accuracy problem",
    11: "Invalid MsgType",
    12: "XML Validation error",
    13: "Tag appears more than once",
    14: "Tag specified out of required order",
    15: "Repeating group fields out of order",
    16: "Incorrect NumInGroup count for repeating group",
    17: "Non Data value includes field delimiter (SOH character)",
    18: "Invalid/Unsupported Application Version",
    99: "Other",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One validation failure: the SessionRejectReason, the offending tag (371) and a detail."""

    reason: SessionRejectReason
    tag: int | None = None
    detail: str = ""
    #: BodyLength or CheckSum is wrong: QuickFIX ignores such a message (no Reject, no MsgSeqNum)
    garbled: bool = False

    @property
    def text(self) -> str:
        """The FIX name of the reason (what goes into Text (58))."""
        return REJECT_REASON_TEXT.get(int(self.reason), "Other")
