"""Throughput of the market-clearing solvers on a realistic monthly batch (a script, not a test).

Builds B = members x products rows (default 1,000 x 36) with R = 18 regions and K = 4 net-supply pieces
(two supply tiers, a price-elastic demand and a fixed demand), transport costs, ad-valorem tariffs on a
third of the routes and caps on about 10% of them, all random but seeded. Prints rows/second for
`solve_fast` (cold, and warm-started from the previous month's prices on a slightly shifted month, both
after a warm-up call so that numba compilation is excluded) and for `solve_reference` on a subset, the
per-row speed ratio, and the largest price gap between the two on that subset.

    PYTHONPATH=src python benchmarks/bench_clearing.py [--members 1000] [--products 36] [--ref-rows 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from reesim.market.fast import solve_fast
from reesim.market.problem import ClearingProblem
from reesim.market.reference import solve_reference


def realistic_batch(rows: int, regions: int = 18, seed: int = 0,
                    demand_shift: float = 1.0) -> ClearingProblem:
    """A seeded batch shaped like the engine's: a few big producers, demand everywhere, sparse quotas."""
    rng = np.random.default_rng(seed)
    b, r = rows, regions
    scale = np.exp(rng.uniform(np.log(5.0), np.log(200.0), (b, 1)))  # product price level, USD/kg
    producer = rng.random((b, r)) < 0.3
    capacity = np.where(producer, rng.lognormal(6.0, 1.0, (b, r)), rng.lognormal(2.0, 1.0, (b, r)))
    cost = scale * rng.uniform(0.3, 0.9, (b, r))
    tier_slope = capacity / (scale * rng.uniform(0.3, 1.0, (b, r)))
    demand = rng.lognormal(5.0, 1.0, (b, r)) * demand_shift
    elasticity = demand / (scale * rng.uniform(1.0, 3.0, (b, r)))

    a = np.stack([-tier_slope * cost, -tier_slope * 1.5 * cost, -demand, -0.2 * demand], axis=2)
    slope = np.stack([tier_slope, tier_slope, elasticity, np.zeros((b, r))], axis=2)
    lo = np.stack([np.zeros((b, r)), np.zeros((b, r)), -demand, np.full((b, r), -1e9)], axis=2)
    hi = np.stack([capacity, 0.5 * capacity, np.zeros((b, r)), np.full((b, r), 1e9)], axis=2)

    transport = scale[:, :, None] * rng.uniform(0.01, 0.1, (b, r, r))
    markup = np.where(rng.random((b, r, r)) < 1 / 3, rng.uniform(0.0, 0.25, (b, r, r)), 0.0)
    cap = np.where(rng.random((b, r, r)) < 0.1, rng.uniform(0.0, 1.0, (b, r, r)) * demand[:, None, :], np.inf)
    diagonal = np.eye(r, dtype=bool)[None]
    transport, markup, cap = (np.where(diagonal, 0.0, x) for x in (transport, markup, cap))
    floor = np.zeros((b, r))
    ceiling = np.repeat(20.0 * scale, r, axis=1)
    return ClearingProblem(a, slope, lo, hi, transport, markup, cap, floor, ceiling)


def timed(fn, *args, **kwargs):
    """Call fn and return (result, seconds)."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--products", type=int, default=36)
    parser.add_argument("--ref-rows", type=int, default=200)
    args = parser.parse_args()
    rows = args.members * args.products
    problem = realistic_batch(rows)
    next_month = realistic_batch(rows, demand_shift=1.02)  # same world, demand 2% higher

    solve_fast(realistic_batch(64, seed=1))  # warm-up: compile (or load the numba cache)
    cold, t_cold = timed(solve_fast, problem)
    warm, t_warm = timed(solve_fast, next_month, warm_price=cold.price)
    fields = ClearingProblem.__dataclass_fields__
    subset = ClearingProblem(*(getattr(problem, f)[:args.ref_rows] for f in fields))
    ref, t_ref = timed(solve_reference, subset)

    fast_rate, warm_rate, ref_rate = rows / t_cold, rows / t_warm, args.ref_rows / t_ref
    gap = np.abs(cold.price[:args.ref_rows] - ref.price) / (1.0 + np.abs(ref.price))
    print(f"batch: {rows} rows ({args.members} members x {args.products} products), R = 18, K = 4")
    for label, rate, secs, sol in (("cold", fast_rate, t_cold, cold), ("warm", warm_rate, t_warm, warm)):
        print(f"solve_fast {label} : {rate:12,.0f} rows/s  ({secs:.2f} s, mean sweeps"
              f" {sol.iterations.mean():.2f}, converged {sol.converged.mean():.2%})")
    print(f"solve_reference : {ref_rate:12,.1f} rows/s  ({t_ref:.2f} s on {args.ref_rows} rows,"
          f" converged {ref.converged.mean():.2%})")
    print(f"speed ratio per row: cold {fast_rate / ref_rate:,.0f}x, warm {warm_rate / ref_rate:,.0f}x")
    print(f"max relative price gap fast vs reference on the subset: {gap.max():.2e}")


if __name__ == "__main__":
    main()
