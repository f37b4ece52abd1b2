"""A figure of the game: both players' member-median payoffs, with the equilibria and China's commitment.

matplotlib is an optional dependency (`reesim[report]`), imported when a figure is drawn.
"""

from __future__ import annotations

from pathlib import Path

from reesim.game.analysis import GameAnalysis


def draw(analysis: GameAnalysis, path: Path, title: str = "China x G-7: median payoffs over members") -> Path:
    """Two heatmaps (China's and the G-7's median payoffs, USD bn), pure Nash equilibria of the median game
    outlined, the pure Stackelberg outcome (China leading, strong) starred, and member shares listed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = analysis.robustness
    tables = {"China": report.median_row, "G-7": report.median_col}
    rows, cols = list(report.median_row.index), list(report.median_row.columns)
    fig, axes = plt.subplots(1, 2, figsize=(4.0 + 1.6 * len(cols) * 2, 2.2 + 0.6 * len(rows)), squeeze=False)
    table = report.table
    nash = table[(table["kind"] == "pure_nash") & table["in_median"]]
    leader = table[(table["kind"] == "stackelberg_strong") & table["in_median"]]
    for ax, (player, frame) in zip(axes[0], tables.items(), strict=True):
        values = frame.to_numpy() / 1e3
        ax.imshow(values, cmap="viridis", aspect="auto")
        spread = values.max() - values.min()
        for i in range(len(rows)):
            for j in range(len(cols)):
                bright = spread > 0 and values[i, j] > values.min() + 0.6 * spread
                ax.text(j, i, f"{values[i, j]:,.1f}", ha="center", va="center", fontsize=8,
                        color="black" if bright else "white")
        for outcome in nash.itertuples():
            i, j = rows.index(outcome.row_support[0]), cols.index(outcome.col_support[0])
            ax.add_patch(plt.Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False, lw=2.5, ec="red"))
        for outcome in leader.itertuples():
            i, j = rows.index(outcome.row_support[0]), cols.index(outcome.col_support[0])
            ax.plot(j + 0.35, i - 0.3, marker="*", ms=12, color="orange", mec="black")
        ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_xlabel("G-7 strategy", fontsize=8)
        ax.set_ylabel("China strategy", fontsize=8)
        ax.set_title(f"{player} payoff, USD bn", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.text(0.01, 0.01, _caption(analysis), fontsize=7, va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.12, 1, 0.95))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _caption(analysis: GameAnalysis) -> str:
    """Red boxes, the star, and each outcome's share of members."""
    table = analysis.robustness.table
    lines = []
    for kind, name in (("pure_nash", "pure Nash"), ("mixed_nash", "mixed Nash"),
                       ("stackelberg_strong", "Stackelberg (China leads)")):
        found = table[table["kind"] == kind]
        parts = [f"{'+'.join(o.row_support)} x {'+'.join(o.col_support)} ({o.share:.0%} of members"
                 f"{', median game' if o.in_median else ''})" for o in found.itertuples()]
        lines.append(f"{name}: " + ("; ".join(parts) if parts else "none"))
    members = analysis.robustness.members
    return (f"Red box: pure Nash equilibrium of the member-median game; star: pure Stackelberg outcome with "
            f"China leading. {members} member(s).\n" + "\n".join(lines))



