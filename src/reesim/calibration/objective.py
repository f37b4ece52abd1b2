"""How far a simulated path is from the record: residuals of log prices at the recorded points.

Log prices because the crisis moved prices by factors (La forty-fold, Nd thirteen-fold): an error of
a factor of two weighs the same at USD 5 and at USD 2,000. Each recorded point is compared with the same
statistic of the simulated export-market price (a year's mean, a month's value, a quarter's mean or the
highest month of a year). A recorded range counts as a tolerance: inside it the residual is zero.

China's exports in the years with a full-year record (2011-2013) enter the same way, as log residuals,
each weighing as much as one price point: the record says the quota went unused (16,900 t of 30,184 in
2011), and a calibration that met the prices with the quota binding would get the mechanism wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from reesim.backtest.record import ExportYear, PricePoint


def simulated_points(price: xr.DataArray, points: Sequence[PricePoint]) -> np.ndarray:
    """(member, point) value of each point's statistic on the simulated (member, time, product) prices."""
    times = pd.DatetimeIndex(price["time"].values).to_period("M")
    out = np.empty((price.sizes["member"], len(points)))
    for j, point in enumerate(points):
        window = (times >= pd.Period(point.start, "M")) & (times <= pd.Period(point.end, "M"))
        if not window.any():
            raise ValueError(f"the run does not cover {point.start}..{point.end} ({point.product}, {point.label}); "
                             "simulate to the end of 2015")
        series = price.sel(product=point.engine_product).transpose("member", "time").values[:, window]
        out[:, j] = series.max(axis=1) if point.kind == "peak" else series.mean(axis=1)
    return out


def log_residuals(simulated: np.ndarray, points: Sequence[PricePoint]) -> np.ndarray:
    """(member, point) log distance from the recorded range (0 inside it); a price at or below 0 counts as
    a cent, so a collapsed market is far off rather than undefined."""
    low = np.log([p.low for p in points])
    high = np.log([p.high for p in points])
    logged = np.log(np.maximum(simulated, 0.01))
    return np.where(logged < low, logged - low, np.where(logged > high, logged - high, 0.0))


def export_residuals(simulated: np.ndarray, years: Sequence[int], record: Sequence[ExportYear]) -> np.ndarray:
    """(member, year) log(simulated / recorded) exports for the recorded full years among `years`."""
    recorded = [e for e in record if e.exports is not None and e.year in years]
    columns = [list(years).index(e.year) for e in recorded]
    logged = np.log(np.maximum(simulated[:, columns], 1.0))
    return logged - np.log([e.exports for e in recorded])


def loss(residuals: np.ndarray) -> np.ndarray:
    """(member,) mean squared log residual, the least-squares objective."""
    return np.mean(residuals**2, axis=1)
