"""Run a design of candidate parameter vectors, one per ensemble member, and keep only what is scored.

The engine advances all members at once, so a design of n candidates is one batched simulation (in
chunks that bound the memory the trade flows take: 32 members of 2009-2015 trade are about 200 MB), not
n runs. Each member keeps the simulated statistic of every recorded price point (export prices, and
China's own prices where the target fits them) and China's exports by year; the rest of the results is
dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from reesim.backtest.measures import china_exports, domestic_price, export_price
from reesim.backtest.record import PricePoint
from reesim.calibration.objective import simulated_points
from reesim.engine.simulate import run_scenario
from reesim.scenario import Scenario
from reesim.world import load_world

CHUNK = 32  # members per batched run


@dataclass(frozen=True)
class DesignRun:
    """What a design produced: per candidate, the simulated price statistics and China's yearly exports."""

    params: dict[str, np.ndarray]  # name -> (n,)
    prices: np.ndarray  # (n, points) simulated statistic of each recorded price point, USD/kg
    exports: np.ndarray  # (n, years) China's exports of oxides and metals, t/yr
    years: tuple[int, ...]
    domestic: np.ndarray  # (n, domestic points) simulated statistic of China's own price, USD/kg (may be empty)

    def __len__(self) -> int:
        return self.prices.shape[0]

    @staticmethod
    def concat(runs: Sequence[DesignRun]) -> DesignRun:
        first = runs[0]
        return DesignRun(params={k: np.concatenate([r.params[k] for r in runs]) for k in first.params},
                         prices=np.concatenate([r.prices for r in runs]),
                         exports=np.concatenate([r.exports for r in runs]), years=first.years,
                         domestic=np.concatenate([r.domestic for r in runs]))


def run_design(scenario: Scenario, design: Mapping[str, np.ndarray], points: Sequence[PricePoint], *,
               domestic: Sequence[PricePoint] = (), chunk: int = CHUNK,
               progress: Callable[[int, int], None] | None = None) -> DesignRun:
    """Simulate every candidate of `design` (name -> (n,) values) on `scenario` and score-ready outputs:
    the export-price statistic of each of `points` and China's own price statistic of each of `domestic`."""
    sizes = {len(v) for v in design.values()}
    if len(sizes) != 1:
        raise ValueError(f"every parameter of a design needs the same number of candidates, got {sorted(sizes)}")
    n = sizes.pop()
    world = load_world(scenario.world)
    oxides = sorted({p.engine_product for p in points})
    home = sorted({p.engine_product for p in domestic})
    parts = []
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = {k: np.asarray(v[start:stop], dtype=float) for k, v in design.items()}
        members = scenario.model_copy(update={"members": stop - start})
        results = run_scenario(members, world=world, params=part, variables=("price", "trade"))
        ds = results.dataset
        exports = china_exports(ds)
        in_china = (simulated_points(domestic_price(ds, home), domestic) if domestic
                    else np.zeros((stop - start, 0)))
        parts.append(DesignRun(params=part, prices=simulated_points(export_price(ds, world, oxides), points),
                               exports=exports.transpose("member", "year").values,
                               years=tuple(int(y) for y in exports["year"].values), domestic=in_china))
        if progress is not None:
            progress(stop, n)
    return DesignRun.concat(parts)
