"""What happened in 2009-2015: the recorded oxide prices and China's export volumes and quotas.

Every figure is read from `facts.md` section D (D1 quotas and exports, D2 prices) or from the world2009
dataset that cites it, with its source and status. Prices are FOB China (export market) in USD/kg; a
range in the source is kept as its low and high and used at its mid-point. The engine trades Nd and Pr
together as `oxide:NdPr`, so the record of Nd oxide is compared with the NdPr price (75 % Nd, 25 % Pr in
the 2009 world, whose 2009 NdPr price is within 2 % of Nd's).

`DOMESTIC` holds China's own spot prices on three dates (Shanghai Non Ferrous trade quotes, SMM, and the
Rare Earths MMI), converted at the exchange rate of the day. They are not fitted: the back-test reports
them beside the simulated price in China, because the gap between them and the export prices is what a
quota's licence price stands for, and the fitted export prices alone cannot show whether the model puts
that gap on the right side of the border. Pr-Nd oxide is quoted as such and compared with the engine's
NdPr; Y is quoted too, though not in the export record, because it is two thirds of the ionic clays'
output and its price carries the southern separation plants. Whether the quotes include China's VAT
(17 % then) is not stated in the tables read; that is small beside the gaps the back-test shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

Kind = Literal["mean", "point", "peak"]

PRODUCTS = ("oxide:La", "oxide:Ce", "oxide:Nd", "oxide:Dy", "oxide:Tb")
ENGINE_PRODUCT = {"oxide:Nd": "oxide:NdPr"}  # recorded product -> the engine's traded product
LYNAS = "Lynas price table 2007-2009 via RareMetalBlog (2010), in world2009 prices.csv"
MINING_COM = "Mining.com (Lynas data) and AFR/NYT (2011), facts.md D2"
MCS_2016 = "USGS MCS 2016 (S6), year-end prices, facts.md D2"
MOFCOM = "MOFCOM export quotas (Japan Metal Bulletin), facts.md D1"
SMM_2011 = ("Shanghai Non Ferrous Trade Association (SMM) spot table via Reuters, 9 Sep 2011; yuan at that day's "
            "central parity, 6.3922 per USD (Xinhua via ResearchInChina, 9 Sep 2011)")
SMM_2012 = "Shanghai Non Ferrous Trade Association (SMM) spot table via Reuters, 9 Mar 2012; USD 1 = 6.3053 yuan as quoted"
MMI_2013 = "Rare Earths MMI, agmetalminer.com, 30 Jul 2013; USD as quoted"


@dataclass(frozen=True)
class PricePoint:
    """One recorded price: a year's mean, a month's (or quarter's) value, or the peak within a year.

    `start`/`end` are the months the statistic covers (inclusive): the mean over them, the value in them
    (their mean for a quarter), or their maximum for a peak. low/high bound a range in the source.
    """

    product: str
    kind: Kind
    start: str
    end: str
    value: float
    low: float
    high: float
    source: str
    label: str

    @property
    def engine_product(self) -> str:
        return ENGINE_PRODUCT.get(self.product, self.product)

    @property
    def year(self) -> int:
        return int(self.start[:4])


def _mean_2009(product: str, value: float) -> PricePoint:
    return PricePoint(product, "mean", "2009-01", "2009-12", value, value, value, LYNAS, "2009 average")


def _year_end(product: str, year: int, low: float, high: float) -> PricePoint:
    return PricePoint(product, "point", f"{year}-12", f"{year}-12", (low + high) / 2, low, high, MCS_2016,
                      f"end {year}")


def _year_ends(product: str, ranges: dict[int, tuple[float, float]]) -> list[PricePoint]:
    return [_year_end(product, year, low, high) for year, (low, high) in ranges.items()]


PRICES: tuple[PricePoint, ...] = (
    _mean_2009("oxide:La", 4.88),
    PricePoint("oxide:La", "point", "2011-04", "2011-06", 135, 135, 135, MINING_COM, "Q2 2011"),
    *_year_ends("oxide:La", {2011: (50, 52), 2012: (9, 11), 2013: (6, 6), 2014: (5, 5), 2015: (2, 2)}),
    _mean_2009("oxide:Ce", 3.88),
    PricePoint("oxide:Ce", "point", "2011-04", "2011-06", 138, 138, 138, MINING_COM, "Q2 2011"),
    PricePoint("oxide:Ce", "peak", "2011-01", "2011-12", 170, 170, 170, MINING_COM, "2011 peak (August)"),
    *_year_ends("oxide:Ce", {2011: (40, 45), 2012: (10, 12), 2013: (5, 6), 2014: (4, 5), 2015: (2, 2)}),
    _mean_2009("oxide:Nd", 19.12),
    PricePoint("oxide:Nd", "point", "2011-01", "2011-01", 130, 130, 130, MINING_COM, "January 2011"),
    PricePoint("oxide:Nd", "peak", "2011-01", "2011-12", 260, 260, 260, MINING_COM, "2011 peak"),
    *_year_ends("oxide:Nd", {2011: (190, 200), 2012: (75, 80), 2013: (65, 70), 2014: (56, 60), 2015: (37, 42)}),
    _mean_2009("oxide:Dy", 115.67),
    PricePoint("oxide:Dy", "point", "2011-04", "2011-06", 921, 921, 921, MINING_COM, "Q2 2011"),
    PricePoint("oxide:Dy", "peak", "2011-01", "2011-12", 2300, 2300, 2300, MINING_COM, "2011 peak (autumn)"),
    *_year_ends("oxide:Dy", {2011: (1400, 1420), 2012: (600, 630), 2013: (440, 490), 2014: (320, 360),
                             2015: (215, 240)}),
    _mean_2009("oxide:Tb", 361.67),
    *_year_ends("oxide:Tb", {2011: (2800, 2820), 2012: (1200, 1300), 2013: (800, 850), 2014: (590, 640),
                             2015: (410, 490)}),
)


def _yuan(product: str, month: str, low: float, high: float, per_usd: float, source: str) -> PricePoint:
    """A domestic quote given as a range in yuan per kg, in USD per kg at `per_usd` yuan per dollar."""
    return PricePoint(product, "point", month, month, (low + high) / 2 / per_usd, low / per_usd, high / per_usd,
                      source, f"China {month}")


def _usd(product: str, month: str, value: float, source: str) -> PricePoint:
    return PricePoint(product, "point", month, month, value, value, value, source, f"China {month}")


DOMESTIC_PRODUCTS = ("oxide:La", "oxide:Ce", "oxide:NdPr", "oxide:Dy", "oxide:Tb", "oxide:Y")
_SEP_2011, _MAR_2012 = 6.3922, 6.3053
# (product, yuan per kg low and high) on 7-9 Sep 2011 and 9 Mar 2012; per tonne in the tables, per kg here.
_SMM = {
    "2011-09": (_SEP_2011, SMM_2011, {"oxide:La": (135, 145), "oxide:Ce": (150, 160), "oxide:NdPr": (850, 900),
                                     "oxide:Dy": (10_000, 11_000), "oxide:Tb": (14_000, 15_000),
                                     "oxide:Y": (350, 380)}),
    "2012-03": (_MAR_2012, SMM_2012, {"oxide:La": (75, 80), "oxide:Ce": (80, 90), "oxide:NdPr": (340, 350),
                                     "oxide:Dy": (3_900, 4_000), "oxide:Tb": (5_300, 5_500),
                                     "oxide:Y": (168, 170)}),
}
DOMESTIC: tuple[PricePoint, ...] = (
    *(_yuan(product, month, low, high, rate, source)
      for month, (rate, source, quotes) in _SMM.items() for product, (low, high) in quotes.items()),
    # 30 Jul 2013, as quoted in USD (per tonne for La, Ce and Pr-Nd oxide): the MMI gives no yttrium oxide.
    _usd("oxide:La", "2013-07", 4.567, MMI_2013),
    _usd("oxide:Ce", "2013-07", 4.648, MMI_2013),
    _usd("oxide:NdPr", "2013-07", 55.455, MMI_2013),
    _usd("oxide:Dy", "2013-07", 424.06, MMI_2013),
    _usd("oxide:Tb", "2013-07", 636.10, MMI_2013),
)


@dataclass(frozen=True)
class ExportYear:
    """China's export quota and recorded exports of rare-earth oxides, metals and compounds in one year, t.

    `exports` is None where no full-year figure was read; `partial` then says what was recorded.
    """

    year: int
    quota: float | None
    exports: float | None
    partial: str
    source: str


EXPORTS: tuple[ExportYear, ...] = (
    ExportYear(2009, 50_145, None, "", MOFCOM),
    ExportYear(2010, 30_300, None, "about 35,000 t in January-November", MOFCOM),
    ExportYear(2011, 30_184, 16_900, "", MOFCOM),
    ExportYear(2012, 30_996, 16_265, "", MOFCOM),
    ExportYear(2013, 31_001, 22_493, "", MOFCOM),
    ExportYear(2014, 30_610, None, "22,224 t in January-October", MOFCOM),
    ExportYear(2015, None, None, "quotas abolished at the end of 2014", MOFCOM),
)


def price_table() -> pd.DataFrame:
    """The recorded prices as a frame (one row per point)."""
    rows = [{"product": p.product, "kind": p.kind, "label": p.label, "start": p.start, "end": p.end,
             "value": p.value, "low": p.low, "high": p.high, "source": p.source} for p in PRICES]
    return pd.DataFrame(rows)


def recorded_peak(product: str) -> PricePoint:
    """The highest recorded price of a product (its 2011 peak, or the highest year-end where none is recorded)."""
    points = [p for p in PRICES if p.product == product]
    return max(points, key=lambda p: p.value)


def recorded_at(product: str, label: str) -> PricePoint:
    """The product's point with this label (e.g. 'end 2013', '2009 average')."""
    for p in PRICES:
        if p.product == product and p.label == label:
            return p
    raise KeyError(f"no recorded {label!r} for {product}; see reesim.backtest.record.PRICES")
