"""The pure matching core of the internal venue: integer books, deterministic engine, Decimal edge.

Imports only the standard library and :mod:`venues.base`.
"""

from .book import Order, OrderBook, OrderState, PriceLevel
from .commands import (
    AdvanceTime,
    CancelOrder,
    Command,
    EndOfDay,
    Halt,
    MassCancel,
    NewOrder,
    ReplaceOrder,
    Resume,
    SetPhase,
    SetReferencePrice,
)
from .edge import DecimalEdge
from .engine import MatchingEngine, PhaseTransitionError, UnknownInstrument
from .instrument import Instrument, OffGridError, TickBand

__all__ = [
    "AdvanceTime",
    "CancelOrder",
    "Command",
    "DecimalEdge",
    "EndOfDay",
    "Halt",
    "Instrument",
    "MassCancel",
    "MatchingEngine",
    "NewOrder",
    "OffGridError",
    "Order",
    "OrderBook",
    "OrderState",
    "PhaseTransitionError",
    "PriceLevel",
    "ReplaceOrder",
    "Resume",
    "SetPhase",
    "SetReferencePrice",
    "TickBand",
    "UnknownInstrument",
]
