"""Session-level tag numbers, MsgType values and the tag sets the codec needs without a dictionary."""

from __future__ import annotations

SOH = b"\x01"

# Standard header / trailer tags
BeginString = 8
BodyLength = 9
MsgType = 35
SenderCompID = 49
TargetCompID = 56
MsgSeqNum = 34
SendingTime = 52
PossDupFlag = 43
PossResend = 97
OrigSendingTime = 122
OnBehalfOfCompID = 115
DeliverToCompID = 128
SenderSubID = 50
TargetSubID = 57
SenderLocationID = 142
TargetLocationID = 143
OnBehalfOfSubID = 116
OnBehalfOfLocationID = 144
DeliverToSubID = 129
DeliverToLocationID = 145
ApplVerID = 1128
CstmApplVerID = 1129
LastMsgSeqNumProcessed = 369
SecureDataLen = 90
SecureData = 91
SignatureLength = 93
Signature = 89
CheckSum = 10

# Session message body tags
EncryptMethod = 98
HeartBtInt = 108
ResetSeqNumFlag = 141
NextExpectedMsgSeqNum = 789
DefaultApplVerID = 1137
TestReqID = 112
BeginSeqNo = 7
EndSeqNo = 16
NewSeqNo = 36
GapFillFlag = 123
RefSeqNum = 45
RefTagID = 371
RefMsgType = 372
SessionRejectReason = 373
Text = 58
BusinessRejectRefID = 379
BusinessRejectReason = 380
Username = 553
Password = 554


class MsgTypes:
    """MsgType (35) values used by the session layer and the gateway."""

    Heartbeat = "0"
    TestRequest = "1"
    ResendRequest = "2"
    Reject = "3"
    SequenceReset = "4"
    Logout = "5"
    Logon = "A"
    BusinessMessageReject = "j"
    NewOrderSingle = "D"
    OrderCancelRequest = "F"
    OrderCancelReplaceRequest = "G"
    OrderStatusRequest = "H"
    ExecutionReport = "8"
    OrderCancelReject = "9"
    OrderMassCancelRequest = "q"
    OrderMassCancelReport = "r"
    OrderMassStatusRequest = "AF"
    MarketDataRequest = "V"
    MarketDataSnapshotFullRefresh = "W"
    MarketDataIncrementalRefresh = "X"
    MarketDataRequestReject = "Y"
    SecurityDefinition = "d"
    SecurityStatus = "f"
    SecurityListRequest = "x"
    SecurityList = "y"


#: MsgTypes of the session (admin) messages.
ADMIN_MSG_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "A"})

#: Standard header tags of FIX.4.0 through FIXT.1.1 (a dictionary may add more).
HEADER_TAGS = frozenset(
    {
        8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97,
        52, 122, 212, 213, 347, 369, 370, 627, 628, 629, 630, 1128, 1129, 1156,
    }
)

#: Standard trailer tags.
TRAILER_TAGS = frozenset({93, 89, 10})

#: Length field -> the data field whose byte count it gives (values may contain SOH).
#: The FIX.4.0 - 5.0SP2 standard pairs; a dictionary adds any custom LENGTH/DATA pair.
DATA_LENGTH_TAGS: dict[int, int] = {
    90: 91,      # SecureDataLen / SecureData
    93: 89,      # SignatureLength / Signature
    95: 96,      # RawDataLength / RawData
    212: 213,    # XmlDataLen / XmlData
    348: 349,    # EncodedIssuerLen / EncodedIssuer
    350: 351,    # EncodedSecurityDescLen / EncodedSecurityDesc
    352: 353,    # EncodedListExecInstLen / EncodedListExecInst
    354: 355,    # EncodedTextLen / EncodedText
    356: 357,    # EncodedSubjectLen / EncodedSubject
    358: 359,    # EncodedHeadlineLen / EncodedHeadline
    360: 361,    # EncodedAllocTextLen / EncodedAllocText
    362: 363,    # EncodedUnderlyingIssuerLen / EncodedUnderlyingIssuer
    364: 365,    # EncodedUnderlyingSecurityDescLen / EncodedUnderlyingSecurityDesc
    445: 446,    # EncodedListStatusTextLen / EncodedListStatusText
    618: 619,    # EncodedLegIssuerLen / EncodedLegIssuer
    621: 622,    # EncodedLegSecurityDescLen / EncodedLegSecurityDesc
    1277: 1278,  # DerivativeEncodedIssuerLen / DerivativeEncodedIssuer
    1280: 1281,  # DerivativeEncodedSecurityDescLen / DerivativeEncodedSecurityDesc
    1397: 1398,  # EncodedMktSegmDescLen / EncodedMktSegmDesc
    1468: 1469,  # EncodedSecurityListDescLen / EncodedSecurityListDesc
    1525: 1526,  # EncodedEventTextLen ... (FIX 5.0SP2 EP)
    1578: 1579,  # EncodedLegEventTextLen
    1697: 1698,  # EncodedDocumentationTextLen
}
