"""Write a report: the PNG of every chart, and one HTML page with the same images embedded in it.

The page needs nothing beside itself (images as base64 data URIs, styles inline), so it can be mailed or
archived; every text taken from a run is escaped, so a scenario name cannot inject markup.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reesim.report import style
from reesim.report.charts import EXPORTER, Chart, RunView, chart_builders

if TYPE_CHECKING:  # pragma: no cover
    from reesim.store import RunStore

REPORT_VARIABLES = ("price", "output", "trade", "consumption", "purchases", "shortfall", "fiscal_cost")

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; line-height: 1.4 }
table { border-collapse: collapse; font-size: 0.9em } td, th { border: 1px solid #ccc; padding: 0.25em 0.6em }
th { background: #f3f3f3; text-align: left } figure { margin: 1.5em 0 } img { max-width: 100% }
figcaption { font-size: 0.9em; color: #444 } .missing { color: #8a6d00; font-style: italic }
"""


@dataclass(frozen=True)
class Report:
    """What `build_report` wrote: the HTML page, the PNG files and the charts that had no data."""

    html: Path
    figures: list[Path]
    missing: list[str]


def stored_view(store: RunStore, run: str) -> RunView:
    """A stored run as the report sees it: only the variables the charts use, and trade only from China
    (the charts read no other flows; for a large run this is most of the reading saved)."""
    rid = store.resolve(run)
    kept = [v for v in REPORT_VARIABLES if v in store.manifest(rid)["variables"]]
    return RunView(rid, store.load(rid, variables=kept, select={"origin": [EXPORTER]}).dataset)


def build_report(runs: Sequence[RunView], out: str | Path,
                 progress: Callable[[int, int], None] | None = None) -> Report:
    """Draw every chart for `runs` (the first is the main run, the others are compared with it) into `out`.

    `progress(done, total)` is called after each chart, for a progress bar.
    """
    if not runs:
        raise ValueError("a report needs at least one run")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    builders = chart_builders(runs)
    drawn, figures, sections = [], [], []
    for done, spec in enumerate(builders, start=1):
        chart = spec.draw()
        drawn.append(chart)
        if chart.figure is None:
            sections.append(_missing(chart))
        else:
            data = style.png(chart.figure)
            figures.append(out / f"{chart.key}.png")
            figures[-1].write_bytes(data)
            sections.append(_section(chart, data))
        if progress is not None:
            progress(done, len(builders))
    page = out / "report.html"
    page.write_text(_page(runs, drawn, sections), encoding="utf-8")
    return Report(page, figures, [c.key for c in drawn if c.figure is None])


def _section(chart: Chart, data: bytes) -> str:
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    title, caption = html.escape(chart.title), html.escape(chart.caption)
    return (f'<section id="{chart.key}"><h2>{title}</h2><figure><img src="{uri}" alt="{title}">'
            f"<figcaption>{caption}</figcaption></figure></section>")


def _missing(chart: Chart) -> str:
    return (f'<section id="{chart.key}"><h2>{html.escape(chart.title)}</h2>'
            f'<p class="missing">{html.escape(chart.missing)}</p></section>')


def _page(runs: Sequence[RunView], drawn: list[Chart], sections: list[str]) -> str:
    rows = []
    for run in runs:
        m = run.manifest
        s = m["scenario"]
        months = run.dataset["time"].values.astype("datetime64[M]")
        cells = (run.label, s["name"], s.get("description", ""), str(m["members"]), str(m["seed"]),
                 f"{months[0]} to {months[-1]}", f"{m['world']} {m['data_version']}", m["code_version"])
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = ("<tr>" + "".join(f"<th>{h}</th>" for h in ("Run", "Scenario", "Description", "Members", "Seed",
                                                          "Months", "Data", "Code")) + "</tr>")
    toc = "".join(f'<li><a href="#{c.key}">{html.escape(c.title)}</a>'
                  f'{" (not in this run)" if c.figure is None else ""}</li>' for c in drawn)
    title = "reesim report: " + html.escape(", ".join(r.label for r in runs))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{CSS}</style></head><body><h1>{title}</h1><p>Written {stamp}. The first run is the main "
            f"run; the others are shown beside it for comparison.</p><table>{head}{''.join(rows)}</table>"
            f"<h2>Contents</h2><ol>{toc}</ol>{''.join(sections)}</body></html>\n")
