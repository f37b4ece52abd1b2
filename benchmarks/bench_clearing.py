"""Throughput of the market-clearing solvers (a script, not a test).

Two batches. A synthetic one: B = members x products rows (default 1,000 x 36) with R = 18 regions and
K = 4 net-supply pieces (two supply tiers, a price-elastic demand and a fixed demand), transport costs,
ad-valorem tariffs on a third of the routes and caps on about 10% of them, all random but seeded. And the
engine's own rows: the default world's problems of two consecutive months for --engine-members members.
For each, prints rows/second for `solve_fast` cold, warm from the previous month's prices, and warm from
its prices and flows (after a warm-up call, so that numba compilation is excluded), and for
`solve_reference` on a subset, the per-row ratio, and the largest relative price gap on that subset.
Prints the load average too: the machine is shared.

    python benchmarks/bench_clearing.py [--members 1000] [--products 36] [--engine-members 200] [--ref-rows 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np

from reesim.engine.simulate import run_scenario
from reesim.market.fast import solve_fast
from reesim.market.problem import ClearingProblem, ClearingSolution
from reesim.market.reference import solve_reference
from reesim.scenario import load_scenario


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


def engine_months(members: int) -> tuple[ClearingProblem, ClearingProblem]:
    """The engine's problems of its second and third months (copies: the engine reuses its arrays)."""
    captured: list[ClearingProblem] = []

    def solver(problem: ClearingProblem, **warm: np.ndarray) -> ClearingSolution:
        captured.append(ClearingProblem(*(np.array(getattr(problem, f.name)) for f in dataclasses.fields(problem))))
        return solve_fast(problem, **warm)

    run_scenario(load_scenario("baseline", members=members, end="2024-03"), solver=solver, variables=("price",))
    return captured[-2], captured[-1]


def report(label: str, problem: ClearingProblem, next_month: ClearingProblem, ref_rows: int) -> None:
    """Time the fast solver cold and warm on next_month, and the reference on its first rows."""
    rows = problem.shape[0]
    last = solve_fast(problem)
    cold, t_cold = timed(solve_fast, next_month)
    warm, t_warm = timed(solve_fast, next_month, warm_price=last.price)
    flows, t_flows = timed(solve_fast, next_month, warm_price=last.price, warm_flow=last.flow)
    subset = ClearingProblem(*(getattr(next_month, f.name)[:ref_rows] for f in dataclasses.fields(next_month)))
    ref, t_ref = timed(solve_reference, subset)
    ref_rate = ref_rows / t_ref
    exact = ref.converged
    gap = np.abs(cold.price[:ref_rows][exact] - ref.price[exact]) / np.abs(ref.price[exact])
    print(f"{label}: {rows} rows, R = {problem.shape[1]}, K = {problem.shape[2]}  "
          f"(load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})")
    for name, secs, sol in (("cold", t_cold, cold), ("warm, prices", t_warm, warm),
                            ("warm, prices and flows", t_flows, flows)):
        print(f"  solve_fast {name:22s}: {rows / secs:10,.0f} rows/s  ({secs:.2f} s, mean sweeps"
              f" {sol.iterations.mean():.2f}, converged {sol.converged.mean():.2%}, "
              f"{rows / secs / ref_rate:,.0f}x the reference)")
    print(f"  solve_reference               : {ref_rate:10,.1f} rows/s  ({t_ref:.2f} s on {ref_rows} rows,"
          f" solved exactly {exact.mean():.2%}; largest relative price gap to fast {gap.max(initial=0.0):.1e})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--products", type=int, default=36)
    parser.add_argument("--engine-members", type=int, default=200)
    parser.add_argument("--ref-rows", type=int, default=200)
    args = parser.parse_args()
    solve_fast(realistic_batch(64, seed=1))  # warm-up: compile (or load the numba cache)
    rows = args.members * args.products
    report(f"synthetic batch ({args.members} members x {args.products} products)", realistic_batch(rows),
           realistic_batch(rows, demand_shift=1.02), args.ref_rows)
    report(f"engine rows ({args.engine_members} members, months 2-3 of the default world)",
           *engine_months(args.engine_members), args.ref_rows)


if __name__ == "__main__":
    main()
