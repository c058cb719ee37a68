"""Drop copy: read-only client sessions that receive a copy of every ExecutionReport of their accounts.

Configuration: a client (acceptor) ``[SESSION]`` with ``SessionType=DropCopy`` and
``Accounts=DEMO1,DEMO2`` (``*`` = every account).  Such a session cannot trade: it is not given a
trading entitlement, and :func:`refuse_application_message` answers any application message it
sends.

What is copied
    Every ExecutionReport (35=8) the gateway sends to any client session whose Account(1) is one
    of the drop-copy session's accounts: acks, fills, cancels, replaces, rejects, pending states,
    expiries -- at the moment the client's own report is released, so after the registry committed
    what the report tells (durability before acknowledgement holds for copies too).  Status
    answers (ExecType I / ExecTransType 3: OrderStatusRequest and mass status replies) are answers
    to somebody's request, not events, and are not copied.  Reports without Account(1) (refusals of
    a request whose account was not resolved) are not copied either.

Dialect
    The copy is rebuilt for the drop-copy session's BeginString (the copied report may come from a
    FIX.4.2 client and go to a FIX.4.4 drop copy, or the other way round): ExecType F <-> 1/2,
    ExecTransType(20) added for FIX.4.2 and removed otherwise, OrdRejReason(103) mapped to a value
    the version defines.  CopyMsgIndicator(797)=Y marks every copy on FIX.4.4 and FIXT.1.1/FIX.5.0
    (the tag is in their ExecutionReport); FIX.4.2 has no such tag, so copies on a FIX.4.2 drop copy
    session go out without it -- the session type itself tells the receiver they are copies.

Inbound
    Application messages from a drop-copy session are answered with BusinessMessageReject (35=j):
    the message is well formed (so no session Reject 35=3), it is not an order that was refused by
    a rule (so no ExecutionReport 39=8, which would have to invent an order), it is a request the
    sender is not authorised to make: BusinessRejectReason(380)=6 "Not authorized" (FIX.4.3+);
    FIX.4.2 only defines 0..5 there, so 380=0 "Other" with the same Text.  BusinessRejectRefID(379)
    names the request's ClOrdID when it has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from brokers.client.translation import ord_rej_reason_for
from fix_engine.application import BusinessReject
from fix_engine.codec.message import FixMessage
from fix_engine.codec.tags import HEADER_TAGS, TRAILER_TAGS
from fix_engine.session.session_id import SessionID

__all__ = [
    "ALL_ACCOUNTS",
    "DropCopy",
    "DropCopySubscription",
    "copy_report",
    "has_copy_indicator",
    "refuse_application_message",
]

ALL_ACCOUNTS = "*"
NOT_AUTHORIZED = 6
OTHER = 0
READ_ONLY_TEXT = "drop copy session is read-only: application messages are not accepted"

Sender = Callable[[FixMessage, SessionID], None]


def _is_42(begin_string: str) -> bool:
    return begin_string in ("FIX.4.0", "FIX.4.1", "FIX.4.2")


def has_copy_indicator(begin_string: str) -> bool:
    """CopyMsgIndicator(797) exists in the version's ExecutionReport (FIX.4.4, FIXT.1.1/FIX.5.0+)."""
    return begin_string in ("FIX.4.4", "FIXT.1.1") or begin_string.startswith("FIX.5")


def is_status_report(report: FixMessage) -> bool:
    return report.get(150) == "I" or report.get(20) == "3"


def copy_report(report: FixMessage, source_begin: str, target_begin: str) -> FixMessage | None:
    """The drop copy of ``report`` (sent or about to be sent on a ``source_begin`` session) for a
    ``target_begin`` session; ``None`` for reports that are not copied (status answers)."""
    if report.msg_type != "8" or is_status_report(report):
        return None
    body = report.body_fields(HEADER_TAGS, TRAILER_TAGS)
    fields: dict[int, bytes] = {}
    order: list[int] = []
    for tag, value in body:
        if tag not in fields:
            order.append(tag)
        fields[tag] = value
    exec_type = fields.get(150, b"").decode()
    ord_status = fields.get(39, b"").decode()
    if _is_42(source_begin) and exec_type in ("1", "2"):
        exec_type = "F"  # FIX.4.2 trades -> neutral form
    if _is_42(target_begin):
        if exec_type == "F":
            exec_type = "2" if ord_status == "2" else "1"
        fields[20] = b"0"
        if 20 not in order:
            order.append(20)
    else:
        if 20 in fields:
            del fields[20]
            order.remove(20)
    fields[150] = exec_type.encode()
    if 103 in fields and fields[103].isdigit():
        fields[103] = str(ord_rej_reason_for(target_begin, int(fields[103]))).encode()
    if has_copy_indicator(target_begin):
        fields[797] = b"Y"
        if 797 not in order:
            order.append(797)
    return FixMessage.new("8", *((tag, fields[tag]) for tag in order))


def refuse_application_message(message: FixMessage, session_id: SessionID) -> BusinessReject:
    """The BusinessReject to raise for an application message from a drop-copy session."""
    reason = OTHER if _is_42(session_id.begin_string) else NOT_AUTHORIZED
    return BusinessReject(reason, READ_ONLY_TEXT, ref_id=message.get(11) or None)


@dataclass(frozen=True, slots=True)
class DropCopySubscription:
    """One drop-copy session and the accounts it is entitled to (``*`` in ``accounts``: all)."""

    session_id: SessionID
    accounts: frozenset[str]

    def covers(self, account: str) -> bool:
        return ALL_ACCOUNTS in self.accounts or account in self.accounts


class DropCopy:
    """Fans every client ExecutionReport out to the drop-copy sessions entitled to its account."""

    def __init__(self, subscriptions: Mapping[SessionID, frozenset[str]], send: Sender) -> None:
        self.subscriptions = [DropCopySubscription(sid, frozenset(accts)) for sid, accts in subscriptions.items()]
        self._ids = frozenset(subscriptions)
        self._send = send
        self.copies_sent = 0

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._ids

    def __bool__(self) -> bool:
        return bool(self.subscriptions)

    def on_report(self, report: FixMessage, source: SessionID) -> int:
        """Copy one report sent to ``source``; returns how many copies went out."""
        if not self.subscriptions or report.msg_type != "8" or source in self._ids:
            return 0
        account = report.get(1)
        if not account:
            return 0
        sent = 0
        for sub in self.subscriptions:
            if not sub.covers(account):
                continue
            copy = copy_report(report, source.begin_string, sub.session_id.begin_string)
            if copy is None:
                return sent
            self._send(copy, sub.session_id)
            sent += 1
        self.copies_sent += sent
        return sent
