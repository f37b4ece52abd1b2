"""What the page does besides drawing widgets: get a run (from the store when its manifest is already
there), turn stored runs into figure images, and pack a run for download. Free of Streamlit, so tested
directly."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

from reesim.scenario import Scenario
from reesim.store import RunEntry, RunStore, planned_key

if TYPE_CHECKING:  # pragma: no cover
    from reesim.report import ChartSpec


def obtain(store: RunStore, scenario: Scenario, progress: Callable[[int, int], None] | None = None
           ) -> tuple[RunEntry, bool]:
    """The stored run of `scenario`: reused if the store has its manifest (True), else simulated and stored."""
    from reesim.api import simulate

    twin = store.find(planned_key(scenario)) if store.root.is_dir() else None
    if twin is not None:
        return twin, True
    entry, _ = store.put(simulate(scenario, progress=progress))
    return entry, False


@dataclass(frozen=True)
class Image:
    """One chart ready for the page: PNG bytes, or why there is none."""

    key: str
    title: str
    caption: str
    png: bytes | None
    missing: str


def chart_specs(store: RunStore, run_ids: tuple[str, ...]) -> list[ChartSpec]:
    """The report's charts for the stored runs (the first is the main one), not drawn yet."""
    from reesim.report import chart_builders, stored_view

    return chart_builders([stored_view(store, rid) for rid in run_ids])


def image(spec: ChartSpec) -> Image:
    """Draw one chart to PNG."""
    from reesim.report.style import png

    chart = spec.draw()
    return Image(chart.key, chart.title, chart.caption, None if chart.figure is None else png(chart.figure),
                 chart.missing)


def zipped(store: RunStore, run_id: str) -> bytes:
    """The stored run's folder (Parquet per variable, manifest.json, dataset.json) as a zip archive."""
    folder = store.entry(run_id).path
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, arcname=f"{run_id}/{path.name}")
    return buf.getvalue()


def scenario_yaml(scenario: Scenario) -> str:
    """The scenario as a self-contained YAML file (`reesim run FILE` reproduces the run): the parent's
    timeline is already merged in, so `extends` is left out."""
    data = scenario.model_dump(mode="json", exclude={"extends"}, exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
