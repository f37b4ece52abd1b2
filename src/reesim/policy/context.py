"""What instruments need to know about the world: index sets and selectors of regions, products and lines.

Selectors turn the names a scenario file uses (regions or groups, elements, stages, facility ids,
deposit types) into boolean masks over the engine's arrays, so an instrument never handles indices.
Unknown names raise `ValueError` with the accepted values; `reesim validate` reports them with the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reesim.engine.structure import STAGES, Structure

GROUPS = ("all", "china", "non-china", "g7", "partner", "neutral")
PRODUCT_STAGES = ("concentrate", "oxide", "metal", "magnet")


@dataclass(frozen=True)
class PolicyContext:
    """The compiled world and the ensemble an instrument acts on."""

    structure: Structure
    facilities: pd.DataFrame  # the world's facilities, one row per modelled facility, in structure order
    product_element: tuple[str, ...]  # element of each product ('' for concentrates and magnets)
    elements: tuple[str, ...]  # the world's elements (some may have no traded product)
    params: dict[str, np.ndarray]  # per-member engine parameters
    base_month: pd.Period
    members: int

    # -- regions --------------------------------------------------------------------------------------------
    def regions(self, names: Iterable[str]) -> np.ndarray:
        """(R,) mask of the named regions or groups (all, china, non-china, g7, partner, neutral)."""
        s = self.structure
        mask = np.zeros(len(s.regions), dtype=bool)
        alignment = np.array(s.alignment)
        for name in names:
            if name in s.regions:
                mask[s.regions.index(name)] = True
            elif name == "all":
                mask[:] = True
            elif name == "non-china":
                mask |= alignment != "china"
            elif name in GROUPS:
                mask |= alignment == name
            else:
                raise ValueError(
                    f"unknown region {name!r}; use a region ({', '.join(s.regions)}) "
                    f"or a group ({', '.join(GROUPS)})"
                )
        return mask

    def region(self, name: str) -> int:
        """Index of one region (not a group)."""
        if name not in self.structure.regions:
            raise ValueError(f"unknown region {name!r}; use one of {', '.join(self.structure.regions)}")
        return self.structure.regions.index(name)

    # -- products -------------------------------------------------------------------------------------------
    def product(self, name: str) -> int:
        """Index of one traded product."""
        if name not in self.structure.products:
            raise ValueError(f"unknown product {name!r}; use one of {', '.join(self.structure.products)}")
        return self.structure.products.index(name)

    def products(
        self,
        products: Iterable[str] = (),
        elements: Iterable[str] = (),
        stages: Iterable[str] = (),
        magnets_containing: bool = False,
    ) -> np.ndarray:
        """(P,) mask: the named products, plus products of the named elements at the named stages.

        An element of the world with no traded product at a stage (e.g. scandium metal) selects nothing there.

        With `magnets_containing`, a magnet is selected when its recipe uses a selected metal (NdFeB
        carries Dy and Tb; SmCo carries Sm), as China's licences cover magnets containing listed elements.
        """
        s = self.structure
        mask = np.zeros(len(s.products), dtype=bool)
        for name in products:
            mask[self.product(name)] = True
        elements, stages = list(elements), list(stages) or ["oxide", "metal"]
        unknown_stage = sorted(set(stages) - set(PRODUCT_STAGES))
        if unknown_stage:
            raise ValueError(f"unknown stage(s) {unknown_stage}; use {', '.join(PRODUCT_STAGES)}")
        unknown = sorted(set(elements) - set(self.elements) - {"NdPr"})
        if unknown:
            raise ValueError(
                f"unknown element(s) {unknown}; the world's elements are {', '.join(self.elements)}"
            )
        wanted = set(elements) | ({"NdPr"} if {"Nd", "Pr"} & set(elements) else set())
        kinds = np.array([p.split(":")[0] for p in s.products])
        for i, element in enumerate(self.product_element):
            if element in wanted and kinds[i] in stages:
                mask[i] = True
        if magnets_containing and elements:
            metals = mask & (kinds == "metal")
            makers = (s.inputs[:, metals] > 0).any(axis=1) & (s.line_stage == STAGES.index("magnet"))
            for line in np.flatnonzero(makers):
                mask |= (s.outputs[line] > 0) & (kinds == "magnet")
        return mask

    # -- lines ----------------------------------------------------------------------------------------------
    def lines(
        self,
        facilities: Iterable[str] = (),
        regions: Iterable[str] = (),
        controllers: Iterable[str] = (),
        stages: Iterable[str] = (),
        processes: Iterable[str] = (),
        deposits: Iterable[str] = (),
    ) -> np.ndarray:
        """(N,) mask of production lines: named facilities, or lines matching every given criterion."""
        s = self.structure
        fac = self.facilities
        facilities, regions, controllers = list(facilities), list(regions), list(controllers)
        stages, processes, deposits = list(stages), list(processes), list(deposits)
        mask = np.zeros(len(s.line_facility), dtype=bool)
        if facilities:
            known = list(fac["facility"])
            for name in facilities:
                if name not in known:
                    raise ValueError(
                        f"unknown facility {name!r}; see `reesim data show facilities` for the ids"
                    )
                mask |= s.line_facility == known.index(name)
        criteria = regions or controllers or stages or processes or deposits
        if not criteria:
            return mask
        match = np.ones_like(mask)
        if regions:
            match &= self.regions(regions)[s.line_region]
        if controllers:
            match &= self.regions(controllers)[s.facility_controller[s.line_facility]]
        if stages:
            bad = sorted(set(stages) - set(STAGES))
            if bad:
                raise ValueError(f"unknown stage(s) {bad}; use {', '.join(STAGES)}")
            match &= np.isin(s.line_stage, [STAGES.index(x) for x in stages])
        if processes:
            match &= np.isin(fac["process"].to_numpy()[s.line_facility], processes)
        if deposits:
            match &= np.isin(self.line_deposit(), deposits)
        return mask | match

    def line_deposit(self) -> np.ndarray:
        """(N,) deposit type a line mines or separates ('' for metal and magnet lines)."""
        s = self.structure
        deposit = np.full(len(s.line_facility), "", dtype=object)
        for i in range(len(deposit)):
            concentrate = [
                s.products[j]
                for j in np.flatnonzero((s.inputs[i] + s.outputs[i]) > 0)
                if s.products[j].startswith("concentrate:")
            ]
            if concentrate:
                deposit[i] = concentrate[0].split(":", 1)[1]
        return deposit
