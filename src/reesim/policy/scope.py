"""Reusable parameter groups: which plants, which products and which routes an instrument covers."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from reesim.policy.context import PolicyContext

Stage = Literal["mining", "separation", "metal", "magnet"]
ProductStage = Literal["concentrate", "oxide", "metal", "magnet"]


class Plants(BaseModel):
    """Plants an instrument acts on: named facilities, or every line matching all the given criteria.

    regions/controllers take region codes or groups (all, china, non-china, g7, partner, neutral).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    facilities: list[str] = []
    regions: list[str] = []
    controllers: list[str] = []
    stages: list[Stage] = []
    processes: list[Literal["mine", "separation", "metal", "magnet", "recycling"]] = []
    deposits: list[str] = []

    @model_validator(mode="after")
    def _some(self) -> Plants:
        if not (
            self.facilities
            or self.regions
            or self.controllers
            or self.stages
            or self.processes
            or self.deposits
        ):
            raise ValueError(
                "no plants selected; give facilities, or regions/controllers/stages/processes/deposits"
            )
        return self

    def mask(self, ctx: PolicyContext) -> np.ndarray:
        return ctx.lines(
            self.facilities, self.regions, self.controllers, self.stages, self.processes, self.deposits
        )


class Goods(BaseModel):
    """Products an instrument covers: named products, plus the named elements at the named stages.

    With `magnets_containing` (default true), NdFeB or SmCo magnets are covered when a covered metal
    goes into them, as China's licences cover magnets that contain a listed element.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    products: list[str] = []
    elements: list[str] = []
    stages: list[ProductStage] = ["oxide", "metal"]
    magnets_containing: bool = True

    @model_validator(mode="after")
    def _some(self) -> Goods:
        if not (self.products or self.elements):
            raise ValueError("no goods selected; give products (e.g. oxide:Dy) or elements (e.g. Dy)")
        return self

    def mask(self, ctx: PolicyContext) -> np.ndarray:
        return ctx.products(self.products, self.elements, self.stages, self.magnets_containing)
