"""Market clearing: closed-form two-region cases, a quota wedge, and fast-vs-reference properties.

The two-region market used throughout: region 0 supplies S = 2p and demands D = 100 - p, region 1 supplies
S = p and demands D = 200 - 2p, so net supply is E0 = 3p - 100 and E1 = 3p - 200 (autarky prices 100/3 and
200/3; free trade clears at p = 50 with 50 t shipped from region 0 to region 1).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reesim.engine.simulate import run_scenario
from reesim.market.fast import solve_fast
from reesim.market.problem import ClearingProblem, ClearingSolution
from reesim.market.reference import solve_reference
from reesim.scenario import load_scenario

SOLVERS = [pytest.param(solve_fast, id="fast"), pytest.param(solve_reference, id="reference")]


def two_region(t: float = 0.0, m: float = 0.0, cap: float = np.inf, floor=(0.0, 0.0),
               ceiling=(1e3, 1e3)) -> ClearingProblem:
    """The module docstring's market, with the same cost, markup and cap on both routes."""
    a = np.array([[[0.0, -100.0], [0.0, -200.0]]])
    slope = np.array([[[2.0, 1.0], [1.0, 2.0]]])
    lo = np.array([[[0.0, -100.0], [0.0, -200.0]]])
    hi = np.array([[[1e4, 0.0], [1e4, 0.0]]])
    off = 1.0 - np.eye(2)[None]
    return ClearingProblem(a, slope, lo, hi, t * off, m * off, np.where(off > 0, cap, 0.0),
                           np.array([floor], float), np.array([ceiling], float))


def assert_equilibrium(problem: ClearingProblem, sol: ClearingSolution) -> None:
    """Balances to 1e-9 of throughput, flows within [0, cap], rent only at caps, no NaN."""
    for name in ("price", "flow", "rent", "floor_take", "ceiling_fill"):
        assert np.isfinite(getattr(sol, name)).all(), name
    inflow, outflow = sol.flow.sum(axis=1), sol.flow.sum(axis=2)
    q = np.clip(problem.a + problem.slope * sol.price[..., None], problem.lo, problem.hi)
    balance = q.sum(-1) - outflow + inflow + sol.ceiling_fill - sol.floor_take
    throughput = np.abs(q).sum(-1) + inflow + outflow + sol.ceiling_fill + sol.floor_take
    assert np.all(np.abs(balance) <= 1e-9 * (1.0 + throughput))
    assert np.all(sol.flow >= 0.0) and np.all(sol.flow <= problem.cap)
    assert np.all(sol.flow[problem.cap == 0.0] == 0.0)
    assert np.all((sol.rent == 0.0) | (sol.flow == problem.cap))
    assert np.all(sol.rent >= 0.0)


@pytest.mark.parametrize("solve", SOLVERS)
def test_free_trade_and_transport_cost(solve) -> None:
    for t in (0.0, 4.0):
        problem = two_region(t=t)
        sol = solve(problem)
        np.testing.assert_allclose(sol.price[0], [50 - t / 2, 50 + t / 2], rtol=1e-9)
        net = sol.flow[0, 0, 1] - sol.flow[0, 1, 0]  # at t = 0 a circulation would cost nothing
        assert net == pytest.approx(50 - 1.5 * t, rel=1e-7)
        assert sol.converged.all()
        assert_equilibrium(problem, sol)


@pytest.mark.parametrize("solve", SOLVERS)
def test_ad_valorem_tariff_incidence(solve) -> None:
    """p1 = (1 + m) p0 + t with E0 + E1 = 0 gives p0 = (100 - t) / (2 + m)."""
    t, m = 2.0, 0.25
    free = solve(two_region(t=t)).price[0]
    sol = solve(two_region(t=t, m=m))
    p0 = (100 - t) / (2 + m)
    np.testing.assert_allclose(sol.price[0], [p0, (1 + m) * p0 + t], rtol=1e-9)
    assert free[0] - sol.price[0, 0] == pytest.approx(49 - p0, rel=1e-9)  # exporter price falls
    assert sol.price[0, 1] - free[1] == pytest.approx((1 + m) * p0 + t - 51, rel=1e-9)  # importer's rises
    assert sol.flow[0, 0, 1] == pytest.approx(3 * p0 - 100, rel=1e-7)
    assert_equilibrium(two_region(t=t, m=m), sol)


