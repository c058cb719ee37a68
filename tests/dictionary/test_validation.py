"""validate(): one test per SessionRejectReason with the exact 373 and 371 values, plus settings."""

from __future__ import annotations

import pytest

from fix_engine.codec import FixMessage
from fix_engine.dictionary import (
    ValidationSettings,
    Validator,
    Violation,
    msg_type_category,
    validate,
)
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import SessionSettings


def pairs(violations: list[Violation]) -> list[tuple[int, int | None]]:
    """(SessionRejectReason, RefTagID) of each violation, as a session would send them."""
    return [(int(v.reason), v.tag) for v in violations]


# --------------------------------------------------------------------------- valid messages


def test_valid_new_order_single(fix44, build, nos_body):
    assert validate(build("D", nos_body), fix44) == []


def test_valid_heartbeat_and_logon(fix44, build):
    assert validate(build("0"), fix44) == []
    assert validate(build("A", [(98, b"0"), (108, b"30"), (141, b"Y")]), fix44) == []


def test_valid_fix42_order(fix42, build, nos_body):
    assert validate(build("D", nos_body, begin=b"FIX.4.2"), fix42) == []


# --------------------------------------------------------------------------- 0 invalid tag number


def test_0_invalid_tag_number(fix44, build, nos_body):
    assert pairs(validate(build("D", nos_body + [(4999, b"x")]), fix44)) == [(0, 4999)]


def test_0_user_defined_tag_only_when_validate_user_defined_fields(fix44, build, nos_body):
    message = build("D", nos_body + [(5001, b"x")])
    assert pairs(validate(message, fix44)) == [(0, 5001)]
    assert validate(message, fix44, ValidationSettings(validate_user_defined_fields=False)) == []


def test_0_allow_unknown_msg_fields_covers_tags_below_5000_only(fix44, build, nos_body):
    settings = ValidationSettings(allow_unknown_msg_fields=True)
    assert validate(build("D", nos_body + [(4999, b"x")]), fix44, settings) == []
    assert pairs(validate(build("D", nos_body + [(5001, b"x")]), fix44, settings)) == [(0, 5001)]


# --------------------------------------------------------------------------- 1 required tag missing


def test_1_required_body_tag_missing(fix44, build, nos_body):
    body = [f for f in nos_body if f[0] != 11]
    assert pairs(validate(build("D", body), fix44)) == [(1, 11)]


def test_1_required_header_tag_missing(fix44, build, nos_body):
    header = [(34, b"2"), (52, b"20240102-10:11:12.123"), (56, b"GW")]
    assert pairs(validate(build("D", nos_body, header=header), fix44)) == [(1, 49)]


def test_1_required_trailer_tag_missing(fix44, build, nos_body):
    message = build("D", nos_body)
    message.fields.pop()  # drop CheckSum
    assert pairs(validate(message, fix44)) == [(1, 10)]


def test_1_all_missing_tags_in_tag_order(fix44, build):
    """QuickFIX checks required tags from sorted sets: the first reported is the lowest tag
    (40 here, checked against QuickFIX 1.16), not the first in the dictionary (54)."""
    assert pairs(validate(build("D", [(11, b"X")]), fix44)) == [(1, 40), (1, 54), (1, 60)]


def test_1_required_group_missing(custom, build):
    assert pairs(validate(build("U1", [(11, b"A")]), custom)) == [(1, 555)]


def test_1_required_member_missing_in_group_entry(custom, build):
    body = [(11, b"A"), (555, b"2"), (600, b"X"), (624, b"1"), (600, b"Y")]
    assert pairs(validate(build("U1", body), custom)) == [(1, 624)]


def test_1_required_member_missing_in_nested_group_entry(custom, build):
    body = [(11, b"A"), (555, b"1"), (600, b"X"), (624, b"1"), (683, b"1"), (688, b"T")]
    assert pairs(validate(build("U1", body), custom)) == [(1, 689)]


def test_required_field_of_optional_component_is_not_required(custom, build):
    body = [(11, b"A"), (555, b"1"), (600, b"X"), (624, b"1")]
    assert validate(build("U1", body), custom) == []  # Text (58) is required only inside OptionalBits


# --------------------------------------------------------------------------- 2 not defined for message


def test_2_tag_not_defined_for_message_type(fix44, build):
    assert pairs(validate(build("0", [(44, b"1.5")]), fix44)) == [(2, 44)]


