"""Bad datasets are refused with errors that name the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reesim.errors import DatasetError
from reesim.world import base_year_of, load_world
from reesim.world.checks import run_checks


def _edit(path: Path, column: str, row: int, value: str) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[row, column] = value
    df.to_csv(path, index=False, lineterminator="\n")


def _row(path: Path, **match: str) -> int:
    """Index of the first row of a CSV whose columns equal the given values."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    hit = pd.Series(True, index=df.index)
    for column, value in match.items():
        hit &= df[column] == value
    return int(df.index[hit][0])


def _problems(folder: Path, check: bool = True) -> list[str]:
    with pytest.raises(DatasetError) as info:
        load_world(folder, check=check)
    return [p.render() for p in info.value.problems]


def test_unknown_region_is_named_with_file_line_and_fix(world_copy):
    _edit(world_copy / "facilities.csv", "region", 0, "ATL")
    problems = _problems(world_copy)
    assert any("facilities.csv [line 2, column region]" in p and "'ATL'" in p and "regions.csv" in p for p in problems)


def test_number_without_source_is_refused(world_copy):
    _edit(world_copy / "prices.csv", "source", 3, "")
    problems = _problems(world_copy)
    assert any("prices.csv [line 5, column source]: required value is blank" in p for p in problems)


def test_optional_number_given_without_source_is_refused(world_copy):
    _edit(world_copy / "sectors.csv", "source", 0, "")
    problems = _problems(world_copy)
    assert any("sectors.csv [line 2, column activity_base]" in p and "no known source" in p for p in problems)


def test_unknown_source_id_is_refused(world_copy):
    _edit(world_copy / "prices.csv", "source", 3, "my_memory")
    problems = _problems(world_copy)
    assert any("prices.csv [line 5, column source]" in p and "'my_memory'" in p for p in problems)


def test_assumption_without_reasoning_is_refused(world_copy):
    row = _row(world_copy / "recipes.csv", status="assumed")
    _edit(world_copy / "recipes.csv", "note", row, "")
    assert any("gives no reasoning" in p for p in _problems(world_copy))


def test_bad_number_and_bad_category(world_copy):
    _edit(world_copy / "facilities.csv", "capacity", 2, "lots")
    _edit(world_copy / "facilities.csv", "status", 3, "dreaming")
    problems = _problems(world_copy)
    assert any("column capacity" in p and "bad float 'lots'" in p for p in problems)
    assert any("column status" in p and "not one of operating" in p for p in problems)


def test_unknown_and_missing_columns(world_copy):
    df = pd.read_csv(world_copy / "quotas.csv", dtype=str, keep_default_na=False)
    df.rename(columns={"quantity": "qty"}).to_csv(world_copy / "quotas.csv", index=False)
    problems = _problems(world_copy)
    assert any("quotas.csv [qty]: unknown column" in p for p in problems)
    assert any("quotas.csv [quantity]: required column is missing" in p for p in problems)


def test_duplicate_key(world_copy):
    path = world_copy / "regions.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    assert any("duplicate key (region=CHN)" in p for p in _problems(world_copy))


def test_composition_not_summing_to_one_fails_its_check(world_copy):
    row = _row(world_copy / "compositions.csv", deposit_type="ionic_clay_heavy", element="Y")
    _edit(world_copy / "compositions.csv", "share", row, "0.5")
    problems = _problems(world_copy)
    assert any("compositions.csv [deposit_type=ionic_clay_heavy]" in p and "sum to" in p for p in problems)


def test_quota_mismatch_and_usgs_mismatch_fail(world_copy):
    row = _row(world_copy / "facilities.csv", facility="CHN_BAYAN_OBO")
    _edit(world_copy / "facilities.csv", "output_base", row, "150000")
    world = load_world(world_copy, check=False)
    failed = {r.name for r in run_checks(world) if not r.ok}
    assert "China's quota holders produce their quota" in failed
    assert "2024 mine output matches USGS" in failed


def test_missing_world_folder(tmp_path):
    with pytest.raises(DatasetError, match="no such world folder"):
        load_world(tmp_path / "nope")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.floats(max_value=-1e-6, min_value=-1e9, allow_nan=False))
def test_negative_capacity_is_always_refused(world_copy, value):
    _edit(world_copy / "facilities.csv", "capacity", 5, repr(value))
    problems = _problems(world_copy, check=False)
    assert any("line 7, column capacity" in p and "below the minimum 0" in p for p in problems)


def test_feed_split_is_parsed_and_bad_split_refused(world_copy):
    from reesim.world.checks import parse_feed

    assert parse_feed("a:0.7|b:0.3") == {"a": 0.7, "b": 0.3}
    assert parse_feed("ionic_clay_heavy") == {"ionic_clay_heavy": 1.0}
    row = _row(world_copy / "facilities.csv", facility="CHN_SEP_IMPORTED")
    _edit(world_copy / "facilities.csv", "feed", row, "carbonatite_bastnaesite:0.7|mineral_sand_monazite:0.4")
    problems = _problems(world_copy)
    assert any("facility=CHN_SEP_IMPORTED" in p and "sum to 1" in p for p in problems)


def test_world_csv_must_hold_exactly_one_row(world_copy):
    path = world_copy / "world.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1].replace("2024", "2025", 1)]) + "\n")
    problems = _problems(world_copy)
    assert any("world.csv" in p and "2 rows, not one" in p for p in problems)
    with pytest.raises(DatasetError, match="2 rows, not one"):
        base_year_of(world_copy)


def test_missing_world_csv_names_the_file(world_copy):
    (world_copy / "world.csv").unlink()
    with pytest.raises(DatasetError, match="world.csv.*table 'meta' is missing"):
        base_year_of(world_copy)


def test_base_year_moves_the_base_year_checks(world_copy):
    """Checks follow world.csv: a 2025 world is held to USGS 2025 output; a 2023 world needs 2023 figures."""
    _edit(world_copy / "world.csv", "base_year", 0, "2025")
    world = load_world(world_copy, check=False)
    assert world.base_year == base_year_of(world_copy) == 2025
    problems = [r.problem.render() for r in run_checks(world) if not r.ok]
    # The facilities hold 2024 output (US 45,500 t); USGS gives 51,000 t for 2025.
    assert any("USGS country=United States" in p and "51,000" in p for p in problems)
    _edit(world_copy / "world.csv", "base_year", 0, "2023")
    problems = [r.problem.render() for r in run_checks(load_world(world_copy, check=False)) if not r.ok]
    assert any("usgs_production.csv [year=2023]" in p and "no USGS mine production" in p for p in problems)
