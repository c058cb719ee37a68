"""Routing policy (pure): which venue an order goes to, by ExDestination(100) and by instrument.

Precedence, first match wins:

1. ExDestination(100) on the order, when present: it must name a configured venue (or an alias
   of one), else the order is rejected with "unknown destination".
2. A per-instrument route (``Route.<SYMBOL>=<VENUE>`` in the gateway config).
3. The default route (``RouteDefault=<VENUE>``).

No default and no match is a reject as well ("no route for <symbol>").  The policy never looks
at venues themselves: it maps names to names, the dispatcher holds the venues.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["NoRoute", "Route", "RoutingPolicy", "RoutingError"]


class RoutingError(ValueError):
    """A routing policy that contradicts itself (a route to a venue that is not configured)."""


@dataclass(frozen=True, slots=True)
class Route:
    """The venue an order goes to, and why (``"ExDestination"``, ``"instrument"``, ``"default"``)."""

    venue: str
    reason: str


@dataclass(frozen=True, slots=True)
class NoRoute:
    """The order cannot be routed; ``text`` is the Text(58) of the reject."""

    text: str


@dataclass(frozen=True)
class RoutingPolicy:
    """Routes by ExDestination, then by instrument, then the default; names only, no venues.

    ``venues`` are the configured venue names; ``aliases`` maps extra ExDestination values (e.g. a
    MIC written in lower case, or ``INTERNAL`` spelled ``XFGT``) to venue names.  Names compare
    case-sensitively except that aliases may be given in any case.
    """

    venues: frozenset[str]
    default: str | None = None
    by_symbol: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_symbol", MappingProxyType(dict(self.by_symbol)))
        object.__setattr__(self, "aliases", MappingProxyType({k.upper(): v for k, v in self.aliases.items()}))
        if self.default is not None and self.default not in self.venues:
            raise RoutingError(f"RouteDefault names venue {self.default!r}, not configured ({self._known()})")
        for symbol, venue in self.by_symbol.items():
            if venue not in self.venues:
                raise RoutingError(f"Route.{symbol} names venue {venue!r}, not configured ({self._known()})")
        for alias, venue in self.aliases.items():
            if venue not in self.venues:
                raise RoutingError(f"alias {alias!r} names venue {venue!r}, not configured ({self._known()})")

    @classmethod
    def of(cls, venues: Iterable[str], default: str | None = None,
           by_symbol: Mapping[str, str] | None = None, aliases: Mapping[str, str] | None = None) -> RoutingPolicy:
        """Convenience constructor taking any iterable of venue names."""
        return cls(frozenset(venues), default, dict(by_symbol or {}), dict(aliases or {}))

    def _known(self) -> str:
        return ", ".join(sorted(self.venues)) or "none"

    def destination(self, ex_destination: str) -> str | None:
        """The venue an ExDestination value names, or None."""
        if ex_destination in self.venues:
            return ex_destination
        return self.aliases.get(ex_destination.upper())

    def route(self, symbol: str, ex_destination: str | None = None) -> Route | NoRoute:
        """Where an order in ``symbol`` (with the client's ExDestination, if any) goes."""
        if ex_destination:
            venue = self.destination(ex_destination)
            if venue is None:
                return NoRoute(f"routing: unknown destination {ex_destination!r} (known: {self._known()})")
            return Route(venue, "ExDestination")
        venue = self.by_symbol.get(symbol)
        if venue is not None:
            return Route(venue, "instrument")
        if self.default is not None:
            return Route(self.default, "default")
        return NoRoute(f"routing: no route for {symbol!r} and no RouteDefault")
