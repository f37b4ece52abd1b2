"""The clearing problem of one period: a batch of independent spatial price equilibria.

This is the stable interface between the engine (and the policy instruments that plug into it) and the
solvers. Each batch row `b` is one (member, product) market with `R` regional nodes. At each node the
net supply (supply minus demand) is a sum of `K` clipped linear pieces in the node's price,

    E_r(p) = sum_k clip(a[b,r,k] + slope[b,r,k] * p, lo[b,r,k], hi[b,r,k]),   slope >= 0,

so a supply curve is a piece with lo = 0, hi = capacity, and a demand curve D(p) = clip(c - d p, 0, Dmax)
enters as the piece a = -c, slope = d, lo = -Dmax, hi = 0. Goods move on routes o -> d (o != d) with

    f[o,d] > 0  implies  p_d = (1 + markup[o,d]) * p_o + transport[o,d] + rent[o,d],
    0 <= f[o,d] <= cap[o,d],  rent[o,d] >= 0 and rent[o,d] > 0 only when f[o,d] = cap[o,d].

`markup` is the ad-valorem wedge on the origin price (export tax plus destination tariff), `transport` the
per-unit cost (plus any per-unit wedge), `cap` the route cap (licence caps; 0 blocks a route; inf for
none). Node prices are bounded, p_r in [floor_r, ceiling_r]: at the floor a buyer of last resort absorbs
the excess (free disposal or a stockpile that defends a floor), at the ceiling a seller of last resort
covers the gap (a release, or unserved demand when nobody sells). Node balance:

    E_r(p_r) - sum_d f[r,d] + sum_o f[o,r] + ceiling_fill_r - floor_take_r = 0.

Units: quantities in tonnes per period, prices in USD/kg. All arrays are float64 numpy arrays, of any
memory layout: a route cost that is the same on every route of a row can be a broadcast view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIE_BREAK = 1e-9  # USD/kg: the largest route-cost increment that breaks exact ties between routes


def tie_break(n_r: int) -> np.ndarray:
    """(R, R) distinct route-cost increments in (0, TIE_BREAK] USD/kg, zero on the diagonal.

    Where one freight rate applies on every route and many regions sit at one price, delivered costs tie
    exactly and the sweeps of the fast solver can cycle between tied route patterns. Distinct increments
    break the ties, as the perturbation method does against cycling in the simplex method; prices move by
    less than TIE_BREAK.
    """
    return TIE_BREAK * np.arange(1, n_r * n_r + 1).reshape(n_r, n_r) / (n_r * n_r) * (1.0 - np.eye(n_r))


@dataclass(frozen=True)
class ClearingProblem:
    """A batch of B spatial equilibria with R nodes and K net-supply pieces per node."""

    a: np.ndarray  # (B, R, K) intercepts of the net-supply pieces
    slope: np.ndarray  # (B, R, K) slopes, >= 0
    lo: np.ndarray  # (B, R, K) lower clip of each piece (t/period)
    hi: np.ndarray  # (B, R, K) upper clip of each piece, >= lo
    transport: np.ndarray  # (B, R, R) per-unit route cost in USD/kg, >= 0; diagonal ignored
    markup: np.ndarray  # (B, R, R) ad-valorem wedge on the origin price, >= 0; diagonal ignored
    cap: np.ndarray  # (B, R, R) route cap in t/period, >= 0, inf for none; diagonal ignored
    floor: np.ndarray  # (B, R) lowest node price (USD/kg), >= 0
    ceiling: np.ndarray  # (B, R) highest node price (USD/kg), > floor, may be inf

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.a.shape  # type: ignore[return-value]

    def check_shapes(self) -> None:
        """Check that the arrays fit together; raise ValueError naming the array (cheap: no values read)."""
        b, r, k = self.a.shape
        for name, shape in [("slope", (b, r, k)), ("lo", (b, r, k)), ("hi", (b, r, k)),
                            ("transport", (b, r, r)), ("markup", (b, r, r)), ("cap", (b, r, r)),
                            ("floor", (b, r)), ("ceiling", (b, r))]:
            arr = getattr(self, name)
            if arr.shape != shape:
                raise ValueError(f"ClearingProblem.{name} has shape {arr.shape}, expected {shape}")

    def validate(self) -> None:
        """Check shapes and values; raise ValueError naming the array and the fix."""
        self.check_shapes()
        for name in ("a", "slope", "lo", "hi", "transport", "markup", "floor"):
            if not np.isfinite(getattr(self, name)).all():
                raise ValueError(f"ClearingProblem.{name} has NaN or infinite values; give finite numbers")
        if ((self.slope < 0).any() or (self.transport < 0).any() or (self.markup < 0).any()
                or not (self.cap >= 0).all()):
            raise ValueError("ClearingProblem slope, transport, markup and cap must be >= 0 (cap may be inf)")
        if (self.hi < self.lo).any():
            raise ValueError("ClearingProblem.hi must be >= lo in every piece")
        if (self.floor < 0).any() or not (self.ceiling > self.floor).all():
            raise ValueError("ClearingProblem needs 0 <= floor < ceiling at every node")


@dataclass(frozen=True)
class ClearingSolution:
    """Equilibrium of every batch row."""

    price: np.ndarray  # (B, R) node prices, USD/kg
    flow: np.ndarray  # (B, R, R) route flows o -> d, t/period; diagonal zero
    rent: np.ndarray  # (B, R, R) route rent per unit, USD/kg: p_d - (1+m) p_o - t where positive
    floor_take: np.ndarray  # (B, R) quantity absorbed at the price floor
    ceiling_fill: np.ndarray  # (B, R) quantity supplied at the price ceiling (unserved if nobody sells)
    iterations: np.ndarray  # (B,) solver iterations used (0 for the reference solver)
    converged: np.ndarray  # (B,) bool
