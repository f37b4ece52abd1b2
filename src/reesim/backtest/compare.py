"""The back-test of the 2010-2011 crisis: the 2010-crisis scenario run with the calibrated parameters,
set against the record product by product and year by year.

Recorded "annual" prices are what the record holds for each year: the 2009 average and the year-end
prices of 2011-2015 (plus Q2 2011, January 2011 and the 2011 peak where recorded). The simulated value
beside each is the same statistic of the simulated export-market price; the simulated annual mean of
every year is shown too. The simulated peak year is the year of the highest annual mean (the record's
peak year is that of its highest figure, 2011 for every oxide); the peak itself is the highest month,
and its ratio to the 2009 average and the ratio of the December 2013 price to it are compared with the
recorded peak (the highest recorded figure) in the same ratios. `checks` turns the issue's criteria into
pass/fail rows: peak year 2011; peak over 2009 within a factor of two of the record (Nd, Dy, La, Ce);
end-2013 price at most half the peak; China's 2011 exports well below (at most 75 % of) the quota.
China's own prices on the three dates of the domestic record are set beside the simulated price in China
(`domestic`): reported, not fitted and not a criterion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from reesim.backtest.measures import china_exports, domestic_price, export_price
from reesim.backtest.record import (
    DOMESTIC,
    DOMESTIC_PRODUCTS,
    EXPORTS,
    PRICES,
    PRODUCTS,
    recorded_at,
    recorded_peak,
)
from reesim.calibration.objective import log_residuals, simulated_points
from reesim.engine.simulate import run_scenario
from reesim.scenario import load_scenario
from reesim.world import load_world

SCENARIO = "2010-crisis"
YEARS = tuple(range(2009, 2016))
PEAK_PRODUCTS = ("oxide:Nd", "oxide:Dy", "oxide:La", "oxide:Ce")  # the four peak ratios
WELL_BELOW = 0.75  # "well below the quota": the record's 2011 share is 0.56


@dataclass(frozen=True)
class Backtest:
    """Simulated against recorded: price figures, per-product summaries and China's exports."""

    prices: pd.DataFrame  # product, label, year, recorded, low, high, simulated (same statistic)
    annual: pd.DataFrame  # product x year: simulated annual mean export-market price, USD/kg
    summary: pd.DataFrame  # per product: peak year, month and value, peak/2009 and end-2013/peak, both sides
    exports: pd.DataFrame  # per year: quota, recorded exports, simulated exports, shares of the quota
    monthly: xr.DataArray  # (time, product) simulated export-market price, member median
    domestic: pd.DataFrame  # product, label, month, recorded, low, high, simulated in China, simulated / recorded
    monthly_domestic: xr.DataArray  # (time, product) simulated price in China of DOMESTIC_PRODUCTS, member median
    parameters: dict[str, float]

    def checks(self) -> pd.DataFrame:
        """The back-test's criteria, one row each: what is compared, the bound and whether it holds."""
        rows = []
        s = self.summary
        for product in PRODUCTS:
            rows.append({"check": "peak year is 2011", "product": product, "recorded": 2011,
                         "simulated": int(s.loc[product, "simulated_peak_year"]), "bound": "== 2011",
                         "passed": int(s.loc[product, "simulated_peak_year"]) == 2011})
        for product in PEAK_PRODUCTS:
            ratio = s.loc[product, "simulated_peak_to_2009"] / s.loc[product, "recorded_peak_to_2009"]
            rows.append({"check": "peak / 2009 within 2x of record", "product": product,
                         "recorded": round(float(s.loc[product, "recorded_peak_to_2009"]), 2),
                         "simulated": round(float(s.loc[product, "simulated_peak_to_2009"]), 2),
                         "bound": "0.5-2 x recorded", "passed": bool(0.5 <= ratio <= 2.0)})
        for product in PRODUCTS:
            fall = float(s.loc[product, "simulated_end2013_to_peak"])
            rows.append({"check": "end-2013 / peak at most 0.5", "product": product,
                         "recorded": round(float(s.loc[product, "recorded_end2013_to_peak"]), 2),
                         "simulated": round(fall, 2), "bound": "<= 0.5", "passed": fall <= 0.5})
        year = self.exports.set_index("year").loc[2011]
        rows.append({"check": "2011 exports / quota well below 1", "product": "oxides and metals",
                     "recorded": year["recorded_share_of_quota"], "simulated": year["simulated_share_of_quota"],
                     "bound": f"<= {WELL_BELOW}", "passed": bool(year["simulated_share_of_quota"] <= WELL_BELOW)})
        return pd.DataFrame(rows)

    @property
    def domestic_rms(self) -> float:
        """RMS log distance of China's simulated prices from the domestic quotes (0 inside a quoted range):
        a check on the fit from figures it did not see."""
        simulated = self.domestic["simulated"].to_numpy()[None, :]
        return float(np.sqrt(np.mean(log_residuals(simulated, DOMESTIC) ** 2)))

    def to_json(self) -> dict:
        """The figures of the back-test as plain JSON types, per product and per year."""
        products = {}
        for product in PRODUCTS:
            rows = self.prices[self.prices["product"] == product]
            s = self.summary.loc[product]
            products[product] = {
                "engine_product": s["engine_product"],
                "recorded": {r.label: r.recorded for r in rows.itertuples()},
                "simulated": {r.label: round(float(r.simulated), 3) for r in rows.itertuples()},
                "simulated_annual_mean": {str(y): round(float(v), 3) for y, v in self.annual.loc[product].items()},
                "peak_year": {"recorded": int(s["recorded_peak_year"]), "simulated": int(s["simulated_peak_year"])},
                "peak_month_simulated": s["simulated_peak_month"],
                "peak_to_2009": {"recorded": round(float(s["recorded_peak_to_2009"]), 3),
                                 "simulated": round(float(s["simulated_peak_to_2009"]), 3)},
                "end2013_to_peak": {"recorded": round(float(s["recorded_end2013_to_peak"]), 3),
                                    "simulated": round(float(s["simulated_end2013_to_peak"]), 3)},
            }
        exports = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
                   for row in self.exports.to_dict(orient="records")]
        checks = [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                  for row in self.checks().to_dict(orient="records")]
        domestic = [{"product": r.product, "label": r.label, "recorded": round(float(r.recorded), 3),
                     "simulated": round(float(r.simulated), 3)} for r in self.domestic.itertuples()]
        return {"scenario": SCENARIO, "parameters": self.parameters, "products": products, "exports": exports,
                "domestic": domestic, "domestic_rms": round(self.domestic_rms, 4), "checks": checks}


