"""Game analysis: textbook games, Stackelberg leadership, zero-sum LP, properties, robustness over members,
payoff objectives and the bargaining cycle."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from reesim.errors import InputError
from reesim.game import (
    DegenerateGameWarning,
    Profile,
    pure_nash,
    regrets,
    robustness,
    stackelberg_mixed,
    stackelberg_pure,
    support_enumeration,
    zero_sum,
)
from reesim.game.bargaining import (
    CALM,
    CONTROLS,
    EASED,
    PHASES,
    SUSPENDED,
    BargainingParams,
    initial_state,
    run_cycle,
    step,
)
from reesim.game.payoffs import (
    DEFAULT_CHINA_WEIGHTS,
    DEFAULT_G7_WEIGHTS,
    Objective,
    Objectives,
    payoff_tables,
)

# Prisoner's dilemma: cooperate (0) or defect (1); defection strictly dominates.
PD_ROW = np.array([[3.0, 0.0], [5.0, 1.0]])
PD_COL = PD_ROW.T
# Matching pennies: the row player wins on a match.
MP = np.array([[1.0, -1.0], [-1.0, 1.0]])
# Battle of the sexes: the row player prefers (0, 0), the column player (1, 1).
BOS_ROW = np.array([[2.0, 0.0], [0.0, 1.0]])
BOS_COL = np.array([[1.0, 0.0], [0.0, 2.0]])
# Leadership pays (von Stengel & Zamir 2010): row 0 dominates for the leader, so the only Nash equilibrium
# is (0, 0) with payoffs (2, 1); committing to row 1 makes the follower answer 1, worth 3; committing to
# (1/2, 1/2) leaves the follower indifferent, who then answers 1 under strong tie-breaking: worth 3.5.
LEAD_ROW = np.array([[2.0, 4.0], [1.0, 3.0]])
LEAD_COL = np.array([[1.0, 0.0], [0.0, 1.0]])


def mixes(profiles: list[Profile]) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    return [(tuple(np.round(p.row_mix, 9)), tuple(np.round(p.col_mix, 9))) for p in profiles]


def assert_nash(row: np.ndarray, col: np.ndarray, p: Profile, tol: float = 1e-9) -> None:
    """Probabilities form distributions and neither player gains more than tol by deviating."""
    for mix in (p.row_mix, p.col_mix):
        assert (mix >= 0).all() and abs(mix.sum() - 1) <= 1e-12
    row_regret, col_regret = regrets(row, col, p)
    assert row_regret <= tol and col_regret <= tol
    assert p.row_payoff == pytest.approx(p.row_mix @ row @ p.col_mix, abs=1e-12)


# --- textbook games ---------------------------------------------------------------------------------


def test_prisoners_dilemma_has_only_defect_defect():
    frame = pd.DataFrame(PD_ROW, index=["cooperate", "defect"], columns=["cooperate", "defect"])
    (eq,) = pure_nash(frame, frame.T)
    assert eq.is_pure and (eq.row_support, eq.col_support) == (("defect",), ("defect",))
    assert (eq.row_payoff, eq.col_payoff) == (1.0, 1.0)
    assert mixes(support_enumeration(PD_ROW, PD_COL)) == [((0.0, 1.0), (0.0, 1.0))]


def test_matching_pennies_has_only_the_uniform_mix():
    assert pure_nash(MP, -MP) == []
    (eq,) = support_enumeration(MP, -MP)
    assert not eq.is_pure
    np.testing.assert_allclose(eq.row_mix, [0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(eq.col_mix, [0.5, 0.5], atol=1e-12)
    assert eq.row_payoff == pytest.approx(0.0, abs=1e-12)


def test_battle_of_the_sexes_has_two_pure_and_one_mixed():
    eqs = support_enumeration(BOS_ROW, BOS_COL)
    assert mixes(eqs)[:2] == [((1.0, 0.0), (1.0, 0.0)), ((0.0, 1.0), (0.0, 1.0))]
    mixed = eqs[2]
    # Row plays 0 with p making the column player indifferent: p * 1 = (1 - p) * 2, p = 2/3;
    # column plays 0 with q making the row player indifferent: 2 q = 1 - q, q = 1/3.
    np.testing.assert_allclose(mixed.row_mix, [2 / 3, 1 / 3], rtol=1e-12)
    np.testing.assert_allclose(mixed.col_mix, [1 / 3, 2 / 3], rtol=1e-12)
    assert (mixed.row_payoff, mixed.col_payoff) == pytest.approx((2 / 3, 2 / 3), rel=1e-12)
    assert len(eqs) == 3 and len(pure_nash(BOS_ROW, BOS_COL)) == 2


def test_weak_pure_equilibria_are_reported_and_degeneracy_is_flagged():
    # The column player is indifferent in row 0, so (0, 0) and (0, 1) are both (weak) equilibria.
    row = np.array([[1.0, 1.0], [0.0, 0.0]])
    col = np.array([[2.0, 2.0], [0.0, 1.0]])
    assert mixes(pure_nash(row, col)) == [((1.0, 0.0), (1.0, 0.0)), ((1.0, 0.0), (0.0, 1.0))]
    with pytest.warns(DegenerateGameWarning):
        eqs = support_enumeration(row, col)
    for eq in eqs:
        assert_nash(row, col, eq)
    assert robustness(np.stack([row, BOS_ROW]), np.stack([col, BOS_COL])).degenerate_members == 1


def test_nondegenerate_game_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        support_enumeration(BOS_ROW, BOS_COL)


# --- Stackelberg --------------------------------------------------------------------------------------


def test_leading_pays_more_than_any_nash_equilibrium():
    (nash,) = support_enumeration(LEAD_ROW, LEAD_COL)
    assert (nash.row_payoff, nash.col_payoff) == (2.0, 1.0)
    pure = stackelberg_pure(LEAD_ROW, LEAD_COL)
    assert mixes([pure]) == [((0.0, 1.0), (0.0, 1.0))] and pure.row_payoff == 3.0
    mixed = stackelberg_mixed(LEAD_ROW, LEAD_COL)
    np.testing.assert_allclose(mixed.row_mix, [0.5, 0.5], atol=1e-9)
    np.testing.assert_array_equal(mixed.col_mix, [0.0, 1.0])
    assert mixed.row_payoff == pytest.approx(3.5, abs=1e-9)


def test_stackelberg_tie_breaking_strong_and_weak():
    # Leading with row 0 leaves the follower indifferent between columns worth 0 and 3 to the leader;
    # row 1 draws column 0, worth 2. Strong: the follower answers row 0 with column 1 (3). Weak: with
    # column 0 (0), so the leader prefers row 1 (2).
    row = pd.DataFrame([[0.0, 3.0], [2.0, 0.0]], index=["a", "b"], columns=["x", "y"])
    col = pd.DataFrame([[1.0, 1.0], [1.0, 0.0]], index=["a", "b"], columns=["x", "y"])
    strong = stackelberg_pure(row, col)
    weak = stackelberg_pure(row, col, tie_break="weak")
    assert (strong.row_support, strong.col_support, strong.row_payoff) == (("a",), ("y",), 3.0)
    assert (weak.row_support, weak.col_support, weak.row_payoff) == (("b",), ("x",), 2.0)
    with pytest.raises(InputError, match="tie_break"):
        stackelberg_pure(row, col, tie_break="optimistic")


# --- zero-sum LP --------------------------------------------------------------------------------------


def test_zero_sum_lp_matches_the_closed_form_2x2():
    # No saddle point, so the value is (a d - b c) / (a - b - c + d) = (3 - 2) / 7.
    a = np.array([[3.0, -1.0], [-2.0, 1.0]])
    eq = zero_sum(a)
    assert eq.row_payoff == pytest.approx(1 / 7, abs=1e-9)
    np.testing.assert_allclose(eq.row_mix, [3 / 7, 4 / 7], atol=1e-9)
    np.testing.assert_allclose(eq.col_mix, [2 / 7, 5 / 7], atol=1e-9)
    (enumerated,) = support_enumeration(a, -a)
    assert enumerated.row_payoff == pytest.approx(eq.row_payoff, abs=1e-12)


def test_zero_sum_rock_paper_scissors_and_labels():
    rps = xr.DataArray([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]], dims=("me", "you"),
                       coords={"me": ["rock", "paper", "scissors"], "you": ["rock", "paper", "scissors"]})
    eq = zero_sum(rps)
    assert eq.row_labels == ("rock", "paper", "scissors")
    np.testing.assert_allclose(eq.row_mix, 1 / 3, atol=1e-9)
    assert eq.row_payoff == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_zero_sum_lp_value_equals_every_enumerated_equilibrium(m, n, seed):
    a = np.random.default_rng(seed).normal(size=(m, n)) * 10
    value = zero_sum(a).row_payoff
    eqs = support_enumeration(a, -a)
    assert len(eqs) >= 1
    for eq in eqs:
        assert eq.row_payoff == pytest.approx(value, abs=1e-8)


# --- properties ---------------------------------------------------------------------------------------

small_payoffs = st.integers(1, 4).flatmap(lambda m: st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(-5, 5), min_size=n, max_size=n), min_size=m, max_size=m),
    st.lists(st.lists(st.integers(-5, 5), min_size=n, max_size=n), min_size=m, max_size=m))))


@settings(max_examples=150, deadline=None)
@given(small_payoffs)
def test_every_reported_equilibrium_is_one(payoffs):
    """Sound on any game, degenerate (many ties among small integers) or not."""
    row, col = (np.array(p, dtype=float) for p in payoffs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateGameWarning)
        eqs = support_enumeration(row, col)
    for eq in eqs:
        assert_nash(row, col, eq)
    pure = mixes(pure_nash(row, col))
    assert pure == [e for e in mixes(eqs) if 1.0 in e[0] and 1.0 in e[1]]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_generic_games_have_an_odd_number_of_equilibria(m, n, seed):
    """Random real payoffs make a nondegenerate game, whose equilibria are odd in number (Shapley 1974)."""
    rng = np.random.default_rng(seed)
    row, col = rng.normal(size=(2, m, n))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eqs = support_enumeration(row, col)
    assert len(eqs) % 2 == 1
    for eq in eqs:
        assert_nash(row, col, eq)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_commitment_is_worth_at_least_any_equilibrium(m, n, seed):
    """Mixed commitment >= pure commitment (strong) >= pure commitment (weak); mixed >= every Nash payoff."""
    rng = np.random.default_rng(seed)
    row, col = rng.normal(size=(2, m, n))
    mixed = stackelberg_mixed(row, col)
    strong = stackelberg_pure(row, col)
    weak = stackelberg_pure(row, col, tie_break="weak")
    assert mixed.row_payoff >= strong.row_payoff - 1e-9 and strong.row_payoff >= weak.row_payoff
    assert all(mixed.row_payoff >= eq.row_payoff - 1e-9 for eq in support_enumeration(row, col))
    follower_gain = mixed.row_mix @ col
    assert follower_gain.max() - follower_gain @ mixed.col_mix <= 1e-9  # the follower best-responds


# --- inputs -------------------------------------------------------------------------------------------


def test_labelled_tables_are_aligned_by_label():
    labels = ["cooperate", "defect"]
    row = pd.DataFrame(PD_ROW, index=labels, columns=labels)
    col = pd.DataFrame(PD_COL, index=labels, columns=labels).loc[labels[::-1], labels[::-1]]
    (eq,) = pure_nash(row, col)
    assert (eq.row_support, eq.col_support, eq.col_payoff) == (("defect",), ("defect",), 1.0)


@pytest.mark.parametrize(("row", "col", "match"), [
    (PD_ROW, np.ones((2, 3)), "shape"),
    (PD_ROW, [[1.0, np.nan], [0.0, 0.0]], "not finite"),
    (pd.DataFrame(PD_ROW, index=["a", "b"]), pd.DataFrame(PD_COL, index=["a", "c"]), "labels differ"),
    (pd.DataFrame(PD_ROW, index=["a", "a"]), pd.DataFrame(PD_COL, index=["a", "a"]), "repeat"),
    (np.ones(3), np.ones(3), "shape"),
])
def test_bad_payoff_tables_are_rejected(row, col, match):
    with pytest.raises(InputError, match=match):
        pure_nash(row, col)


def test_regrets_refuse_a_profile_from_another_game():
    eq = pure_nash(pd.DataFrame(PD_ROW, index=["c", "d"]), pd.DataFrame(PD_COL, index=["c", "d"]))[0]
    with pytest.raises(InputError, match="labels differ"):
        regrets(PD_ROW, PD_COL, eq)


# --- robustness over members --------------------------------------------------------------------------


def test_robustness_shares_on_a_crafted_member_axis():
    """Three prisoner's dilemmas and one stag hunt: (defect, defect) holds in all four members, the stag
    hunt's (cooperate, cooperate) and its mixed equilibrium in one; the median game is a dilemma."""
    stag = np.array([[4.0, 0.0], [3.0, 2.0]])
    labels = ["cooperate", "defect"]
    row = xr.DataArray(np.stack([PD_ROW, PD_ROW, PD_ROW, stag]), dims=("member", "china", "g7"),
                       coords={"china": labels, "g7": labels})
    col = xr.DataArray(np.stack([PD_COL, PD_COL, PD_COL, stag.T]), dims=("member", "china", "g7"),
                       coords={"china": labels, "g7": labels}).transpose("member", "g7", "china")
    report = robustness(row, col)
    table = report.table.set_index(["kind", "row_support", "col_support"])
    dd, cc = (("defect",), ("defect",)), (("cooperate",), ("cooperate",))
    assert table.loc[("pure_nash", *dd), "share"] == 1.0 and table.loc[("pure_nash", *dd), "in_median"]
    assert table.loc[("pure_nash", *cc), "share"] == 0.25 and not table.loc[("pure_nash", *cc), "in_median"]
    mixed = table.loc[("mixed_nash", ("cooperate", "defect"), ("cooperate", "defect"))]
    assert mixed["share"] == 0.25 and mixed["row_mix"] is None
    # Leading in the dilemma still ends in (defect, defect); in the stag hunt cooperating draws cooperation.
    assert table.loc[("stackelberg_strong", *dd), "share"] == 0.75
    assert table.loc[("stackelberg_strong", *cc), "share"] == 0.25
    assert table.loc[("stackelberg_weak", *dd), "row_payoff"] == 1.0
    np.testing.assert_array_equal(report.median_row.to_numpy(), PD_ROW)
    assert list(report.median_row.index) == labels
    assert report.members == 4 and report.degenerate_members == 0
    assert list(report.table["kind"].unique()) == ["pure_nash", "mixed_nash", "stackelberg_strong",
                                                   "stackelberg_weak"]