def test_2_group_member_outside_its_group(fix44, build, nos_body):
    assert pairs(validate(build("D", nos_body + [(448, b"PARTY")]), fix44)) == [(2, 448)]


def test_2_allow_unknown_msg_fields(fix44, build):
    settings = ValidationSettings(allow_unknown_msg_fields=True)
    assert validate(build("0", [(44, b"1.5")]), fix44, settings) == []


# --------------------------------------------------------------------------- 4 without value


def test_4_tag_specified_without_value(fix44, build, nos_body):
    message = build("D", nos_body + [(58, b"")])
    assert pairs(validate(message, fix44)) == [(4, 58)]
    assert validate(message, fix44, ValidationSettings(validate_fields_have_values=False)) == []


def test_4_empty_typed_value_is_not_a_format_error_when_values_not_required(fix44, build, nos_body):
    body = [(t, b"" if t == 44 else v) for t, v in nos_body]
    assert pairs(validate(build("D", body), fix44)) == [(4, 44)]
    assert validate(build("D", body), fix44, ValidationSettings(validate_fields_have_values=False)) == []


# --------------------------------------------------------------------------- 5 value out of range


def test_5_value_not_in_enum(fix44, build, nos_body):
    body = [(t, b"Z" if t == 54 else v) for t, v in nos_body]
    assert pairs(validate(build("D", body), fix44)) == [(5, 54)]


@pytest.mark.parametrize(("value", "expected"), [(b"1 2", []), (b"1", []), (b"1 T", [(5, 18)]), (b"1  2", [])])
def test_5_multiple_value_string_checks_each_value(fix44, build, nos_body, value, expected):
    assert pairs(validate(build("D", nos_body + [(18, value)]), fix44)) == expected


def test_5_multiple_char_value_custom_field(custom, build):
    base = [(11, b"A"), (555, b"1"), (600, b"X"), (624, b"1")]
    assert validate(build("U1", base + [(20002, b"A D")]), custom) == []
    assert pairs(validate(build("U1", base + [(20002, b"A X")]), custom)) == [(5, 20002)]
    assert pairs(validate(build("U1", base + [(20002, b"AD")]), custom)) == [(6, 20002)]


def test_5_enum_in_group_entry(custom, build):
    body = [(11, b"A"), (555, b"1"), (600, b"X"), (624, b"7")]
    assert pairs(validate(build("U1", body), custom)) == [(5, 624)]


# --------------------------------------------------------------------------- 6 data format


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        (38, b"abc"),  # Qty
        (44, b"1.2.3"),  # Price
        (60, b"20240102 10:11:12"),  # UTCTimestamp
        (60, b"20241302-10:11:12"),  # month 13
        (40, b"12"),  # CHAR outside the enum and not one character
        (34, b"-1"),  # SeqNum in the header
    ],
)
def test_6_incorrect_data_format(fix44, build, nos_body, tag, value):
    body = [(t, value if t == tag else v) for t, v in nos_body]
    header = [(t, value if t == tag else v) for t, v in [(34, b"2"), (49, b"C"), (52, b"20240102-10:11:12"), (56, b"G")]]
    assert pairs(validate(build("D", body, header=header), fix44)) == [(6, tag)]


@pytest.mark.parametrize(
    ("tag", "value", "ok"),
    [
        (126, b"20240102-10:11:12.123456", True),  # ExpireTime, microseconds
        (126, b"20240102-10:11:12.123456789", True),  # nanoseconds
        (126, b"20240102-25:11:12", False),
        (432, b"20240229", True),  # ExpireDate, LocalMktDate
        (432, b"2024022", False),
        (200, b"202403", True),  # MaturityMonthYear
        (200, b"202403w2", True),
        (200, b"202413", False),
        (110, b"-5", True),  # MinQty (Qty)
        (110, b"1e5", False),
        (210, b"10", True),  # MaxShow
        (120, b"USD", True),  # SettlCurrency (CURRENCY): no format check
    ],
)
def test_6_formats_of_optional_fields(fix44, build, nos_body, tag, value, ok):
    result = pairs(validate(build("D", nos_body + [(tag, value)]), fix44))
    assert result == ([] if ok else [(6, tag)])


