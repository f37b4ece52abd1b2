"""The fast clearing settles on degenerate engine rows (routes tied at zero reduced cost).

tests/data/clearing_ties.npz holds seven rows of the 2010-crisis scenario (by-route and pooled export
quotas) on which `solve_fast` used to run to max_iter: routes at exactly zero reduced cost (a floor-bound
exporter 0.5 USD/kg below floor-bound importers; an exporter whose autarky price plus freight is the
importers' price on several capped routes at once) flipped on every sweep, so the answer depended on the
warm start. Each row comes with the warm start the engine gave it.

tests/data/clearing_ties_degenerate.npz holds nineteen more such rows (from the same scenario with export
caps by route and pooled) on which the solver still ran to max_iter: a floor-bound exporter whose capped
routes tie with other floor-bound exporters' uncapped ones, token-demand nodes equally far from several
suppliers, capped routes at zero reduced cost from both ends. Many are degenerate enough that HiGHS gives
up; `reference` marks the rows where it solves them (the fast prices must then match), the others are
checked as equilibria. A member's prices must also not depend on the other members of its batch.

tests/data/clearing_ties_cycling.npz holds one oxide:Eu row of the 2024 baseline with one of the
calibration's posterior vectors (stop 13) on which the sweeps cycled to max_iter even from a cold start,
leaving a node 214 t out of balance: every route costs the same 0.5 USD/kg and most regions sit at one
of two prices. `solve_fast` now solves such a row again with its ties broken.

tests/data/clearing_unsettled.npz holds six rows of `three-pillars-2026` (40 members, stop 13: metal:Tb,
metal:Dy and magnet:SmCo markets with capped routes) on which the sweeps ran to their limit, ties broken
or not: a capped route from a ceiling-bound component into a node at its ceiling tied at zero reduced
cost, its kink a rounding below the ceiling, so the importer's walk passed it (switched it on) before
`_hold_ties` could keep it off, while the exporter's tie at its lower bound switched it off again on every
sweep. HiGHS solves three of the rows; its prices differ from the fast ones only at nodes with a token
demand (1e-6 t), which its token placement prices at the cheapest delivered price although an uncapped
route out of them then turns profitable, so there its answer is no equilibrium.

tests/data/clearing_ceiling_merge.npz holds one metal:Tb row of `three-pillars-2026` (40 members) with
the engine's warm start, on which the sweeps ran to their limit from every start: a component at its
ceiling and, at the same price, at an uncapped-route bound found its root on the cap jump of a tied
capped route and merged through it; the merged tree needed the seller of last resort at the importer,
beyond the route's cap, split, and merged again on every sweep.

tests/data/clearing_flow_cycle.npz holds one magnet:NdFeB row of `2025-controls` (40 members, stop 13)
on which the sweeps still run to their limit, ties broken or not: its prices already equal the
reference's, but with two exporters at one price and many tied capped routes the sweeps cycle between
flow patterns (merge 0->17, split 7->14, merge 7->14, split 0->17 over its cap) and never try route
7->17 as a partial flow (HiGHS carries 49 t on it). `solve_fast` now keeps the prices of such a row and
solves its flows at them as a transshipment LP (`reesim.market.flows`), which settles it; where no flows
clear a row at its prices, it stays reported unsettled.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from reesim.market.fast import solve_fast
from reesim.market.flows import settle_flows
from reesim.market.problem import ClearingProblem, ClearingSolution
from reesim.market.reference import solve_reference

DATA = Path(__file__).parent / "data" / "clearing_ties.npz"
DEGENERATE = Path(__file__).parent / "data" / "clearing_ties_degenerate.npz"
CYCLING = Path(__file__).parent / "data" / "clearing_ties_cycling.npz"
UNSETTLED = Path(__file__).parent / "data" / "clearing_unsettled.npz"
FLOW_CYCLE = Path(__file__).parent / "data" / "clearing_flow_cycle.npz"
CEILING_MERGE = Path(__file__).parent / "data" / "clearing_ceiling_merge.npz"
FIELDS = ("a", "slope", "lo", "hi", "transport", "markup", "cap", "floor", "ceiling")


@pytest.fixture(scope="module")
def tied_rows() -> tuple[ClearingProblem, np.ndarray, np.ndarray]:
    data = np.load(DATA)
    return ClearingProblem(**{f: data[f] for f in FIELDS}), data["warm_price"], data["warm_flow"]


def test_tied_rows_converge_to_the_reference(tied_rows) -> None:
    problem, warm_price, warm_flow = tied_rows
    ref = solve_reference(problem)
    assert ref.converged.all()
    for kwargs in ({}, {"warm_price": warm_price}, {"warm_price": warm_price, "warm_flow": warm_flow}):
        sol = solve_fast(problem, **kwargs)
        assert sol.converged.all(), (kwargs.keys(), sol.iterations)
        assert (sol.iterations < 20).all()
        np.testing.assert_allclose(sol.price, ref.price, rtol=1e-6)


def test_tied_rows_balance(tied_rows) -> None:
    """Node balance and route complementarity hold with the flows the fast solver returns."""
    problem, warm_price, warm_flow = tied_rows
    sol = solve_fast(problem, warm_price=warm_price, warm_flow=warm_flow)
    net = np.clip(problem.a + problem.slope * sol.price[:, :, None], problem.lo, problem.hi).sum(axis=2)
    balance = net - sol.flow.sum(axis=2) + sol.flow.sum(axis=1) + sol.ceiling_fill - sol.floor_take
    scale = 1.0 + np.abs(np.clip(problem.a + problem.slope * sol.price[:, :, None], problem.lo, problem.hi)).sum(2)
    assert np.abs(balance / scale).max() < 1e-9
    assert (sol.flow >= 0).all() and (sol.flow <= problem.cap + 1e-12).all()
    reduced = (1 + problem.markup) * sol.price[:, :, None] + problem.transport - sol.price[:, None, :]
    carrying = sol.flow > 1e-9
    assert (reduced[carrying] <= 1e-9 * (1 + np.abs(sol.price[:, None, :].repeat(problem.shape[1], 1)[carrying]))).all()


def _equilibrium_violation(problem: ClearingProblem, sol) -> float:
    """Largest relative violation of node balance, route complementarity, flow and node price bounds."""
    piece = np.clip(problem.a + problem.slope * sol.price[:, :, None], problem.lo, problem.hi)
    flow = sol.flow.copy()
    flow[:, np.arange(flow.shape[1]), np.arange(flow.shape[1])] = 0.0
    balance = piece.sum(2) - flow.sum(2) + flow.sum(1) + sol.ceiling_fill - sol.floor_take
    scale = 1.0 + np.abs(piece).sum(2) + flow.sum(2) + flow.sum(1) + sol.floor_take + sol.ceiling_fill
    worst = np.abs(balance / scale).max()
    reduced = ((1 + problem.markup) * sol.price[:, :, None] + problem.transport - sol.price[:, None, :]) / (
        1.0 + np.abs(sol.price[:, None, :]))
    off = ~np.eye(problem.shape[1], dtype=bool)[None]
    small = 1e-9 * (1.0 + scale.max())
    worst = max(worst, np.max(np.where((flow > small) & off, reduced, 0.0)))  # carrying: no loss
    worst = max(worst, np.max(np.where((flow < problem.cap - small) & (problem.cap > 0) & off, -reduced, 0.0)))
    worst = max(worst, -flow.min(), np.max(np.where(off, flow - problem.cap, 0.0)), -sol.floor_take.min(),
                -sol.ceiling_fill.min())
    price_scale = 1.0 + problem.floor
    worst = max(worst, np.max((problem.floor - sol.price) / price_scale))
    worst = max(worst, np.max(np.where(sol.floor_take > small, (sol.price - problem.floor) / price_scale, 0.0)))
    return float(worst)


def test_degenerate_rows_converge_to_one_equilibrium() -> None:
    """Every start converges in a few sweeps to an equilibrium, the same prices from every start, and the
    reference's prices where HiGHS solves the row."""
    data = np.load(DEGENERATE)
    problem = ClearingProblem(**{f: data[f] for f in FIELDS})
    cold = solve_fast(problem)
    solves = [cold, solve_fast(problem, warm_price=data["warm_price"]),
              solve_fast(problem, warm_price=data["warm_price"], warm_flow=data["warm_flow"])]
    for sol in solves:
        assert sol.converged.all(), sol.iterations
        assert (sol.iterations < 20).all()
        assert _equilibrium_violation(problem, sol) < 1e-9
        np.testing.assert_allclose(sol.price, cold.price, rtol=1e-9)
    solved = data["reference"]
    assert solved.sum() >= 5
    ref = solve_reference(ClearingProblem(**{f: data[f][solved] for f in FIELDS}))
    np.testing.assert_allclose(cold.price[solved], ref.price, rtol=1e-6)


