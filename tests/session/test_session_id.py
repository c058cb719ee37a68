"""SessionID: identity, hashing (computed once) and pickling across processes."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys

from fix_engine.session.session_id import SessionID


def test_equal_identities_are_equal_keys() -> None:
    a = SessionID("FIX.4.4", "BROKER", "CLIENT", session_qualifier="Q")
    b = SessionID("FIX.4.4", "BROKER", "CLIENT", session_qualifier="Q")
    assert a == b and hash(a) == hash(b)
    assert {a: 1}[b] == 1
    other = dataclasses.replace(a, target_sub_id="DESK")
    assert other != a and hash(other) == hash(SessionID("FIX.4.4", "BROKER", "CLIENT", "Q", target_sub_id="DESK"))
    assert "_hash" not in repr(a)


def test_a_pickled_session_id_is_a_key_in_another_process() -> None:
    sid = SessionID("FIX.4.4", "BROKER", "CLIENT", target_location_id="LDN")
    data = pickle.dumps(sid)
    code = (
        "import pickle, sys; from fix_engine.session.session_id import SessionID; "
        "sid = pickle.loads(sys.stdin.buffer.read()); "
        "print({SessionID('FIX.4.4', 'BROKER', 'CLIENT', target_location_id='LDN'): 'found'}.get(sid))"
    )
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=True)
    assert out.stdout.strip() == b"found"