def test_6_group_count_not_a_number(fix44, build, nos_body):
    body = nos_body + [(453, b"x"), (448, b"P"), (447, b"D"), (452, b"1")]
    assert pairs(validate(build("D", body), fix44)) == [(6, 453)]


# --------------------------------------------------------------------------- 11 invalid MsgType


def test_11_invalid_msg_type(fix44, build):
    assert pairs(validate(build("ZZ"), fix44)) == [(11, 35)]


def test_11_check_msg_type_off(fix44, build):
    assert validate(build("ZZ", [(58, b"hello")]), fix44, ValidationSettings(check_msg_type=False)) == []


def test_11_unknown_msg_type_still_reports_unknown_tags(fix44, build):
    assert pairs(validate(build("ZZ", [(4999, b"x")]), fix44)) == [(11, 35), (0, 4999)]


def test_msg_type_category(fix44, fixt_pair):
    assert msg_type_category(fix44, "A") == "admin"
    assert msg_type_category(fix44, "D") == "app"
    assert msg_type_category(fix44, "ZZ") is None
    assert msg_type_category(fixt_pair, "5") == "admin"
    assert msg_type_category(fixt_pair, "8") == "app"
    assert fix44.is_admin_msg_type("0") and not fix44.is_admin_msg_type("D")
    assert fix44.is_app_msg_type("D") and not fix44.is_app_msg_type("ZZ")


# --------------------------------------------------------------------------- 13 more than once


def test_13_tag_appears_more_than_once(fix44, build, nos_body):
    assert pairs(validate(build("D", nos_body + [(11, b"AGAIN")]), fix44)) == [(13, 11)]


def test_13_repeated_member_in_one_group_entry(custom, build):
    body = [(11, b"A"), (555, b"1"), (600, b"X"), (624, b"1"), (624, b"2")]
    assert pairs(validate(build("U1", body), custom)) == [(13, 624)]


def test_group_members_may_repeat_across_entries(custom, build):
    body = [(11, b"A"), (555, b"2"), (600, b"X"), (624, b"1"), (600, b"Y"), (624, b"2")]
    assert validate(build("U1", body), custom) == []


# --------------------------------------------------------------------------- 14 out of required order


def test_14_header_field_after_body(fix44, build, nos_body):
    header = [(34, b"2"), (52, b"20240102-10:11:12.123"), (56, b"GW")]
    message = build("D", nos_body + [(49, b"CLIENT")], header=header)
    assert pairs(validate(message, fix44)) == [(14, 49)]
    assert validate(message, fix44, ValidationSettings(validate_fields_out_of_order=False)) == []


def test_14_body_field_after_trailer(fix44, raw, nos_body):
    fields = [(8, b"FIX.4.4"), (35, b"D"), (34, b"2"), (49, b"C"), (52, b"20240102-10:11:12"), (56, b"G")]
    fields += nos_body[:-1] + [(93, b"3"), (89, b"s\x01g"), nos_body[-1]]
    message = raw(fields, fix44.data_length_tags)
    assert message.fields[-2] == (60, b"20240102-10:11:12.123")
    assert pairs(validate(message, fix44)) == [(14, 60)]
    assert validate(message, fix44, ValidationSettings(validate_fields_out_of_order=False)) == []


def test_14_first_three_fields_not_8_9_35(fix44, raw, nos_body):
    message = raw([(8, b"FIX.4.4"), (34, b"2"), (35, b"D"), (49, b"C"), (52, b"20240102-10:11:12"), (56, b"G")] + nos_body)
    assert pairs(validate(message, fix44)) == [(14, 34)]
    assert validate(message, fix44, ValidationSettings(validate_fields_out_of_order=False)) == []


def test_14_field_after_checksum(fix44, build, nos_body):
    message = build("D", nos_body[:-1])
    message.fields.append(nos_body[-1])
    assert pairs(validate(message, fix44)) == [(14, 60)]


# --------------------------------------------------------------------------- 15 group order


def test_15_group_entry_not_starting_with_delimiter(fix44, build, nos_body):
    """Members before the delimiter count as an entry (QuickFIX's parser starts one there): a
    NumInGroup that does not count them is reported first (16, what QuickFIX 1.16 answers), then
    the missing delimiter (15, the FIX session test case 14j)."""
    body = nos_body + [(453, b"1"), (447, b"D"), (448, b"P"), (452, b"1")]
    assert pairs(validate(build("D", body), fix44)) == [(16, 453), (15, 447)]
    body = nos_body + [(453, b"2"), (447, b"D"), (448, b"P"), (452, b"1")]
    assert pairs(validate(build("D", body), fix44)) == [(15, 447)]


