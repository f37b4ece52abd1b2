"""The back-test of the 2010-2011 crisis: the record, the 2010-crisis scenario as recorded, and the
calibrated model against the record's shape.

With the shipped calibration the back-test meets 12 of its 15 criteria (docs/backtest.md): the peak in
2011 for La, Ce, Nd and Dy, the peak heights of Nd, La and Ce, and the fall by end-2013 for all five.
The others (Tb's peak year, Dy's peak height, China's 2011 exports well below the quota) do not hold,
and issue 6 stays open on them. Asserted here: the criteria that hold, that prices move smoothly from
month to month, and that `checks()` reads the figures it reports, so a criterion's verdict cannot drift
from its numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from reesim.backtest.compare import PEAK_PRODUCTS, run_backtest
from reesim.backtest.measures import domestic_price
from reesim.backtest.posterior import run_posterior_backtest
from reesim.backtest.record import (
    DOMESTIC,
    DOMESTIC_PRODUCTS,
    EXPORTS,
    PRICES,
    PRODUCTS,
    recorded_at,
    recorded_peak,
)
from reesim.calibration.posterior import read_posterior
from reesim.cli.main import app
from reesim.scenario import load_scenario
from reesim.world import load_world


@pytest.fixture(scope="module")
def backtest():
    return run_backtest()


def test_record_is_facts_d_with_sources():
    assert {p.product for p in PRICES} == set(PRODUCTS)
    assert all(p.source and p.low <= p.value <= p.high for p in PRICES)
    assert recorded_peak("oxide:Dy").value == 2300 and recorded_peak("oxide:Ce").value == 170
    assert all(recorded_peak(p).year == 2011 for p in PRODUCTS)
    prices_2009 = load_world("world2009")["prices"].set_index("product")["price"]
    for product in PRODUCTS:  # the 2009 averages are the world's reported Lynas prices
        assert recorded_at(product, "2009 average").value == prices_2009[product]
    exports = {e.year: e for e in EXPORTS}
    assert exports[2011].exports / exports[2011].quota == pytest.approx(0.56, abs=0.01)  # facts.md D1


def test_crisis_scenario_encodes_the_record():
    sc = load_scenario("2010-crisis")
    assert sc.world == "world2009" and sc.end == "2015-12" and len(sc.notes) > 200 and sc.sources
    events = {e.id: e for e in sc.timeline}
    levels = {int(events["export-quota"].start[:4]): events["export-quota"].level}
    levels.update({int(e.start[:4]): e.set["level"] for e in sc.timeline
                   if e.instrument == "amend" and e.target == "export-quota"})
    assert levels == {e.year: e.quota for e in EXPORTS if 2009 <= e.year <= 2011}  # one pool to 2011, then two
    assert events["export-quota"].end == "2011-12" and not events["export-quota"].goods.magnets_containing
    assert (events["duties-heavy"].rate, events["duties-light"].rate) == (0.25, 0.15)
    assert events["duties-light"].end == "2015-04"  # duties removed in May 2015
    assert events["japan-halt"].start == "2010-09" and events["japan-halt"].destinations == ["JPN"]
    assert events["export-quota"].allocation == "pooled"  # one tonnage for every oxide and metal, as allocated
    # China's mining quotas (Ministry of Land and Resources) in their light and medium-heavy parts: 80,400
    # and 13,400 t in 2011 (93,800 t, 5.16 % above 2010's 89,200 t), 75,900 and 17,900 t in 2012 and 2013,
    # 87,100 and 17,900 t in 2014. Output ran above them, so they bind on their change since 2010.
    light, heavy = events["mining-quota-light"], events["mining-quota-heavy"]
    for part in (light, heavy):
        assert (part.kind, part.start, part.end) == ("mining", "2011-01", "2015-12")
        assert part.relative_to == pytest.approx(93_800 / 1.0516, rel=1e-3)
    assert set(light.plants.facilities) == {"CHN_BAYAN_OBO", "CHN_LIGHT_SW"}
    assert set(heavy.plants.facilities) == {"CHN_SOUTH_IONIC_HEAVY", "CHN_SOUTH_IONIC_LIGHT"}
    levels = {}
    for e in sorted(sc.timeline, key=lambda e: e.start):
        if e.id.startswith("mining-quota"):
            part = e.id.split("-")[2]
            levels.setdefault(part, {})[int(e.start[:4])] = e.level if e.instrument == "quota" else e.set["level"]
    assert levels == {"light": {2011: 80_400, 2012: 75_900, 2014: 87_100}, "heavy": {2011: 13_400, 2012: 17_900}}
    assert levels["light"][2011] + levels["heavy"][2011] == 93_800 == levels["light"][2012] + levels["heavy"][2012]
    # Speculative hoarding in China from after the Lunar New Year to the July reversal (Xinhua, March 2011;
    # Economic Information, November 2011), on every oxide and metal under the quota.
    spec = events["speculation-2011"]
    assert (spec.start, spec.end, spec.regions) == ("2011-02", "2011-07", ["CHN"])
    assert spec.goods == events["export-quota"].goods and spec.risk > 0
    assert "smuggling" not in events  # in the variant below, not in the back-test's scenario


def test_crisis_prices_the_light_and_medium_heavy_quotas_of_2012_2014_apart():
    # MOFCOM's batches as reported (scenario sources): the parts add up to each year's quota.
    crisis = load_scenario("2010-crisis")
    events = {e.id: e for e in crisis.timeline}
    assert events["export-quota"].end == "2011-12"  # the one pool ends where the two parts begin
    parts = {}
    for quota in ("export-quota-light", "export-quota-heavy"):
        parts[quota] = {int(events[quota].start[:4]): events[quota].level}
        parts[quota].update({int(e.start[:4]): e.set["level"] for e in crisis.timeline
                             if e.instrument == "amend" and e.target == quota})
    assert parts["export-quota-light"] == {2012: 27122, 2013: 27384, 2014: 27005}
    assert parts["export-quota-heavy"] == {2012: 3874, 2013: 3617, 2014: 3605}
    quotas = {e.year: e.quota for e in EXPORTS}
    assert all(parts["export-quota-light"][y] + parts["export-quota-heavy"][y] == quotas[y] for y in (2012, 2013, 2014))
    light, heavy = events["export-quota-light"], events["export-quota-heavy"]
    assert (light.pool, heavy.pool, light.end, heavy.end) == (1, 2, "2014-12", "2014-12")
    assert {light.allocation, heavy.allocation} == {"pooled"}
    assert set(light.goods.elements) | set(heavy.goods.elements) == set(events["export-quota"].goods.elements)
    assert not set(light.goods.elements) & set(heavy.goods.elements)


def test_smuggling_variant_adds_the_reported_smuggling_to_the_crisis():
    # 21,000 t in 2011 (China Daily, December 2012) and 40,000 t in 2014 (Reuters, 2015), from China, of
    # the goods under the quota, until the duties ended.
    crisis, variant = load_scenario("2010-crisis"), load_scenario("2010-crisis-smuggling")
    assert variant.timeline[:len(crisis.timeline)] == crisis.timeline and variant.end == crisis.end
    events = {e.id: e for e in variant.timeline}
    smuggling = events["smuggling"]
    capacity = {int(e.start[:4]): e.set["capacity"] for e in variant.timeline
                if e.instrument == "amend" and e.target == "smuggling"}
    assert (smuggling.origin, smuggling.goods, smuggling.end) == ("CHN", events["export-quota"].goods, "2015-04")
    assert smuggling.capacity == 21_000 and capacity[2014] == 40_000


def passed(backtest, check: str) -> dict[str, bool]:
    rows = backtest.checks()
    rows = rows[rows["check"] == check]
    assert len(rows), check
    print(rows.to_string())
    return dict(zip(rows["product"], rows["passed"]))


def test_checks_are_the_issues_criteria(backtest):
    checks = backtest.checks()
    counts = checks.groupby("check").size().to_dict()
    assert counts == {"peak year is 2011": 5, "peak / 2009 within 2x of record": 4,
                      "end-2013 / peak at most 0.5": 5, "2011 exports / quota well below 1": 1}
    assert checks["passed"].map(type).eq(bool).all()


def test_prices_fall_from_their_peak_by_end_2013(backtest):
    # Every oxide with the shipped calibration (docs/backtest.md: Nd at 0.30 of its peak, the record 0.26).
    result = passed(backtest, "end-2013 / peak at most 0.5")
    assert all(result.values()) and len(result) == 5, result


def test_peaks_come_in_2011_and_as_high_as_recorded_within_2x(backtest):
    # The criteria the shipped calibration meets beyond the fall (docs/backtest.md: 12 of 15). Tb peaks in
    # 2012 by annual mean, Dy's peak is 7.6 times its 2009 price (the record 19.9) and China's 2011
    # exports stay at the quota.
    year = passed(backtest, "peak year is 2011")
    assert all(year[p] for p in ("oxide:La", "oxide:Ce", "oxide:Nd", "oxide:Dy")), year
    height = passed(backtest, "peak / 2009 within 2x of record")
    assert all(height[p] for p in ("oxide:Nd", "oxide:La", "oxide:Ce")), height


def test_prices_move_smoothly_from_month_to_month(backtest):
    """No cobweb: the mean monthly move of every export price in 2011-2015 stays under 15 % (the record's
    fastest, Dy's 2011 climb, averaged about 25 % a month for eight months). When plants answered margins
    measured on base-year values, China's magnet makers swung between idle and full capacity and Dy's
    price moved 85 % a month on average (docs/engine.md)."""
    monthly = backtest.monthly.to_pandas().loc["2011":"2015"]
    moves = np.log(monthly).diff().abs().mean()
    assert (moves < 0.15).all(), moves.round(3).to_dict()


def test_checks_read_the_summary_they_report(backtest):
    checks = backtest.checks().set_index(["check", "product"])
    s = backtest.summary
    for product in PEAK_PRODUCTS:  # the verdict follows the figures beside it
        row = checks.loc[("peak / 2009 within 2x of record", product)]
        ratio = s.loc[product, "simulated_peak_to_2009"] / s.loc[product, "recorded_peak_to_2009"]
        assert row["passed"] == (0.5 <= ratio <= 2.0)
    annual = backtest.annual
    for product in PRODUCTS:
        assert checks.loc[("peak year is 2011", product), "simulated"] == int(annual.loc[product].idxmax())


def test_backtest_command_prints_json_and_writes_the_figure(tmp_path, backtest, monkeypatch):
    monkeypatch.setattr("reesim.backtest.compare.run_backtest", lambda parameters=None, members=1: backtest)
    png = tmp_path / "bt.png"
    result = CliRunner().invoke(app, ["backtest", "2010", "--json", "--figure", str(png)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    nd = data["products"]["oxide:Nd"]
    assert nd["engine_product"] == "oxide:NdPr" and nd["recorded"]["end 2013"] == 67.5
    assert set(nd) >= {"recorded", "simulated", "simulated_annual_mean", "peak_year", "peak_to_2009",
                       "end2013_to_peak"}
    assert [e["year"] for e in data["exports"]] == list(range(2009, 2016))
    licence = {e["year"]: e["simulated_licence_price"] for e in data["exports"]}
    assert licence[2011] > 1.0 and licence[2015] == 0.0  # the quota binds in 2011 and has ended by 2015
    heavy = {e["year"]: e["simulated_heavy_licence_price"] for e in data["exports"]}
    assert all(heavy[y] == 0.0 for y in (2009, 2010, 2011, 2015))  # one pool until 2011; none after 2014
    assert all(heavy[y] > 1.0 for y in (2012, 2013, 2014))  # the medium-heavy part binds at a price of its own
    assert [(d["product"], d["label"]) for d in data["domestic"]] == [(p.product, p.label) for p in DOMESTIC]
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert np.isclose(data["products"]["oxide:Dy"]["peak_to_2009"]["recorded"], 2300 / 115.67, rtol=1e-3)
    bad = CliRunner().invoke(app, ["backtest", "1998"])
    assert bad.exit_code == 1 and "use one of 2010" in bad.output


def test_domestic_record_is_sourced_and_converted_at_the_rate_of_its_day():
    assert all(p.source and p.low <= p.value <= p.high and p.product in DOMESTIC_PRODUCTS for p in DOMESTIC)
    assert len({(p.product, p.label) for p in DOMESTIC}) == len(DOMESTIC)
    by = {(p.product, p.start): p for p in DOMESTIC}
    assert by[("oxide:La", "2011-09")].value == pytest.approx(140 / 6.3922)  # 135-140 thousand yuan per t
    assert by[("oxide:Dy", "2012-03")].low == pytest.approx(3900 / 6.3053)
    assert by[("oxide:Tb", "2013-07")].value == 636.10  # quoted in USD
    assert ("oxide:Y", "2013-07") not in by  # the MMI of that day gives no yttrium oxide


def test_domestic_price_is_the_price_in_china_before_export_wedges():
    """On a made-up run where China's price and every other region's differ, the domestic measure reads
    China's and the back-test sets the month's value beside the quote."""
    time = pd.date_range("2011-01-01", periods=36, freq="MS")
    products = list(DOMESTIC_PRODUCTS) + ["oxide:Sm"]
    base = np.arange(1.0, len(products) + 1)[None, None, None, :] * (1 + np.arange(36))[None, :, None, None]
    price = np.concatenate([base, 100 * base], axis=2)  # CHN, then JPN at a hundred times
    ds = xr.Dataset({"price": (("member", "time", "region", "product"), np.repeat(price, 2, axis=0))},
                    coords={"time": time, "region": ["CHN", "JPN"], "product": products})
    home = domestic_price(ds, list(DOMESTIC_PRODUCTS))
    assert home.dims == ("member", "time", "product")
    sep = home.sel(time="2011-09-01", product="oxide:Dy")
    assert np.allclose(sep, 4 * 9)  # Dy is the fourth product; September 2011 is month 9


def test_backtest_reports_china_own_prices_beside_the_quotes(backtest):
    d = backtest.domestic
    assert list(zip(d["product"], d["label"])) == [(p.product, p.label) for p in DOMESTIC]
    assert (d["simulated"] > 0).all()
    assert np.allclose(d["simulated_over_recorded"], d["simulated"] / d["recorded"])
    logged = np.log(d["simulated"]) - np.log(np.where(d["simulated"] < d["low"], d["low"], d["high"]))
    inside = (d["simulated"] >= d["low"]) & (d["simulated"] <= d["high"])
    assert backtest.domestic_rms == pytest.approx(np.sqrt(np.mean(np.where(inside, 0.0, logged) ** 2)))
    for row in d.itertuples():  # the table and the figure's monthly line read the same price (one member)
        month = pd.Timestamp(row.month + "-01")
        assert backtest.monthly_domestic.sel(time=month, product=row.product).item() == pytest.approx(row.simulated)


@pytest.fixture(scope="module")
def spread():
    return run_posterior_backtest(limit=3)


def test_posterior_backtest_runs_each_draw_as_its_own_back_test(spread):
    """Draws run as members of one batched run give each draw's own back-test: the criteria of draw 1 are
    those of a run with its parameters alone (the growth of the 2009 world's demand kept, as fitted)."""
    sample = read_posterior("calibrated_2010", world_specific=True)
    assert "growth_scale" in sample and "growth_scale" not in read_posterior("calibrated_2010")
    alone = run_backtest({k: float(v[1]) for k, v in sample.items()}).checks()
    draw = spread.draws[spread.draws["draw"] == 1].reset_index(drop=True)
    assert list(draw["check"]) == list(alone["check"]) and list(draw["product"]) == list(alone["product"])
    assert np.allclose(draw["simulated"].astype(float), alone["simulated"].astype(float), rtol=1e-6)
    assert list(draw["passed"]) == list(alone["passed"])


def test_posterior_backtest_summarises_pass_shares_and_spreads(spread):
    checks = spread.checks
    assert len(checks) == 15 and spread.price_rms.size == 3
    counts = spread.draws.groupby(["check", "product"], sort=False)["passed"].sum().to_numpy()
    assert np.allclose(checks["share_passed"], counts / 3)
    assert (checks["p05"] <= checks["p50"]).all() and (checks["p50"] <= checks["p95"]).all()
    each = spread.draws.groupby("draw")["passed"].all()
    assert spread.all_hold == each.mean()
    years = checks[checks["check"] == "peak year is 2011"]
    assert years[["p05", "p50", "p95"]].isin(range(2009, 2016)).all().all()  # quantiles are draws' years
    data = spread.to_json()
    assert data["draws"] == 3 and len(data["checks"]) == 15 and set(data["price_rms"]) == {"p05", "p50", "p95"}
    band = spread.band.sel(product="oxide:Dy")
    assert band.sizes == {"quantile": 3, "time": 84} and (band.diff("quantile") >= 0).all()  # 5-95 %, ordered


def test_the_figure_shades_the_posterior_band(backtest, spread):
    from reesim.backtest.figure import backtest_figure

    fig = backtest_figure(backtest, spread)
    assert any("posterior 5-95 %" in str(c.get_label()) for c in fig.axes[0].collections)


def test_backtest_command_reports_the_posterior(monkeypatch, backtest, spread):
    monkeypatch.setattr("reesim.backtest.compare.run_backtest", lambda parameters=None, members=1: backtest)
    called = {}

    def fake(source="calibrated_2010", limit=None):
        called.update(source=source, limit=limit)
        return spread

    monkeypatch.setattr("reesim.backtest.posterior.run_posterior_backtest", fake)
    result = CliRunner().invoke(app, ["backtest", "2010", "--json", "--posterior", "--draws", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert called == {"source": "calibrated_2010", "limit": 3}
    assert data["posterior"]["draws"] == 3 and "products" in data
    shares = {(c["check"], c["product"]): c["share_passed"] for c in data["posterior"]["checks"]}
    assert shares[("2011 exports / quota well below 1", "oxides and metals")] == pytest.approx(
        float(spread.checks.iloc[-1]["share_passed"]))
