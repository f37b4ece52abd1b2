"""The monthly step of the engine, advancing every ensemble member at once.

Each month: capacity available (ramps, delays, outages, closures, expansions); mines decide output from
expected prices; every product market clears across regions (holders' stocks, final demand by sector,
plants' input purchases, strategic stock flows, policy wedges); plants process what they bought; outputs
enter a pipeline that delivers them after the stage's lag; expectations, long-run demand, margins,
closures and expansions update. Arrays carry the member axis first; nothing loops over members.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reesim.engine.calibration import balance_base_year
from reesim.engine.layout import DEMAND, EPSILON, HOLDERS, STOCKPILE, PieceLayout, build_layout
from reesim.engine.licence_pool import Solver, clear_pools
from reesim.engine.structure import STAGES, Structure
from reesim.engine.wedges import POOLS, MonthWedges, WedgeSchedule, per_member
from reesim.market.problem import ClearingProblem, ClearingSolution, tie_break

U_NEW = 0.85  # utilisation of a new line at base margins (assumed)
MIN_BASE_MARGIN = 0.10  # share of output value that a line running in 2024 earned at least (calibration)
HIGH_USE = 0.9  # utilisation above which owners consider expanding
MAX_COVER = 6.0  # most stock holders keep, as a multiple of their target (storage and finance limits)
EPS_DEMAND = 1e-6  # t/month of a token demand that makes every node's price its import parity
SMUGGLE_BAND = 0.10  # margin over the evasion cost at which smugglers use their whole channel (assumed)
SMUGGLE_SPEED = 0.5  # share of the gap to that volume closed in a month: shipments are arranged ahead (assumed)
SMUGGLE_TRACE = 1e-6  # t/month below which an informal flow stops


def _col(values: np.ndarray, ndim: int) -> np.ndarray:
    """Member-axis parameter shaped to broadcast against an array of `ndim` dimensions."""
    return values.reshape((-1,) + (1,) * (ndim - 1))


def _by_stage(params: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """Per-member values of a stage parameter family (e.g. lag_mining ... lag_magnet) as (M, 4)."""
    return np.stack([params[f"{prefix}_{st}"] for st in STAGES], axis=1)


def _scatter_sum(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """Sum the (M, E) values of E entries into n targets by each entry's target index: (M, n). A sorted
    reduction rather than a product with a 0/1 matrix: small BLAS calls wake BLAS threads that then compete
    with the clearing kernel's."""
    out = np.zeros((values.shape[0], n))
    if len(index):
        order = np.argsort(index, kind="stable")
        targets, starts = np.unique(index[order], return_index=True)
        out[:, targets] = np.add.reduceat(values[:, order], starts, axis=1)
    return out


def _planes(values: np.ndarray) -> np.ndarray:
    """(M, R, P) as (M, P, R) and back: a C-ordered copy of the transpose."""
    return np.ascontiguousarray(values.transpose(0, 2, 1))


def _put(values: np.ndarray, k: int, *buffers: np.ndarray) -> None:
    """Write (M, R, P) values into slot k of (M, P, K, R) piece buffers, copying the transpose straight into
    the slot (a contiguous copy first would add a pass over the values)."""
    for buffer in buffers:
        buffer[:, :, k] = values.transpose(0, 2, 1)


def _route_rows(value: np.ndarray | float, m: int, n_r: int, n_p: int) -> np.ndarray:
    """A route wedge (R, R, P), optionally per member, as clearing rows (M x P, R, R): a broadcast view
    when it is one number."""
    if np.ndim(value) == 0:
        return np.broadcast_to(np.float64(value), (m * n_p, n_r, n_r))
    return np.ascontiguousarray(per_member(value, (m, n_r, n_r, n_p)).transpose(0, 3, 1, 2)).reshape(m * n_p, n_r, n_r)


@dataclass
class StepResult:
    """What one month produced, for recording (member axis first)."""

    price: np.ndarray  # (M, R, P)
    production: np.ndarray  # (M, R, P)
    consumption: np.ndarray  # (M, R, P) final demand served
    purchases: np.ndarray  # (M, R, P) plants' input purchases
    inventory: np.ndarray  # (M, R, P) holders' closing stock
    arrivals: np.ndarray  # (M, R, P) output delivered from the pipeline this month
    trade: np.ndarray  # (M, P, R, R) flows origin -> destination in the customs record
    smuggled: np.ndarray  # (M, P, R, R) informal flows origin -> destination, outside the record
    rent: np.ndarray  # (M, P, R, R)
    shortfall: np.ndarray  # (M, R, S, P) demand unmet against demand at the expected price
    disposal: np.ndarray  # (M, R, P) taken at a price floor
    stockpile: np.ndarray  # (M, R, P) strategic stock level
    throughput: np.ndarray  # (M, N) line throughput
    capacity: np.ndarray  # (M, N) available capacity
    margin: np.ndarray  # (M, N) USD/kg of throughput at this month's prices
    expansion: np.ndarray  # (M, N) t/month of capacity that owners decided to add this month
    licence: np.ndarray  # (M, POOLS) USD/kg: each pool's export licence price this month (0: none or slack)


