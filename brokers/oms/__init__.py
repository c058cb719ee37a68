"""Pure pre-trade vetting for the broker (no I/O, no clock).

context.py       snapshots the rules read (account, instrument, fees, replace basis, time)
rules.py         one small class per rule: ``check(order, ctx) -> RuleRejection | None``
vetting.py       ``Vetter``: the rule chain for new orders, replaces and cancels -> ``VetResult``
results.py       ``OrdRejReason`` / ``CxlRejReason`` codes, ``RuleRejection``, ``VetResult``
reservations.py  buying-power reservation at entry and release on fill / cancel / replace
throttle.py      sliding-window message counting
duplicates.py    ClOrdIDs per session and day; recently accepted order fingerprints
"""
