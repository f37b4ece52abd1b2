"""Measures at the border: export licences and bans (with the extraterritorial rule), export taxes and
rebates, tariffs, and offtake agreements that reserve a producer's output for named buyers.

Licence caps are set relative to the flows they replace: when a licence regime starts, each route's
reference is its average monthly flow over the past year (in that member), grown since with the world's
demand for the product, and approvals let through `approval_rate` of it. This is how the April 2025 licences acted: exports fell by most of the refused
share and recovered as approvals came, rather than to a fixed tonnage.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from reesim.engine.structure import STAGES
from reesim.engine.wedges import POOLS
from reesim.policy.context import PolicyContext
from reesim.policy.event import Event, EventRun, gather
from reesim.policy.scope import Goods, Plants

MUSD_PER_T_USD_KG = 1e-3  # 1 t at 1 USD/kg is USD 1,000 = USD 0.001 million


def market_growth(ctx: PolicyContext, months: int) -> np.ndarray:
    """(M, P) growth of world final demand for each product over `months`, at the dataset's sector rates."""
    s = ctx.structure
    base = s.demand_base.sum(axis=(0, 1))  # (P,)
    rate = np.divide(
        (s.demand_base * s.demand_growth).sum(axis=(0, 1)), base, out=np.zeros_like(base), where=base > 0
    )
    return (1.0 + rate[None, :] * ctx.params["growth_scale"][:, None]) ** (months / 12.0)


def split_by_reference(total: np.ndarray, reference: np.ndarray | None, destinations: np.ndarray) -> np.ndarray:
    """Share a per-origin quantity (M, O, P) among the destinations (D,) as route caps (M, O, D, P).

    Route caps bind route by route, so a quantity an origin may ship to a group of destinations in all
    must be divided among them, here in proportion to the routes' reference flows (equal shares where an
    origin shipped none): each cap binds only if the origin tries to ship more than its usual share.
    """
    m, n_o, n_p = total.shape
    weights = np.zeros((m, n_o, len(destinations), n_p))
    if reference is not None:
        weights[:] = reference.transpose(0, 2, 3, 1)
    weights *= destinations[None, None, :, None]
    weights[:, np.arange(n_o), np.arange(n_o), :] = 0.0
    sums = weights.sum(axis=2, keepdims=True)
    equal = destinations[None, None, :, None] & ~np.eye(n_o, dtype=bool)[None, :, :, None]
    equal = equal / np.maximum(equal.sum(axis=2, keepdims=True), 1)
    shares = np.where(sums > 0, weights / np.where(sums > 0, sums, 1.0), equal)
    return total[:, :, None, :] * shares


def frozen_reference(run: EventRun, fallback: float) -> np.ndarray:
    """(M, P, O, D) the routes' reference flows, frozen in the event's memory the first month it acts.

    Before any month has been observed (an event from the base month) every route gets `fallback`.
    """
    if "reference" not in run.memo:
        s = run.ctx.structure
        shape = (run.ctx.members, len(s.products), len(s.regions), len(s.regions))
        ref = run.trade_reference
        run.memo["reference"] = np.full(shape, fallback) if ref is None else ref.copy()
    return run.memo["reference"]


def _export_scope(event: ExportLicence | ExportQuota, ctx: PolicyContext) -> tuple[int, np.ndarray, np.ndarray]:
    """The exporter's index, the covered goods (P,) and the destinations (R,) other than the exporter."""
    exporter = ctx.region(event.exporter)
    destinations = ctx.regions(event.destinations)
    destinations[exporter] = False
    return exporter, event.goods.mask(ctx), destinations


