"""Dispatcher: the venues by name, requests sent to the routed venue, events tagged with their venue.

The :class:`~brokers.routing.router.RoutingPolicy` decides *which* venue; the dispatcher holds
the :class:`~venues.base.Venue` objects, sends the request and hands every event back to one
listener together with the name of the venue it came from (the booking key is (venue, ExecID)).

``asynchronous`` marks venues that answer later (an external exchange over FIX): the client is
told PendingNew / PendingCancel / PendingReplace while they work.  The internal venue answers
inside ``submit`` / ``cancel`` / ``replace`` (its events arrive before the call returns).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from brokers.routing.router import NoRoute, Route, RoutingPolicy
from venues.base import CancelRequest, MassCancelRequest, OrderRequest, ReplaceRequest, Venue, VenueEvent

__all__ = ["Dispatcher", "UnknownVenue", "VenueEntry", "VenueEventListener"]

VenueEventListener = Callable[[str, VenueEvent], None]


class UnknownVenue(LookupError):
    """A request named a venue the dispatcher does not hold."""


@dataclass(frozen=True, slots=True)
class VenueEntry:
    """One routable venue and whether it answers asynchronously."""

    venue: Venue
    asynchronous: bool = False

    @property
    def name(self) -> str:
        return self.venue.name


class Dispatcher:
    """Sends requests to venues by name and forwards their events, tagged, to one listener."""

    def __init__(self, policy: RoutingPolicy, entries: list[VenueEntry] | None = None) -> None:
        self.policy = policy
        self._entries: dict[str, VenueEntry] = {}
        self._listener: VenueEventListener | None = None
        for entry in entries or ():
            self.add(entry)

    def add(self, entry: VenueEntry) -> None:
        """Hold one more venue (its events go to the listener from now on)."""
        name = entry.name
        if name in self._entries:
            raise ValueError(f"venue {name!r} configured twice")
        self._entries[name] = entry
        entry.venue.subscribe(lambda event, _name=name: self._deliver(_name, event))

    def subscribe(self, listener: VenueEventListener) -> None:
        """Deliver every event of every venue, with its venue name, to ``listener``."""
        self._listener = listener

    def _deliver(self, venue: str, event: VenueEvent) -> None:
        if self._listener is not None:
            self._listener(venue, event)

    # ---- lookup --------------------------------------------------------------------------------

    def route(self, symbol: str, ex_destination: str | None = None) -> Route | NoRoute:
        """The policy's decision, also refusing a route to a venue not held here."""
        decision = self.policy.route(symbol, ex_destination)
        if isinstance(decision, Route) and decision.venue not in self._entries:
            return NoRoute(f"routing: venue {decision.venue!r} is not available")
        return decision

    def entry(self, name: str) -> VenueEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownVenue(f"unknown venue {name!r}") from None

    def is_asynchronous(self, name: str) -> bool:
        return self.entry(name).asynchronous

    def __iter__(self) -> Iterator[VenueEntry]:
        return iter(list(self._entries.values()))

    def names(self) -> list[str]:
        return list(self._entries)

    # ---- requests ------------------------------------------------------------------------------

    def submit(self, venue: str, request: OrderRequest) -> None:
        self.entry(venue).venue.submit(request)

    def cancel(self, venue: str, request: CancelRequest) -> None:
        self.entry(venue).venue.cancel(request)

    def replace(self, venue: str, request: ReplaceRequest) -> None:
        self.entry(venue).venue.replace(request)

    def mass_cancel(self, venue: str, request: MassCancelRequest) -> None:
        self.entry(venue).venue.mass_cancel(request)