@pytest.mark.parametrize("solve", SOLVERS)
def test_quota_rent(solve) -> None:
    """A cap Q below the free-trade flow: p0 = (100 + Q) / 3, p1 = (200 - Q) / 3, rent = p1 - p0 - t."""
    t, quota = 2.0, 20.0
    problem = two_region(t=t, cap=quota)
    sol = solve(problem)
    p0, p1 = (100 + quota) / 3, (200 - quota) / 3
    np.testing.assert_allclose(sol.price[0], [p0, p1], rtol=1e-9)
    assert sol.flow[0, 0, 1] == pytest.approx(quota, rel=1e-9)
    assert sol.rent[0, 0, 1] == pytest.approx(p1 - p0 - t, rel=1e-9)
    assert sol.rent[0, 1, 0] == 0.0
    assert_equilibrium(problem, sol)


@pytest.mark.parametrize("solve", SOLVERS)
def test_blocked_route_gives_autarky(solve) -> None:
    problem = two_region(t=2.0, cap=0.0)
    sol = solve(problem)
    np.testing.assert_allclose(sol.price[0], [100 / 3, 200 / 3], rtol=1e-9)
    assert np.all(sol.flow == 0.0)
    assert sol.rent[0, 0, 1] == pytest.approx(200 / 3 - 100 / 3 - 2.0, rel=1e-9)  # the ban's shadow price
    assert_equilibrium(problem, sol)


@pytest.mark.parametrize("solve", SOLVERS)
def test_binding_floor_takes_the_surplus(solve) -> None:
    """Floor f at the exporter: p0 = f, p1 = f + t, take = E0(f) + E1(f + t) = 6f + 3t - 300."""
    t, f = 2.0, 55.0
    problem = two_region(t=t, floor=(f, 0.0))
    sol = solve(problem)
    np.testing.assert_allclose(sol.price[0], [f, f + t], rtol=1e-9)
    assert sol.floor_take[0, 0] == pytest.approx(6 * f + 3 * t - 300, rel=1e-7)
    assert sol.floor_take[0, 1] == pytest.approx(0.0, abs=1e-7)
    assert_equilibrium(problem, sol)


@pytest.mark.parametrize("solve", SOLVERS)
def test_binding_ceiling_fills_the_shortage(solve) -> None:
    """Ceiling c at the importer: p1 = c, p0 = c - t, fill = 300 + 3t - 6c."""
    t, c = 2.0, 45.0
    problem = two_region(t=t, ceiling=(1e3, c))
    sol = solve(problem)
    np.testing.assert_allclose(sol.price[0], [c - t, c], rtol=1e-9)
    assert sol.ceiling_fill[0, 1] == pytest.approx(300 + 3 * t - 6 * c, rel=1e-7)
    assert sol.ceiling_fill[0, 0] == pytest.approx(0.0, abs=1e-7)
    assert_equilibrium(problem, sol)


def three_regions(china_to_g7_cap: float) -> ClearingProblem:
    """China exports cheaply; the G-7 and a third region import; the third region also produces a bit."""
    a = np.array([[[-50.0, -400.0], [0.0, -600.0], [-20.0, -200.0]]])
    slope = np.array([[[10.0, 2.0], [0.5, 4.0], [1.0, 2.0]]])
    lo = np.array([[[0.0, -400.0], [0.0, -600.0], [0.0, -200.0]]])
    hi = np.array([[[2000.0, 0.0], [50.0, 0.0], [300.0, 0.0]]])
    transport = np.array([[[0.0, 5.0, 4.0], [5.0, 0.0, 3.0], [4.0, 3.0, 0.0]]])
    cap = np.full((1, 3, 3), np.inf)
    cap[0, 0, 1] = china_to_g7_cap
    return ClearingProblem(a, slope, lo, hi, transport, np.zeros((1, 3, 3)), cap, np.zeros((1, 3)),
                           np.full((1, 3), 1e3))


def test_export_cap_opens_a_price_wedge() -> None:
    free, capped = (three_regions(c) for c in (np.inf, 50.0))
    before, after = solve_fast(free), solve_fast(capped)
    assert before.flow[0, 0, 1] > 50.0  # the cap binds
    china, g7 = 0, 1
    assert after.price[0, g7] - after.price[0, china] > capped.transport[0, china, g7] + 1.0
    assert after.price[0, g7] > before.price[0, g7]
    assert after.price[0, china] <= before.price[0, china] + 1e-9
    assert after.rent[0, china, g7] > 0.0
    np.testing.assert_allclose(after.price, solve_reference(capped).price, rtol=1e-6)
    assert_equilibrium(capped, after)