def test_robustness_reports_the_median_games_mixed_equilibrium():
    """Matching pennies with the stakes varying by member: the mixed support holds everywhere."""
    stakes = np.array([1.0, 2.0, 3.0])[:, None, None]
    report = robustness(MP * stakes, -MP * stakes)
    (row,) = report.table[report.table["kind"] == "mixed_nash"].itertuples()
    assert row.share == 1.0 and row.in_median
    np.testing.assert_allclose(row.row_mix, [0.5, 0.5])
    assert not (report.table["kind"] == "pure_nash").any()


# --- payoff objectives --------------------------------------------------------------------------------


def metrics_table(members: int = 2) -> pd.DataFrame:
    """One run per (member, China strategy, G-7 strategy) with every default metric, values 1, 2, 3, ..."""
    names = list(DEFAULT_CHINA_WEIGHTS) + list(DEFAULT_G7_WEIGHTS)
    runs = [{"member": m, "china_strategy": c, "g7_strategy": g}
            for m in range(members) for c in ("status-quo", "blunt-ban") for g in ("passive", "decouple")]
    frame = pd.DataFrame(runs)
    for k, name in enumerate(names):
        frame[name] = np.arange(len(frame)) + 10.0 * k
    return frame


def test_payoffs_are_weighted_sums_of_metrics():
    frame = metrics_table()
    objectives = Objectives(china=Objective(weights={"china_export_revenue": 2.0, "china_own_loss": -1.0}),
                            g7=Objective(weights={"g7_fiscal_cost": -1.0}))
    china, g7 = payoff_tables(frame.sample(frac=1.0, random_state=1), objectives)
    assert china.dims == ("member", "china", "g7")
    assert set(china["china"].values) == {"status-quo", "blunt-ban"}
    for row in frame.itertuples():
        cell = {"member": row.member, "china": row.china_strategy, "g7": row.g7_strategy}
        assert china.sel(cell).item() == 2.0 * row.china_export_revenue - row.china_own_loss
        assert g7.sel(cell).item() == -row.g7_fiscal_cost
    # The tables feed the robustness report directly.
    assert robustness(china, g7).members == 2