def _route_mask(ctx: PolicyContext, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
    """(R, R) mask of routes origin -> destination, never a region to itself."""
    return origins[:, None] & destinations[None, :] & ~np.eye(len(origins), dtype=bool)


def origin_content(run: EventRun, exporter: int, technology_counts: bool) -> np.ndarray:
    """(M, R, P) share of each region's own output last month that carries the exporter's origin.

    Content is traced stage by stage: a region's output carries the highest exporter-origin share among
    the inputs it used (its imports of the input from the exporter over its supply of it, or the input's
    own content), which is conservative, as a 0.1 % value threshold is crossed by any real Chinese input.
    With `technology_counts`, output of plants the exporter controls counts as its origin (No. 61 also
    covers items made with Chinese rare-earth technology).
    """
    s = run.ctx.structure
    last = run.last
    m, n_r, n_p = last.production.shape
    trade = last.trade  # (M, P, O, D)
    imports = trade.sum(axis=2).transpose(0, 2, 1) - np.einsum("mprr->mrp", trade)  # (M, R, P) from abroad
    from_exporter = trade[:, :, exporter, :].transpose(0, 2, 1)
    produced = last.production
    controlled = np.zeros((m, n_r, n_p))
    if technology_counts:
        own = s.facility_controller[s.line_facility] == exporter
        np.add.at(
            controlled,
            (slice(None), s.line_region[own]),
            last.throughput[:, own, None] * s.outputs[None, own, :],
        )
    made_share = np.divide(controlled, produced, out=np.zeros_like(produced), where=produced > 0)
    supplied = np.zeros((m, n_r, n_p))  # exporter-origin share of each region's supply (own output + imports)
    content = np.zeros((m, n_r, n_p))
    supply = produced + imports
    for stage in range(len(STAGES)):
        for line in np.flatnonzero(s.line_stage == stage):
            uses = np.flatnonzero(s.inputs[line] > 0)
            if len(uses):
                r, outs = s.line_region[line], np.flatnonzero(s.outputs[line] > 0)
                carried = supplied[:, r, :][:, uses].max(axis=1)
                content[:, r, outs] = np.maximum(content[:, r, outs], carried[:, None])
        products = s.product_stage == stage
        content[:, :, products] = np.minimum(np.maximum(content, made_share)[:, :, products], 1.0)
        value = from_exporter + produced * content
        share = np.divide(value, supply, out=np.zeros_like(supply), where=supply > 0)
        supplied[:, :, products] = np.minimum(share[:, :, products], 1.0)
    return content


class ExportLicence(Event):
    """Export licensing by element and product: approvals at a rate, after a processing delay.

    Flows from `exporter` to each destination of the covered goods are capped at `approval_rate` times the
    route's reference flow (its average over the year before the licence), and at zero for the first
    `delay_months` while the first applications are processed. With `deny_defence`, the share of the
    destination's demand for the product that goes to defence users is refused outright. With
    `extraterritorial_threshold` (a share of value, e.g. 0.001 for the 0.1 % of announcement No. 61), third
    countries' exports of items whose exporter-origin content is at or above the threshold need the same
    licence: their flows to the destinations are capped at their non-Chinese supply plus the approved share
    of their reference flow. Holders in the destinations see a perceived supply risk of `tension` x the
    refused share, which raises their precautionary stocks. Units: approval_rate, threshold and tension
    are shares (0 to 1 for the first two); delay in months.
    """

    instrument: Literal["export_licence"] = "export_licence"
    exporter: str = "CHN"
    goods: Goods
    destinations: list[str] = ["all"]
    approval_rate: float = Field(0.5, ge=0.0, le=1.0)
    tension: float = Field(0.3, ge=0.0, le=5.0, description="perceived risk signalled to holders in the "
                           "destinations per unit of refused share (assumed; calibrated with the 2010 back-test)")
    delay_months: int = Field(1, ge=0, le=60)
    deny_defence: bool = True
    extraterritorial_threshold: float | None = Field(None, ge=0.0, le=1.0)
    technology_counts: bool = True

    def check(self, ctx: PolicyContext) -> None:
        gather(
            lambda: ctx.region(self.exporter),
            lambda: ctx.regions(self.destinations),
            lambda: self.goods.mask(ctx),
        )

    def approval(self, run: EventRun) -> float:
        return self.approval_rate if run.since >= self.delay_months else 0.0

    def act(self, run: EventRun) -> None:
        ctx, s = run.ctx, run.ctx.structure
        exporter, goods, destinations = _export_scope(self, ctx)
        frozen_reference(run, fallback=0.0)  # no flow observed yet: nothing approved
        grown = market_growth(ctx, run.since)[:, None, None, :]
        ref = run.memo["reference"].transpose(0, 2, 3, 1) * grown  # (M, O, D, P)
        approval = self.approval(run)
        refused = np.zeros((len(s.regions), len(s.products)))
        if self.deny_defence and "defence" in s.sectors:
            demand = s.demand_base.sum(axis=1)
            defence = s.demand_base[:, s.sectors.index("defence"), :]
            refused = np.divide(defence, demand, out=np.zeros_like(demand), where=demand > 0)
        allowed = approval * ref[:, exporter, :, :] * (1.0 - refused)[None]  # (M, D, P)
        cap = np.full((ctx.members, len(s.regions), len(s.regions), len(s.products)), np.inf)
        cap[:, exporter, :, :] = allowed
        where = np.zeros(cap.shape[1:], dtype=bool)
        where[exporter] = destinations[:, None] & goods[None, :]
        if self.extraterritorial_threshold is not None and run.last is not None:
            # Third countries may ship to the destinations their own output that is free of the exporter's
            # content (all of it below the threshold, the non-exporter share above it) plus the approved
            # share of their reference flow; re-exports of imports need the exporter's licence.
            content = origin_content(run, exporter, self.technology_counts)  # (M, R, P)
            produced = run.last.production
            free = np.where(content >= self.extraterritorial_threshold, produced * (1.0 - content), produced)
            third = np.ones(len(s.regions), dtype=bool)
            third[exporter] = False
            mask = _route_mask(ctx, third, destinations)[:, :, None] & goods[None, None, :]  # (O, D, P)
            shared = split_by_reference(free, run.trade_reference, destinations)
            third_cap = shared + approval * ref * (1.0 - refused)[None, None]
            cap = np.where(mask[None], third_cap, cap)
            where |= mask
        run.wedges.combine("route_cap", cap, where=where[None])
        signal = np.zeros((len(s.regions), len(s.products)))
        signal[destinations] = self.tension * (1.0 - self.approval_rate)
        run.wedges.combine("tension", signal * goods[None, :])


class ExportBan(ExportLicence):
    """An outright export ban: a licence regime that approves nothing, from the first day."""

    instrument: Literal["export_ban"] = "export_ban"  # type: ignore[assignment]
    approval_rate: float = Field(0.0, ge=0.0, le=0.0)
    delay_months: int = Field(0, ge=0, le=0)


class ExportQuota(Event):
    """A cap on the exporter's total exports of the covered goods, t/yr of product (China's export quotas,
    2000-2014). Holders abroad see a perceived supply risk of `tension`.

    `allocation` says how the quota is held. `by_route` (default): each month a twelfth of the quota is
    shared among the covered routes in proportion to their reference flows (the year before the quota), as
    if each exporter held a fixed share for each product and market; unused quota lapses. `pooled`: the
    quota is one tonnage for all covered goods and markets, as China's quotas were (t of REO, allocated to
    firms who chose what to ship), and its licences trade: each month the year's remaining quota spread
    over the months left may be exported, and the engine prices a licence within the month at the lowest
    price per tonne, the same on every covered route, at which exports fit that allowance (zero when they
    fit anyway; `reesim.engine.licence_pool.clear_pool`). Quota unused in a month stays for the rest of the year. A uniform
    price per tonne lifts cheap goods (La, Ce) far more in proportion than dear ones.

    `pool` numbers the pool a pooled quota's licences belong to. Quotas in different pools are priced
    apart, each at its own price per tonne, as China's quotas were split into light and medium-heavy
    rare earths from 2012 (MOFCOM); two pooled quotas in force in the same pool share their routes under
    the tighter allowance, and goods claimed by two pools are priced in the higher-numbered one.
    """

    instrument: Literal["export_quota"] = "export_quota"
    exporter: str = "CHN"
    goods: Goods
    destinations: list[str] = ["all"]
    level: float = Field(ge=0.0, description="t/yr")
    tension: float = Field(0.3, ge=0.0, le=5.0)
    allocation: Literal["by_route", "pooled"] = "by_route"
    pool: int = Field(1, ge=1, le=POOLS, description="pool of tradable licences (pooled allocation only)")

    def check(self, ctx: PolicyContext) -> None:
        gather(lambda: ctx.region(self.exporter), lambda: ctx.regions(self.destinations), lambda: self.goods.mask(ctx))

    def act(self, run: EventRun) -> None:
        ctx, s = run.ctx, run.ctx.structure
        exporter, goods, destinations = _export_scope(self, ctx)
        covered = np.zeros((len(s.regions), len(s.regions), len(s.products)), dtype=bool)
        covered[exporter] = destinations[:, None] & goods[None, :]
        if self.allocation == "by_route":
            cap = np.full((ctx.members,) + covered.shape, np.inf)
            cap[:, exporter] = _quota_shares(run, exporter, goods, destinations) * self.level / 12.0
            run.wedges.combine("route_cap", cap, where=covered[None])
        else:
            run.wedges.combine("pool_route", float(self.pool), where=covered[None])
            allowance = np.full((ctx.members, POOLS), np.inf)
            allowance[:, self.pool - 1] = self._allowance(run, covered)
            run.wedges.combine("pool_allowance", allowance)
        signal = np.zeros((len(s.regions), len(s.products)))
        signal[destinations] = self.tension
        run.wedges.combine("tension", signal * goods[None, :])

    def _allowance(self, run: EventRun, covered: np.ndarray) -> np.ndarray:
        """(M,) t this month's pooled licences allow: the year's quota less what was exported since January,
        spread evenly over the months left in the year."""
        memo, month = run.memo, run.ctx.base_month + run.t
        if run.last is not None and "year" in memo and (month - 1).year == memo["year"]:
            memo["used"] = memo["used"] + (run.last.trade.transpose(0, 2, 3, 1) * covered[None]).sum(axis=(1, 2, 3))
        if memo.get("year") != month.year:
            memo["year"], memo["used"] = month.year, np.zeros(run.ctx.members)
        return np.maximum(self.level - memo["used"], 0.0) / (13 - month.month)


def _quota_shares(run: EventRun, exporter: int, goods: np.ndarray, destinations: np.ndarray) -> np.ndarray:
    """(M, D, P) shares of an export quota by route and good, in proportion to the frozen reference flows
    (equal shares where the exporter shipped none of the covered goods)."""
    frozen_reference(run, fallback=1.0)  # no flow observed yet: equal shares
    ref = run.memo["reference"][:, :, exporter, :].transpose(0, 2, 1)  # (M, D, P)
    weights = ref * destinations[None, :, None] * goods[None, None, :]
    total = weights.sum(axis=(1, 2), keepdims=True)
    even = destinations[:, None] & goods[None, :]
    return np.where(total > 0, weights / np.where(total > 0, total, 1.0), even / max(even.sum(), 1))


class ExportTax(Event):
    """An ad-valorem export tax (rate > 0) or rebate (rate < 0) on the covered goods, e.g. taxing oxides and
    rebating magnets to favour high-value exports. A tax is a wedge between the exporter's price and the
    delivered price abroad, and the exporter books its revenue (a negative cost). A rebate is paid to the
    exporter's plants making the goods, per unit of output, as `-rate` x last month's price x the share of
    their output that was exported (the engine's routes take no negative tax); the exporter books it.
    """

    instrument: Literal["export_tax"] = "export_tax"
    exporter: str = "CHN"
    goods: Goods
    destinations: list[str] = ["all"]
    rate: float = Field(ge=-0.5, le=5.0)

    def check(self, ctx: PolicyContext) -> None:
        gather(
            lambda: ctx.region(self.exporter),
            lambda: ctx.regions(self.destinations),
            lambda: self.goods.mask(ctx),
        )

    def _where(self, ctx: PolicyContext) -> np.ndarray:
        origin = np.zeros(len(ctx.structure.regions), dtype=bool)
        origin[ctx.region(self.exporter)] = True
        return (
            _route_mask(ctx, origin, ctx.regions(self.destinations))[:, :, None]
            & self.goods.mask(ctx)[None, None]
        )

    def act(self, run: EventRun) -> None:
        if self.rate >= 0:
            run.wedges.combine("markup", self.rate, where=self._where(run.ctx)[None])
            return
        s, exporter = run.ctx.structure, run.ctx.region(self.exporter)
        if run.last is None:
            return
        where = self._where(run.ctx)
        exported = (run.last.trade.transpose(0, 2, 3, 1) * where[None]).sum(axis=2)[:, exporter, :]  # (M, P)
        made = run.last.production[:, exporter, :]
        share = np.divide(exported, made, out=np.zeros_like(made), where=made > 0)
        rebate = -self.rate * run.last.price[:, exporter, :] * np.minimum(share, 1.0)  # USD/kg of product
        lines = s.line_region == exporter
        per_throughput = (rebate[:, None, :] * s.outputs[None]).sum(axis=2) * lines[None]
        run.memo["offer"] = per_throughput
        run.wedges.combine("cost_offset", -per_throughput)

    def settle(self, run: EventRun) -> None:
        if self.rate < 0:
            _floor_settle(run, self.exporter)
            return
        where = self._where(run.ctx)
        value = (
            run.last.trade.transpose(0, 2, 3, 1) * run.last.price[:, :, None, :] * where[None]
        )  # (M, O, D, P)
        run.ledger.add(
            run.label,
            run.t - 1,
            run.ctx.region(self.exporter),
            -self.rate * value.sum(axis=(1, 2, 3)) * MUSD_PER_T_USD_KG,
        )


class Tariff(Event):
    """An ad-valorem import tariff on covered goods from `origins` into `importers`; importers book the revenue.

    With `rules_of_origin` (default), customs treat goods shipped through a third country without
    transformation as of their origin: a third country may send the importers no more of a covered good
    than it makes itself (shared among the importers by its usual exports), so the tariff cannot be
    evaded by transshipment. Goods transformed abroad (a Japanese magnet from Chinese metal) are not hit.
    """

    instrument: Literal["tariff"] = "tariff"
    importers: list[str]
    origins: list[str] = ["CHN"]
    goods: Goods
    rate: float = Field(ge=0.0, le=10.0)
    rules_of_origin: bool = True

    def check(self, ctx: PolicyContext) -> None:
        gather(
            lambda: ctx.regions(self.importers),
            lambda: ctx.regions(self.origins),
            lambda: self.goods.mask(ctx),
        )

    def _where(self, ctx: PolicyContext) -> np.ndarray:
        routes = _route_mask(ctx, ctx.regions(self.origins), ctx.regions(self.importers))
        return routes[:, :, None] & self.goods.mask(ctx)[None, None]

    def act(self, run: EventRun) -> None:
        ctx = run.ctx
        run.wedges.combine("markup", self.rate, where=self._where(ctx)[None])
        if self.rules_of_origin and run.last is not None:
            importers = ctx.regions(self.importers)
            third = ~ctx.regions(self.origins) & ~importers
            own = split_by_reference(run.last.production, run.trade_reference, importers)
            where = _route_mask(ctx, third, importers)[:, :, None] & self.goods.mask(ctx)[None, None]
            run.wedges.combine("route_cap", own, where=where[None])

    def settle(self, run: EventRun) -> None:
        where = self._where(run.ctx)
        value = run.last.trade.transpose(0, 2, 3, 1) * run.last.price[:, :, None, :] * where[None]
        by_importer = value.sum(axis=(1, 3))  # (M, D)
        for d in np.flatnonzero(where.any(axis=(0, 2))):
            run.ledger.add(run.label, run.t - 1, int(d), -self.rate * by_importer[:, d] * MUSD_PER_T_USD_KG)


class Offtake(Event):
    """An offtake agreement: `share` of the selected producers' output of the goods is reserved for `buyers`.

    The producers' region may then ship to other destinations only what is left of its output after the
    reserved share (last month's output), divided among them by their usual shares of its exports, so
    allied buyers, not China, get a new project's supply. An
    optional guaranteed `price` (USD/kg) works as a price floor on the reserved share, paid by `payer`.
    """

    instrument: Literal["offtake"] = "offtake"
    producers: Plants
    goods: Goods
    buyers: list[str]
    share: float = Field(ge=0.0, le=1.0)
    price: float | None = Field(None, gt=0.0)
    payer: str | None = None

    def check(self, ctx: PolicyContext) -> None:
        self.producers.mask(ctx)
        self.goods.mask(ctx)
        ctx.regions(self.buyers)
        if self.payer:
            ctx.region(self.payer)

    def act(self, run: EventRun) -> None:
        ctx, s = run.ctx, run.ctx.structure
        lines = self.producers.mask(ctx)
        goods = self.goods.mask(ctx)
        if run.last is None:
            return
        made = np.zeros((ctx.members, len(s.regions), len(s.products)))
        np.add.at(
            made,
            (slice(None), s.line_region[lines]),
            run.last.throughput[:, lines, None] * s.outputs[None, lines],
        )
        origins = np.zeros(len(s.regions), dtype=bool)
        origins[s.line_region[lines]] = True
        others = ~ctx.regions(self.buyers)
        routes = _route_mask(ctx, origins, others)
        residual = np.maximum(run.last.production - self.share * made, 0.0)  # (M, O, P)
        where = routes[:, :, None] & goods[None, None]
        run.wedges.combine("route_cap", split_by_reference(residual, run.trade_reference, others), where=where[None])
        if self.price is not None:
            _floor_offer(
                run, lines & np.isin(s.line_region, np.flatnonzero(origins)), goods, self.price, self.share
            )

    def settle(self, run: EventRun) -> None:
        if self.price is not None:
            _floor_settle(run, self.payer or self.buyers[0])


def _floor_offer(
    run: EventRun, lines: np.ndarray, goods: np.ndarray, level: float, share: float = 1.0
) -> None:
    """Offer the covered lines the gap between `level` and last month's price on `share` of their output.

    The gap is paid per kg of product made, so a line produces as if the price were the floor; it enters
    the engine as a negative cost per unit of throughput (output per throughput x recovery x gap).
    """
    s = run.ctx.structure
    price = run.last_price()[:, s.line_region, :]  # (M, N, P)
    gap = np.maximum(level - price, 0.0) * goods[None, None, :]
    recovery = np.where(
        s.line_stage == STAGES.index("separation"), run.ctx.params["separation_recovery"][:, None], 1.0
    )
    per_throughput = (gap * s.outputs[None]).sum(axis=2) * recovery * share * lines[None]  # (M, N) USD/kg
    run.memo["offer"] = per_throughput
    run.wedges.combine("cost_offset", -per_throughput)


def _floor_settle(run: EventRun, payer: str) -> None:
    """Book what the floor paid last month: the offered gap times what the lines actually made."""
    offer = run.memo.pop("offer", None)
    if offer is not None:
        paid = (offer * run.last.throughput).sum(axis=1) * MUSD_PER_T_USD_KG
        run.ledger.add(run.label, run.t - 1, run.ctx.region(payer), paid)