def test_15_fields_out_of_order_inside_entry(fix44, build, nos_body):
    body = nos_body + [(453, b"1"), (448, b"P"), (452, b"1"), (447, b"D")]
    message = build("D", body)
    assert pairs(validate(message, fix44)) == [(15, 447)]
    assert validate(message, fix44, ValidationSettings(validate_fields_out_of_order=False)) == []


# --------------------------------------------------------------------------- 16 NumInGroup


def test_16_count_higher_than_entries(fix44, build, nos_body):
    body = nos_body + [(453, b"2"), (448, b"P"), (447, b"D"), (452, b"1")]
    assert pairs(validate(build("D", body), fix44)) == [(16, 453)]


def test_16_count_lower_than_entries(fix44, build, nos_body):
    body = nos_body + [(453, b"1"), (448, b"P"), (447, b"D"), (448, b"Q"), (447, b"D")]
    assert pairs(validate(build("D", body), fix44)) == [(16, 453)]


def test_nested_groups_valid_and_nested_count_wrong(fix44, build, nos_body):
    entry = [(448, b"P"), (447, b"D"), (452, b"1"), (802, b"2"), (523, b"a"), (803, b"1"), (523, b"b"), (803, b"2")]
    body = nos_body + [(453, b"2"), *entry, (448, b"Q"), (447, b"D"), (452, b"3")]
    assert validate(build("D", body), fix44) == []
    wrong = [(802, b"3") if f == (802, b"2") else f for f in body]
    assert pairs(validate(build("D", wrong), fix44)) == [(16, 802)]


def test_group_followed_by_body_field(fix44, build, nos_body):
    body = nos_body[:3] + [(453, b"1"), (448, b"P"), (447, b"D"), (452, b"1")] + nos_body[3:]
    assert validate(build("D", body), fix44) == []


def test_group_in_header(fix44, build, nos_body):
    header = [(34, b"2"), (49, b"C"), (52, b"20240102-10:11:12"), (56, b"G"), (627, b"1"), (628, b"HOP"), (630, b"7")]
    assert validate(build("D", nos_body, header=header), fix44) == []


def test_market_data_request_with_groups(fix44, build):
    body = [
        (262, b"MD1"), (263, b"1"), (264, b"0"),
        (267, b"2"), (269, b"0"), (269, b"1"),
        (146, b"1"), (55, b"AAPL"),
    ]
    assert validate(build("V", body), fix44) == []
    bad = [(146, b"1"), (65, b"X"), (55, b"AAPL")]
    assert pairs(validate(build("V", body[:-2] + bad), fix44)) == [(16, 146), (15, 65)]


# --------------------------------------------------------------------------- order of violations


def test_structure_violations_come_before_value_violations(fix44, build, nos_body):
    body = [(t, b"Z" if t == 54 else v) for t, v in nos_body] + [(11, b"AGAIN")]
    assert pairs(validate(build("D", body), fix44)) == [(13, 11), (5, 54)]


def test_required_before_value_violations(fix44, build, nos_body):
    body = [(t, b"Z" if t == 54 else v) for t, v in nos_body if t != 40]
    assert pairs(validate(build("D", body), fix44)) == [(1, 40), (5, 54)]


def test_violation_text_is_quickfix_wording(fix44, build):
    (violation,) = validate(build("ZZ"), fix44)
    assert violation.text == "Invalid MsgType"


# --------------------------------------------------------------------------- data fields


def test_data_field_with_soh_inside(fix44, build, nos_body):
    message = build("D", nos_body + [(354, b"5"), (355, b"a\x01b=c")], data_length_tags=dict(fix44.data_length_tags))
    assert (355, b"a\x01b=c") in message.fields
    assert validate(message, fix44) == []


def test_data_length_pairs(fix44, fixt_pair):
    assert fix44.data_length_tags[93] == 89
    assert fix44.data_length_tags[95] == 96
    assert fix44.data_length_tags[354] == 355
    assert fixt_pair.data_length_tags[90] == 91


# --------------------------------------------------------------------------- custom fields


