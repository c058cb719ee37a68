"""The client side of the broker gateway, split from :mod:`brokers.client_fix`.

translation.py  FIX <-> domain: parse client requests, build ExecutionReports and rejects
orders.py       the gateway's client orders: broker OrderID / ExecID generation and the indexes
                (by OrderID, by session + ClOrdID, by venue ClOrdID)
journal.py      the client-order identity journal (JSON lines) replayed on restart
accounts.py     the reactor-side cache of registry balances the vetting rules read
writer.py       RegistryWriter: batched, single-writer registry work off the reactor, and the
                outbox that releases client messages only after what they report is durable
"""
