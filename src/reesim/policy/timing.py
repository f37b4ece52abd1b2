"""Months as the scenario language writes them ("2025-04") and as the engine counts them (0, 1, ...)."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from pydantic import AfterValidator


def _month(value: str) -> str:
    try:
        return str(pd.Period(str(value), freq="M"))
    except (ValueError, TypeError):
        raise ValueError(f"{value!r} is not a month; write YYYY-MM, e.g. 2025-04") from None


Month = Annotated[str, AfterValidator(_month)]
"""A calendar month, normalised to 'YYYY-MM'."""


def month_index(month: str, base: pd.Period) -> int:
    """Months from the base month (0 = the base month itself)."""
    return (pd.Period(month, freq="M") - base).n
