"""Reader for the USGS Mineral Commodity Summaries data release (all commodities in one CSV).

reesim reads the file as published rather than a hand-copied extract, so that a new edition can be
compared with the dataset figure by figure. Only the rare-earth chapters are kept, in a tidy frame
whose ids (`product`, `us_key`) match the world dataset.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from reesim.errors import InputError, UsgsLayoutError
from reesim.usgs.values import parse_usgs_value

RARE_EARTHS = "RARE EARTHS"
WORLD_TOTAL = "World total"
REQUIRED_COLUMNS = (
    "MCS chapter", "Section", "Country", "Statistics", "Statistics_detail", "Unit", "Year", "Value", "Notes",
)
# Rare-earth chapters and the prefix their US statistics get, so that keys stay unique across chapters.
CHAPTER_PREFIX = {RARE_EARTHS: "", "RARE EARTHS (HEAVY)": "hree_", "YTTRIUM": "y_", "SCANDIUM": "sc_"}
FIX = "pass the MCS data release CSV (mcsYYYY_commodities_data.csv) as published by USGS"

_ELEMENTS = {
    "lanthanum": "La", "cerium": "Ce", "praseodymium": "Pr", "neodymium": "Nd", "promethium": "Pm",
    "samarium": "Sm", "europium": "Eu", "gadolinium": "Gd", "terbium": "Tb", "dysprosium": "Dy",
    "holmium": "Ho", "erbium": "Er", "thulium": "Tm", "ytterbium": "Yb", "lutetium": "Lu",
    "yttrium": "Y", "scandium": "Sc",
}
_PRODUCT_ALIASES = {"y2o3": "oxide:Y", "neodymium-praseodymium (ndpr) oxide": "oxide:NdPr"}
# First match wins: the more specific material comes before the general one.
_US_KEY_RULES = [
    (r"^production.*(concentrates|mine)", "mine_production"),
    (r"^production.*compounds", "compounds_metals_production"),
    (r"^imports.*ferrocerium", "imports_ferrocerium"),
    (r"^imports.*rare-earth metals", "imports_metals"),
    (r"^imports.*compounds.*metal", "imports_compounds_metals"),
    (r"^imports.*compounds", "imports_compounds"),
    (r"^imports.*oxide", "imports_oxide"),
    (r"^exports.*ferrocerium", "exports_ferrocerium"),
    (r"^exports.*rare-earth metals", "exports_metals"),
    (r"^exports.*ores", "exports_ores_compounds"),
    (r"^exports.*compounds", "exports_compounds"),
    (r"^consumption, apparent", "apparent_consumption"),
    (r"^net import reliance.*concentrates", "net_import_reliance_concentrates"),
    (r"^net import reliance", "net_import_reliance"),
    (r"^employment", "employment"),
]
_YEAR = re.compile(r"^(\d{4})(?:\s*[–-]\s*(\d{2}|\d{4}))?$")


def _decode(path: str | Path) -> str:
    """USGS has published the release both as UTF-8 and as cp1252 (its em dashes are byte 0x97)."""
    raw = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UsgsLayoutError(path, None, "the file is neither UTF-8 nor cp1252 text", FIX)


def _read_raw(path: str | Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(io.StringIO(_decode(path)), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UsgsLayoutError(path, None, f"not a CSV table ({exc})", FIX) from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise UsgsLayoutError(path, "columns", f"missing column(s) {', '.join(missing)}", FIX)
    return raw


def _section(text: str) -> str:
    """One spelling per section: dashes (em, en, cp1252 0x97) as ' - ', no trailing colon."""
    return " ".join(re.sub(r"\s*[\x97—–]\s*", " - ", text).split()).rstrip(" :")


def _category(section: str, statistic: str) -> str:
    s, stat = section.lower(), statistic.strip().lower()
    if s.startswith("salient statistics"):
        return "price" if stat == "price" else "us_salient"
    if s.startswith("import sources"):
        return "import_sources"
    if s.startswith("world") and stat in {"production", "reserves"}:
        return stat
    return "other"


def _year(text: str) -> int:
    """A data year; a period such as '2021–24' (import sources) counts as its last year."""
    m = _YEAR.match(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a year")
    start, end = m.groups()
    return int(start) if end is None else int(start[: 4 - len(end)] + end)


def _product(detail: str) -> str:
    """reesim product id of a price row: 'Price, ...: Neodymium oxide, 99.5% minimum' -> 'oxide:Nd'."""
    name = detail.rsplit(":", 1)[-1].split(",")[0].strip().lower()
    if name in _PRODUCT_ALIASES:
        return _PRODUCT_ALIASES[name]
    parts = name.split()
    if len(parts) == 2 and parts[0] in _ELEMENTS and parts[1] in {"oxide", "metal"}:
        return f"{parts[1]}:{_ELEMENTS[parts[0]]}"
    return ""


def _us_key(chapter: str, detail: str) -> str:
    text = " ".join(detail.lower().split())
    for pattern, key in _US_KEY_RULES:
        if re.search(pattern, text):
            return CHAPTER_PREFIX[chapter] + key
    return ""


def _parse_column(rows: pd.DataFrame, column: str, parse: Callable[[str], object], path: str | Path) -> list:
    """Parse one column cell by cell so that a bad cell is reported with its file line."""
    out = []
    for line, text in zip(rows.index, rows[column], strict=True):
        try:
            out.append(parse(text))
        except ValueError as exc:
            raise UsgsLayoutError(path, f"line {line + 2}, column {column}", str(exc), FIX) from exc
    return out


def read_mcs_rare_earths(path: str | Path) -> pd.DataFrame:
    """The rare-earth rows (RARE EARTHS, heavy, yttrium, scandium) of an MCS data release, tidy."""
    raw = _read_raw(path)
    chapter = raw["MCS chapter"].str.strip().str.upper()
    rows = raw[chapter.isin(CHAPTER_PREFIX)].assign(chapter=chapter)
    if not (rows["chapter"] == RARE_EARTHS).any():
        raise UsgsLayoutError(path, "MCS chapter", f"no {RARE_EARTHS} rows", FIX)
    values = _parse_column(rows, "Value", parse_usgs_value, path)
    df = pd.DataFrame({
        "chapter": rows["chapter"],
        "section": rows["Section"].map(_section),
        "country": rows["Country"].str.strip(),
        "statistic": rows["Statistics"].str.strip(),
        "detail": rows["Statistics_detail"].str.strip(),
        "unit": rows["Unit"].str.strip(),
        "year": _parse_column(rows, "Year", _year, path),
        "value": [v for v, _ in values],
        "flag": [f for _, f in values],
        "value_text": rows["Value"],
        "notes": rows["Notes"].str.strip(),
    }).reset_index(drop=True)
    df["year"] = df["year"].astype(int)
    df["value"] = df["value"].astype(float)
    df["category"] = [_category(s, t) for s, t in zip(df["section"], df["statistic"], strict=True)]
    is_price, is_us = df["category"] == "price", df["category"] == "us_salient"
    df["product"] = [_product(d) if p else "" for d, p in zip(df["detail"], is_price, strict=True)]
    df["us_key"] = [
        _us_key(c, d) if u else "" for c, d, u in zip(df["chapter"], df["detail"], is_us, strict=True)
    ]
    df.attrs["source"] = str(path)
    return df


def _rare_earth_rows(df: pd.DataFrame, category: str, year: int) -> pd.DataFrame:
    """Rows of the main rare-earths chapter; a year not in the file is an error, not an empty table."""
    chapter = df[(df["chapter"] == RARE_EARTHS) & (df["category"] == category)]
    rows = chapter[chapter["year"] == year]
    if rows.empty:
        years = ", ".join(str(y) for y in sorted(set(chapter["year"])))
        problem = f"no rare-earth {category} figures for {year}"
        fix = f"ask for one of the years in the file: {years}"
        raise InputError(df.attrs.get("source"), f"year {year}", problem, fix)
    return rows


def _by_country(rows: pd.DataFrame, name: str) -> pd.Series:
    rows = rows[rows["country"] != WORLD_TOTAL]
    return pd.Series(rows["value"].to_numpy(), index=pd.Index(rows["country"], name="country"), name=name)


def mcs_production_table(df: pd.DataFrame, year: int) -> pd.Series:
    """Mine production by country (t REO, 'Other countries' included, 'World total' left out)."""
    return _by_country(_rare_earth_rows(df, "production", year), "mine_production")


def mcs_world_total(df: pd.DataFrame, year: int) -> float:
    """World mine production as USGS rounds it (t REO); not the sum of the countries."""
    rows = _rare_earth_rows(df, "production", year)
    total = rows.loc[rows["country"] == WORLD_TOTAL, "value"]
    if len(total) != 1:
        raise UsgsLayoutError(df.attrs.get("source"), f"{WORLD_TOTAL} {year}",
                              f"expected one world total, found {len(total)}", FIX)
    return float(total.iloc[0])


def mcs_reserves_table(df: pd.DataFrame, year: int) -> pd.Series:
    """Reserves by country (t REO, NaN where USGS gives NA; the world total, a bound, left out)."""
    return _by_country(_rare_earth_rows(df, "reserves", year), "reserves")


def mcs_prices(df: pd.DataFrame) -> pd.DataFrame:
    """Prices (USD/kg) of the products reesim models, from all rare-earth chapters."""
    rows = df[(df["category"] == "price") & (df["product"] != "")]
    return rows[["product", "year", "value"]].reset_index(drop=True)


def mcs_us_salient(df: pd.DataFrame) -> pd.DataFrame:
    """US salient statistics under their stable keys (prefixed y_ / sc_ / hree_ outside RARE EARTHS)."""
    rows = df[(df["category"] == "us_salient") & (df["us_key"] != "")]
    return rows[["us_key", "year", "value", "flag"]].reset_index(drop=True)