def test_member_prices_do_not_depend_on_the_batch() -> None:
    """A member run alone and the same member run next to others, first or not, get the same prices: the
    batch changes the engine's inputs only by rounding, ties at zero reduced cost are broken the same way
    for both (they once sent member 0 of the 2010 crisis to another equilibrium within two years), and no
    member starts from another's flows (the first month once started every member from member 0's, and
    the quota's shares of those flows carried the difference on)."""
    from reesim.engine.simulate import run_scenario
    from reesim.scenario import load_scenario

    base = {"elasticity_short": 0.302, "elasticity_long": 0.704, "substitution_months": 11.8,
            "stock_cover_months": 0.596, "stock_price_response": 0.388, "precaution": 0.364,
            "expectation_speed": 0.0865, "utilisation_response": 0.376, "mine_response": 0.0606,
            "reservation_price_share": 0.190, "price_ceiling_multiple": 29.05, "growth_scale": 0.981}
    others = [dict(base, elasticity_short=0.085, substitution_months=10.7, stock_price_response=0.151,
                   precaution=0.129, utilisation_response=0.280, growth_scale=0.261),
              dict(base, elasticity_short=0.407, elasticity_long=0.951, substitution_months=26.5,
                   stock_cover_months=0.905, stock_price_response=0.685, expectation_speed=0.187,
                   utilisation_response=1.41, mine_response=0.314, reservation_price_share=0.503,
                   price_ceiling_multiple=52.4)]

    def member(vectors: list[dict[str, float]], index: int) -> np.ndarray:
        scenario = load_scenario("2010-crisis", members=len(vectors)).model_copy(update={"end": "2011-12"})
        params = {k: np.array([v[k] for v in vectors]) for k in base}
        result = run_scenario(scenario, params=params, variables=("price",))
        return result.dataset["price"].isel(member=index).values

    alone = member([base], 0)
    np.testing.assert_allclose(member([base, *others], 0), alone, rtol=1e-9)
    np.testing.assert_allclose(member([others[0], base, others[1]], 1), alone, rtol=1e-9)


