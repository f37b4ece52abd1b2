"""Reports: two stored runs compared through the CLI, every figure embedded; honest gaps otherwise."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reesim.cli.main import app
from reesim.report import RunView, build_report, chart_builders
from reesim.report.controls import controlled_products
from reesim.results import Results
from reesim.store import RunStore

EMBEDDED = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">')


@pytest.fixture(scope="module")
def controls_run() -> Results:
    """2025 as it happened, to December: licences, tariffs and the US NdPr floor are all in force."""
    import reesim

    return reesim.simulate("2025-controls", members=2, end="2025-12")


def test_report_compares_two_runs_with_every_figure_embedded(short_run: Results, controls_run: Results,
                                                             tmp_path: Path):
    store = RunStore(tmp_path / "store")
    base, _ = store.put(short_run)
    controls, _ = store.put(controls_run)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", base.run_id, "--compare", controls.run_id[:15], "--out", str(out),
                                      "--store", str(store.root)], catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    pngs = sorted(out.glob("*.png"))
    embedded = EMBEDDED.findall(page)
    # Every chart drew (the controls run has a fiscal cost), and each PNG is in the page byte for byte.
    assert len(pngs) == len(embedded) == 9
    assert sorted(base64.b64decode(data) for data, _ in embedded) == sorted(p.read_bytes() for p in pngs)
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    assert "not in this run" not in page
    assert base.run_id in page and controls.run_id in page and short_run.manifest["data_version"] in page
    assert not re.search(r'(src|href)="(https?:|//|file:)', page) and "<script" not in page  # self-contained
    for title in ("Price of oxide:NdPr by region", "China's share of each stage's output", "Fiscal cost"):
        assert html.escape(title) in page


def test_figures_carry_title_units_and_source(short_run: Results, controls_run: Results):
    runs = [RunView("base", short_run.dataset), RunView("controls", controls_run.dataset)]
    for spec in chart_builders(runs):
        chart = spec.draw()
        assert (chart.key, chart.title) == (spec.key, spec.title)
        fig = chart.figure
        assert fig is not None, chart.key
        assert fig.get_suptitle() == chart.title
        source = " ".join(fig._supxlabel.get_text().split())
        assert "scenario baseline" in source and "scenario 2025-controls" in source
        assert short_run.manifest["data_version"] in source
        visible = [ax for ax in fig.axes if ax.axison]
        assert visible and all(ax.get_ylabel() for ax in visible), chart.key


def test_missing_variables_say_not_in_this_run(short_run: Results, tmp_path: Path):
    slim = short_run.dataset.drop_vars("trade")
    report = build_report([RunView("slim", slim)], tmp_path)
    page = report.html.read_text(encoding="utf-8")
    assert set(report.missing) == {"trade-controlled", "fiscal-cost"}
    assert page.count("not in this run") >= 2
    assert len(EMBEDDED.findall(page)) == len(report.figures) == 7


def test_controlled_products_follow_the_timeline(short_run: Results, controls_run: Results):
    products, origin = controlled_products([controls_run.manifest])
    assert {"oxide:Dy", "metal:Dy", "oxide:Tb", "oxide:Sm", "magnet:NdFeB"} <= set(products)
    assert "oxide:Ho" not in products  # the October 2025 expansion was suspended before it began
    assert "oxide:NdPr" not in products and "licence" in origin
    fallback, origin = controlled_products([short_run.manifest])
    assert "oxide:Dy" in fallback and "April 2025" in origin
