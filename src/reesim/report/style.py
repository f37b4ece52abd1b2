"""Figure scaffolding shared by every chart: one look, a title, units on the axes, a source line.

Figures are `matplotlib.figure.Figure` objects rendered on the Agg canvas directly, so drawing never
touches pyplot's global state (safe inside Streamlit's threads and in a user's notebook).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RUN_STYLES = ("-", "--", ":", "-.")
BAND = (0.05, 0.5, 0.95)


def figure(title: str, source: str, ncols: int = 1, nrows: int = 1, sharey: bool = False,
           width: float = 4.2, height: float = 3.0) -> tuple[Figure, np.ndarray]:
    """A titled figure with a grid of axes and the source line under it."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("reports need matplotlib: pip install 'reesim[report]'") from exc

    fig = Figure(figsize=(width * ncols, height * nrows + 0.9), dpi=100, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey)
    fig.suptitle(title, fontsize=12, fontweight="bold")
    wrapped = "\n".join(textwrap.wrap(source, width=int(width * ncols * 17)))
    fig.supxlabel(wrapped, fontsize=7, color="#555555", x=0.01, ha="left")
    for ax in axes.flat:
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
    return fig, axes


def colours(n: int) -> list:
    """n distinct colours from matplotlib's default qualitative cycle."""
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def run_styles(n: int) -> list[str]:
    """n line styles for n runs (repeating after four)."""
    return [RUN_STYLES[i % len(RUN_STYLES)] for i in range(n)]


def band(ax: Axes, da: xr.DataArray, colour: object, label: str | None, style: str = "-") -> None:
    """Median over members as a line and the 5-95 % range as a shaded band, against time."""
    q = da.quantile(list(BAND), dim="member") if "member" in da.dims else xr.concat([da] * 3, "quantile")
    x = da["time"].values
    ax.fill_between(x, q.isel(quantile=0).values, q.isel(quantile=2).values, color=colour, alpha=0.15, linewidth=0)
    ax.plot(x, q.isel(quantile=1).values, style, color=colour, label=label, linewidth=1.5)


def dates(ax: Axes) -> None:
    """Compact month/year tick labels."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def message(ax: Axes, text: str) -> None:
    """Write a note in the middle of an empty panel (e.g. a variable this run did not keep)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="#777777", wrap=True)
    ax.set_axis_off()  # not set_yticks([]): that would clear the ticks of every axes sharing this one's y


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def legend(fig: Figure, axes: Sequence[Axes]) -> None:
    """One legend for the figure from the labelled artists of its axes (no duplicates)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside right center", fontsize=8, frameon=False)


def key(fig: Figure, colours: dict[str, object], styles: dict[str, str] | None = None) -> None:
    """A figure legend that reads colour and line style separately (e.g. colour: stage, style: run)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, linewidth=1.5) for c in colours.values()]
    labels = list(colours)
    if styles and len(styles) > 1:
        handles += [Line2D([], [], color="black", linestyle=s, linewidth=1.5) for s in styles.values()]
        labels += list(styles)
    fig.legend(handles, labels, loc="outside right center", fontsize=8, frameon=False)
