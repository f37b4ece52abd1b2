"""Shared fixtures: the official USGS files beside the repository, and a writable copy of the world."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reesim.world import world_path

REPO = Path(__file__).resolve().parents[1]


def usgs_dir() -> Path:
    """Folder of the official USGS files: $REESIM_USGS_DIR, else ../shared/data/usgs beside the repo."""
    env = os.environ.get("REESIM_USGS_DIR")
    folder = Path(env) if env else REPO.parent / "shared" / "data" / "usgs"
    if not folder.is_dir():
        raise FileNotFoundError(f"USGS data folder not found at {folder}; set REESIM_USGS_DIR")
    return folder


@pytest.fixture(scope="session")
def usgs() -> Path:
    return usgs_dir()


@pytest.fixture(scope="session")
def mcs_csv(usgs: Path) -> Path:
    return usgs / "mcs2026_commodities_data.csv"


@pytest.fixture()
def world_copy(tmp_path: Path) -> Path:
    """A writable copy of the built-in 2024 world for tests that corrupt it on purpose."""
    dest = tmp_path / "world"
    shutil.copytree(world_path("world2024"), dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture(autouse=True)
def _run_store_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs made by tests go to a throwaway store, never to the user's data folder."""
    monkeypatch.setenv("REESIM_STORE", str(tmp_path_factory.mktemp("run-store")))


@pytest.fixture(scope="session")
def short_run():
    """A short three-member baseline run (a few seconds), shared by the store and report tests."""
    import reesim

    return reesim.simulate("baseline", members=3, end="2025-06")