def test_custom_field_defined_for_message(custom, build):
    body = [(11, b"A"), (555, b"1"), (600, b"X"), (624, b"1"), (20001, b"FAST")]
    assert validate(build("U1", body), custom) == []


def test_custom_field_not_defined_for_message(custom, build):
    assert pairs(validate(build("0", [(20001, b"FAST")]), custom)) == [(2, 20001)]
    assert validate(build("0", [(20001, b"FAST")]), custom, ValidationSettings(validate_user_defined_fields=False)) == []


def test_custom_field_value_checked_even_when_not_validated(custom, build):
    settings = ValidationSettings(validate_user_defined_fields=False)
    assert pairs(validate(build("0", [(20002, b"Q")]), custom, settings)) == [(5, 20002)]


# --------------------------------------------------------------------------- length and checksum


def test_length_and_checksum_only_when_asked(fix44, build, nos_body):
    message = build("D", nos_body)
    on = ValidationSettings(validate_length_and_checksum=True)
    assert validate(message, fix44, on) == []
    tampered = FixMessage(message.fields[:-1] + [(10, b"999")])
    assert validate(tampered, fix44) == []
    (violation,) = validate(tampered, fix44, on)
    assert violation.garbled and violation.tag == 10
    short = FixMessage([message.fields[0], (9, b"5"), *message.fields[2:]])
    (violation,) = validate(short, fix44, on)
    assert violation.garbled and violation.tag == 9


# --------------------------------------------------------------------------- FIXT.1.1


def test_fixt_session_message_uses_transport(fixt_pair, build):
    logon = build("A", [(98, b"0"), (108, b"30"), (1137, b"9")], begin=b"FIXT.1.1")
    assert validate(logon, fixt_pair) == []
    assert pairs(validate(build("A", [(98, b"0"), (108, b"30")], begin=b"FIXT.1.1"), fixt_pair)) == [(1, 1137)]


def test_fixt_app_message_uses_default_appl_ver_id(fixt_pair, build, nos_body):
    assert validate(build("D", nos_body, begin=b"FIXT.1.1"), fixt_pair) == []
    body = [f for f in nos_body if f[0] != 11]
    assert pairs(validate(build("D", body, begin=b"FIXT.1.1"), fixt_pair)) == [(1, 11)]


def test_fixt_appl_ver_id_in_header(fixt_pair, build, nos_body):
    header = [(34, b"2"), (49, b"C"), (52, b"20240102-10:11:12"), (56, b"G"), (1128, b"9")]
    assert validate(build("D", nos_body, begin=b"FIXT.1.1", header=header), fixt_pair) == []
    header[-1] = (1128, b"6")
    assert pairs(validate(build("D", nos_body, begin=b"FIXT.1.1", header=header), fixt_pair)) == [(18, 1128)]


def test_fixt_transport_alone_does_not_know_app_messages(fixt_pair, build, nos_body):
    violations = pairs(validate(build("D", nos_body, begin=b"FIXT.1.1"), fixt_pair.transport))
    assert violations[0] == (11, 35)
    assert set(violations[1:]) == {(0, tag) for tag, _ in nos_body}  # no application field is known


def test_fixt_session_messages_know_only_transport_fields(fixt_pair, build):
    # as in QuickFIX, a session message is checked against the transport dictionary alone
    assert pairs(validate(build("0", [(44, b"1")], begin=b"FIXT.1.1"), fixt_pair)) == [(0, 44)]
    assert pairs(validate(build("0", [(58, b"hi")], begin=b"FIXT.1.1"), fixt_pair)) == [(2, 58)]


# --------------------------------------------------------------------------- settings plumbing


def test_settings_from_session_settings():
    session = SessionSettings(
        SessionID("FIX.4.4", "GW", "CLIENT"),
        validate_fields_out_of_order=False,
        allow_unknown_msg_fields=True,
        validate_length_and_checksum=True,
    )
    settings = ValidationSettings.from_session_settings(session)
    assert settings.validate_fields_out_of_order is False
    assert settings.allow_unknown_msg_fields is True
    assert settings.validate_length_and_checksum is False  # FrameParser's job


def test_validator_is_reusable_and_compiles_once(fix44, build, nos_body):
    validator = Validator(fix44)
    message = build("D", nos_body)
    assert validator.validate(message) == [] and validator.validate(message) == []
    assert list(validator._compiled) == [b"D"]
