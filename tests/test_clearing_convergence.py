"""The fast clearing settles on degenerate engine rows (routes tied at zero reduced cost).

tests/data/clearing_ties.npz holds seven rows of the 2010-crisis scenario (by-route and pooled export
quotas) on which `solve_fast` used to run to max_iter: routes at exactly zero reduced cost (a floor-bound
exporter 0.5 USD/kg below floor-bound importers; an exporter whose autarky price plus freight is the
importers' price on several capped routes at once) flipped on every sweep, so the answer depended on the
warm start. Each row comes with the warm start the engine gave it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reesim.market.fast import solve_fast
from reesim.market.problem import ClearingProblem
from reesim.market.reference import solve_reference

DATA = Path(__file__).parent / "data" / "clearing_ties.npz"
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
