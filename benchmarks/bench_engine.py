"""Benchmark: member-steps per second of the batched engine against the reference-solver path.

Runs the default world monthly from 2024 with the batched fast clearing for an ensemble and prints
member-steps per second. With --reference it also runs the engine with the HiGHS reference clearing on a
few members and months, the batched engine on exactly that case, and prints both per-member-step ratios
(the same machine, the same run). Prints the machine's load average beside each figure: the 2-core
machine is shared, and a second busy process halves the batched rate. Not a test: speed is measured here,
never asserted in the test suite.

    python benchmarks/bench_engine.py [--members 1000] [--end 2035-12] [--reference]
"""

from __future__ import annotations

import argparse
import os
import time

from reesim.engine.core import Solver
from reesim.engine.simulate import run_scenario
from reesim.market.fast import solve_fast
from reesim.market.reference import solve_reference
from reesim.scenario import load_scenario
from reesim.world import World, load_world


def rate(members: int, end: str, solver: Solver, world: World) -> tuple[float, float]:
    """(member-steps per second, seconds) of one run that keeps prices only."""
    scenario = load_scenario("baseline", members=members, end=end)
    months = len(scenario.months())
    started = time.perf_counter()
    run_scenario(scenario, world=world, solver=solver, variables=("price",))
    seconds = time.perf_counter() - started
    return members * months / seconds, seconds


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--end", default="2035-12")
    parser.add_argument("--reference", action="store_true", help="also time the HiGHS reference path")
    parser.add_argument("--reference-members", type=int, default=2)
    parser.add_argument("--reference-end", default="2024-06")
    args = parser.parse_args()
    world = load_world()
    rate(2, "2024-03", solve_fast, world)  # compile (or load the numba cache) and warm up
    print(f"before: {load()}", flush=True)
    fast, fast_s = rate(args.members, args.end, solve_fast, world)
    print(f"batched engine : {args.members} members to {args.end}: {fast_s:.1f} s, {fast:,.0f} member-steps/s"
          f"  ({load()})", flush=True)
    if not args.reference:
        return
    case = f"{args.reference_members} members to {args.reference_end}"
    ref, ref_s = rate(args.reference_members, args.reference_end, solve_reference, world)
    print(f"reference path : {case}: {ref_s:.1f} s, {ref:,.1f} member-steps/s  ({load()})", flush=True)
    same, same_s = rate(args.reference_members, args.reference_end, solve_fast, world)
    print(f"batched engine : {case}: {same_s:.2f} s, {same:,.0f} member-steps/s  ({load()})")
    print(f"ratio per member-step, batched / reference: {same / ref:,.0f}x on the same case, "
          f"{fast / ref:,.0f}x with the batched rate of the {args.members}-member run")


if __name__ == "__main__":
    main()