class Engine:
    """State and monthly step of M members over one world structure."""

    def __init__(self, structure: Structure, params: dict[str, np.ndarray], rngs: list[np.random.Generator],
                 horizon: int, wedges: WedgeSchedule, solver: Solver) -> None:
        self.s, self.p, self.wedges, self.solver = structure, params, wedges, solver
        self.layout: PieceLayout = build_layout(structure)
        m = len(rngs)
        n_r, n_p, _, n_l = structure.shape
        self.m = m
        # Per-member draws (one RNG owner per member, drawn in a fixed order).
        delay_max = params["project_delay_max"]
        self.delay = np.stack([rng.uniform(0.0, 1.0, n_l) for rng in rngs]) * delay_max[:, None]
        self.delay = np.where(structure.line_announced[None, :], np.round(self.delay), 0.0)
        self.outage_draw = np.stack([rng.random((horizon, n_l)) for rng in rngs])  # (M, T, N)
        # Base-year calibration.
        s = structure
        self.recovery = np.where(s.line_stage == 1, 1.0, 0.0)[None, :] * params["separation_recovery"][:, None] \
            + np.where(s.line_stage == 1, 0.0, 1.0)[None, :]  # (M, N)
        self.value0 = (s.outputs * s.price_base).sum(axis=1)[None, :] * self.recovery  # (M, N)
        input_cost0 = (s.inputs * s.price_base).sum(axis=1)[None, :]
        # A line that ran in 2024 covered its cash cost at 2024 prices: where the dataset's (mostly assumed)
        # unit cost says otherwise, the cost is calibrated down to leave a minimum margin. Lines not yet
        # built keep the dataset's cost, so entrants face the real gap.
        # At export parity a seller nets the base price less transport, so the calibration leaves room for it.
        # Per-member transport cost by product kind (concentrate, oxide, metal, magnet), USD/kg: (M, 4).
        self.freight = np.array([params[f"transport_{st}"] for st in ("concentrate", "oxide", "metal", "magnet")]).T
        shipping = (s.outputs[None] * self.freight[:, s.product_stage][:, None, :]).sum(axis=2) * self.recovery
        ceiling = self.value0 - input_cost0 - shipping - MIN_BASE_MARGIN * self.value0
        ran = (s.line_base_output > 0)[None, :]
        self.base_cost = np.where(ran, np.minimum(s.line_unit_cost[None, :], np.maximum(ceiling, 0.0)),
                                  s.line_unit_cost[None, :])
        self.margin0 = self.value0 - input_cost0 - self.base_cost
        balances = [balance_base_year(s, float(r)) for r in params["separation_recovery"]]
        self.x0 = balances[0].throughput  # throughput does not depend on recovery
        self.demand_scale = np.stack([b.demand_scale for b in balances])  # (M, P)
        self.unabsorbed = balances[0].unabsorbed
        since = np.arange(12)[:, None] - s.line_start[None, :]
        ramp_2024 = np.where(since >= 0, np.minimum(1.0, (since + 1) / np.maximum(s.line_ramp, 1)), 0.0).mean(axis=0)
        capacity_2024 = s.line_capacity * ramp_2024  # lines ramping up in 2024 had less than nameplate
        base_u = np.divide(self.x0, capacity_2024, out=np.zeros(n_l), where=capacity_2024 > 0)
        self.u0 = np.where(self.x0 > 0, np.clip(base_u, 0.0, 1.0), U_NEW)
        demand_base = s.demand_base[None] * self.demand_scale[:, None, None, :]  # (M, R, S, P)
        lay = self.layout
        self.demand_at = (lay.demand_region, lay.demand_sector, lay.demand_product)
        self.demand_base = demand_base[(slice(None), *self.demand_at)]  # (M, D): only cells with demand
        base_out = np.zeros((n_r, n_p))
        base_use = np.zeros((n_r, n_p))
        np.add.at(base_out, s.line_region, self.x0[:, None] * s.outputs)
        np.add.at(base_use, s.line_region, self.x0[:, None] * s.inputs)
        self.throughput_base = base_out + base_use + demand_base.mean(axis=0).sum(axis=1)  # (R, P) t/month
        cover = params["stock_cover_months"][:, None, None]
        # State.
        self.stock = cover * self.throughput_base[None]  # (M, R, P) holders' stock
        self.price_exp = np.broadcast_to(s.price_base, (m, n_r, n_p)).copy()
        self.price_smooth = self.price_exp.copy()
        self.risk = np.zeros((m, n_r, n_p))
        self.stockpile = np.zeros((m, n_r, n_p))
        self.input_stock = (params["input_cover_months"][:, None, None] * self.x0[None, :, None] * s.inputs[None]).copy()
        self.line_lag = np.rint(_by_stage(params, "lag")[:, s.line_stage]).astype(int)  # (M, N)
        self.ring = int(self.line_lag.max()) + 1
        # Deliveries already in flight: base-year output of the last `lag` months arrives in months 0..lag-1.
        self.pipeline = np.zeros((self.ring, m, n_r, n_p))
        base_made = self.x0[None, :, None] * s.outputs[None] * self.recovery[:, :, None]
        for slot in range(self.ring):
            np.add.at(self.pipeline[slot], (slice(None), s.line_region), base_made * (self.line_lag > slot)[:, :, None])
        self.closed = np.zeros((m, n_l), dtype=bool)
        self.loss_months = np.zeros((m, n_l))
        self.margin_ema = np.broadcast_to(self.margin0, (m, n_l)).copy()
        self.added = np.zeros((m, n_l))
        self.pending = np.zeros((m, n_l))
        self.pending_due = np.full((m, n_l), -1)
        self.outage_left = np.zeros((m, n_l))
        self.cumulative = np.broadcast_to(s.line_capacity * 12.0, (m, n_l)).copy()
        self.unit_cost = self.base_cost.copy()
        # Mines respond little to prices in the short run (facts.md F: ex-China short-run supply about 0).
        # The responses are elasticities of output, so a line's utilisation moves by the response times its
        # base utilisation: a sector with much idle capacity (China's magnet makers in 2009, capacity 2.4
        # times their output) does not swing a larger share of its capacity on the same margin, and the
        # calibrated value means the same in a world whose capacities are estimated differently.
        response = np.where(s.line_stage[None, :] == 0, params["mine_response"][:, None],
                            params["utilisation_response"][:, None])  # (M, N)
        self.kappa = response * self.u0[None, :]
        self.run_value = np.broadcast_to(np.maximum(self.value0, 1e-9), (m, n_l))  # set each month
        # Magnet makers thrift the heavy rare earths (grain-boundary diffusion, redesign) as their price rises.
        heavy = [i for i, name in enumerate(s.products) if name in ("metal:Dy", "metal:Tb")]
        thrift = np.zeros_like(s.inputs, dtype=bool)
        thrift[np.ix_(np.flatnonzero(s.line_stage == 3), heavy)] = True
        self.thrift_at = np.nonzero(thrift & (s.inputs > 0))  # (line, product) entries that thrifting changes
        self.inputs = np.broadcast_to(s.inputs, (m, n_l, n_p)).copy()  # (M, N, P), thrifting changes it
        self.use_ema = np.broadcast_to(self.u0, (m, n_l)).copy()
        self.expansion = np.zeros((m, n_l))
        # Greenfield candidates exist only once an owner decides to build them (month their output starts).
        self.build_start = np.where(s.line_candidate[None, :], np.inf, 0.0) * np.ones((m, 1))
        self.yield_factor = np.ones((m, n_l))
        self.licence = np.zeros((m, POOLS))  # USD/kg: each pool's export licence price this month (0: none)
        self.smuggled = np.broadcast_to(0.0, (m, n_p, n_r, n_r))  # t/month on informal channels (no copy while none)
        self.smuggling = False  # whether any informal flow is under way (the baseline skips the channel)
        self.last: StepResult | None = None  # what the wedge schedule observes at the next step
        self.unsettled = np.zeros((m, n_p), dtype=np.int64)  # months whose clearing did not settle, per market
        # Every route's cost carries its own amount below 1e-9 USD/kg, so that no two delivered costs tie
        # exactly: with one freight rate everywhere and many regions at one price the clearing's sweeps could
        # cycle between tied route patterns (`reesim.market.problem.tie_break`).
        self.tie_break = tie_break(n_r)

    # -- capacity -------------------------------------------------------------------------------------------
    def available_capacity(self, t: int, w: MonthWedges) -> tuple[np.ndarray, np.ndarray]:
        """Physical capacity available this month (M, N) and the quota limit on throughput (inf if none)."""
        s, p, m_ = self.s, self.p, self.m
        planned = s.line_start[None, :] + self.delay + per_member(w.start_delay, (m_, s.shape[3]))
        since = t - np.where(s.line_candidate[None, :], self.build_start, planned)
        ramp = np.where(since >= 0, np.minimum(1.0, (since + 1) / np.maximum(s.line_ramp[None, :], 1)), 0.0)
        starts = self.outage_draw[:, t, :] < _col(p["outage_probability"], 2)
        self.outage_left = np.where((self.outage_left <= 0) & starts, _col(p["outage_months"], 2), self.outage_left)
        outage = np.where(self.outage_left > 0, _col(p["outage_depth"], 2), 0.0)
        self.outage_left = np.maximum(self.outage_left - 1, 0)
        due = self.pending_due == t
        self.added += np.where(due, self.pending, 0.0)
        self.pending = np.where(due, 0.0, self.pending)
        nameplate = s.line_capacity[None, :] * ramp + self.added
        cap = nameplate * (1.0 - outage) * ~self.closed * per_member(w.capacity_factor, (m_, s.shape[3]))
        limit = np.full_like(cap, np.inf)
        # Each line's policy scale on its class's quota (consolidation steering output; 1 for no quota).
        scale = np.concatenate([np.ones((m_, 1)), per_member(w.quota_scale, (m_, 2))], axis=1)[:, s.line_quota]
        for kind in (1, 2):  # China's quotas cap the holders' throughput, allocated by base-year output
            held = s.line_quota == kind
            if held.any():  # a quota below the balanced base year is lifted to it (see calibration)
                base = max(s.quota_base[kind - 1], self.x0[held].sum())
                path = base * (1.0 + self.p["quota_growth"]) ** (t / 12.0)
                fixed = per_member(w.quota, (m_, 2))[:, kind - 1] / 12.0  # a policy's quota, t/yr -> t/month
                quota = np.where(np.isnan(fixed), path, fixed)
                share = self.x0[held] / self.x0[held].sum()
                limit[:, held] = quota[:, None] * scale[:, held] * share[None, :]
        if np.ndim(w.line_limit) or np.isfinite(w.line_limit):  # parts of a quota held by groups of plants
            limit = np.minimum(limit, per_member(w.line_limit, (m_, s.shape[3])) * scale)
        return cap, limit

    def utilisation(self, margin: np.ndarray) -> np.ndarray:
        """Utilisation follows the margin's change from its base-year level (base margin gives base output),
        as a share of the output's value at expected prices (`run_value`): the response is to the margin
        rate, so a 1 % move of prices weighs the same when prices are ten times their base. Measured on
        base values instead, the 2011 spike made a 1 % move ten times stronger and China's magnet makers
        swung between idle and full capacity month after month (docs/engine.md)."""
        return np.clip(self.u0 + self.kappa * (margin - self.margin0) / self.run_value, 0.0, 1.0)

    def line_value(self, price: np.ndarray) -> np.ndarray:
        """Value of a line's outputs per t of throughput at regional prices (M, R, P), USD/kg: (M, N)."""
        s = self.s
        out_line, out_prod = np.nonzero(s.outputs)  # sums over the few products a line makes
        made = price[:, s.line_region[out_line], out_prod] * s.outputs[out_line, out_prod]
        return _scatter_sum(made, out_line, s.shape[3]) * self.recovery * self.yield_factor

    def line_margin(self, price: np.ndarray, w: MonthWedges) -> np.ndarray:
        """Margin per t of throughput at regional prices (M, R, P), USD/kg."""
        lay, n_l = self.layout, self.s.shape[3]
        used = price[:, lay.input_region, lay.input_product] * self.inputs[:, lay.input_line, lay.input_product]
        cost = _scatter_sum(used, lay.input_line, n_l) + self.unit_cost + per_member(w.cost_offset, (self.m, n_l))
        return self.line_value(price) - cost

    # -- clearing -------------------------------------------------------------------------------------------
    def demand_reference(self, t: int, w: MonthWedges) -> np.ndarray:
        """Final demand at the expected price before the short-run response, at the (region, sector,
        product) cells with base demand (`self.demand_at`): (M, D) t/month. Few cells have demand (193 of
        5,040 in the default world), and powers over the full (M, R, S, P) array cost more than the clearing."""
        s, p = self.s, self.p
        r, sec, prod = self.demand_at
        growth = (1.0 + s.demand_growth[r, sec, prod][None] * _col(p["growth_scale"], 2)) ** (t / 12.0)
        long_gap = np.maximum(p["elasticity_long"] - p["elasticity_short"], 0.0)
        substitution = (self.price_smooth / s.price_base[None, None, :]) ** (-_col(long_gap, 3))
        factor = per_member(w.demand_factor, (self.m,) + s.demand_base.shape)[:, r, sec, prod]
        return self.demand_base * growth * substitution[:, r, prod] * factor

    def node_demand(self, d_ref: np.ndarray) -> np.ndarray:
        """Final demand of each node (M, R, P) from its cells (M, D), added in sector order as a sum over
        the sector axis of the full array adds them, so the result does not depend on the storage."""
        lay = self.layout
        n_r, n_p = self.s.shape[:2]
        node = lay.demand_region * n_p + lay.demand_product
        out = np.zeros((self.m, n_r * n_p))
        for rank in range(int(lay.demand_rank.max(initial=-1)) + 1):  # a node appears once per rank
            pick = lay.demand_rank == rank
            out[:, node[pick]] += d_ref[:, pick]
        return out.reshape(self.m, n_r, n_p)

    def build_problem(self, t: int, w: MonthWedges, avail: np.ndarray, cap: np.ndarray, limit: np.ndarray,
                      d_ref: np.ndarray) -> tuple[ClearingProblem, dict[str, np.ndarray]]:
        """The month's clearing problem, one row per (member, product), pieces placed by `self.layout`.

        The piece arrays are buffers reused every month (slots a world never uses stay zero, the token
        demand is written once), so a problem holds until the next call. Route wedges given as one number
        become broadcast views, not (M x P, R, R) copies.
        """
        s, p, lay = self.s, self.p, self.layout
        m, (n_r, n_p, _, _) = self.m, s.shape
        a, slope, lo, hi = self._piece_buffers()  # (M, P, K, R): slot k of every node is a plane
        pe = np.maximum(self.price_exp, 1e-9)  # (M, R, P), like the state; planes take the transpose
        # Holders: net supply = available - desired closing stock S*(p) = T (1 + h - h p / pe), clipped to
        # [0, MAX_COVER T]: they sell into spikes and, when prices fall below expectations, buy for stock.
        risk = self.risk + per_member(w.tension, (m, n_r, n_p))  # price surprises plus policy-signalled risk
        target = _col(p["stock_cover_months"], 3) * self.throughput_base[None] * (1 + _col(p["precaution"], 3) * risk)
        h = _col(p["stock_price_response"], 3)
        _put(avail - target * (1 + h), HOLDERS, a)
        _put(target * h / pe, HOLDERS, slope)
        _put(avail - MAX_COVER * target, HOLDERS, lo)
        _put(avail, HOLDERS, hi)
        flow = np.maximum(per_member(w.stock_flow, (m, n_r, n_p)), -self.stockpile)  # cannot release more than is held
        fixed = -flow
        if self.smuggling:  # smugglers buy at the origin and sell at the destination, outside the routes
            fixed = fixed + _planes(self.smuggled.sum(axis=2) - self.smuggled.sum(axis=3))
        _put(fixed, STOCKPILE, a, lo, hi)
        ceiling = per_member(w.price_ceiling, (m, n_r, n_p))
        ceiling = np.where(np.isnan(ceiling), _col(p["price_ceiling_multiple"], 3) * s.price_base, ceiling)
        # Below a reservation price holders keep a product rather than sell it (a co-product is not finished
        # for less than its finishing cost), so a glut piles up in stock instead of clearing at zero.
        reservation = _col(p["reservation_price_share"], 3) * s.price_base
        floor = np.maximum(per_member(w.price_floor, (m, n_r, n_p)), reservation)
        # Final demand by sector: D = Dref (1 + e - e p / pe), clipped to [0, Dref (1 + e)]. Every sector's
        # piece bends at the same prices (0 and pe (1 + e) / e), so a node's sectors add up to one piece.
        eps = _col(p["elasticity_short"], 3)
        demand = self.node_demand(d_ref)  # (M, R, P)
        _put(-demand * (1 + eps), DEMAND, a, lo)
        _put(demand * eps / pe, DEMAND, slope)
        # Plants' input purchases: throughput x(p_i) = cap clip(alpha - beta p_i, 0, 1), purchase = q x - stock.
        e_line, e_prod, e_reg, e_slot = lay.input_line, lay.input_product, lay.input_region, lay.input_slot
        margin_exp = self.line_margin(self.price_exp, w)  # (M, N)
        q = self.inputs[:, e_line, e_prod]
        kappa = self.kappa[:, e_line]
        value = self.run_value[:, e_line]  # output value at expected prices, as in `utilisation`
        pe_in = self.price_exp[:, e_reg, e_prod]
        alpha = self.u0[e_line] + kappa * (margin_exp[:, e_line] + q * pe_in - self.margin0[:, e_line]) / value
        beta = kappa * q / value
        cover = 1.0 + _col(p["input_cover_months"], 2)  # this month's use plus the buffer
        c = cap[:, e_line] * cover
        most = np.minimum(cap, limit)[:, e_line] * cover
        held = self.input_stock[:, e_line, e_prod]
        a[:, e_prod, e_slot, e_reg] = held - q * c * alpha
        slope[:, e_prod, e_slot, e_reg] = q * c * beta
        lo[:, e_prod, e_slot, e_reg] = np.minimum(0.0, held - q * most)
        b, k = m * n_p, lay.k
        freight = self.freight[:, s.product_stage].reshape(b, 1, 1)
        if np.ndim(w.unit_wedge) == 0:
            transport = freight + float(w.unit_wedge) + self.tie_break  # (B, R, R)
        else:
            transport = freight * (1 - np.eye(n_r)) + _route_rows(w.unit_wedge, m, n_r, n_p) + self.tie_break
        rows = [x.reshape(b, k, n_r).transpose(0, 2, 1) for x in (a, slope, lo, hi)]  # (B, R, K) views
        problem = ClearingProblem(
            *rows, transport=transport, markup=_route_rows(w.markup, m, n_r, n_p),
            cap=_route_rows(w.route_cap, m, n_r, n_p), floor=_planes(floor).reshape(b, n_r),
            ceiling=_planes(ceiling).reshape(b, n_r))
        return problem, {"flow": flow, "demand": demand}

    def _piece_buffers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The piece arrays (a, slope, lo, hi) of the clearing problem, (M, P, K, R) so that one slot of
        every node is a contiguous plane; allocated at the first month."""
        if getattr(self, "_pieces", None) is None:
            n_r, n_p, _, _ = self.s.shape
            self._pieces = tuple(np.zeros((self.m, n_p, self.layout.k, n_r)) for _ in range(4))
            for values in (self._pieces[0], self._pieces[2], self._pieces[3]):  # a, lo, hi
                # A fixed token demand: a node with nothing else imports it, so its price is its import parity.
                values[:, :, EPSILON] = -EPS_DEMAND
        return self._pieces

    def _smuggle(self, w: MonthWedges) -> None:
        """Set this month's informal flows (M, P, R, R) from last month's prices. Smugglers buy at the origin
        and sell at the destination, paying freight and an evasion cost (a share of the origin price) but no
        export tax, tariff or licence. They use their channel in proportion to last month's margin, the
        destination price less freight over the origin price with the evasion cost, less one: none at zero,
        the whole capacity from SMUGGLE_BAND up. Volumes close half the gap to that each month, as a channel
        is arranged ahead, so a channel that depresses the price abroad settles rather than flickers; flows
        below SMUGGLE_TRACE stop, so a closed channel empties instead of decaying forever."""
        if np.ndim(w.informal_cap) == 0 and float(w.informal_cap) == 0.0 and not self.smuggling:
            return
        m, (n_r, n_p, _, _) = self.m, self.s.shape
        off_diagonal = 1.0 - np.eye(n_r)
        cap = per_member(w.informal_cap, (m, n_r, n_r, n_p)).transpose(0, 3, 1, 2) * off_diagonal
        cost = per_member(w.informal_cost, (m, n_r, n_r, n_p)).transpose(0, 3, 1, 2)
        price = (self.price_exp if self.last is None else self.last.price).transpose(0, 2, 1)  # (M, P, R)
        freight = self.freight[:, self.s.product_stage][:, :, None, None]
        origin = np.maximum(price[:, :, :, None], 1e-9) * (1.0 + cost)
        gain = (price[:, :, None, :] - freight) / origin - 1.0
        target = cap * np.clip(gain / SMUGGLE_BAND, 0.0, 1.0)
        moved = self.smuggled + SMUGGLE_SPEED * (target - self.smuggled)
        self.smuggled = np.where(moved < SMUGGLE_TRACE, 0.0, moved)
        self.smuggling = bool(self.smuggled.any())

    @staticmethod
    def piece_values(problem: ClearingProblem, price: np.ndarray, k: int) -> np.ndarray:
        """Net supply of piece slot k at the cleared prices: (B, R)."""
        values = problem.a[..., k] + problem.slope[..., k] * price
        return np.minimum(np.maximum(values, problem.lo[..., k], out=values), problem.hi[..., k], out=values)

    def _clear(self, problem: ClearingProblem, warm_price: np.ndarray | None) -> ClearingSolution:
        """Solve the month's problem from last month's prices and flows, or from scratch in the first month
        (warm_price None). Prices do not depend on the start, but flows can: where routes tie (two exporters
        serving two importers at equal delivered cost) many flow patterns clear the market, and instruments
        that read last month's flows (a quota's reference shares) would carry the difference on. So every
        member starts from its own rows only, and a member's path does not depend on the batch it runs in."""
        n_r = problem.shape[1]
        if warm_price is None:
            return self.solver(problem)
        flow = None if self.last is None else self.last.trade.reshape(-1, n_r, n_r)
        return self.solver(problem, warm_price=warm_price, warm_flow=flow)

    # -- the month ------------------------------------------------------------------------------------------
    def step(self, t: int, warm_price: np.ndarray | None = None) -> StepResult:
        s, lay = self.s, self.layout
        m, (n_r, n_p, _, n_l) = self.m, s.shape
        w = self.wedges(t, self.last)
        self.yield_factor = per_member(w.yield_factor, (m, n_l))
        cap, limit = self.available_capacity(t, w)
        arrivals = self.pipeline[t % self.ring].copy()
        self.pipeline[t % self.ring] = 0.0
        avail = self.stock + arrivals
        d_ref = self.demand_reference(t, w)
        self.run_value = np.maximum(self.line_value(self.price_exp), 1e-9)
        self._smuggle(w)
        problem, extra = self.build_problem(t, w, avail, cap, limit, d_ref)
        sol = self._clear(problem, warm_price)
        if np.isfinite(per_member(w.pool_allowance, (m, POOLS))).any():
            sol, self.licence = clear_pools(problem, sol, w, self.solver, self.licence)
        else:
            self.licence = np.zeros((m, POOLS))
        self.unsettled += ~sol.converged.reshape(m, n_p)
        price = _planes(sol.price.reshape(m, n_p, n_r))  # (M, R, P)
        # Holders keep what they did not sell, plus what a floor buyer took (surplus stays in stock).
        disposal = _planes(sol.floor_take.reshape(m, n_p, n_r))
        holders = _planes(self.piece_values(problem, sol.price, HOLDERS).reshape(m, n_p, n_r))
        # A ceiling fill is what buyers at a node wanted at the ceiling and nobody could sell them: it is
        # taken off holders' restocking first, then final demand, then plants' purchases (below), so that
        # what each of them receives adds up to what the node has.
        unserved = _planes(sol.ceiling_fill.reshape(m, n_p, n_r))
        restock_cut = np.minimum(unserved, np.maximum(-holders, 0.0))
        unserved = unserved - restock_cut
        self.stock = avail - holders - restock_cut + disposal
        self.stockpile = self.stockpile + extra["flow"]
        # Final demand served. Every sector of a node wants the same share of its reference demand and is
        # served pro rata, so shortfall scales the reference.
        wanted = _planes((-self.piece_values(problem, sol.price, DEMAND)).reshape(m, n_p, n_r))
        consumption = np.maximum(wanted - unserved, 0.0)
        unserved = unserved - (wanted - consumption)
        demand = extra["demand"]
        short = 1.0 - np.divide(consumption, demand, out=np.ones_like(demand), where=demand > 0)
        r, sec, prod = self.demand_at
        shortfall = np.zeros((m,) + s.demand_base.shape)  # (M, R, S, P), nonzero only where demand is
        shortfall[:, r, sec, prod] = d_ref * np.maximum(short, 0.0)[:, r, prod]
        # Plants: purchases into input stock, then process what stock and margins allow.
        e_line, e_prod, e_reg, e_slot = lay.input_line, lay.input_product, lay.input_region, lay.input_slot
        entry = (slice(None), e_prod, e_slot, e_reg)
        a, slope, lo, hi = self._piece_buffers()
        p_in = sol.price.reshape(m, n_p, n_r)[:, e_prod, e_reg]
        bought = -np.clip(a[entry] + slope[entry] * p_in, lo[entry], hi[entry])  # (M, E)
        if (unserved > 0).any():  # what is still unserved at a ceiling is cut from the plants' purchases there
            node_bought = _scatter_sum(np.maximum(bought, 0.0), e_reg * n_p + e_prod, n_r * n_p).reshape(m, n_r, n_p)
            served = 1.0 - np.divide(unserved, node_bought, out=np.zeros_like(unserved), where=node_bought > 0)
            bought = np.where(bought > 0, bought * np.clip(served, 0.0, 1.0)[:, e_reg, e_prod], bought)
        held = self.input_stock[:, e_line, e_prod] + bought  # (line, product) entries are distinct
        purchases = _scatter_sum(bought, e_reg * n_p + e_prod, n_r * n_p).reshape(m, n_r, n_p)
        margin = self.line_margin(price, w)
        planned = np.minimum(cap * self.utilisation(margin), limit)
        q = self.inputs[:, e_line, e_prod]
        runs = np.where(q > 0, held / np.where(q > 0, q, 1.0), np.inf)  # throughput each input allows
        limit = np.full((m, n_l), np.inf)
        np.minimum.at(limit, (slice(None), e_line), runs)
        throughput = np.minimum(planned, limit)
        self.input_stock[:, e_line, e_prod] = np.maximum(held - throughput[:, e_line] * q, 0.0)
        out_line, out_prod = np.nonzero(s.outputs)  # each line makes a few products
        made = throughput[:, out_line] * s.outputs[out_line, out_prod] * (self.recovery * self.yield_factor)[:, out_line]
        node = s.line_region[out_line] * n_p + out_prod
        production = _scatter_sum(made, node, n_r * n_p).reshape(m, n_r, n_p)
        # Output reaches stock now (lag 0) or the pipeline slot of its lag (the pipeline is C-contiguous).
        lag = self.line_lag[:, out_line]
        self.stock = self.stock + _scatter_sum(np.where(lag == 0, made, 0.0), node, n_r * n_p).reshape(m, n_r, n_p)
        slot = (t + lag) % self.ring
        np.add.at(self.pipeline.reshape(-1), ((slot * m + np.arange(m)[:, None]) * (n_r * n_p) + node).ravel(),
                  np.where(lag == 0, 0.0, made).ravel())
        self._update_expectations(price)
        self._update_capacity(t, margin, throughput, cap, w)
        trade = sol.flow.reshape(m, n_p, n_r, n_r)
        self.last = StepResult(price=price, production=production, consumption=consumption, purchases=purchases,
                               inventory=self.stock.copy(), arrivals=arrivals, trade=trade, smuggled=self.smuggled,
                               rent=sol.rent.reshape(m, n_p, n_r, n_r), shortfall=shortfall, disposal=disposal,
                               stockpile=self.stockpile.copy(), throughput=throughput, capacity=cap, margin=margin,
                               expansion=self.expansion.copy(), licence=self.licence)
        return self.last

    def _update_expectations(self, price: np.ndarray) -> None:
        s = self.s
        lam = _col(self.p["expectation_speed"], 3)
        surprise = np.maximum(price / np.maximum(self.price_exp, 1e-9) - 1.0, 0.0)
        self.risk += 0.2 * (surprise - self.risk)
        self.price_exp += lam * (price - self.price_exp)
        self.price_smooth += (price - self.price_smooth) / _col(self.p["substitution_months"], 3)
        # Long-run recipe response: heavy-RE content per tonne of magnet follows the smoothed price. Only
        # the thrifted entries change, so only they are computed (the full (M, N, P) array is 20 MB).
        line, prod = self.thrift_at
        relative = self.price_smooth[:, s.line_region[line], prod] / s.price_base[None, prod]  # (M, entries)
        factor = np.clip(relative, 1e-3, None) ** (-_col(self.p["elasticity_long"], 2))
        self.inputs[:, line, prod] = s.inputs[None, line, prod] * np.minimum(factor, 1.5)

    def _build_greenfield(self, t: int, w: MonthWedges, hurdle: np.ndarray, lead: np.ndarray) -> None:
        """Start at most one greenfield candidate per stage and member: the one whose margin at long-run
        expected prices (the smoothed price) is highest, if it clears the investment hurdle. It produces
        after the greenfield lead time, and no earlier than its `start` in the dataset."""
        s = self.s
        waiting = s.line_candidate[None, :] & np.isinf(self.build_start)
        if not waiting.any():
            return
        value = (self.price_smooth[:, s.line_region, :] * s.outputs[None]).sum(axis=2) * self.recovery
        ratio = self.line_margin(self.price_smooth, w) / np.maximum(value, 1e-9)
        score = np.where(waiting & (ratio > hurdle), ratio, -np.inf)
        chosen = np.zeros_like(waiting)
        for stage in range(len(STAGES)):
            lines = np.flatnonzero(s.line_stage == stage)
            if len(lines):
                best = lines[np.argmax(score[:, lines], axis=1)]
                chosen[np.arange(self.m), best] = np.isfinite(score[np.arange(self.m), best])
        due = np.maximum(t + np.rint(lead * self.p["greenfield_lead_factor"][:, None]), s.line_start[None, :])
        self.build_start = np.where(chosen, due, self.build_start)
        self.expansion = np.where(chosen, s.line_capacity[None, :], self.expansion)

    def _update_capacity(self, t: int, margin: np.ndarray, throughput: np.ndarray, cap: np.ndarray,
                         w: MonthWedges) -> None:
        s, p = self.s, self.p
        self.margin_ema += (margin - self.margin_ema) / 12.0
        # State-backed Chinese lines run through losses; others close after `closure_months` of cash losses.
        chinese = np.array([s.alignment[c] == "china" for c in s.facility_controller[s.line_facility]])
        losing = (self.margin_ema < 0) & (cap > 0) & ~chinese[None, :]
        self.loss_months = np.where(losing, self.loss_months + 1, 0.0)
        self.closed |= self.loss_months >= _col(p["closure_months"], 2)
        self.use_ema += (np.divide(throughput, cap, out=np.zeros_like(cap), where=cap > 0) - self.use_ema) / 12.0
        self.expansion = np.zeros_like(self.expansion)
        if t % 12 == 11:  # yearly review: expand a line that runs near capacity and earns its capital charge
            # The trailing cash margin must cover the capital charge of new capacity, as a share of the
            # output's value at current prices (the hurdle).
            value = (self.price_smooth[:, s.line_region, :] * s.outputs[None]).sum(axis=2) * self.recovery
            excess = self.margin_ema / np.maximum(value, 1e-9)
            hurdle = _col(p["investment_hurdle"], 2) * per_member(w.hurdle_factor, excess.shape)
            # One expansion at a time per plant: owners wait for the last one to come on stream.
            expand = ((excess > hurdle) & (self.use_ema > HIGH_USE) & (cap > 0) & ~self.closed
                      & (self.pending == 0))
            lead = _by_stage(p, "lead")[:, s.line_stage] + per_member(w.lead_delay, excess.shape)
            step_up = _col(p["expansion_share"], 2) * (s.line_capacity[None, :] + self.added)
            self.expansion = np.where(expand, step_up, 0.0)
            self.pending = np.where(expand, step_up, self.pending)
            self.pending_due = np.where(expand, t + np.rint(lead).astype(int), self.pending_due)
            self._build_greenfield(t, w, hurdle, lead)
        self.cumulative += throughput
        exponent = np.log2(1.0 - _col(p["learning_rate"], 2))
        base = np.maximum(s.line_capacity * 12.0, 1e-9)[None, :]
        learned = self.base_cost * (np.maximum(self.cumulative, base) / base) ** exponent
        self.unit_cost = np.where(s.line_entrant[None, :], learned, self.base_cost)