def test_a_row_that_cycles_is_solved_with_its_ties_broken() -> None:
    data = np.load(CYCLING)
    problem = ClearingProblem(**{f: data[f] for f in FIELDS})
    ref = solve_reference(problem)
    assert ref.converged.all()
    for kwargs in ({}, {"warm_price": data["warm_price"]},
                   {"warm_price": data["warm_price"], "warm_flow": data["warm_flow"]}):
        sol = solve_fast(problem, **kwargs)
        assert sol.converged.all() and (sol.iterations > 100).all()  # the first pass ran to max_iter
        assert _equilibrium_violation(problem, sol) < 1e-8  # on the problem as given, not the perturbed one
        np.testing.assert_allclose(sol.price, ref.price, rtol=1e-6)


def test_rows_with_ties_at_a_ceiling_settle() -> None:
    """The capped-route rows of three-pillars-2026 settle in a few sweeps, without breaking ties, to an
    equilibrium, the same from a warm start, at the reference's prices where HiGHS solves the row (but
    at its token-demand nodes, module docstring)."""
    data = np.load(UNSETTLED)
    problem = ClearingProblem(**{f: data[f] for f in FIELDS})
    sol = solve_fast(problem)
    assert sol.converged.all() and (sol.iterations < 20).all(), sol.iterations
    for b in range(problem.shape[0]):
        row = ClearingProblem(**{f: data[f][b:b + 1] for f in FIELDS})
        one = type(sol)(*(getattr(sol, name)[b:b + 1] for name in sol.__dataclass_fields__))
        assert _equilibrium_violation(row, one) < 1e-8, b
    warm = solve_fast(problem, warm_price=sol.price, warm_flow=sol.flow)
    assert warm.converged.all()
    np.testing.assert_allclose(warm.price, sol.price, rtol=1e-9)
    ref = solve_reference(problem)
    assert ref.converged.sum() >= 3
    piece = np.clip(problem.a + problem.slope * sol.price[:, :, None], problem.lo, problem.hi)
    moving = (np.abs(piece).sum(2) > 1e-4) & ref.converged[:, None]  # not a token node
    np.testing.assert_allclose(sol.price[moving], ref.price[moving], rtol=1e-6)