def test_default_objectives_use_every_default_metric():
    china, g7 = payoff_tables(metrics_table().set_index(["member", "china_strategy", "g7_strategy"]))
    assert china.shape == g7.shape == (2, 2, 2)
    assert list(china["china"].values) == ["status-quo", "blunt-ban"]  # order of first appearance
    assert china.attrs["weights"] == DEFAULT_CHINA_WEIGHTS


def test_missing_metric_names_the_metric_and_the_fix():
    frame = metrics_table().drop(columns="leverage_index")
    with pytest.raises(InputError, match="leverage_index") as err:
        payoff_tables(frame, source="runs.parquet")
    assert "objectives.china.weights" in str(err.value) and err.value.file == "runs.parquet"


@pytest.mark.parametrize(("edit", "match"), [
    (lambda f: f.iloc[1:], "no run"),
    (lambda f: pd.concat([f, f.iloc[:1]]), "more than one run"),
    (lambda f: f.assign(g7_fiscal_cost=np.where(f.index == 3, np.nan, f.g7_fiscal_cost)), "g7_fiscal_cost"),
    (lambda f: f.drop(columns="member"), "member"),
])
def test_bad_metrics_tables_are_rejected(edit, match):
    with pytest.raises(InputError, match=match):
        payoff_tables(edit(metrics_table()))


