"""Loading dictionaries: the project's own, the full QuickFIX ones, the model, and bad files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fix_engine.codec import FixMessage
from fix_engine.dictionary import (
    DataDictionary,
    DictionaryError,
    FieldRef,
    GroupDef,
    load_dictionary,
    load_dictionary_pair,
    load_project_dictionary,
    parse_dictionary_string,
    project_dictionary_dir,
    project_dictionary_path,
)

PROJECT = ["FIX42", "FIX44", "FIXT11", "FIX50SP2"]
SESSION_TYPES = {"0", "1", "2", "3", "4", "5", "A"}
APP_TYPES_44 = {"D", "F", "G", "H", "q", "r", "AF", "8", "9", "j", "V", "W", "X", "Y", "d", "f", "x", "y"}
QUICKFIX_SPEC_DIR = Path(sys.prefix) / "share" / "quickfix"
STANDARD = ["FIX40", "FIX41", "FIX42", "FIX43", "FIX44", "FIX50", "FIX50SP1", "FIX50SP2", "FIXT11"]


# --------------------------------------------------------------------------- project dictionaries


@pytest.mark.parametrize("name", PROJECT)
def test_project_dictionary_loads(name):
    dictionary = load_project_dictionary(name)
    assert dictionary.messages and dictionary.fields
    assert project_dictionary_path(name).parent == project_dictionary_dir()


def test_project_dictionaries_carry_the_messages_fixgate_speaks():
    fix42, fix44 = load_project_dictionary("FIX42"), load_project_dictionary("FIX44")
    fixt, fix50 = load_project_dictionary("FIXT11"), load_project_dictionary("FIX50SP2")
    assert set(fix44.messages) == SESSION_TYPES | APP_TYPES_44
    assert set(fix42.messages) == SESSION_TYPES | (APP_TYPES_44 - {"q", "r", "AF", "x", "y"})
    assert SESSION_TYPES <= set(fixt.messages)
    assert set(fix50.messages) == APP_TYPES_44
    for dictionary in (fix42, fix44, fix50):
        assert dictionary.messages["d"].name == "SecurityDefinition"
    assert (fix42.begin_string, fix44.begin_string, fixt.begin_string, fix50.begin_string) == (
        "FIX.4.2", "FIX.4.4", "FIXT.1.1", "FIX.5.0SP2",
    )
    assert fix50.appl_ver_id == "9" and fixt.is_transport and fixt.appl_ver_id is None


def test_project_path_accepts_begin_string_names():
    assert project_dictionary_path("FIX.4.4") == project_dictionary_path("FIX44.xml")
    with pytest.raises(FileNotFoundError):
        project_dictionary_path("FIX99")


def test_generated_files_name_their_source_and_license():
    text = project_dictionary_path("FIX44").read_text()
    assert "QuickFIX Software" in text and "tools/make_dictionaries.py" in text


# --------------------------------------------------------------------------- standard dictionaries


@pytest.mark.skipif(
    not QUICKFIX_SPEC_DIR.is_dir(),
    reason=f"QuickFIX spec files not installed ({QUICKFIX_SPEC_DIR}); install the quickfix wheel (extra 'interop')",
)
@pytest.mark.parametrize("name", STANDARD)
def test_full_standard_dictionary_loads(name):
    path = QUICKFIX_SPEC_DIR / f"{name}.xml"
    if not path.is_file():
        pytest.skip(f"{path} not installed")
    dictionary = load_dictionary(path)
    assert dictionary.messages
    for field in dictionary.fields.values():
        if field.type == "DATA":
            assert field.number in dictionary.data_length_tags.values(), field.name


# --------------------------------------------------------------------------- the model


def test_fields_and_enums(fix44):
    side = fix44.field(54)
    assert side is fix44.field("Side")
    assert side.type == "CHAR" and side.enums["1"] == "BUY" and b"2" in side.enum_values
    assert fix44.field(9999) is None


def test_header_and_trailer(fix44):
    assert fix44.header.required_tags == (8, 9, 35, 49, 56, 34, 52)
    assert fix44.trailer.required_tags == (10,)
    assert 627 in fix44.header.groups and 628 in fix44.header.all_tags


def test_components_are_inlined_with_nested_groups(fix44):
    body = fix44.messages["D"].body
    assert 55 in body.tags  # from the Instrument component
    parties = body.groups[453]
    assert isinstance(parties, GroupDef)
    assert parties.delimiter == 448 and parties.required_tags == (448,)
    assert list(parties.order) == [448, 447, 452, 802]
    sub = parties.nested[802]
    assert sub.delimiter == 523 and sub.member_tags == {523, 803}
    assert {523, 803} <= parties.all_tags
    assert "Parties" in fix44.components


def test_optional_component_clears_required(custom):
    assert custom.components["OptionalBits"].members == (FieldRef(58, "Text", True),)
    body = custom.messages["U1"].body
    assert body.required_tags == (11, 555)
    assert FieldRef(58, "Text", False) in body.members
    legs = body.groups[555]
    assert legs.required_tags == (600, 624)  # the delimiter and the required member
    assert legs.nested[683].required_tags == (688, 689)


def test_message_categories(fix44):
    assert fix44.messages["A"].is_admin and not fix44.messages["D"].is_admin


def test_model_is_frozen(fix44):
    with pytest.raises(AttributeError):
        fix44.fix_type = "FIXT"  # type: ignore[misc]
    with pytest.raises(TypeError):
        fix44.messages["ZZ"] = fix44.messages["D"]  # type: ignore[index]


def test_data_length_tags_parse_data_fields(fix44):
    raw = b"8=FIX.4.4\x019=5\x0135=0\x0195=3\x0196=a\x01b\x0110=000\x01"
    message = FixMessage.parse(raw, fix44.data_length_tags)  # type: ignore[arg-type]
    assert message.get_raw(96) == b"a\x01b"


def test_load_is_cached(tmp_path):
    path = project_dictionary_path("FIX42")
    assert load_dictionary(path) is load_dictionary(str(path))


def test_cache_notices_a_changed_file(tmp_path):
    path = tmp_path / "d.xml"
    path.write_text(MINIMAL.format(extra=""))
    first = load_dictionary(path)
    path.write_text(MINIMAL.format(extra='<field number="58" name="Text" type="STRING"/>'))
    second = load_dictionary(path)
    assert second is not first and 58 in second.fields


def test_dictionary_pair(fixt_pair):
    assert fixt_pair.transport.begin_string == "FIXT.1.1"
    assert fixt_pair.application().begin_string == "FIX.5.0SP2"
    assert fixt_pair.application("6") is None
    assert fixt_pair.is_msg_type("A") and fixt_pair.is_msg_type("D") and not fixt_pair.is_msg_type("ZZ")
    assert fixt_pair.is_admin_msg_type("A") and fixt_pair.is_app_msg_type("D")


def test_dictionary_pair_checks_roles():
    fixt, fix50 = project_dictionary_path("FIXT11"), project_dictionary_path("FIX50SP2")
    assert load_dictionary_pair(fixt, [fix50], "FIX.5.0SP2").default_appl_ver_id == "9"
    with pytest.raises(DictionaryError, match="not a FIXT transport"):
        load_dictionary_pair(fix50, [fix50])
    with pytest.raises(DictionaryError, match="not an application dictionary"):
        load_dictionary_pair(fixt, [fixt])
    with pytest.raises(ValueError, match="DefaultApplVerID"):
        load_dictionary_pair(fixt, [fix50], "6")


# --------------------------------------------------------------------------- bad files

MINIMAL = """<fix type="FIX" major="4" minor="4" servicepack="0">
 <header>
  <field name="BeginString" required="Y"/>
 </header>
 <messages>
  <message name="Heartbeat" msgtype="0" msgcat="admin">
   <field name="TestReqID" required="N"/>
  </message>
 </messages>
 <trailer/>
 <components/>
 <fields>
  <field number="8" name="BeginString" type="STRING"/>
  <field number="112" name="TestReqID" type="STRING"/>
  {extra}
 </fields>
