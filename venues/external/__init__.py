"""venues.external: a Venue backed by a FIX initiator session to a third-party exchange.

Modules (import them directly; this package imports nothing so that the pure modules stay
importable without Twisted): :mod:`.translate` (pure request/report <-> FIX), :mod:`.dialect`
(per-exchange overrides from config keys), :mod:`.orders` and :mod:`.lifecycle` (pure order
state and event derivation), :mod:`.events` (TradeBust, TradeCorrected, OrderRestated),
:mod:`.ids` (broker ClOrdIDs), :mod:`.records` (pure: child-order journal records and the
rebuild from them), :mod:`.journal` / :mod:`.journal_sql` (the child-order journal: memory, file,
SQL), :mod:`.fix_venue` (FixVenue, the Twisted side) and :mod:`.service` (ApplicationRouter,
external_initiator).
"""