def random_problem(rng: np.random.Generator, b: int, r: int, k: int, markup: float) -> ClearingProblem:
    """Piece 0 of every node is wide with slope > 0 (unique prices); the rest are random clipped pieces,
    some flat. Transport costs are random (unique flows); some caps finite, some zero, the rest none."""
    a = rng.uniform(-100.0, 100.0, (b, r, k))
    slope = rng.uniform(0.0, 5.0, (b, r, k)) * (rng.random((b, r, k)) < 0.8)
    lo, hi = rng.uniform(-150.0, 0.0, (b, r, k)), rng.uniform(0.0, 150.0, (b, r, k))
    a[..., 0], slope[..., 0] = rng.uniform(-200.0, -10.0, (b, r)), rng.uniform(0.5, 5.0, (b, r))
    lo[..., 0], hi[..., 0] = -1e5, 1e5
    off = 1.0 - np.eye(r)[None]
    transport = rng.uniform(0.1, 20.0, (b, r, r)) * off
    markups = rng.uniform(0.0, markup, (b, r, r)) * (rng.random((b, r, r)) < 0.5) * off
    u = rng.random((b, r, r))
    finite = rng.uniform(0.0, 80.0, (b, r, r))
    cap = np.where((u < 0.15) | (off == 0), 0.0, np.where(u < 0.45, finite, np.inf))
    return ClearingProblem(a, slope, lo, hi, transport, markups, cap, np.zeros((b, r)), np.full((b, r), 1e4))


problems = st.builds(
    lambda seed, b, r, k, markup: random_problem(np.random.default_rng(seed), b, r, k, 0.3 * markup),
    st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(2, 6), st.integers(1, 3), st.booleans())


@settings(max_examples=50, deadline=None)
@given(problems)
def test_fast_matches_reference(problem: ClearingProblem) -> None:
    fast, ref = solve_fast(problem), solve_reference(problem)
    assert fast.converged.all()
    assert_equilibrium(problem, fast)  # every row, whatever the reference does
    # HiGHS's QP solver ends with a solve error on an occasional random row even regularised (HiGHS 1.16,
    # e.g. random_problem(default_rng(39916798), 4, 6, 1, 0.0), row 2); the reference reports such a row
    # as not converged, and only the rows it solved are compared.
    solved = ref.converged
    np.testing.assert_allclose(fast.price[solved], ref.price[solved], rtol=1e-6, atol=1e-9)
    scale = 1.0 + np.abs(ref.flow[solved]).max(initial=0.0)
    np.testing.assert_allclose(fast.flow[solved], ref.flow[solved], rtol=0.0, atol=1e-6 * scale)
    again = solve_fast(problem)
    for name in ("price", "flow", "rent", "floor_take", "ceiling_fill", "iterations", "converged"):
        assert np.array_equal(getattr(fast, name), getattr(again, name)), name


def test_the_reference_solves_almost_every_random_row() -> None:
    """The comparison above skips the rows the reference could not solve; it must be a rare few."""
    rows = [solve_reference(random_problem(np.random.default_rng(seed), 4, 5, 3, 0.3 * (seed % 2))).converged
            for seed in range(30)]
    assert np.concatenate(rows).mean() >= 0.95