def test_a_jump_tied_with_a_ceiling_does_not_merge() -> None:
    data = np.load(CEILING_MERGE)
    problem = ClearingProblem(**{f: data[f] for f in FIELDS})
    cold = solve_fast(problem)
    for kwargs in ({}, {"warm_price": data["warm_price"]},
                   {"warm_price": data["warm_price"], "warm_flow": data["warm_flow"]}):
        sol = solve_fast(problem, **kwargs)
        assert sol.converged.all() and (sol.iterations < 20).all(), sol.iterations
        assert _equilibrium_violation(problem, sol) < 1e-8
        np.testing.assert_allclose(sol.price, cold.price, rtol=1e-9)


def test_a_row_whose_flows_cycle_settles_at_its_prices() -> None:
    """From a cold or the engine's warm start: an equilibrium at the reference's prices (module docstring)."""
    data = np.load(FLOW_CYCLE)
    problem = ClearingProblem(**{f: data[f] for f in FIELDS})
    ref = solve_reference(problem)
    assert ref.converged.all()
    for kwargs in ({}, {"warm_price": data["warm_price"], "warm_flow": data["warm_flow"]}):
        sol = solve_fast(problem, **kwargs)
        assert sol.converged.all(), kwargs.keys()
        assert _equilibrium_violation(problem, sol) < 1e-9
        np.testing.assert_allclose(sol.price, ref.price, rtol=1e-6)


def test_flows_settle_a_row_only_at_equilibrium_prices(monkeypatch) -> None:
    """`settle_flows` marks a row settled only where flows clear it at its prices, and, without highspy,
    leaves it unsettled."""
    data = np.load(FLOW_CYCLE)
    problem = ClearingProblem(**{f: data[f] for f in FIELDS})
    right = solve_fast(problem).price

    def settled(price: np.ndarray) -> bool:
        sol = ClearingSolution(price.copy(), np.zeros_like(problem.cap), np.zeros_like(problem.cap),
                               np.zeros_like(price), np.zeros_like(price), np.zeros(1, np.int64),
                               np.zeros(1, bool))
        settle_flows(problem, sol, np.array([0]), 1e-10)
        assert not sol.converged[0] or _equilibrium_violation(problem, sol) < 1e-9
        return bool(sol.converged[0])

    assert settled(right)
    assert not settled(right * np.where(np.arange(problem.shape[1]) == 7, 1.01, 1.0))  # exporter 7 too dear
    monkeypatch.setitem(sys.modules, "highspy", None)  # importing it now fails
    assert not settled(right)
