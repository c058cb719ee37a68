"""Outcomes of vetting: the FIX OrdRejReason codes, one rule's rejection, and the chain's result."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from brokers.oms.reservations import Reservation

__all__ = ["CxlRejReason", "OrdRejReason", "RuleRejection", "VetResult"]

ZERO = Decimal(0)


class OrdRejReason(IntEnum):
    """OrdRejReason(103) of an order reject (ExecutionReport OrdStatus=8)."""

    BROKER_OPTION = 0
    UNKNOWN_SYMBOL = 1
    EXCHANGE_CLOSED = 2
    ORDER_EXCEEDS_LIMIT = 3
    UNKNOWN_ORDER = 5
    DUPLICATE_ORDER = 6
    UNSUPPORTED_ORDER_CHARACTERISTIC = 11
    INCORRECT_QUANTITY = 13
    UNKNOWN_ACCOUNT = 15
    PRICE_EXCEEDS_CURRENT_PRICE_BAND = 16
    INVALID_PRICE_INCREMENT = 18
    OTHER = 99


class CxlRejReason(IntEnum):
    """CxlRejReason(102) of an OrderCancelReject (35=9), used when a replace is refused."""

    TOO_LATE_TO_CANCEL = 0
    UNKNOWN_ORDER = 1
    BROKER_OPTION = 2
    ALREADY_PENDING = 3
    DUPLICATE_CL_ORD_ID = 6
    PRICE_EXCEEDS_CURRENT_PRICE_BAND = 8
    INVALID_PRICE_INCREMENT = 18
    OTHER = 99


_CXL_FOR_ORD_REJ = {
    OrdRejReason.UNKNOWN_ORDER: CxlRejReason.UNKNOWN_ORDER,
    OrdRejReason.DUPLICATE_ORDER: CxlRejReason.DUPLICATE_CL_ORD_ID,
    OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND: CxlRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
    OrdRejReason.INVALID_PRICE_INCREMENT: CxlRejReason.INVALID_PRICE_INCREMENT,
    OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC: CxlRejReason.OTHER,
    OrdRejReason.INCORRECT_QUANTITY: CxlRejReason.OTHER,
    OrdRejReason.OTHER: CxlRejReason.OTHER,
}


@dataclass(frozen=True, slots=True)
class RuleRejection:
    """One rule said no: its stable name, the FIX reason and a Text(58) naming rule and limit.

    ``disconnect`` asks the caller to drop the session as well (throttle with action disconnect).
    ``cxl_rej_reason`` overrides the CxlRejReason derived from ``reason`` for replace rejects.
    """

    rule: str
    reason: OrdRejReason
    text: str
    disconnect: bool = False
    cxl_rej_reason: CxlRejReason | None = None


@dataclass(frozen=True, slots=True)
class VetResult:
    """The verdict of the rule chain on one message.

    On acceptance of a buy, ``reservation`` is what the order holds of the account's buying power
    after this message and ``reservation_delta`` the amount to take now (negative: to release),
    which the caller applies atomically with the check.  A rejection never carries a reservation.
    """

    accepted: bool
    rejection: RuleRejection | None = None
    reservation: Reservation | None = None
    reservation_delta: Decimal = ZERO

    @classmethod
    def accept(cls, reservation: Reservation | None = None, delta: Decimal | None = None) -> VetResult:
        if delta is None:
            delta = reservation.amount if reservation is not None else ZERO
        return cls(True, None, reservation, delta)

    @classmethod
    def reject(cls, rejection: RuleRejection) -> VetResult:
        return cls(False, rejection)

    @property
    def reason(self) -> OrdRejReason | None:
        """OrdRejReason(103), or None when accepted."""
        return self.rejection.reason if self.rejection is not None else None

    @property
    def text(self) -> str:
        """Text(58) for the reject ('' when accepted)."""
        return self.rejection.text if self.rejection is not None else ""

    @property
    def rule(self) -> str | None:
        """The name of the rule that rejected, or None when accepted."""
        return self.rejection.rule if self.rejection is not None else None

    @property
    def disconnect(self) -> bool:
        """True when the session must be dropped after sending the reject."""
        return self.rejection is not None and self.rejection.disconnect

    @property
    def cxl_rej_reason(self) -> CxlRejReason | None:
        """CxlRejReason(102) for answering a refused replace with an OrderCancelReject."""
        if self.rejection is None:
            return None
        if self.rejection.cxl_rej_reason is not None:
            return self.rejection.cxl_rej_reason
        return _CXL_FOR_ORD_REJ.get(self.rejection.reason, CxlRejReason.BROKER_OPTION)