@settings(max_examples=20, deadline=None)
@given(problems)
def test_warm_start_gives_the_cold_answer(problem: ClearingProblem) -> None:
    """From the answer's prices (and flows) or from last month's, a warm start ends where a cold one does."""
    cold = solve_fast(problem)
    for warm in ({"warm_price": cold.price}, {"warm_price": cold.price, "warm_flow": cold.flow}):
        hot = solve_fast(problem, **warm)
        np.testing.assert_allclose(hot.price, cold.price, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(hot.flow, cold.flow, rtol=0.0, atol=1e-9 * (1.0 + cold.flow.max()))
        assert hot.converged.all() and hot.iterations.sum() <= cold.iterations.sum()
        shifted = dataclasses.replace(problem, a=problem.a * 1.05)
        from_last_month = solve_fast(shifted, **warm)
        np.testing.assert_allclose(from_last_month.price, solve_fast(shifted).price, rtol=1e-9, atol=1e-12)


def test_arrays_of_any_layout_give_the_same_answer() -> None:
    """Broadcast views (one transport cost per row) and transposed piece arrays are read as they are."""
    problem = random_problem(np.random.default_rng(3), 4, 5, 3, 0.2)
    per_row = np.array([1.0, 2.0, 3.0, 4.0])
    uniform = dataclasses.replace(problem, transport=np.broadcast_to(per_row[:, None, None], (4, 5, 5)),
                                  floor=np.broadcast_to(0.0, (4, 5)))
    pieces = {name: np.ascontiguousarray(np.moveaxis(getattr(problem, name), 2, 1)).transpose(0, 2, 1)
              for name in ("a", "slope", "lo", "hi")}  # same values, node axis fastest in memory
    strided = dataclasses.replace(uniform, **pieces)
    copied = ClearingProblem(*(np.array(getattr(strided, f.name)) for f in dataclasses.fields(strided)))
    assert not strided.a.flags.c_contiguous and strided.transport.strides[1:] == (0, 0)
    for name in ("price", "flow", "rent", "floor_take", "ceiling_fill"):
        np.testing.assert_array_equal(getattr(solve_fast(strided), name), getattr(solve_fast(copied), name))


@pytest.mark.parametrize(("field", "row", "value", "message"), [
    ("a", (1, 0, 0), np.nan, r"ClearingProblem\.a has NaN"), ("slope", (0, 1, 0), -1.0, "slope"),
    ("cap", (1, 0, 1), -1.0, "cap must be >= 0"), ("cap", (1, 0, 1), np.nan, "cap must be >= 0"),
    ("hi", (0, 0, 0), -1e6, "hi must be >= lo"), ("ceiling", (1, 1), 0.0, "floor < ceiling")])
def test_bad_values_are_named(field: str, row: tuple, value: float, message: str) -> None:
    problem = random_problem(np.random.default_rng(4), 2, 2, 1, 0.0)
    values = np.array(getattr(problem, field))
    values[row] = value
    with pytest.raises(ValueError, match=message):
        solve_fast(dataclasses.replace(problem, **{field: values}))


@pytest.fixture(scope="module")
def engine_problems() -> list[ClearingProblem]:
    """The clearing problems of one member's first months on the default world (copied: the engine reuses
    its arrays): quantities from a 1e-6 t token demand to 1e5 t, prices from 0.5 to 2,000 USD/kg."""
    captured = []

    def solver(problem: ClearingProblem, **warm: np.ndarray) -> ClearingSolution:
        captured.append(ClearingProblem(*(np.array(getattr(problem, f.name)) for f in dataclasses.fields(problem))))
        return solve_fast(problem, **warm)

    run_scenario(load_scenario("baseline", members=1, end="2024-03"), solver=solver, variables=("price",))
    return captured


def test_fast_matches_reference_on_engine_problems(engine_problems: list[ClearingProblem]) -> None:
    """Every row the reference solves exactly agrees; HiGHS's QP solver cycles on a few rows whose pieces
    differ in slope by 1e5 (the reference then reports them unconverged)."""
    solved = 0
    for problem in engine_problems:
        fast, ref = solve_fast(problem), solve_reference(problem)
        assert fast.converged.all()
        assert_equilibrium(problem, fast)
        exact = ref.converged
        np.testing.assert_allclose(fast.price[exact], ref.price[exact], rtol=1e-6, atol=1e-9)
        solved += exact.sum()
    assert solved >= 0.95 * sum(problem.shape[0] for problem in engine_problems)


def test_unmet_demand_without_ceiling_is_flagged_not_nan() -> None:
    """Fixed demand nobody can serve and no ceiling: no equilibrium; the row says so and stays finite."""
    problem = ClearingProblem(np.array([[[-10.0]]]), np.zeros((1, 1, 1)), np.array([[[-10.0]]]),
                              np.array([[[0.0]]]), np.zeros((1, 1, 1)), np.zeros((1, 1, 1)),
                              np.zeros((1, 1, 1)), np.zeros((1, 1)), np.full((1, 1), np.inf))
    sol = solve_fast(problem)
    assert not sol.converged[0]
    assert np.isfinite(sol.price).all() and np.isfinite(sol.ceiling_fill).all()


def test_warm_start_arrays_are_checked() -> None:
    with pytest.raises(ValueError, match="warm_price"):
        solve_fast(two_region(), warm_price=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="warm_flow needs warm_price"):
        solve_fast(two_region(), warm_flow=np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="warm_flow"):
        solve_fast(two_region(), warm_price=np.zeros((1, 2)), warm_flow=np.zeros((1, 2)))