def test_objectives_forbid_unknown_keys_and_non_finite_weights():
    with pytest.raises(ValueError):
        Objectives.model_validate({"china": {"weights": {"x": 1.0}}, "usa": {"weights": {"y": 1.0}}})
    with pytest.raises(ValueError):
        Objective(weights={"x": float("inf")})
    with pytest.raises(ValueError):
        Objective(weights={})


# --- bargaining cycle ---------------------------------------------------------------------------------

CERTAIN = BargainingParams(concession_scale=1e9)  # concession as soon as damage crosses the threshold


def cycle(params: BargainingParams, months: int = 24, damage: float = 0.0, lost: float = 0.0,
          diversification: float = 0.0, tension_from: int = 2, members: int = 1, seed: int = 0):
    tension = np.zeros((members, months))
    tension[:, tension_from:] = 1.0
    return run_cycle(np.full((members, months), damage), lost, diversification, tension, params,
                     np.random.default_rng(seed))


def test_calm_without_trigger():
    trace = cycle(CERTAIN, damage=500.0, tension_from=24)
    assert (trace.phase == CALM).all() and (trace.intensity == 0).all()


def test_trigger_starts_controls():
    trace = cycle(CERTAIN)
    assert [PHASES[p] for p in trace.phase[0, :3]] == ["calm", "calm", "controls"]
    assert trace.intensity[0, 2] == CERTAIN.intensity
    assert (trace.phase[0, 2:] == CONTROLS).sum() == CERTAIN.max_duration  # no pain: runs to the limit


