"""The back-test across the calibration's posterior: how often each criterion holds, not only at the point.

The point estimate is one of many parameter vectors that fit the record about as well (the ABC's accepted
sample, `reesim.calibration.posterior`). A criterion that holds at the point but in few draws rests on the
point's luck; one that fails in every draw is beyond what the behavioural parameters can reach, which
points at a mechanism or at the record instead. So every draw is run as one member of a single run of the
2010-crisis scenario (the engine is vectorised over members), set against the record like the point, and
each criterion is reported as the share of draws in which it holds, with the spread of its simulated value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from reesim.backtest.compare import SCENARIO, Backtest, compare
from reesim.backtest.record import PRICES
from reesim.calibration.objective import log_residuals
from reesim.calibration.posterior import read_posterior
from reesim.engine.simulate import run_scenario
from reesim.scenario import load_scenario

QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class PosteriorBacktest:
    """The back-test's criteria over the posterior sample: one row per draw and a summary per criterion."""

    draws: pd.DataFrame  # one row per draw and criterion: draw, check, product, recorded, simulated, bound, passed
    checks: pd.DataFrame  # check, product, recorded, bound, p05, p50, p95, share_passed
    all_hold: float  # share of draws in which every criterion holds
    price_rms: pd.Series  # per draw: RMS log distance of the export-price statistics from the record
    band: xr.DataArray  # (quantile, time, product) export-market price across the draws, USD/kg

    def rms_quantiles(self) -> pd.Series:
        """The 5/50/95 % quantiles of the draws' export-price RMS, each a draw's value."""
        return self.price_rms.quantile(list(QUANTILES), interpolation="nearest")

    def to_json(self) -> dict:
        """The summary per criterion and the spread of the fit, as plain JSON types."""
        rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                for row in self.checks.to_dict(orient="records")]
        q = self.rms_quantiles()
        return {"draws": int(self.price_rms.size), "all_hold": round(self.all_hold, 4), "checks": rows,
                "price_rms": {f"p{round(100 * k):02d}": round(float(v), 4) for k, v in q.items()}}


def run_posterior_backtest(source: str | Path = "calibrated_2010", limit: int | None = None) -> PosteriorBacktest:
    """Run the 2010-crisis scenario once with every draw of `source`'s posterior sample as a member (the
    first `limit` draws if given) and set each member against the record. `source` is a shipped
    calibration's name or a calibration.json path. The world-specific parameters (the 2009 world's demand
    growth) are kept: this is the world they were fitted on."""
    sample = read_posterior(str(source), world_specific=True)
    n = len(next(iter(sample.values())))
    if limit is not None:
        n = min(n, limit)
        sample = {k: v[:n] for k, v in sample.items()}
    scenario = load_scenario(SCENARIO, members=n)
    dataset = run_scenario(scenario, params=sample, variables=("price", "trade", "licence")).dataset
    backtests = [compare(dataset.isel(member=[i]), {k: float(v[i]) for k, v in sample.items()}) for i in range(n)]
    return summarise(backtests)


def summarise(backtests: list[Backtest]) -> PosteriorBacktest:
    """The criteria of each draw's back-test, stacked, their pass shares and quantiles, and the band of the
    draws' monthly export prices (each one-draw back-test's monthly median is that draw's path)."""
    frames, rms = [], []
    for i, bt in enumerate(backtests):
        checks = bt.checks()
        checks.insert(0, "draw", i)
        frames.append(checks)
        residuals = log_residuals(bt.prices["simulated"].to_numpy()[None, :], PRICES)
        rms.append(float(np.sqrt(np.mean(residuals**2))))
    draws = pd.concat(frames, ignore_index=True)
    draws["simulated"] = draws["simulated"].astype(float)
    draws["passed"] = draws["passed"].astype(bool)
    keys = ["check", "product"]
    grouped = draws.groupby(keys, sort=False)
    summary = grouped[["recorded", "bound"]].first()
    for q in QUANTILES:
        summary[f"p{round(100 * q):02d}"] = grouped["simulated"].quantile(q, interpolation="nearest")  # a draw's value
    summary["share_passed"] = grouped["passed"].mean()
    all_hold = float(draws.groupby("draw")["passed"].all().mean())
    paths = xr.concat([bt.monthly for bt in backtests], dim="draw")
    return PosteriorBacktest(draws=draws, checks=summary.reset_index(), all_hold=all_hold,
                             price_rms=pd.Series(rms, name="price_rms").rename_axis("draw"),
                             band=paths.quantile(list(QUANTILES), dim="draw"))