</fix>
"""


def _error_for(tmp_path: Path, text: str) -> DictionaryError:
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(DictionaryError) as info:
        load_dictionary(path)
    error = info.value
    assert error.path.endswith("bad.xml")
    assert str(error).startswith(f"{error.path}:{error.line}: ") if error.line else True
    return error


def test_minimal_dictionary_loads(tmp_path):
    path = tmp_path / "ok.xml"
    path.write_text(MINIMAL.format(extra=""))
    assert isinstance(load_dictionary(path), DataDictionary)


def test_bad_xml_reports_line(tmp_path):
    error = _error_for(tmp_path, MINIMAL.format(extra="").replace("<trailer/>", "<trailer>"))
    assert error.line is not None and error.line >= 10 and "XML syntax error" in error.message


def test_unknown_field_reports_line(tmp_path):
    error = _error_for(tmp_path, MINIMAL.format(extra="").replace('name="TestReqID" required', 'name="NoSuchField" required'))
    assert error.line == 7 and "NoSuchField" in error.message


def test_unknown_component_reports_line(tmp_path):
    text = MINIMAL.format(extra="").replace(
        '<field name="TestReqID" required="N"/>', '<component name="Nowhere" required="N"/>'
    )
    error = _error_for(tmp_path, text)
    assert error.line == 7 and "Nowhere" in error.message


def test_duplicate_field_number_reports_line(tmp_path):
    error = _error_for(tmp_path, MINIMAL.format(extra='<field number="112" name="Other" type="STRING"/>'))
    assert error.line == 15 and "duplicate field number 112" in error.message


def test_duplicate_field_name_reports_line(tmp_path):
    error = _error_for(tmp_path, MINIMAL.format(extra='<field number="113" name="TestReqID" type="STRING"/>'))
    assert error.line == 15 and "duplicate field name" in error.message


def test_bad_type_reports_line(tmp_path):
    error = _error_for(tmp_path, MINIMAL.format(extra='<field number="58" name="Text" type="STRINGY"/>'))
    assert error.line == 15 and "STRINGY" in error.message


def test_bad_field_number_reports_line(tmp_path):
    error = _error_for(tmp_path, MINIMAL.format(extra='<field number="x1" name="Text" type="STRING"/>'))
    assert error.line == 15 and "x1" in error.message


def test_cyclic_component_reports_line(tmp_path):
    text = MINIMAL.format(extra="").replace(
        "<components/>",
        '<components>\n  <component name="A">\n   <component name="A" required="N"/>\n  </component>\n </components>',
    )
    error = _error_for(tmp_path, text)
    assert error.line in (12, 13) and "contains itself" in error.message


def test_duplicate_msg_type_reports_line(tmp_path):
    text = MINIMAL.format(extra="").replace(
        " </messages>", '  <message name="Again" msgtype="0" msgcat="admin"/>\n </messages>'
    )
    error = _error_for(tmp_path, text)
    assert error.line == 9 and "defined twice" in error.message


def test_missing_file():
    with pytest.raises(DictionaryError, match="cannot read"):
        load_dictionary("/nonexistent/FIX44.xml")


def test_string_source_is_named_in_errors():
    with pytest.raises(DictionaryError) as info:
        parse_dictionary_string("<fix><fields>", "inline.xml")
    assert info.value.path == "inline.xml" and info.value.line == 1
