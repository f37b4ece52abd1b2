"""The dashboard's levers and the one function that turns them into a scenario.

Every input is a typed, bounded field (pydantic, `extra="forbid"`), and the scenario they produce is
validated by `load_scenario` exactly as a scenario file is, so nothing typed on the page is ever run as
code and a bad value is reported with its key. Policy levers *add* dated events to the chosen built-in
scenario's timeline (`extends`); without them the run is the built-in scenario itself, so it shares its
manifest (and its stored run) with `reesim run SCENARIO`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reesim.policy.timing import Month
from reesim.scenario import Scenario, load_scenario

# Separated elements a licence can name (the world's oxides; NdPr is Nd and Pr together).
ELEMENTS = ("La", "Ce", "NdPr", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y")
APRIL_2025 = ("Sm", "Gd", "Tb", "Dy", "Lu", "Y")  # MOFCOM/GAC No. 18, less Sc (not traded in the world)
SUPPORTED_PRODUCTS = ("oxide:NdPr", "oxide:Dy", "oxide:Tb")
SUPPORTING_REGIONS = ("USA", "EU", "JPN", "GBR", "CAN", "KOR", "AUS")

Element = Literal["La", "Ce", "NdPr", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y"]
Product = Literal["oxide:NdPr", "oxide:Dy", "oxide:Tb"]
Region = Literal["USA", "EU", "JPN", "GBR", "CAN", "KOR", "AUS"]


class Licence(BaseModel):
    """China licenses exports of the elements' oxides and metals (and magnets containing them) to everyone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    elements: list[Element] = Field(min_length=1)
    approval_rate: float = Field(ge=0.0, le=1.0)
    start: Month
    end: Month | None = None


class Floor(BaseModel):
    """A price floor (contract for difference) for the region's non-Chinese separation plants, paid by it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Region
    product: Product
    level: float = Field(gt=0.0, le=10_000.0, description="USD/kg")
    start: Month


class Reserve(BaseModel):
    """A strategic stockpile the region builds over `build_months`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Region
    product: Product
    size: float = Field(gt=0.0, le=100_000.0, description="t")
    start: Month
    build_months: int = Field(12, ge=1, le=120)


class Levers(BaseModel):
    """Everything the page lets a user set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    members: int = Field(3, ge=1, le=200)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    end: Month | None = None
    licence: Licence | None = None
    floor: Floor | None = None
    stockpile: Reserve | None = None


def events(levers: Levers) -> list[dict[str, Any]]:
    """The timeline events the policy levers add, in the scenario language."""
    added: list[dict[str, Any]] = []
    if levers.licence is not None:
        lic = levers.licence
        added.append({"instrument": "export_licence", "id": "dashboard-licence", "start": lic.start,
                      **({"end": lic.end} if lic.end else {}), "exporter": "CHN",
                      "goods": {"elements": list(lic.elements), "stages": ["oxide", "metal"]},
                      "destinations": ["all"], "approval_rate": lic.approval_rate})
    if levers.floor is not None:
        fl = levers.floor
        added.append({"instrument": "price_floor", "id": "dashboard-floor", "start": fl.start,
                      "producers": {"regions": [fl.region], "stages": ["separation"], "controllers": ["non-china"]},
                      "product": fl.product, "level": fl.level, "payer": fl.region})
    if levers.stockpile is not None:
        st = levers.stockpile
        added.append({"instrument": "stockpile", "id": "dashboard-stockpile", "start": st.start, "region": st.region,
                      "product": st.product, "size": st.size, "build_months": st.build_months})
    return added


def scenario_of(levers: Levers) -> Scenario:
    """The validated scenario the levers describe (an `InputError` naming the key if a value is refused)."""
    added = events(levers)
    if not added:
        return load_scenario(levers.scenario, members=levers.members, seed=levers.seed, end=levers.end)
    data: dict[str, Any] = {"name": f"{levers.scenario}-custom", "extends": levers.scenario,
                            "description": f"{levers.scenario} with levers set in the dashboard",
                            "members": levers.members, "seed": levers.seed, "timeline": added}
    if levers.end is not None:
        data["end"] = levers.end
    return load_scenario(data)
