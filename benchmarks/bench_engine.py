"""Benchmark: member-steps per second of the batched engine against the reference-solver path.

Runs the default world monthly from 2024 with the batched fast clearing for an ensemble and prints
member-steps per second. With --reference it also runs the same engine with the HiGHS reference clearing
on a few members and months and prints the ratio (same machine, same run). Known limitation: the HiGHS
reference does not yet solve the engine's full-size problems (non-optimal status), see the project notes.
Not a test: speed is measured here, never asserted in the test suite.

    python benchmarks/bench_engine.py [--members 1000] [--end 2035-12] [--reference]
"""

from __future__ import annotations

import argparse
import time

from reesim.engine.simulate import run_scenario
from reesim.market.fast import solve_fast
from reesim.market.reference import solve_reference
from reesim.scenario import load_scenario
from reesim.world import load_world


def rate(members: int, end: str, solver, world) -> tuple[float, float]:  # noqa: ANN001
    scenario = load_scenario("baseline", members=members, end=end)
    months = len(scenario.months())
    started = time.perf_counter()
    run_scenario(scenario, world=world, solver=solver, variables=("price",))
    seconds = time.perf_counter() - started
    return members * months / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--end", default="2035-12")
    parser.add_argument("--reference", action="store_true", help="also time the HiGHS reference path")
    parser.add_argument("--reference-members", type=int, default=1)
    parser.add_argument("--reference-end", default="2024-03")
    args = parser.parse_args()
    world = load_world()
    rate(2, "2024-02", solve_fast, world)  # compile and warm up
    fast, fast_s = rate(args.members, args.end, solve_fast, world)
    print(f"batched engine : {args.members} members to {args.end}: {fast_s:.1f} s, {fast:,.0f} member-steps/s",
          flush=True)
    if not args.reference:
        return

    def reference(problem, warm_price=None):  # noqa: ANN001, ANN202 - the reference path takes no warm start
        return solve_reference(problem)

    ref, ref_s = rate(args.reference_members, args.reference_end, reference, world)
    print(f"reference path : {args.reference_members} members to {args.reference_end}: {ref_s:.1f} s, "
          f"{ref:,.1f} member-steps/s")
    print(f"ratio (batched / reference, per member-step): {fast / ref:,.0f}x")


if __name__ == "__main__":
    main()
