"""``fixgate reflector`` (a child process) against a real quickfix initiator.

The reflector echoes NewOrderSingle, drops a PossResend=Y NewOrderSingle whose ClOrdID it already
echoed, and answers other application messages with BusinessMessageReject 380=3.  One quickfix
initiator logs on as TW (FIX.4.4), TW42 (FIX.4.2) and TW50SP2 (FIXT.1.1 / FIX.5.0SP2).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from twisted.trial.unittest import SkipTest

pytestmark = pytest.mark.interop
pytest.importorskip(
    "quickfix", reason="quickfix (the interop extra) is not installed: pip install -e '.[interop]'"
)

sys.path.insert(0, str(Path(__file__).parent))

from interop_support import FIX42, FIX44, FIX50SP2, TRANSACT_TIME, InteropTestCase, Version, order_fields  # noqa: E402
from qf_peer import PeerEvent, free_port, qf_settings  # noqa: E402

FIXGATE_CLI = Path(sys.executable).parent / "fixgate"
COUNTERPARTIES = {"TW": FIX44, "TW42": FIX42, "TW50SP2": FIX50SP2}


def reflector_cfg(workdir: Path) -> str:
    """The shipped reflector's settings (ISLD, ResetOnLogon=Y), on 127.0.0.1 with stores in ``workdir``."""
    sessions = "".join(
        f"\n[SESSION]\nBeginString={v.begin_string}\nTargetCompID={name}\n{v.fixgate_dictionary_lines}"
        for name, v in COUNTERPARTIES.items()
    )
    return (
        "[DEFAULT]\nConnectionType=acceptor\nSenderCompID=ISLD\nSocketAcceptAddress=127.0.0.1\nSocketAcceptPort=5001\n"
        f"NonStopSession=Y\nResetOnLogon=Y\nHeartBtInt=30\nUseDataDictionary=Y\nValidateUserDefinedFields=N\n"
        f"FileStorePath={workdir / 'reflector-store'}\nFileLogPath={workdir / 'reflector-log'}\n{sessions}"
    )


def on_session(sid: str, kind: str, msg_type: str, **tags: str) -> Callable[[PeerEvent], bool]:
    """Predicate: an event of session ``sid`` (quickfix's SessionID string) matching ``PeerEvent.is_``."""
    return lambda event: event.session == sid and event.is_(kind, msg_type, **tags)


def qf_session_text(name: str, version: Version) -> str:
    return f"BeginString={version.begin_string}\nSenderCompID={name}\nTargetCompID=ISLD\n{version.qf_dictionary_lines}"


class ReflectorTests(InteropTestCase):
    async def test_echo_possresend_duplicate_and_business_reject(self) -> None:
        if not FIXGATE_CLI.exists():
            raise SkipTest(f"{FIXGATE_CLI} is not installed")
        cfg = self.tmp / "reflector.cfg"
        cfg.write_text(reflector_cfg(self.tmp))
        port = free_port()
        reflector = self.spawn([str(FIXGATE_CLI), "reflector", "-c", str(cfg), "--port", str(port)])
        banner = await reflector.wait_output(b"listening on port", timeout=30)
        self.assertIn(str(port).encode(), banner)

        text = qf_settings(
            initiator=True,
            workdir=self.tmp,
            port=port,
            sessions=[qf_session_text(name, v) for name, v in COUNTERPARTIES.items()],
        )
        peer, qf = self.quickfix(text, initiator=True)
        for name, version in COUNTERPARTIES.items():
            sid = f"{version.begin_string}:{name}->ISLD"
            await qf.wait(lambda e, sid=sid: e.kind == "logon" and e.session == sid)

        for name, version in COUNTERPARTIES.items():
            sid = f"{version.begin_string}:{name}->ISLD"
            on = functools.partial(on_session, sid)
            # a NewOrderSingle comes back as it went out
            peer.send(order_fields(f"{name}-1"), "D", session=sid)
            echo: PeerEvent = await qf.wait(on("app_in", "D", t11=f"{name}-1"))
            self.assertEqual((echo.field(55), echo.field(38), echo.field(44)), ("IBM", "100", "10.5"))
            self.assertEqual(echo.field(8), version.begin_string)
            # a PossResend=Y repeat of the same ClOrdID is not echoed: the next distinct order is
            # the only thing that comes back
            peer.send(order_fields(f"{name}-1"), "D", header=[(97, "Y")], session=sid)
            peer.send(order_fields(f"{name}-2"), "D", session=sid)
            await qf.wait(on("app_in", "D", t11=f"{name}-2"))
            self.assertEqual(peer.count(on("app_in", "D", t11=f"{name}-1")), 1)
            echoes = [e.field(11) for e in peer.matching(on("app_in", "D"))]
            self.assertEqual(echoes, [f"{name}-1", f"{name}-2"])
            # an OrderCancelRequest is not supported: BusinessMessageReject 380=3
            cancel = [
                (11, f"{name}-C"),
                (38, "100"),
                (41, f"{name}-1"),
                (54, "1"),
                (55, "IBM"),
                (60, TRANSACT_TIME),
            ]
            peer.send(cancel, "F", session=sid)
            reject: PeerEvent = await qf.wait(on("app_in", "j"))
            self.assertEqual(reject.field(380), "3")
            self.assertIn("Unsupported Message Type", reject.field(58) or "")
            self.assertEqual(reject.field(372), "F")
            sent_cancel = peer.matching(on("app_out", "F"))[-1]
            self.assertEqual(reject.field(45), sent_cancel.field(34))

        self.assertEqual(peer.count(lambda e: e.msg_type == "3"), 0, "no session-level reject either way")
        self.assertTrue(reflector.running)