def test_pain_above_threshold_brings_concession_then_easing():
    # 400 a month: 400, 800, 1200 >= 1000 in the third month of controls.
    trace = cycle(CERTAIN, damage=400.0)
    assert list(trace.phase[0, 2:6]) == [CONTROLS, CONTROLS, CONTROLS, EASED]
    assert trace.damage[0, 5] == 1200.0 and trace.intensity[0, 5] == CERTAIN.eased_intensity


def test_chinas_cost_above_threshold_brings_suspension():
    # Own cost 300 + 2 * 100 = 500 a month reaches 1500 in the third month; damage stays below threshold.
    params = CERTAIN.model_copy(update={"diversification_weight": 2.0})
    trace = cycle(params, damage=100.0, lost=300.0, diversification=100.0)
    assert list(trace.phase[0, 2:6]) == [CONTROLS, CONTROLS, CONTROLS, SUSPENDED]
    assert trace.china_cost[0, 5] == 1500.0 and trace.intensity[0, 5] == 0.0
    # The suspension lasts its term although tension stays high, then controls resume at once.
    assert (trace.phase[0, 6:5 + params.suspension_months] == SUSPENDED).all()
    assert list(trace.phase[0, 5 + params.suspension_months:7 + params.suspension_months]) == [CONTROLS] * 2


