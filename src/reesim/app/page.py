"""The Streamlit page of `reesim app`: levers in the sidebar, a run with a progress bar, figures and downloads.

Run it with `reesim app` (or `streamlit run` on this file). Runs go to the run store ($REESIM_STORE or
the default), so a scenario already run, here or with `reesim run`, is shown at once instead of re-run.
"""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from reesim.app.levers import (
    APRIL_2025,
    ELEMENTS,
    SUPPORTED_PRODUCTS,
    SUPPORTING_REGIONS,
    Levers,
    scenario_of,
)
from reesim.app.runner import Image, chart_specs, image, obtain, scenario_yaml, zipped
from reesim.errors import InputError
from reesim.scenario import BUILTIN_SCENARIOS
from reesim.store import RunStore


@st.cache_resource(show_spinner="Reading runs...", max_entries=4)
def cached_specs(root: str, run_ids: tuple[str, ...]) -> list:
    return chart_specs(RunStore(root), run_ids)


@st.cache_data(show_spinner="Drawing the figure...", max_entries=64)
def cached_image(root: str, run_ids: tuple[str, ...], key: str) -> Image:
    return image(next(s for s in cached_specs(root, run_ids) if s.key == key))


@st.cache_data(show_spinner="Packing results...", max_entries=8)
def cached_zip(root: str, run_id: str) -> bytes:
    return zipped(RunStore(root), run_id)


def month_or_none(text: str) -> str | None:
    return text.strip() or None


def read_levers() -> tuple[dict, bool, bool]:
    """The sidebar form: raw lever values (validated afterwards), whether to compare, whether Run was pressed."""
    with st.sidebar.form("levers"):
        st.header("Scenario")
        names = list(BUILTIN_SCENARIOS)
        scenario = st.selectbox("Built-in scenario", names, index=names.index("baseline"))
        members = st.number_input("Members", min_value=1, max_value=200, value=3, step=1)
        seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1)
        end = st.text_input("Last month (YYYY-MM, empty: the scenario's)", value="2027-12")
        compare = st.checkbox("Compare with the baseline", value=False)

        st.header("Export licence (China)")
        licence_on = st.checkbox("Add an export licence", value=False)
        elements = st.multiselect("Elements licensed", list(ELEMENTS), default=list(APRIL_2025))
        approval = st.number_input("Approval rate (share of usual flows)", min_value=0.0, max_value=1.0,
                                   value=0.3, step=0.05)
        licence_start = st.text_input("Licence from (YYYY-MM)", value="2025-04")
        licence_end = st.text_input("Licence until (YYYY-MM, empty: to the end)", value="")

        st.header("Price floor")
        floor_on = st.checkbox("Add a price floor", value=False)
        floor_region = st.selectbox("Floor region (pays; its non-Chinese separation plants receive)",
                                    list(SUPPORTING_REGIONS))
        floor_product = st.selectbox("Floor product", list(SUPPORTED_PRODUCTS))
        floor_level = st.number_input("Floor level (USD/kg)", min_value=1.0, max_value=10_000.0, value=110.0,
                                      step=5.0)
        floor_start = st.text_input("Floor from (YYYY-MM)", value="2025-10")

        st.header("Stockpile")
        stock_on = st.checkbox("Add a stockpile", value=False)
        stock_region = st.selectbox("Stockpile region", list(SUPPORTING_REGIONS))
        stock_product = st.selectbox("Stockpile product", list(SUPPORTED_PRODUCTS), index=1)
        stock_size = st.number_input("Stockpile size (t)", min_value=1.0, max_value=100_000.0, value=200.0,
                                     step=50.0)
        stock_start = st.text_input("Stockpile from (YYYY-MM)", value="2026-01")

        submitted = st.form_submit_button("Run", type="primary")
    raw = {"scenario": scenario, "members": int(members), "seed": int(seed), "end": month_or_none(end)}
    if licence_on:
        raw["licence"] = {"elements": elements, "approval_rate": approval, "start": licence_start,
                          "end": month_or_none(licence_end)}
    if floor_on:
        raw["floor"] = {"region": floor_region, "product": floor_product, "level": floor_level, "start": floor_start}
    if stock_on:
        raw["stockpile"] = {"region": stock_region, "product": stock_product, "size": stock_size, "start": stock_start}
    return raw, compare, submitted


def validation_messages(exc: ValidationError) -> list[str]:
    """One line per refused lever: its key and pydantic's reason."""
    return [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]


def run(raw: dict, compare: bool, store: RunStore) -> None:
    """Validate the levers, run (or reuse) the scenario and, when asked, the baseline; remember what to show."""
    try:
        levers = Levers.model_validate(raw)
        scenario = scenario_of(levers)
        baseline = scenario_of(Levers(scenario="baseline", members=levers.members, seed=levers.seed,
                                      end=levers.end)) if compare else None
    except ValidationError as exc:
        st.error("Some levers are not valid:\n\n" + "\n".join(f"- {m}" for m in validation_messages(exc)))
        return
    except InputError as exc:
        st.error(f"The scenario is not valid: {exc}")
        return
    ids = []
    for label, chosen in (("scenario", scenario), ("baseline", baseline)):
        if chosen is None or (label == "baseline" and chosen == scenario):
            continue
        bar = st.progress(0.0, text=f"Simulating {chosen.name}...")
        try:
            entry, reused = obtain(store, chosen, lambda done, total, b=bar, n=chosen.name:
                                   b.progress(done / total, text=f"Simulating {n}: month {done} of {total}"))
        except (InputError, ValueError) as exc:
            bar.empty()
            st.error(f"The run failed: {exc}")
            return
        bar.empty()
        st.toast(f"{'Reused stored' if reused else 'Stored new'} run {entry.run_id}")
        ids.append(entry.run_id)
    st.session_state["shown"] = tuple(ids)
    st.session_state["yaml"] = scenario_yaml(scenario)


def show(store: RunStore) -> None:
    """Figures of the runs last run, and downloads."""
    ids = st.session_state.get("shown")
    if not ids:
        st.info("Choose a scenario and set the levers in the sidebar, then press **Run**.")
        return
    st.markdown(f"Showing run `{ids[0]}`" + (f" compared with `{'`, `'.join(ids[1:])}`" if len(ids) > 1 else ""))
    specs = {s.key: s.title for s in cached_specs(str(store.root), ids)}
    key = st.radio("Figure", list(specs), format_func=specs.get, horizontal=True)
    chart = cached_image(str(store.root), ids, key)
    if chart.png is None:
        st.info(f"{chart.title}: {chart.missing}")
    else:
        st.image(chart.png, caption=f"{chart.caption} Runs: {', '.join(ids)}.")
    with st.expander("Scenario of the main run (YAML)"):
        st.code(st.session_state["yaml"], language="yaml")
    cols = st.columns(len(ids) + 1)
    for col, rid in zip(cols, ids, strict=False):
        col.download_button(f"Download {rid} (zip)", cached_zip(str(store.root), rid), file_name=f"{rid}.zip",
                            mime="application/zip")
    cols[-1].download_button("Download scenario (YAML)", st.session_state["yaml"], file_name="scenario.yaml",
                             mime="application/yaml")


def main() -> None:
    st.set_page_config(page_title="reesim", layout="wide")
    st.title("reesim: rare-earth supply chain scenarios")
    store = RunStore()
    st.caption(f"Runs are kept in {store.root}")
    raw, compare, submitted = read_levers()
    if submitted:
        run(raw, compare, store)
    show(store)


main()
