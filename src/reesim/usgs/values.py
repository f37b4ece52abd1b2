"""Cell-level helpers shared by the USGS readers: value parsing and sheet access.

USGS tables print numbers as text with thousands separators, symbols (NA, W, E), bounds (>95) and
ranges (890–1,000). Parsing them in one place keeps the flag next to the number instead of losing it.
"""

from __future__ import annotations

import math
import numbers
import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from reesim.errors import UsgsLayoutError

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_PLAIN = re.compile(rf"^-?(?:{_NUM})$")
_BOUND = re.compile(rf"^([<>])\s*({_NUM})$")
_RANGE = re.compile(rf"^({_NUM})\s*[–—-]\s*({_NUM})$")
_FLAGGED = re.compile(rf"^({_NUM})\s*([er])$")
_SYMBOLS = {"NA", "W", "E", "XX", "e", "r"}
_ZERO = {"—", "–", "--", "-"}


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_usgs_value(text: object) -> tuple[float, str]:
    """Return (number or NaN, flag) for one USGS cell; raise ValueError for text that is not a value.

    Flags: '' plain number, 'NA' not available (also blank cells), 'W' withheld, 'E' net exporter,
    'XX' not applicable, '>' / '<' bound (number is the bound), 'range' (number is the midpoint),
    'e' / 'r' estimated / revised. A dash alone is USGS for zero.
    """
    if text is None:
        return math.nan, "NA"
    if isinstance(text, numbers.Real) and not isinstance(text, bool):
        return (math.nan, "NA") if math.isnan(text) else (float(text), "")
    s = re.sub(r"\s*,\s*", ",", " ".join(str(text).split()))
    if not s:
        return math.nan, "NA"
    if s in _SYMBOLS:  # case matters: 'E' is net exporter, 'e' estimated
        return math.nan, s
    if s in _ZERO:
        return 0.0, ""
    if _PLAIN.match(s):
        return _number(s), ""
    if m := _BOUND.match(s):
        return _number(m.group(2)), m.group(1)
    if m := _RANGE.match(s):
        return (_number(m.group(1)) + _number(m.group(2))) / 2, "range"
    if m := _FLAGGED.match(s):
        return _number(m.group(1)), m.group(2)
    raise ValueError(f"{text!r} is not a USGS value")


def read_sheet(path: str | Path, sheet: str, fix: str, *, rich_text: bool = False) -> list[tuple]:
    """All rows of one sheet as value tuples; layout errors name the file and the sheet expected.

    `rich_text` keeps superscripts apart, which is how USGS marks footnotes and flags in names.
    """
    try:
        with warnings.catch_warnings():
            # USGS workbooks define print areas openpyxl cannot set; they do not affect the data.
            warnings.filterwarnings("ignore", message="Print area cannot be set", category=UserWarning)
            book = openpyxl.load_workbook(path, data_only=True, rich_text=rich_text)
    except (InvalidFileException, zipfile.BadZipFile) as exc:
        raise UsgsLayoutError(path, None, f"not an Excel workbook ({exc})", fix) from exc
    try:
        if sheet not in book.sheetnames:
            found = ", ".join(book.sheetnames)
            raise UsgsLayoutError(path, f"sheet {sheet}", f"no sheet {sheet!r} (sheets: {found})", fix)
        return list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
