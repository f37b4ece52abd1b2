"""Combining the wedges of the events in force in one month, and the ledger of what instruments cost.

Several events may act on the same array: caps combine by their minimum (the tightest binds), price
floors by their maximum, tax and cost terms by their sum, and factors by their product, so events
compose in any order. Arrays are allocated only when an event touches them, with the member axis first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reesim.engine.wedges import POOLS, MonthWedges

# field -> (shape key, neutral value, how two events combine)
_FIELDS: dict[str, tuple[str, float, str]] = {
    "route_cap": ("route", np.inf, "min"),
    "markup": ("route", 0.0, "add"),
    "unit_wedge": ("route", 0.0, "add"),
    "price_floor": ("node", 0.0, "max"),
    "price_ceiling": ("node", np.inf, "min"),
    "cost_offset": ("line", 0.0, "add"),
    "stock_flow": ("node", 0.0, "add"),
    "capacity_factor": ("line", 1.0, "mul"),
    "quota": ("quota", np.inf, "min"),
    "quota_scale": ("quota", 1.0, "mul"),
    "line_limit": ("line", np.inf, "min"),
    "yield_factor": ("line", 1.0, "mul"),
    "start_delay": ("line", 0.0, "add"),
    "lead_delay": ("line", 0.0, "add"),
    "hurdle_factor": ("line", 1.0, "mul"),
    "demand_factor": ("demand", 1.0, "mul"),
    "tension": ("node", 0.0, "max"),
    # Two pooled quotas of one pool share their routes under the tighter allowance; a route and good
    # claimed by two pools is priced in the higher-numbered one.
    "pool_route": ("route", 0.0, "max"),
    "pool_allowance": ("pool", np.inf, "min"),
    "informal_cap": ("route", 0.0, "add"),  # two smuggling channels on a route add their capacity ...
    "informal_cost": ("route", 0.0, "max"),  # ... and the dearer evasion cost counts
}


class WedgeBuilder:
    """Accumulates one month's wedges from the events in force."""

    def __init__(self, members: int, regions: int, products: int, lines: int, sectors: int) -> None:
        self._shapes = {
            "route": (members, regions, regions, products),
            "node": (members, regions, products),
            "line": (members, lines),
            "quota": (members, 2),
            "demand": (members, regions, sectors, products),
            "pool": (members, POOLS),
        }
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str) -> np.ndarray:
        """The accumulated array of a wedge field, created at its neutral value on first use."""
        if name not in self._arrays:
            shape_key, neutral, _ = _FIELDS[name]
            self._arrays[name] = np.full(self._shapes[shape_key], neutral)
        return self._arrays[name]

    def combine(self, name: str, value: np.ndarray | float, where: np.ndarray | None = None) -> None:
        """Combine `value` into the field, only where the mask is true (broadcast over leading axes)."""
        target = self.array(name)
        value = np.broadcast_to(np.asarray(value, dtype=float), target.shape)
        if where is not None:
            where = np.broadcast_to(where, target.shape)
            value = np.where(where, value, _FIELDS[name][1])
        rule = _FIELDS[name][2]
        if rule == "min":
            np.minimum(target, value, out=target)
        elif rule == "max":
            np.maximum(target, value, out=target)
        elif rule == "add":
            target += value
        else:
            target *= value

    def merge(self, other: WedgeBuilder, members: np.ndarray) -> None:
        """Combine another builder's wedges into this one, only in the given members (M,) (a fired trigger)."""
        for name, array in other._arrays.items():
            self.combine(name, array, where=members.reshape((-1,) + (1,) * (array.ndim - 1)))

    def build(self) -> MonthWedges:
        """The month's wedges; untouched fields keep the engine's neutral defaults."""
        values: dict[str, np.ndarray | float] = {}
        for name, array in self._arrays.items():
            if name == "price_ceiling":
                array = np.where(np.isinf(array), np.nan, array)  # nan: the engine's default ceiling
            elif name == "quota":
                array = np.where(np.isinf(array), np.nan, array)  # nan: the engine's quota path
            values[name] = array
        return MonthWedges(**values)


@dataclass
class Ledger:
    """Payments (+) and revenues (-) of each event by member, month and paying region, USD million."""

    members: int
    months: int
    regions: tuple[str, ...]
    entries: dict[str, np.ndarray] = field(default_factory=dict)  # label -> (M, T, R)

    def merge(self, other: Ledger, members: np.ndarray) -> None:
        """Add another ledger's entries, only for the given members (M,) (those in which a trigger fired)."""
        for label, entries in other.entries.items():
            if label not in self.entries:
                self.entries[label] = np.zeros_like(entries)
            self.entries[label] += entries * members[:, None, None]

    def add(self, label: str, month: int, region: int, amount: np.ndarray) -> None:
        """Book `amount` (M,) USD million for the event `label` in `month`, paid by `region`."""
        if label not in self.entries:
            self.entries[label] = np.zeros((self.members, self.months, len(self.regions)))
        if 0 <= month < self.months:
            self.entries[label][:, month, region] += amount
