"""A small built-in table of FIX field names and enum meanings, for tools that run without a dictionary.

``fixgate decode`` uses a data dictionary when one is available (``--dict`` or the project's
``dictionaries/``); this table is its fallback, covering the standard header and trailer, the
session messages and the common order-flow fields.
"""

from __future__ import annotations

FIELD_NAMES: dict[int, str] = {
    1: "Account", 6: "AvgPx", 7: "BeginSeqNo", 8: "BeginString", 9: "BodyLength", 10: "CheckSum",
    11: "ClOrdID", 14: "CumQty", 15: "Currency", 16: "EndSeqNo", 17: "ExecID", 18: "ExecInst",
    21: "HandlInst", 22: "SecurityIDSource", 31: "LastPx", 32: "LastQty", 34: "MsgSeqNum", 35: "MsgType",
    36: "NewSeqNo", 37: "OrderID", 38: "OrderQty", 39: "OrdStatus", 40: "OrdType", 41: "OrigClOrdID",
    43: "PossDupFlag", 44: "Price", 45: "RefSeqNum", 48: "SecurityID", 49: "SenderCompID",
    50: "SenderSubID", 52: "SendingTime", 54: "Side", 55: "Symbol", 56: "TargetCompID", 57: "TargetSubID",
    58: "Text", 59: "TimeInForce", 60: "TransactTime", 89: "Signature", 90: "SecureDataLen",
    91: "SecureData", 93: "SignatureLength", 95: "RawDataLength", 96: "RawData", 97: "PossResend",
    98: "EncryptMethod", 99: "StopPx", 100: "ExDestination", 102: "CxlRejReason", 103: "OrdRejReason",
    108: "HeartBtInt", 112: "TestReqID", 115: "OnBehalfOfCompID", 122: "OrigSendingTime",
    123: "GapFillFlag", 126: "ExpireTime", 128: "DeliverToCompID", 141: "ResetSeqNumFlag",
    150: "ExecType", 151: "LeavesQty", 207: "SecurityExchange", 262: "MDReqID", 263: "SubscriptionRequestType",
    264: "MarketDepth", 268: "NoMDEntries", 269: "MDEntryType", 270: "MDEntryPx", 271: "MDEntrySize",
    371: "RefTagID", 372: "RefMsgType", 373: "SessionRejectReason", 379: "BusinessRejectRefID",
    380: "BusinessRejectReason", 434: "CxlRejResponseTo", 447: "PartyIDSource", 448: "PartyID",
    452: "PartyRole", 453: "NoPartyIDs", 553: "Username", 554: "Password", 789: "NextExpectedMsgSeqNum",
    1128: "ApplVerID", 1137: "DefaultApplVerID",
}

ENUM_MEANINGS: dict[int, dict[str, str]] = {
    35: {
        "0": "HEARTBEAT", "1": "TEST_REQUEST", "2": "RESEND_REQUEST", "3": "REJECT", "4": "SEQUENCE_RESET",
        "5": "LOGOUT", "8": "EXECUTION_REPORT", "9": "ORDER_CANCEL_REJECT", "A": "LOGON",
        "D": "NEW_ORDER_SINGLE", "F": "ORDER_CANCEL_REQUEST", "G": "ORDER_CANCEL_REPLACE_REQUEST",
        "H": "ORDER_STATUS_REQUEST", "V": "MARKET_DATA_REQUEST", "W": "MARKET_DATA_SNAPSHOT_FULL_REFRESH",
        "X": "MARKET_DATA_INCREMENTAL_REFRESH", "Y": "MARKET_DATA_REQUEST_REJECT", "j": "BUSINESS_MESSAGE_REJECT",
        "q": "ORDER_MASS_CANCEL_REQUEST", "r": "ORDER_MASS_CANCEL_REPORT",
    },
    39: {
        "0": "NEW", "1": "PARTIALLY_FILLED", "2": "FILLED", "3": "DONE_FOR_DAY", "4": "CANCELED",
        "5": "REPLACED", "6": "PENDING_CANCEL", "8": "REJECTED", "A": "PENDING_NEW", "C": "EXPIRED",
        "E": "PENDING_REPLACE",
    },
    40: {"1": "MARKET", "2": "LIMIT", "3": "STOP", "4": "STOP_LIMIT"},
    43: {"Y": "YES", "N": "NO"},
    54: {"1": "BUY", "2": "SELL", "5": "SELL_SHORT", "6": "SELL_SHORT_EXEMPT"},
    59: {"0": "DAY", "1": "GOOD_TILL_CANCEL", "3": "IMMEDIATE_OR_CANCEL", "4": "FILL_OR_KILL", "6": "GOOD_TILL_DATE"},
    97: {"Y": "YES", "N": "NO"},
    98: {"0": "NONE_OTHER"},
    123: {"Y": "YES", "N": "NO"},
    141: {"Y": "YES", "N": "NO"},
    150: {
        "0": "NEW", "4": "CANCELED", "5": "REPLACED", "6": "PENDING_CANCEL", "8": "REJECTED",
        "C": "EXPIRED", "D": "RESTATED", "E": "PENDING_REPLACE", "F": "TRADE", "I": "ORDER_STATUS",
    },
}

#: MsgType -> message name (the message's meaning in ``ENUM_MEANINGS[35]``, CamelCase).
MESSAGE_NAMES: dict[str, str] = {
    value: "".join(part.capitalize() for part in meaning.split("_")) for value, meaning in ENUM_MEANINGS[35].items()
}
