"""Test-only launcher: ``fixgate`` with fault injection (never imported by production code).

``FIXGATE_FAULT=crash_after_venue_fill:<n>`` kills this process (SIGKILL) when the gateway receives
the n-th Fill event from a venue - after the venue journaled and applied the trade, before the
gateway queued the booking or generated the ExecutionReport (and before the counterparty's fill
of the same trade is even delivered).

``crash_after_venue_replaced:<n>`` / ``crash_after_venue_cancelled:<n>``: the same for the n-th
Replaced / Cancelled event (the venue applied it; the registry close and the report never happen).

``FIXGATE_FAULT=crash_after_fill_booked:<n>`` kills it when a registry batch that brings the number
of booked fills to n or more has committed - back on the reactor, before the batch's callbacks
run and before the Outbox releases (stores) the ExecutionReports of those fills.

Without the variable this is plain ``fixgate``.
"""

from __future__ import annotations

import os
import signal
import sys


def _install_fault(spec: str) -> None:
    kind, _, arg = spec.partition(":")
    limit = int(arg)
    if kind == "crash_after_fill_booked":
        from brokers.client import writer

        finish = writer.RegistryWriter._finish
        booked = [0]

        def _finish(self, batch, results, snapshot):  # type: ignore[no-untyped-def]
            booked[0] += sum(1 for op, err in zip(batch.ops, results, strict=True)
                             if isinstance(op, writer.BookFill) and err is None)
            if booked[0] >= limit:
                sys.stdout.write(f"FAULT crash_after_fill_booked {booked[0]}\n")
                sys.stdout.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            return finish(self, batch, results, snapshot)

        writer.RegistryWriter._finish = _finish  # type: ignore[method-assign]
        return
    from brokers import client_fix
    from venues import base

    events = {"crash_after_venue_fill": base.Fill, "crash_after_venue_replaced": base.Replaced,
              "crash_after_venue_cancelled": base.Cancelled}
    if kind not in events:
        raise SystemExit(f"unknown FIXGATE_FAULT {spec!r}")
    event_type = events[kind]
    original = client_fix._EVENT_HANDLERS[event_type]
    seen = [0]

    def handler(self, venue, event):  # type: ignore[no-untyped-def]
        seen[0] += 1
        if seen[0] >= limit:
            sys.stdout.write(f"FAULT {kind} {seen[0]} {venue}/{getattr(event, 'exec_id', '')}\n")
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, venue, event)

    client_fix._EVENT_HANDLERS[event_type] = handler


if __name__ == "__main__":
    fault = os.environ.get("FIXGATE_FAULT")
    if fault:
        _install_fault(fault)
    from brokers.cli import main

    main(sys.argv[1:], prog_name="fixgate")
