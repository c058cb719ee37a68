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

#: Length field -> the data field whose byte count it gives (values may contain SOH): every
#: LENGTH/DATA pair of the FIX.4.0 - FIX.5.0SP2 and FIXT.1.1 standard dictionaries (generated from
#: QuickFIX's spec files); a dictionary adds any custom pair.
DATA_LENGTH_TAGS: dict[int, int] = {
    90: 91,  # SecureDataLen / SecureData
    93: 89,  # SignatureLength / Signature
    95: 96,  # RawDataLength / RawData
    212: 213,  # XmlDataLen / XmlData
    348: 349,  # EncodedIssuerLen / EncodedIssuer
    350: 351,  # EncodedSecurityDescLen / EncodedSecurityDesc
    352: 353,  # EncodedListExecInstLen / EncodedListExecInst
    354: 355,  # EncodedTextLen / EncodedText
    356: 357,  # EncodedSubjectLen / EncodedSubject
    358: 359,  # EncodedHeadlineLen / EncodedHeadline
    360: 361,  # EncodedAllocTextLen / EncodedAllocText
    362: 363,  # EncodedUnderlyingIssuerLen / EncodedUnderlyingIssuer
    364: 365,  # EncodedUnderlyingSecurityDescLen / EncodedUnderlyingSecurityDesc
    445: 446,  # EncodedListStatusTextLen / EncodedListStatusText
    618: 619,  # EncodedLegIssuerLen / EncodedLegIssuer
    621: 622,  # EncodedLegSecurityDescLen / EncodedLegSecurityDesc
    1184: 1185,  # SecurityXMLLen / SecurityXML
    1277: 1278,  # DerivativeEncodedIssuerLen / DerivativeEncodedIssuer
    1280: 1281,  # DerivativeEncodedSecurityDescLen / DerivativeEncodedSecurityDesc
    1282: 1283,  # DerivativeSecurityXMLLen / DerivativeSecurityXML
    1397: 1398,  # EncodedMktSegmDescLen / EncodedMktSegmDesc
    1401: 1402,  # EncryptedPasswordLen / EncryptedPassword
    1403: 1404,  # EncryptedNewPasswordLen / EncryptedNewPassword
    1468: 1469,  # EncodedSecurityListDescLen / EncodedSecurityListDesc
    1525: 1527,  # EncodedDocumentationTextLen / EncodedDocumentationText
    1578: 1579,  # EncodedEventTextLen / EncodedEventText
    1620: 1621,  # InstrumentScopeEncodedSecurityDescLen / InstrumentScopeEncodedSecurityDesc
    1664: 1665,  # EncodedRejectTextLen / EncodedRejectText
    1678: 1697,  # EncodedOptionExpirationDescLen / EncodedOptionExpirationDesc
    1733: 1734,  # EncodedFirmAllocTextLen / EncodedFirmAllocText
    1871: 1872,  # LegSecurityXMLLen / LegSecurityXML
    1874: 1875,  # UnderlyingSecurityXMLLen / UnderlyingSecurityXML
    2072: 2073,  # EncodedUnderlyingEventTextLen / EncodedUnderlyingEventText
    2074: 2075,  # EncodedLegEventTextLen / EncodedLegEventText
    2111: 2112,  # EncodedAttachmentLen / EncodedAttachment
    2179: 2180,  # EncodedLegOptionExpirationDescLen / EncodedLegOptionExpirationDesc
    2287: 2288,  # EncodedUnderlyingOptionExpirationDescLen / EncodedUnderlyingOptionExpirationDesc
    2351: 2352,  # EncodedComplianceTextLen / EncodedComplianceText
    2372: 2371,  # EncodedTradeContinuationTextLen / EncodedTradeContinuationText
    2481: 2482,  # EncodedMDStatisticDescLen / EncodedMDStatisticDesc
    2494: 2493,  # EncodedLegDocumentationTextLen / EncodedLegDocumentationText
    2522: 2521,  # EncodedWarningTextLen / EncodedWarningText
    2637: 2638,  # EncodedMiscFeeSubTypeDescLen / EncodedMiscFeeSubTypeDesc
    2651: 2652,  # EncodedCommissionDescLen / EncodedCommissionDesc
    2665: 2666,  # EncodedAllocCommissionDescLen / EncodedAllocCommissionDesc
    2715: 2716,  # EncodedFinancialInstrumentFullNameLen / EncodedFinancialInstrumentFullName
    2718: 2719,  # EncodedLegFinancialInstrumentFullNameLen / EncodedLegFinancialInstrumentFullName
    2721: 2722,  # EncodedUnderlyingFinancialInstrumentFullNameLen / EncodedUnderlyingFinancialInstrumentFullName
    2797: 2798,  # EncodedMatchExceptionTextLen / EncodedMatchExceptionText
    2802: 2801,  # EncodedReplaceTextLen / EncodedReplaceText
    2809: 2808,  # EncodedCancelTextLen / EncodedCancelText
    2815: 2814,  # EncodedPostTradePaymentDescLen / EncodedPostTradePaymentDesc
    40004: 40005,  # EncodedAdditionalTermBondDescLen / EncodedAdditionalTermBondDesc
    40008: 40009,  # EncodedAdditionalTermBondIssuerLen / EncodedAdditionalTermBondIssuer
    40978: 40979,  # EncodedLegStreamTextLen / EncodedLegStreamText
    40980: 40981,  # EncodedLegProvisionTextLen / EncodedLegProvisionText
    40982: 40983,  # EncodedStreamTextLen / EncodedStreamText
    40984: 40985,  # EncodedPaymentTextLen / EncodedPaymentText
    40986: 40987,  # EncodedProvisionTextLen / EncodedProvisionText
    40988: 40989,  # EncodedUnderlyingStreamTextLen / EncodedUnderlyingStreamText
    41083: 41084,  # EncodedDeliveryStreamCycleDescLen / EncodedDeliveryStreamCycleDesc
    41101: 41102,  # EncodedMarketDisruptionFallbackUnderlierSecurityDescLen / EncodedMarketDisruptionFallbackUnderlierSecurityDesc
    41107: 41108,  # EncodedExerciseDescLen / EncodedExerciseDesc
    41256: 41257,  # EncodedStreamCommodityDescLen / EncodedStreamCommodityDesc
    41320: 41321,  # EncodedLegAdditionalTermBondDescLen / EncodedLegAdditionalTermBondDesc
    41324: 41325,  # EncodedLegAdditionalTermBondIssuerLen / EncodedLegAdditionalTermBondIssuer
    41458: 41459,  # EncodedLegDeliveryStreamCycleDescLen / EncodedLegDeliveryStreamCycleDesc
    41476: 41477,  # EncodedLegMarketDisruptionFallbackUnderlierSecurityDescLen / EncodedLegMarketDisruptionFallbackUnderlierSecurityDesc
    41482: 41483,  # EncodedLegExerciseDescLen / EncodedLegExerciseDesc
    41653: 41654,  # EncodedLegStreamCommodityDescLen / EncodedLegStreamCommodityDesc
    41710: 41711,  # EncodedUnderlyingAdditionalTermBondDescLen / EncodedUnderlyingAdditionalTermBondDesc
    41806: 41807,  # EncodedUnderlyingDeliveryStreamCycleDescLen / EncodedUnderlyingDeliveryStreamCycleDesc
    41811: 41812,  # EncodedUnderlyingExerciseDescLen / EncodedUnderlyingExerciseDesc
    41969: 41970,  # EncodedUnderlyingStreamCommodityDescLen / EncodedUnderlyingStreamCommodityDesc
    42025: 42026,  # EncodedUnderlyingAdditionalTermBondIssuerLen / EncodedUnderlyingAdditionalTermBondIssuer
    42171: 42172,  # EncodedUnderlyingProvisionTextLen / EncodedUnderlyingProvisionText
    42451: 42452,  # LegPaymentStreamFormulaImageLength / LegPaymentStreamFormulaImage
    42652: 42653,  # PaymentStreamFormulaImageLength / PaymentStreamFormulaImage
    42947: 42948,  # UnderlyingPaymentStreamFormulaImageLength / UnderlyingPaymentStreamFormulaImage
    43109: 42684,  # PaymentStreamFormulaLength / PaymentStreamFormula
    43110: 42486,  # LegPaymentStreamFormulaLength / LegPaymentStreamFormula
    43111: 42982,  # UnderlyingPaymentStreamFormulaLength / UnderlyingPaymentStreamFormula
}


