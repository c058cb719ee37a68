"""Value format checks per FIX field type: ``bytes -> bool`` functions, no regexes.

:func:`checker_for` returns the check for a dictionary type name (``None`` for types whose
every non-empty value is well formed, such as STRING or DATA).  Validation reports a value
failing its check as SessionRejectReason 6, "Incorrect data format for value".
"""

from __future__ import annotations

from collections.abc import Callable

ValueCheck = Callable[[bytes], bool]

_DIGITS = b"0123456789"
_ZERO_DIGITS = bytes.maketrans(_DIGITS, b"0" * 10)
_FRACTIONS = [b""] + [b"." + b"0" * n for n in range(1, 10)]  # QuickFIX accepts any sub-second precision
_TIMESTAMP_SHAPES = frozenset(b"00000000-00:00:00" + f for f in _FRACTIONS)
_TIME_SHAPES = frozenset(b"00:00:00" + f for f in _FRACTIONS)



def is_int(value: bytes) -> bool:
    """INT: optional leading ``-``, then digits."""
    if value.isdigit():
        return True
    return value[:1] == b"-" and value[1:].isdigit()


def is_non_negative_int(value: bytes) -> bool:
    """NUMINGROUP, SEQNUM, LENGTH: digits only."""
    return value.isdigit()


def is_positive_int(value: bytes) -> bool:
    """TAGNUM: a positive number without leading zero."""
    return value.isdigit() and value[:1] != b"0"


def is_float(value: bytes) -> bool:
    """FLOAT, PRICE, QTY, AMT, PERCENTAGE, PRICEOFFSET: ``-``? digits with at most one ``.``."""
    if value.isdigit():
        return True
    rest = value.translate(None, _DIGITS)
    if not rest:
        return False
    if rest == b".":
        return len(value) > 1
    if rest == b"-":
        return value[:1] == b"-" and len(value) > 1
    if rest == b"-.":
        return value[:1] == b"-" and len(value) > 2
    return False


def is_char(value: bytes) -> bool:
    """CHAR: exactly one character."""
    return len(value) == 1


def is_boolean(value: bytes) -> bool:
    """BOOLEAN: ``Y`` or ``N``."""
    return value == b"Y" or value == b"N"


#: valid MMDD and HH:MM texts: one set lookup instead of digit arithmetic (hot path)
_MONTH_DAYS = frozenset(b"%02d%02d" % (m, d) for m in range(1, 13) for d in range(1, 32))
_HOURS_MINUTES = frozenset(b"%02d:%02d" % (h, m) for h in range(24) for m in range(60))


def _date_ok(v: bytes) -> bool:
    # v starts with YYYYMMDD, digits already checked
    return v[4:8] in _MONTH_DAYS


def is_utc_timestamp(value: bytes) -> bool:
    """UTCTimestamp: ``YYYYMMDD-HH:MM:SS`` with optional ``.s`` to ``.sssssssss``."""
    return (
        value.translate(_ZERO_DIGITS) in _TIMESTAMP_SHAPES
        and value[4:8] in _MONTH_DAYS
        and value[9:14] in _HOURS_MINUTES
        and value[15:17] <= b"60"  # 60 = leap second
    )


def is_utc_time_only(value: bytes) -> bool:
    """UTCTimeOnly / LocalMktTime: ``HH:MM:SS`` with optional fraction."""
    return value.translate(_ZERO_DIGITS) in _TIME_SHAPES and value[0:5] in _HOURS_MINUTES and value[6:8] <= b"60"


def is_date(value: bytes) -> bool:
    """UTCDateOnly, LocalMktDate, UTCDate, DATE: ``YYYYMMDD``."""
    return len(value) == 8 and value.isdigit() and _date_ok(value)


def is_month_year(value: bytes) -> bool:
    """MonthYear: ``YYYYMM``, ``YYYYMMDD`` or ``YYYYMMwN`` (week 1-5)."""
    n = len(value)
    if n < 6 or not value[:6].isdigit():
        return False
    month = int(value[4:6])
    if not 1 <= month <= 12:
        return False
    if n == 6:
        return True
    if n == 8:
        if value[6:7] == b"w":
            return value[7:8] in (b"1", b"2", b"3", b"4", b"5")
        return value.isdigit() and _date_ok(value)
    return False


