"""Every .cfg shipped in session_configs/ parses, and the ones this package owns say what they should."""

from __future__ import annotations

from pathlib import Path

import pytest

from fix_engine.config import load_config
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import ConnectionType

CONFIG_DIR = Path(__file__).resolve().parents[2] / "session_configs"
SHIPPED = sorted(CONFIG_DIR.glob("*.cfg"))


def test_the_owned_configs_are_there() -> None:
    names = {path.name for path in SHIPPED}
    assert {"reflector.cfg", "client_initiator.cfg", "tls_acceptor.cfg", "tls_initiator.cfg"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_config_parses(path: Path) -> None:
    config = load_config(path)
    assert config.sessions
    for settings in config.sessions:
        assert settings.source.startswith(f"{path}:")


def test_reflector() -> None:
    config = load_config(CONFIG_DIR / "reflector.cfg")
    ids = {s.session_id for s in config.sessions}
    assert ids == {
        SessionID("FIX.4.4", "ISLD", "TW"),
        SessionID("FIX.4.0", "ISLD", "TW40"),
        SessionID("FIX.4.1", "ISLD", "TW41"),
        SessionID("FIX.4.2", "ISLD", "TW42"),
        SessionID("FIX.4.3", "ISLD", "TW43"),
        SessionID("FIX.4.4", "ISLD", "TW44"),
        SessionID("FIXT.1.1", "ISLD", "TW50"),
        SessionID("FIXT.1.1", "ISLD", "TW50SP1"),
        SessionID("FIXT.1.1", "ISLD", "TW50SP2"),
    } | {SessionID(begin, "ISLD", "TW") for begin in ("FIX.4.0", "FIX.4.1", "FIX.4.2", "FIX.4.3", "FIXT.1.1")}
    for s in config.sessions:
        assert s.connection_type is ConnectionType.ACCEPTOR
        assert s.socket_accept_port == 5001
        assert s.reset_on_logon
        assert s.schedule is not None and s.schedule.non_stop
        if s.session_id.is_fixt:
            assert s.transport_data_dictionary == "FIXT11.xml"
            assert s.app_data_dictionary == s.default_appl_ver_name.replace(".", "") + ".xml"
        else:
            assert s.data_dictionary == s.session_id.begin_string.replace(".", "") + ".xml"
    by_target = {s.session_id.target_comp_id: s.default_appl_ver_id for s in config.sessions}
    assert (by_target["TW50"], by_target["TW50SP1"], by_target["TW50SP2"]) == ("7", "8", "9")


def test_client_initiator() -> None:
    (s,) = load_config(CONFIG_DIR / "client_initiator.cfg").sessions
    assert s.session_id == SessionID("FIX.4.4", "CLIENT1", "FIXGATE")
    assert s.is_initiator
    assert s.socket_connect_hosts == (("127.0.0.1", 9878),)
    assert (s.heart_bt_int, s.reconnect_interval) == (30, 5.0)
    assert s.file_store_path == str(CONFIG_DIR / "store")
    assert s.file_log_path == str(CONFIG_DIR / "log")


def test_tls_pair() -> None:
    (acceptor,) = load_config(CONFIG_DIR / "tls_acceptor.cfg").sessions
    (initiator,) = load_config(CONFIG_DIR / "tls_initiator.cfg").sessions
    assert acceptor.socket_use_ssl and initiator.socket_use_ssl
    assert acceptor.certificate_verify_level == 2
    assert acceptor.server_certificate_file == str(CONFIG_DIR / "certs" / "server.crt")
    assert acceptor.server_certificate_key_file == str(CONFIG_DIR / "certs" / "server.key")
    assert initiator.client_certificate_file == str(CONFIG_DIR / "certs" / "client.crt")
    assert initiator.client_certificate_key_file == str(CONFIG_DIR / "certs" / "client.key")
    assert acceptor.certification_authorities_file == initiator.certification_authorities_file
    assert acceptor.is_templated
    assert initiator.socket_connect_hosts == (("127.0.0.1", acceptor.socket_accept_port),)
    assert initiator.session_id.target_comp_id == acceptor.session_id.sender_comp_id
