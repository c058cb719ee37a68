"""Check the acceptance scripts against QuickFIX itself (the quickfix python binding, C++ engine).

Not a pytest module: a tool for whoever edits ``definitions/``.  It runs every given ``.def`` (all
of them by default) against a QuickFIX ``ThreadedSocketAcceptor`` set up like QuickFIX's own
acceptance server (``ISLD`` <- ``TW`` for every version, ``ResetOnLogon=Y``, the standard
dictionaries quickfix installs, ``ValidateUserDefinedFields=N``) with an application that behaves
like QuickFIX's ``at`` server: echo NewOrderSingle and SecurityDefinition (a copy of the message,
header included), drop a NewOrderSingle with PossResend=Y whose ClOrdID was already echoed, and
answer other application messages with UnsupportedMessageType.

Each script runs in its own process (QuickFIX keeps a process-wide session registry) against a
fresh acceptor, in real time (heartbeat scripts take seconds).  A script whose header carries
``# @quickfix-differs <why>`` documents a deliberate difference: its failure is reported as
expected (and its success as news).

    .venv/bin/python tests/session/acceptance/quickfix_oracle.py [script.def ...]
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import at_runner  # noqa: E402

DIFFERS = "# @quickfix-differs"


def _spec_dir() -> Path:
    return Path(sys.prefix) / "share" / "quickfix"


def acceptor_cfg(port: int, workdir: Path) -> str:
    spec = _spec_dir()
    sessions = "".join(
        f"\n[SESSION]\nBeginString={b}\nDataDictionary={spec}/FIX{b[4]}{b[6]}.xml\n"
        for b in ("FIX.4.0", "FIX.4.1", "FIX.4.2", "FIX.4.3", "FIX.4.4")
    )
    sessions += (
        f"\n[SESSION]\nBeginString=FIXT.1.1\nDefaultApplVerID=FIX.5.0SP2\n"
        f"TransportDataDictionary={spec}/FIXT11.xml\nAppDataDictionary={spec}/FIX50SP2.xml\n"
    )
    return (
        f"[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort={port}\nSocketAcceptHost=127.0.0.1\n"
        f"SocketReuseAddress=Y\nSenderCompID=ISLD\nTargetCompID=TW\nStartTime=00:00:00\nEndTime=00:00:00\n"
        f"ResetOnLogon=Y\nUseDataDictionary=Y\nValidateUserDefinedFields=N\nHeartBtInt=30\n"
        f"FileStorePath={workdir / 'store'}\nFileLogPath={workdir / 'log'}\n{sessions}"
    )


def run_one(path: Path) -> str | None:
    """Run one script against a fresh QuickFIX acceptor in this process: None or the failure."""
    import quickfix as fix  # type: ignore[import-not-found]

    class AtApplication(fix.Application):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.seen: set[tuple[str, str]] = set()

        def onCreate(self, session_id: object) -> None: ...
        def onLogon(self, session_id: object) -> None: ...
        def onLogout(self, session_id: object) -> None: ...
        def toAdmin(self, message: object, session_id: object) -> None: ...
        def fromAdmin(self, message: object, session_id: object) -> None: ...
        def toApp(self, message: object, session_id: object) -> None: ...

        def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
            msg_type = fix.MsgType()
            message.getHeader().getField(msg_type)
            if msg_type.getValue() not in ("D", "d"):
                raise fix.UnsupportedMessageType()
            if msg_type.getValue() == "D":
                cl_ord_id = fix.ClOrdID()
                message.getField(cl_ord_id)
                key = (cl_ord_id.getValue(), session_id.toString())
                poss_resend = fix.PossResend(False)
                if message.getHeader().isSetField(poss_resend):
                    message.getHeader().getField(poss_resend)
                if poss_resend.getValue() and key in self.seen:
                    return
                self.seen.add(key)
            fix.Session.sendToTarget(fix.Message(message), session_id)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = Path(tempfile.mkdtemp(prefix="fixgate-at-quickfix-"))
    cfg = workdir / "at.cfg"
    cfg.write_text(acceptor_cfg(port, workdir))
    settings = fix.SessionSettings(str(cfg))
    application = AtApplication()
    stores = fix.FileStoreFactory(settings)
    logs = fix.FileLogFactory(settings)
    acceptor = fix.ThreadedSocketAcceptor(application, stores, settings, logs)
    acceptor.start()
    try:
        at_runner.run_definition(path, external_port=port)
        return None
    except at_runner.ATFailure as exc:
        return str(exc)
    finally:
        acceptor.stop()  # stop(True) crashes quickfix 1.16
        del acceptor, stores, logs, settings, application


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(Path(argv[1]))))
        return 0
    paths = [Path(p) for p in argv] or list(at_runner.definitions(HERE / "definitions"))

    def one(path: Path) -> tuple[Path, str | None]:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(path)], capture_output=True, text=True, timeout=600
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode or not lines:
            return path, f"quickfix run failed (exit {done.returncode}): {done.stderr[-2000:]}"
        return path, json.loads(lines[-1])

    unexpected = 0
    with ThreadPoolExecutor(8) as pool:
        for path, failure in pool.map(one, paths):
            differs = DIFFERS in path.read_text(encoding="latin-1")
            name = f"{path.parent.name}/{path.stem}"
            if failure is None:
                print(f"PASS     {name}" + ("  (marked @quickfix-differs: passes now)" if differs else ""))
                continue
            if differs:
                print(f"DIFFERS  {name}  (as marked)")
                continue
            unexpected += 1
            print(f"FAIL     {name}\n    " + failure.split("--- transcript")[0].replace("\n", "\n    "))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
