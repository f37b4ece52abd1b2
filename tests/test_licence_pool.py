"""The licence price of a pooled export quota, found within the month (reesim.engine.licence_pool).

Two nodes: China supplies 100 t/month with no demand of its own (free disposal at a price floor of 0),
Japan demands 80 t/month at any price up to its ceiling. Exports are 80 t while the licence price L keeps
Japan's price under the ceiling and none above it, so they jump at L* = ceiling - freight: the case
where regula falsi stalls and the clearings on either side must be mixed to meet the allowance.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from reesim.engine.licence_pool import clear_pool
from reesim.market.fast import solve_fast
from reesim.market.problem import ClearingProblem

FREIGHT = 1.0


def two_nodes(ceiling: float) -> ClearingProblem:
    """China (node 0) sells to Japan (node 1)."""
    return ClearingProblem(a=np.array([[[100.0], [-80.0]]]), slope=np.zeros((1, 2, 1)),
                           lo=np.array([[[0.0], [-80.0]]]), hi=np.array([[[100.0], [0.0]]]),
                           transport=FREIGHT * (np.ones((1, 2, 2)) - np.eye(2)), markup=np.zeros((1, 2, 2)),
                           cap=np.full((1, 2, 2), np.inf), floor=np.zeros((1, 2)),
                           ceiling=np.array([[np.inf, ceiling]]))


def price(problem: ClearingProblem, allowance: float):
    """The clearing and licence price of a pool on the route China -> Japan."""
    route = np.zeros((1, 2, 2, 1), dtype=bool)
    route[0, 0, 1, 0] = True
    return clear_pool(problem, solve_fast(problem), route, np.array([allowance]), solve_fast, previous=np.zeros(1))


@pytest.mark.parametrize("ceiling", [3.0, 17.5, 100.0, 300.0, 1000.0])
@pytest.mark.parametrize("allowance", [1.0, 30.0, 79.0])
def test_exports_meet_the_allowance_where_they_jump_at_the_licence_price(ceiling, allowance):
    problem = two_nodes(ceiling)
    free = solve_fast(problem)
    assert free.flow[0, 0, 1] == pytest.approx(80.0)  # without licences China ships all Japan takes
    sol, licence = price(problem, allowance)
    # Before the fix (Illinois cut off after 50 steps) the bracket stayed open at these ceilings and
    # the month shipped nothing of its allowance.
    assert sol.flow[0, 0, 1] == pytest.approx(allowance, rel=1e-6)
    assert licence[0] == pytest.approx(ceiling - FREIGHT, rel=1e-9)


def test_a_rising_supply_gets_the_licence_price_that_fits_the_allowance():
    # China's supply is 10 p at its price p. A licence price L above 41 USD/kg holds Japan at its ceiling
    # of 50, China's price at 50 - 1 - L and its exports at 10 (49 - L): smooth in L, so 30 t fit at L = 46.
    problem = replace(two_nodes(50.0), a=np.array([[[0.0], [-80.0]]]), slope=np.array([[[10.0], [0.0]]]),
                      hi=np.array([[[1000.0], [0.0]]]))
    free = solve_fast(problem)
    assert free.flow[0, 0, 1] == pytest.approx(80.0)
    sol, licence = price(problem, 30.0)
    assert sol.flow[0, 0, 1] == pytest.approx(30.0, rel=1e-6)
    assert licence[0] == pytest.approx(46.0, rel=1e-6)
    assert sol.price[0] == pytest.approx([3.0, 50.0], rel=1e-6)


def test_a_slack_allowance_sets_no_licence_price():
    sol, licence = price(two_nodes(50.0), 500.0)
    assert licence[0] == 0.0
    assert sol.flow[0, 0, 1] == pytest.approx(80.0)
