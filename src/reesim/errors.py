"""Errors raised on bad input.

Every input error names the file, the key (column, row or field) and the fix, so that an analyst can
correct the input without reading the code. Validation collects all problems before raising, so one run
shows everything that is wrong rather than the first thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what is wrong, and how to fix it."""

    file: str | None
    key: str | None
    problem: str
    fix: str

    def render(self) -> str:
        where = self.file or "<input>"
        if self.key:
            where += f" [{self.key}]"
        return f"{where}: {self.problem}. Fix: {self.fix}"


class InputError(ValueError):
    """Bad input: a file, a key in it, what is wrong and how to fix it."""

    def __init__(self, file: str | Path | None, key: str | None, problem: str, fix: str) -> None:
        self.detail = Problem(str(file) if file is not None else None, key, problem, fix)
        super().__init__(self.detail.render())

    @property
    def file(self) -> str | None:
        return self.detail.file

    @property
    def key(self) -> str | None:
        return self.detail.key


class DatasetError(ValueError):
    """A world dataset that breaks its schema or its consistency checks; lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = [p.render() for p in self.problems]
        super().__init__(f"{len(lines)} problem(s) in the world dataset:\n" + "\n".join(f"- {x}" for x in lines))


class UsgsLayoutError(InputError):
    """A USGS data file whose layout is not the one reesim reads."""


class ClearingWarning(UserWarning):
    """A run in which the market clearing did not settle in some (member, month, product) markets: their
    prices and flows may be off. The run's dataset lists them in `attrs["unsettled_markets"]`."""