#: Every NumInGroup field of the FIX.4.0 - FIX.5.0SP2 and FIXT.1.1 standard dictionaries.  A body
#: holding one of these with a flat (wire) value carries a repeating group whose fields must keep
#: their order, so ``encode`` does not sort it.
NUM_IN_GROUP_TAGS = frozenset(
    {
        33, 73, 78, 82, 85, 124, 136, 146, 199, 215, 232, 267, 268, 295, 296, 382, 384, 386, 398, 420, 428, 453,
        454, 457, 473, 510, 518, 534, 539, 552, 555, 558, 576, 580, 604, 627, 670, 683, 702, 711, 735, 753, 756,
        768, 778, 781, 801, 802, 804, 806, 809, 816, 862, 864, 870, 887, 897, 936, 938, 948, 952, 957, 981, 984,
        1016, 1018, 1052, 1058, 1062, 1116, 1120, 1141, 1158, 1165, 1175, 1177, 1201, 1205, 1218, 1232, 1234,
        1235, 1236, 1237, 1239, 1286, 1292, 1296, 1309, 1310, 1311, 1312, 1334, 1342, 1351, 1362, 1370, 1387,
        1413, 1414, 1445, 1461, 1475, 1483, 1491, 1494, 1499, 1508, 1514, 1516, 1519, 1529, 1534, 1540, 1559,
        1562, 1566, 1569, 1572, 1582, 1586, 1610, 1618, 1624, 1630, 1636, 1643, 1647, 1656, 1657, 1661, 1668,
        1669, 1671, 1676, 1677, 1694, 1700, 1703, 1707, 1772, 1773, 1777, 1789, 1791, 1793, 1795, 1812, 1829,
        1838, 1841, 1844, 1855, 1861, 1868, 1889, 1890, 1892, 1907, 1908, 1918, 1919, 1920, 1971, 1976, 1981,
        2045, 2053, 2056, 2059, 2076, 2080, 2104, 2113, 2218, 2250, 2253, 2254, 2258, 2304, 2308, 2312, 2345,
        2428, 2433, 2474, 2529, 2545, 2548, 2550, 2558, 2560, 2580, 2593, 2633, 2639, 2653, 2668, 2691, 2706,
        2709, 2734, 2746, 2772, 2781, 2845, 2849, 2864, 2871, 40000, 40019, 40022, 40040, 40042, 40046, 40049,
        40085, 40090, 40142, 40171, 40174, 40178, 40181, 40191, 40199, 40201, 40204, 40209, 40212, 40230, 40233,
        40238, 40241, 40277, 40278, 40367, 40374, 40414, 40418, 40448, 40473, 40495, 40533, 40537, 40540, 40656,
        40659, 40664, 40704, 40708, 40825, 40828, 40868, 40872, 40902, 40923, 40927, 40928, 40929, 40930, 40931,
        40932, 40933, 40934, 40935, 40936, 40937, 40938, 40939, 40940, 40941, 40942, 40943, 40944, 40945, 40946,
        40947, 40948, 40949, 40950, 40951, 40952, 40953, 40954, 40955, 40956, 40957, 40958, 40959, 40960, 40961,
        40962, 40966, 40967, 40968, 40969, 40970, 40971, 40972, 40973, 40974, 40975, 40976, 40977, 40994, 40997,
        41005, 41007, 41010, 41013, 41018, 41029, 41031, 41037, 41051, 41054, 41081, 41085, 41092, 41094, 41096,
        41116, 41137, 41140, 41152, 41161, 41192, 41220, 41224, 41227, 41230, 41237, 41241, 41249, 41277, 41280,
        41283, 41286, 41289, 41312, 41316, 41335, 41340, 41342, 41344, 41363, 41366, 41374, 41376, 41379, 41382,
        41387, 41398, 41400, 41408, 41422, 41425, 41452, 41456, 41460, 41467, 41469, 41471, 41491, 41512, 41515,
        41527, 41530, 41561, 41589, 41593, 41596, 41599, 41604, 41607, 41614, 41616, 41625, 41633, 41635, 41638,
        41646, 41674, 41677, 41680, 41683, 41686, 41713, 41716, 41724, 41726, 41729, 41732, 41737, 41748, 41750,
        41756, 41770, 41773, 41800, 41804, 41808, 41820, 41841, 41844, 41856, 41864, 41866, 41868, 41878, 41909,
        41937, 41941, 41944, 41947, 41954, 41962, 41990, 41993, 41996, 41999, 42002, 42036, 42039, 42041, 42060,
        42065, 42068, 42077, 42085, 42087, 42090, 42099, 42112, 42149, 42173, 42177, 42180, 42182, 42184, 42186,
        42188, 42190, 42198, 42200, 42203, 42214, 42236, 42272, 42274, 42294, 42296, 42306, 42310, 42364, 42366,
        42386, 42388, 42405, 42419, 42459, 42485, 42495, 42504, 42508, 42530, 42534, 42560, 42564, 42569, 42571,
        42581, 42606, 42620, 42660, 42683, 42696, 42705, 42709, 42731, 42735, 42761, 42765, 42770, 42772, 42775,
        42788, 42799, 42853, 42855, 42862, 42882, 42884, 42901, 42915, 42955, 42981, 42991, 43000, 43005, 43008,
        43030, 43034, 43060, 43064, 43069, 43071, 43074
    }
)
