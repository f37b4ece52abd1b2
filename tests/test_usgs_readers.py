"""The USGS readers against the official files as published, and against files of the wrong layout."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import usgs_dir
from hypothesis import given
from hypothesis import strategies as st

from reesim.errors import UsgsLayoutError
from reesim.usgs import (
    mcs_prices,
    mcs_production_table,
    mcs_reserves_table,
    mcs_us_salient,
    mcs_world_total,
    parse_usgs_value,
    read_ds140,
    read_mcs_rare_earths,
    read_myb_compositions,
    read_myb_world_production,
)

USGS = usgs_dir()
MCS = USGS / "mcs2026_commodities_data.csv"
DS140 = USGS / "ds140_rare_earths_2020.xlsx"
MYB = USGS / "myb2022_rare_earths_tables.xlsx"


@pytest.fixture(scope="module")
def mcs() -> pd.DataFrame:
    return read_mcs_rare_earths(MCS)


@pytest.fixture(scope="module")
def compositions() -> pd.DataFrame:
    return read_myb_compositions(MYB)


# --- parse_usgs_value ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("45,500", (45500.0, "")),
    (" 270,000 ", (270000.0, "")),
    ("0.97", (0.97, "")),
    (29000, (29000.0, "")),
    (0.015, (0.015, "")),
    (">95", (95.0, ">")),
    ("> 85,000,000", (85000000.0, ">")),
    ("<1.09", (1.09, "<")),
    ("890–1,000", (945.0, "range")),
    ("10,000 - 15,000", (12500.0, "range")),
    ("500-17,000", (8750.0, "range")),
    ("—", (0.0, "")),
    ("--", (0.0, "")),
    ("210,000e", (210000.0, "e")),
    ("-1,200", (-1200.0, "")),
])
def test_parse_numbers(text: object, expected: tuple[float, str]) -> None:
    assert parse_usgs_value(text) == expected


@pytest.mark.parametrize(("text", "flag"), [
    ("NA", "NA"), ("W", "W"), ("E", "E"), ("XX", "XX"), (None, "NA"), ("", "NA"), (float("nan"), "NA"),
    ("e", "e"), ("r", "r"),
])
def test_parse_symbols_are_nan_with_their_flag(text: object, flag: str) -> None:
    value, got = parse_usgs_value(text)
    assert math.isnan(value)
    assert got == flag


@pytest.mark.parametrize("text", ["Large", "1,00", "?1", "12 kg", "1–"])
def test_parse_rejects_text_that_is_not_a_value(text: str) -> None:
    with pytest.raises(ValueError, match="not a USGS value"):
        parse_usgs_value(text)


@given(st.integers(min_value=0, max_value=10**15))
def test_parse_inverts_thousands_formatting(n: int) -> None:
    assert parse_usgs_value(f"{n:,}") == (float(n), "")


# --- MCS data release ---------------------------------------------------------------------------------

def test_mcs_production_2024(mcs: pd.DataFrame) -> None:
    prod = mcs_production_table(mcs, 2024)
    assert prod["China"] == 270_000
    assert prod["United States"] == 45_500
    assert prod["Australia"] == 29_000
    assert prod["Canada"] == 0  # printed as an em dash: zero
    assert "World total" not in prod.index and "Other countries" in prod.index
    assert mcs_world_total(mcs, 2024) == 380_000
    assert prod.sum() == pytest.approx(380_000, rel=0.02)  # USGS rounds the total


def test_mcs_reserves_keep_na_as_nan(mcs: pd.DataFrame) -> None:
    res = mcs_reserves_table(mcs, 2025)
    assert res["China"] == 44_000_000
    assert math.isnan(res["Burma"])
    rare_earths = mcs[mcs["chapter"] == "RARE EARTHS"]
    total = rare_earths[(rare_earths["country"] == "World total") & (rare_earths["category"] == "reserves")]
    assert total["flag"].tolist() == [">"]


def test_mcs_missing_year_names_the_years_there(mcs: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="2024, 2025"):
        mcs_production_table(mcs, 2019)


def test_mcs_prices(mcs: pd.DataFrame) -> None:
    prices = mcs_prices(mcs).set_index(["product", "year"])["value"]
    assert prices["oxide:NdPr", 2024] == 55
    assert prices["oxide:La", 2024] == 0.97
    assert prices["oxide:Dy", 2024] == 257
    assert prices["oxide:Tb", 2024] == 812
    assert prices["metal:Y", 2024] == 33
    assert prices["oxide:Sc", 2024] == 665  # midpoint of 660–670
    assert prices.index.is_unique
    mischmetal = mcs[mcs["detail"].str.contains("Mischmetal")]
    assert len(mischmetal) == 5 and set(mischmetal["product"]) == {""}


def test_mcs_us_salient(mcs: pd.DataFrame) -> None:
    sal = mcs_us_salient(mcs).set_index(["us_key", "year"])
    assert sal.at[("apparent_consumption", 2025), "value"] == 27_000
    assert sal.at[("mine_production", 2024), "value"] == 45_500
    assert sal.at[("net_import_reliance", 2021), "flag"] == ">"
    assert sal.at[("net_import_reliance_concentrates", 2024), "flag"] == "E"
    assert sal.at[("y_apparent_consumption", 2024), "value"] == 500
    assert sal.at[("sc_imports_oxide", 2024), "value"] == 7
    assert sal.index.is_unique
    keys = set(sal.index.get_level_values("us_key"))
    assert {"mine_production", "compounds_metals_production", "imports_compounds", "imports_ferrocerium",
            "imports_metals", "exports_ores_compounds", "exports_ferrocerium", "exports_metals",
            "apparent_consumption", "net_import_reliance", "net_import_reliance_concentrates",
            "employment"} <= keys


def test_mcs_tidy_frame(mcs: pd.DataFrame) -> None:
    assert set(mcs["chapter"]) == {"RARE EARTHS", "RARE EARTHS (HEAVY)", "YTTRIUM", "SCANDIUM"}
    assert "Salient Statistics - United States" in set(mcs["section"])
    assert mcs["year"].dtype.kind == "i" and mcs["value"].dtype.kind == "f"
    categories = {"production", "reserves", "price", "us_salient", "import_sources", "other"}
    assert set(mcs["category"]) <= categories
    row = mcs[(mcs["country"] == "China") & (mcs["category"] == "production") & (mcs["year"] == 2024)]
    assert row["value_text"].tolist() == ["270,000"]
    sources = mcs[mcs["category"] == "import_sources"]
    assert set(sources["year"]) == {2024}  # the period 2021–24 counts as its last year


def test_mcs_of_another_layout_names_file_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "other.csv"
    bad.write_text("Commodity,Country,Year,Value\nRARE EARTHS,China,2024,\"270,000\"\n", encoding="utf-8")
    with pytest.raises(UsgsLayoutError) as info:
        read_mcs_rare_earths(bad)
    assert str(bad) in str(info.value)
    assert "MCS chapter" in str(info.value) and "Statistics_detail" in str(info.value)
    assert "_commodities_data.csv" in str(info.value)


def test_mcs_without_rare_earths_is_an_error(tmp_path: Path) -> None:
    other = tmp_path / "copper.csv"
    header = pd.read_csv(MCS, encoding="cp1252", nrows=0).columns
    row = ["COPPER", "World Mine Production and Reserves", "Copper", "Chile", "Production", "Mine production",
           "thousand metric tons", "2024", "5,300", "", "", ""]
    frame = pd.DataFrame([row], columns=header)
    frame.to_csv(other, index=False, encoding="cp1252")
    with pytest.raises(UsgsLayoutError, match="no RARE EARTHS rows"):
        read_mcs_rare_earths(other)


def test_mcs_bad_value_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    frame = pd.read_csv(MCS, encoding="cp1252", dtype=str, keep_default_na=False)
    line = frame.index[frame["MCS chapter"] == "RARE EARTHS"][0]
    frame.loc[line, "Value"] = "lots"
    frame.to_csv(broken, index=False, encoding="cp1252")
    with pytest.raises(UsgsLayoutError, match=f"line {line + 2}, column Value"):
        read_mcs_rare_earths(broken)


# --- Data Series 140 ----------------------------------------------------------------------------------

def test_ds140_values() -> None:
    ds = read_ds140(DS140)
    assert ds.index.dtype.kind == "i" and ds.index.min() == 1900 and ds.index.max() == 2020
    assert ds.at[2010, "world_production"] == 101_000
    assert ds.at[2020, "world_production"] == 243_000
    assert ds.at[2011, "unit_value_usd_per_t"] == 58_100
    assert math.isnan(ds.at[2011, "us_apparent_consumption"])  # NA
    assert math.isnan(ds.at[1956, "us_production"])  # W
    assert list(ds.columns) == ["us_production", "us_imports", "us_exports", "us_apparent_consumption",
                                "unit_value_usd_per_t", "unit_value_1998usd_per_t", "world_production"]


def test_ds140_without_the_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Copper"
    path = tmp_path / "ds140_copper.xlsx"
    book.save(path)
    with pytest.raises(UsgsLayoutError, match="Rare earths") as info:
        read_ds140(path)
    assert str(path) in str(info.value)


def test_ds140_without_the_header(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Rare earths"
    sheet.append(["Year", "Production"])
    sheet.append([2020, 39000])
    path = tmp_path / "ds140_short.xlsx"
    book.save(path)
    with pytest.raises(UsgsLayoutError, match="World production"):
        read_ds140(path)


def test_csv_given_as_workbook(tmp_path: Path) -> None:
    path = tmp_path / "not_a_workbook.xlsx"
    path.write_text("Year,Production\n2020,39000\n", encoding="utf-8")
    with pytest.raises(UsgsLayoutError, match="not an Excel workbook"):
        read_ds140(path)


# --- Minerals Yearbook tables -------------------------------------------------------------------------

def _percent(df: pd.DataFrame, location: str, element: str) -> pd.Series:
    return df[df["location"].str.startswith(location) & (df["element"] == element)].iloc[0]


def test_myb_compositions(compositions: pd.DataFrame) -> None:
    bayan = _percent(compositions, "Bayan Obo", "La")
    assert bayan["percent"] == 23 and bayan["flag"] == ""
    assert bayan["location"] == "Bayan Obo, Nei Mongol Autonomous Region"  # two rows, footnote 3 dropped
    assert bayan["source_mineral"] == "Bastnaesite" and bayan["country"] == "China"
    assert _percent(compositions, "Longnan", "Y")["percent"] == 64.9
    cerium = _percent(compositions, "Longnan", "Ce")
    assert (cerium["percent"], cerium["flag"]) == (1.09, "<")
    assert math.isnan(_percent(compositions, "Mountain Pass", "Tb")["percent"])
    dechang = _percent(compositions, "Dechang", "Nd")  # 'Do.' / 'do.' repeat the row above
    assert (dechang["source_mineral"], dechang["country"]) == ("Bastnaesite", "China")
    assert _percent(compositions, "Mount Weld", "Nd")["location"] == (
        "Mount Weld Central Lanthanide, Western Australia")
    assert _percent(compositions, "Southeast Guangdong", "Y")["country"] == "China"
    assert compositions.groupby("location").size().eq(15).all()


def test_myb_world_production() -> None:
    wp = read_myb_world_production(MYB).set_index(["country", "year"])
    assert wp.at[("Burma", 2021), "value"] == 34_700
    assert wp.at[("Burma", 2021), "flag"] == "e"  # from 'Burmae'
    assert wp.at[("China", 2022), "flag"] == "e" and wp.at[("China", 2021), "flag"] == ""
    assert wp.at[("United States", 2022), "flag"] == ""  # footnote 6, not a flag
    assert wp.at[("Madagascar", 2021), "flag"] == "r"
    assert wp.at[("Burundi", 2022), "value"] == 0
    assert wp.at[("World total", 2022), "value"] == 297_000
    countries = set(wp.index.get_level_values("country"))
    assert {"Australia", "India", "China", "Thailand", "Vietnam", "World total"} <= countries
    assert not any(c[-1].isdigit() or c.endswith("e") for c in countries - {"World total"})


def test_myb_plain_text_names_lose_inline_footnotes(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "T8"
    sheet.append(["Country or locality2", None, 2021, None, 2022, None])
    sheet.append(["China3", None, 168000, None, 210000, "e"])
    sheet.append(["Indiae, 4", None, 2900, None, "NA", None])
    sheet.append(["Total", None, 290000, "r", 297000, None])
    sheet.append(["eEstimated. rRevised."])
    path = tmp_path / "t8.xlsx"
    book.save(path)
    wp = read_myb_world_production(path)
    assert wp["country"].unique().tolist() == ["China", "India", "World total"]
    assert wp["flag"].tolist() == ["", "e", "e", "NA", "r", ""]


def test_myb_without_table_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "T1"
    path = tmp_path / "myb.xlsx"
    book.save(path)
    with pytest.raises(UsgsLayoutError, match="T2") as info:
        read_myb_compositions(path)
    assert str(path) in str(info.value)
    with pytest.raises(UsgsLayoutError, match="T8"):
        read_myb_world_production(path)