def run_backtest(parameters: Mapping[str, float] | None = None, members: int = 1) -> Backtest:
    """Run the 2010-crisis scenario with `parameters` (default: the calibration shipped with reesim)."""
    from reesim.calibration.result import read_parameters

    chosen = dict(read_parameters() if parameters is None else parameters)
    scenario = load_scenario(SCENARIO, members=members)
    values = {k: np.full(members, float(v)) for k, v in chosen.items()}
    results = run_scenario(scenario, params=values, variables=("price", "trade", "licence"))
    return compare(results.dataset, chosen)


def compare(dataset: xr.Dataset, parameters: Mapping[str, float]) -> Backtest:
    """Set a run of the 2010-crisis scenario (2009-01 to 2015-12) against the record."""
    world = load_world("world2009")
    engine_products = sorted({p.engine_product for p in PRICES})
    price = export_price(dataset, world, engine_products)
    sim = np.median(simulated_points(price, PRICES), axis=0)
    prices = pd.DataFrame([{"product": p.product, "label": p.label, "year": p.year, "kind": p.kind,
                            "recorded": p.value, "low": p.low, "high": p.high, "simulated": s}
                           for p, s in zip(PRICES, sim)])
    monthly = price.median("member")
    times = pd.DatetimeIndex(monthly["time"].values)
    annual_rows, summary_rows = {}, []
    for product in PRODUCTS:
        engine = next(p.engine_product for p in PRICES if p.product == product)
        series = pd.Series(monthly.sel(product=engine).values, index=times)
        annual_rows[product] = series.groupby(series.index.year).mean().reindex(YEARS)
        mean_2009 = series[series.index.year == 2009].mean()
        peak_time = series.idxmax()
        peak_year = int(annual_rows[product].idxmax())
        end_2013 = series[(series.index.year == 2013) & (series.index.month == 12)].iloc[0]
        peak = recorded_peak(product)
        start = recorded_at(product, "2009 average").value
        summary_rows.append({
            "product": product, "engine_product": engine,
            "recorded_peak_year": peak.year, "recorded_peak": peak.value, "recorded_peak_label": peak.label,
            "simulated_peak_year": peak_year, "simulated_peak_month": peak_time.strftime("%Y-%m"),
            "simulated_peak": float(series.max()),
            "recorded_peak_to_2009": peak.value / start, "simulated_peak_to_2009": float(series.max() / mean_2009),
            "recorded_end2013_to_peak": recorded_at(product, "end 2013").value / peak.value,
            "simulated_end2013_to_peak": float(end_2013 / series.max()),
        })
    in_china = domestic_price(dataset, list(DOMESTIC_PRODUCTS))
    home = np.median(simulated_points(in_china, DOMESTIC), axis=0)
    domestic = pd.DataFrame([{"product": p.product, "label": p.label, "month": p.start, "recorded": p.value,
                              "low": p.low, "high": p.high, "simulated": s, "simulated_over_recorded": s / p.value}
                             for p, s in zip(DOMESTIC, home)])
    exported = china_exports(dataset).median("member")
    # Each pool's licence price, USD/kg, mean of the year's months (median member). In 2010-crisis pool 1 is
    # the whole quota to 2011 and its light part from 2012; pool 2 is the medium-heavy part from 2012.
    licence = None
    if "licence" in dataset:
        licence = dataset["licence"].median("member").groupby("time.year").mean()
    export_rows = []
    for e in EXPORTS:
        simulated = float(exported.sel(year=e.year)) if e.year in exported["year"].values else np.nan
        export_rows.append({"year": e.year, "quota": e.quota, "recorded": e.exports, "recorded_note": e.partial,
                            "simulated": round(simulated, 1),
                            "recorded_share_of_quota": None if e.exports is None or e.quota is None
                            else round(e.exports / e.quota, 3),
                            "simulated_share_of_quota": None if e.quota is None else round(simulated / e.quota, 3),
                            "simulated_licence_price": None if licence is None or e.year not in licence["year"]
                            else round(float(licence.sel(year=e.year, pool=1)), 2),
                            "simulated_heavy_licence_price": None if licence is None or e.year not in licence["year"]
                            else round(float(licence.sel(year=e.year, pool=2)), 2)})
    return Backtest(prices=prices, annual=pd.DataFrame(annual_rows).T, summary=pd.DataFrame(summary_rows)
                    .set_index("product"), exports=pd.DataFrame(export_rows), monthly=monthly, domestic=domestic,
                    monthly_domestic=in_china.median("member"),
                    parameters={k: float(v) for k, v in parameters.items()})