def is_day_of_month(value: bytes) -> bool:
    """DayOfMonth: 1 - 31."""
    return value.isdigit() and 1 <= int(value) <= 31


def _hm_ok(value: bytes) -> bool:
    # value is exactly 5 bytes, HH:MM
    return value in _HOURS_MINUTES


def _fraction_ok(fraction: bytes) -> bool:
    # fraction includes the leading '.'; 1 to 9 digits
    return fraction[:1] == b"." and 2 <= len(fraction) <= 10 and fraction[1:].isdigit()


def _tz_suffix_ok(suffix: bytes) -> bool:
    # "", "Z", "+hh", "-hh", "+hh:mm", "-hh:mm"
    if not suffix or suffix == b"Z":
        return True
    if suffix[:1] not in (b"+", b"-"):
        return False
    offset = suffix[1:]
    if len(offset) == 2:
        return offset.isdigit() and int(offset) <= 14
    if len(offset) == 5:
        return offset[2:3] == b":" and offset[:2].isdigit() and offset[3:].isdigit() and int(offset[:2]) <= 14 and int(offset[3:]) <= 59
    return False


def is_tz_time_only(value: bytes) -> bool:
    """TZTimeOnly: ``HH:MM[:SS[.s...]]`` then ``Z`` or ``+hh[:mm]``/``-hh[:mm]`` (or nothing)."""
    if len(value) < 5 or not _hm_ok(value[:5]):
        return False
    rest = value[5:]
    if rest[:1] == b":":
        if len(rest) < 3 or not rest[1:3].isdigit() or int(rest[1:3]) > 60:
            return False
        rest = rest[3:]
        if rest[:1] == b".":
            end = 1
            while end < len(rest) and rest[end : end + 1].isdigit():
                end += 1
            if not _fraction_ok(rest[:end]):
                return False
            rest = rest[end:]
    return _tz_suffix_ok(rest)


def is_tz_timestamp(value: bytes) -> bool:
    """TZTimestamp: ``YYYYMMDD-`` then a TZTimeOnly."""
    return len(value) > 9 and value[8:9] == b"-" and is_date(value[:8]) and is_tz_time_only(value[9:])


def is_multiple_char_value(value: bytes) -> bool:
    """MultipleCharValue: single characters separated by single spaces."""
    return all(len(part) == 1 for part in value.split(b" "))


_CHECKS: dict[str, ValueCheck] = {
    "INT": is_int,
    "NUMINGROUP": is_non_negative_int,
    "SEQNUM": is_non_negative_int,
    "LENGTH": is_non_negative_int,
    "TAGNUM": is_positive_int,
    "DAYOFMONTH": is_day_of_month,
    "FLOAT": is_float,
    "PRICE": is_float,
    "QTY": is_float,
    "AMT": is_float,
    "PERCENTAGE": is_float,
    "PRICEOFFSET": is_float,
    "CHAR": is_char,
    "BOOLEAN": is_boolean,
    "UTCTIMESTAMP": is_utc_timestamp,
    "TIME": is_utc_timestamp,  # FIX.4.0/4.1 name for UTCTimestamp
    "UTCTIMEONLY": is_utc_time_only,
    "LOCALMKTTIME": is_utc_time_only,
    "UTCDATEONLY": is_date,
    "UTCDATE": is_date,
    "DATE": is_date,
    "LOCALMKTDATE": is_date,
    "MONTHYEAR": is_month_year,
    "TZTIMEONLY": is_tz_time_only,
    "TZTIMESTAMP": is_tz_timestamp,
    "MULTIPLECHARVALUE": is_multiple_char_value,
}


def checker_for(field_type: str) -> ValueCheck | None:
    """The format check for a dictionary type, or ``None`` when any non-empty value is valid."""
    return _CHECKS.get(field_type.upper())