def test_concession_wins_over_suspension_in_the_same_month():
    trace = cycle(CERTAIN, damage=1000.0, lost=1500.0)
    assert trace.phase[0, 3] == EASED


def test_cooldown_is_respected_before_retriggering():
    params = CERTAIN.model_copy(update={"cooldown_months": 4})
    trace = cycle(params, damage=1000.0, months=14)
    # Controls at 2, concession at 3, then four months without controls (4..7) and re-trigger at 7.
    assert list(trace.phase[0, 2:9]) == [CONTROLS, EASED, EASED, EASED, EASED, CONTROLS, EASED]
    assert (trace.intensity[0, 3:7] == params.eased_intensity).all()


def test_eased_regime_returns_to_calm_without_tension():
    params = CERTAIN.model_copy(update={"eased_months": 3})
    tension = np.zeros((1, 10))
    tension[0, 1] = 1.0
    trace = run_cycle(np.full((1, 10), 2000.0), 0.0, 0.0, tension, params, np.random.default_rng(0))
    assert list(trace.phase[0, :7]) == [CALM, CONTROLS, EASED, EASED, EASED, CALM, CALM]


def test_members_evolve_independently():
    tension = np.array([[0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    damage = np.array([[0.0, 0.0, 600.0, 600.0], [5000.0] * 4])
    trace = run_cycle(damage, 0.0, 0.0, tension, CERTAIN, np.random.default_rng(0))
    assert list(trace.phase[0]) == [CALM, CONTROLS, CONTROLS, EASED]
    assert (trace.phase[1] == CALM).all() and (trace.damage[1] == 0).all()


def test_concession_probability_follows_its_scaling():
    # Damage at 1.2 x the threshold after the first month, scale 0.5: probability 0.6 in that month.
    params = BargainingParams(concession_scale=0.5, damage_threshold=1000.0)
    trace = cycle(params, damage=1200.0, months=4, members=20_000, seed=7)
    conceded = (trace.phase[:, 3] == EASED).mean()
    assert conceded == pytest.approx(0.6, abs=0.015)


def test_cycle_is_deterministic_given_the_generator():
    params = BargainingParams(concession_scale=0.3)
    first, again, other = (cycle(params, damage=700.0, lost=90.0, members=200, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(first.phase, again.phase)
    np.testing.assert_array_equal(first.intensity, again.intensity)
    assert (first.phase != other.phase).any()


def test_step_checks_its_inputs_and_params():
    state = initial_state(3)
    with pytest.raises(InputError, match="damage"):
        step(state, np.zeros(2), 0.0, 0.0, 0.0, CERTAIN, np.random.default_rng(0))
    with pytest.raises(InputError, match="tension"):
        step(state, 0.0, 0.0, 0.0, np.array([0.0, np.nan, 0.0]), CERTAIN, np.random.default_rng(0))
    with pytest.raises(ValueError, match="escalate"):
        BargainingParams(intensity=0.3, eased_intensity=0.5)
    with pytest.raises(ValueError):
        BargainingParams(damage_threshold=0.0)
    with pytest.raises(ValueError):
        BargainingParams.model_validate({"cooldown": 2})
