"""Child process of test_crash_recovery: a fixgate acceptor (FileStore) that fills each 35=D with
a 35=8, and optionally dies between storing and sending.

    crash_child.py --port N --workdir DIR [--crash-on CLORDID]

With ``--crash-on``, ``FixProtocol.write`` is patched: when the outgoing bytes carry that ClOrdID
the process checks that the session already stored exactly these bytes under their MsgSeqNum
(``Outbound.send`` calls ``store.save_and_incr`` before it returns the ``Send`` action the
protocol writes), prints ``stored <seq> before write``, and ends with ``os._exit(9)``: no
cleanup, no flush, nothing written to the socket.

Prints ``crash_child: listening on port N`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from interop_support import FIX44, execution_report, fixgate_cfg  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402

from fix_engine.application import Application  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402
from fix_engine.transport.acceptor import AcceptorService  # noqa: E402
from fix_engine.transport.host import SessionRegistry  # noqa: E402
from fix_engine.transport.protocol import FixProtocol  # noqa: E402
from fix_engine.transport.session_builder import SessionBuilder  # noqa: E402


class Executor(Application):
    def __init__(self, registry: SessionRegistry) -> None:
        self.registry = registry

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        if message.msg_type == "D":
            self.registry.send_to_target(execution_report(message, fix42=False), session_id)


def crash_on(cl_ord_id: str) -> None:
    marker = f"\x0111={cl_ord_id}\x01".encode()
    original = FixProtocol.write

    def write(self: FixProtocol, data: bytes) -> None:
        if marker in data:
            seq = int(FixMessage.parse(data).get_raw(34))
            stored = dict(self.host.session.store.get_range(seq, seq))
            verdict = "stored" if stored.get(seq) == data else "NOT-stored"
            os.write(1, f"{verdict} {seq} before write\n".encode())
            os._exit(9)
        original(self, data)

    FixProtocol.write = write  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--crash-on", default=None)
    args = parser.parse_args()
    if args.crash_on:
        crash_on(args.crash_on)
    cfg = fixgate_cfg(initiator=False, version=FIX44, port=args.port, workdir=args.workdir)
    registry = SessionRegistry()
    service = AcceptorService(
        parse_config(cfg, "crash-child.cfg").sessions,
        SessionBuilder(Executor(registry)),
        reactor,
        registry=registry,
    )

    async def start() -> None:
        await service.listen()
        service.startService()
        reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
        print(f"crash_child: listening on port {args.port}", flush=True)

    def failed(failure: object) -> None:
        print(f"crash_child: failed to start: {failure}", file=sys.stderr, flush=True)
        reactor.stop()

    reactor.callWhenRunning(lambda: defer.ensureDeferred(start()).addErrback(failed))
    reactor.run()


if __name__ == "__main__":
    main()
