"""Reports on stored runs: figures (matplotlib, drawn without pyplot) and a self-contained HTML page.

matplotlib is an optional dependency (`pip install reesim[report]`); it is imported when a figure is
drawn, never by `import reesim`.
"""

from __future__ import annotations

from reesim.report.build import Report, build_report, stored_view
from reesim.report.charts import Chart, ChartSpec, RunView, chart_builders

__all__ = ["Chart", "ChartSpec", "Report", "RunView", "build_report", "chart_builders", "stored_view"]
