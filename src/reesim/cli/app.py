"""`reesim app`: start the dashboard (Streamlit) on this machine."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from reesim.cli.render import console
from reesim.cli.runs import StoreOption


def app(
    port: Annotated[int, typer.Option("--port", "-p", help="Local port to serve the page on.")] = 8501,
    headless: Annotated[bool, typer.Option("--headless", help="Do not open a browser window.")] = False,
    store: StoreOption = None,
) -> None:
    """Open the dashboard: pick a scenario, change its levers, run it, compare with the baseline, download."""
    from reesim.app import PAGE
    from reesim.store import STORE_ENV

    if importlib.util.find_spec("streamlit") is None:
        console().print("[red]The dashboard needs Streamlit. Fix: pip install 'reesim[app]'[/red]")
        raise typer.Exit(1)
    env = dict(os.environ)
    if store is not None:
        env[STORE_ENV] = str(Path(store).expanduser().resolve())
    command = [sys.executable, "-m", "streamlit", "run", str(PAGE), "--server.port", str(port),
               "--server.address", "localhost", "--server.headless", str(headless).lower(),
               "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]
    console().print(f"Dashboard on http://localhost:{port} (Ctrl+C to stop)")
    raise typer.Exit(subprocess.call(command, env=env))
