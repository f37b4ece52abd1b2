"""The dashboard (`reesim app`): a local Streamlit page to run scenarios with changed levers and see figures.

`levers` maps the page's inputs to a scenario (pure, tested without a browser); `page` is the Streamlit
script. Streamlit is an optional dependency (`pip install reesim[app]`), imported only by the page.
"""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).with_name("page.py")

__all__ = ["PAGE"]
