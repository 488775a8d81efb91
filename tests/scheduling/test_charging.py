"""The station charging LP: brute force on tiny instances, never worse than the baselines,
every schedule and plan feasible, bad input named, fallback on solver failure."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openswap.domain.errors import InputError
from openswap.domain.planning import StationSnapshot
from openswap.scheduling import charging
from openswap.scheduling.charging import (
    ChargingProblem,
    ChargingUnit,
    ScheduleStatus,
    Taper,
    baseline_schedule,
    charge_at_once_schedule,
    check_charging_problem,
    check_readiness,
    check_schedule,
    evaluate_schedule,
    solve_charging,
)
from openswap.scheduling.checks import charge_at_once_plan, check_plan
from openswap.scheduling.lp import LpResult, LpStatus
from openswap.scheduling.mpc import MpcChargingScheduler, StationDemand, build_station_problem
from openswap.sim.policies import ChargeAtOnce, TimeOfUse

TAPER = Taper.cc_cv(0.8, 0.05)
VALLEY, PEAK = 0.348, 1.097


def _unit(energy: float, due: int | None, slot: int = 0, cap: float = 100.0) -> ChargingUnit:
    return ChargingUnit(0, energy, cap, 100.0, 0.95, due=due, rack_slot=slot)


def _problem(
    units: tuple[ChargingUnit, ...], prices: tuple[float, ...], cap_kw: float, **kw: float
) -> ChargingProblem:
    n = len(prices)
    return ChargingProblem(0.0, (900.0,) * n, prices, (cap_kw,) * n, units, TAPER, **kw)  # type: ignore[arg-type]


# --- brute force -----------------------------------------------------------------------------


def _best_discrete(problem: ChargingProblem, levels: tuple[float, ...]) -> float:
    """Least objective over every schedule with powers from `levels` that passes the checks."""
    k, n = len(problem.units), problem.slots
    best = np.inf
    for combo in itertools.product(levels, repeat=k * n):
        power = np.asarray(combo, dtype=np.float64).reshape(k, n)
        if check_schedule(problem, power):
            continue
        best = min(best, evaluate_schedule(problem, power).objective_cny)
    return float(best)


def test_lp_never_worse_than_brute_force_on_2_packs_by_4_slots() -> None:
    problem = _problem((_unit(20.0, 4, 0), _unit(50.0, 2, 1)), (PEAK, VALLEY, 0.685, VALLEY), 120.0)
    lp = solve_charging(problem)
    assert lp.status is ScheduleStatus.OPTIMAL
    best = _best_discrete(problem, (0.0, 30.0, 60.0, 90.0))
    assert lp.cost.objective_cny <= best + 1e-6


def test_lp_equals_brute_force_when_the_grid_holds_the_optimum() -> None:
    # No taper binds (packs stay below the knee), the cap fits one charger: the optimum is full
    # power in the cheapest slots, which the grid {0, 50, 100} contains.
    units = (
        ChargingUnit(0, 12.5, 500.0, 100.0, 1.0, due=4, rack_slot=0),
        ChargingUnit(0, 12.5, 500.0, 100.0, 1.0, due=4, rack_slot=1),
    )
    problem = _problem(
        units,
        (PEAK, VALLEY, 0.685, VALLEY),
        100.0,
        charged_soc=0.1,
        fill_value_cny_per_kwh=0.0,
        terminal_value_cny_per_kwh=0.0,
    )
    lp = solve_charging(problem)
    best = _best_discrete(problem, (0.0, 50.0, 100.0))
    assert lp.cost.objective_cny == pytest.approx(best, abs=1e-6)
    # 2 packs x 37.5 kWh = 75 kWh at 25 kWh a slot: both valleys and the flat slot, at the cap
    assert lp.grid_kw.tolist() == pytest.approx([0.0, 100.0, 100.0, 100.0], abs=1e-6)


# --- random instances --------------------------------------------------------------------------


@st.composite
def problems(draw: st.DrawFn) -> ChargingProblem:
    n = draw(st.integers(2, 12))
    prices = tuple(
        draw(st.lists(st.sampled_from((VALLEY, 0.685, PEAK, 1.294)), min_size=n, max_size=n))
    )
    k = draw(st.integers(1, 6))
    units = []
    for i in range(k):
        cap = draw(st.sampled_from((160.0, 171.0)))
        soc = draw(st.floats(0.0, 1.0))
        due = draw(st.one_of(st.none(), st.integers(0, n)))
        units.append(ChargingUnit(i % 2, soc * cap, cap, 180.0, 0.95, due=due, rack_slot=i))
    cap_kw = draw(st.floats(0.0, 900.0))
    demand_charge = draw(st.sampled_from((0.0, 40.0)))
    return ChargingProblem(
        0.0,
        (900.0,) * n,
        prices,
        (cap_kw,) * n,
        tuple(units),
        TAPER,
        demand_charge_cny_per_kw=demand_charge,
    )


def _snapshot(
    problem: ChargingProblem, energy: np.ndarray, t: int, hourly: tuple[float, ...]
) -> StationSnapshot:
    units = problem.units
    soc = [float(e) / u.capacity_kwh for e, u in zip(energy, units, strict=True)]
    accept = [u.max_power_kw * TAPER.fraction(s) for u, s in zip(units, soc, strict=True)]
    return StationSnapshot(
        time_s=900.0 * t,
        time_of_day_s=(900.0 * t) % 86_400,
        grid_cap_kw=problem.grid_cap_kw[t],
        slot_max_power_kw=tuple(u.max_power_kw for u in units),
        slot_efficiency=tuple(u.efficiency for u in units),
        slot_pack_model=tuple(u.model for u in units),
        slot_energy_kwh=tuple(float(e) for e in energy),
        slot_capacity_kwh=tuple(u.capacity_kwh for u in units),
        slot_accept_kw=tuple(accept),
        slot_reserved=(False,) * len(units),
        charged_soc=problem.charged_soc,
        charged_stock=(sum(1 for s in soc if s >= 0.95), 0),
        trucks_queued=0,
        trucks_waiting_for_packs=(0, 0),
        hourly_price_cny_per_kwh=hourly,
    )


def _rollout(problem: ChargingProblem, policy: ChargeAtOnce | TimeOfUse) -> np.ndarray:
    """A rule policy on the slot model: plan at every slot start, checked, then clipped to what
    the LP's physics allows (so the result is one of the LP's feasible points)."""
    n = problem.slots
    hourly = tuple(problem.price_cny_per_kwh[min(4 * h, n - 1)] for h in range(24))
    power = np.zeros((len(problem.units), n))
    energy = np.array([u.energy_kwh for u in problem.units])
    for t in range(n):
        snap = _snapshot(problem, energy, t, hourly)
        plan = policy.plan(snap)
        assert check_plan(snap, plan) == []
        power[:, t] = plan.setpoints_kw
        power = charging.sanitise(problem, power)
        energy = np.array([u.energy_kwh for u in problem.units]) + (
            power[:, : t + 1] * 0.25 * 0.95
        ).sum(axis=1)
    return power


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_lp_never_worse_than_either_baseline_and_always_feasible(problem: ChargingProblem) -> None:
    lp = solve_charging(problem)
    assert lp.status is ScheduleStatus.OPTIMAL
    assert check_schedule(problem, lp.power_kw) == []
    at_once = baseline_schedule(problem, _rollout(problem, ChargeAtOnce()))
    tou = baseline_schedule(problem, _rollout(problem, TimeOfUse([[0.5] * 24, [0.5] * 24])))
    fallback = baseline_schedule(problem, charge_at_once_schedule(problem))
    for other in (at_once, tou, fallback):
        assert check_schedule(problem, other.power_kw) == []
        tol = 1e-6 * max(1.0, abs(other.cost.objective_cny))
        assert lp.cost.objective_cny <= other.cost.objective_cny + tol


# --- readiness, bad input, fallback -----------------------------------------------------------


def test_demand_no_grid_cap_can_meet_names_the_grid_cap() -> None:
    # Each pack alone could reach 95 % in 2 h; four together on 50 kW cannot.
    units = tuple(_unit(10.0, 8, i) for i in range(4))
    problem = _problem(units, (VALLEY,) * 8, 50.0)
    lp = solve_charging(problem)
    assert lp.status is ScheduleStatus.OPTIMAL
    assert lp.cost.shortage_packs > 2.0
    assert any("binding: grid cap" in r for r in lp.reasons)
    assert check_readiness(problem, lp.power_kw)


def test_a_pack_due_too_soon_names_the_charger_and_taper() -> None:
    lp = solve_charging(_problem((_unit(0.0, 1),), (VALLEY,) * 4, 10_000.0))
    assert any("binding: charger limit and CC-CV taper" in r for r in lp.reasons)


def test_a_pack_due_now_names_the_stock() -> None:
    lp = solve_charging(_problem((_unit(0.0, 0),), (VALLEY,) * 4, 10_000.0))
    assert any("binding: stock" in r for r in lp.reasons)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_cny_per_kwh": (VALLEY, -0.1, VALLEY, VALLEY)}, "price_cny_per_kwh[1]"),
        ({"units": (_unit(150.0, 2),)}, "units[0].energy_kwh"),
        ({"grid_cap_kw": (100.0, 100.0, -5.0, 100.0)}, "grid_cap_kw[2]"),
    ],
)
def test_bad_input_is_named_not_a_traceback(change: dict[str, object], field: str) -> None:
    problem = replace(_problem((_unit(10.0, 2),), (VALLEY,) * 4, 100.0), **change)  # type: ignore[arg-type]
    assert any(p.field == field for p in check_charging_problem(problem))
    with pytest.raises(InputError) as info:
        solve_charging(problem)
    assert any(p.field == field for p in info.value.problems)


def test_a_full_pack_draws_nothing() -> None:
    lp = solve_charging(_problem((_unit(100.0, 2),), (VALLEY,) * 4, 100.0))
    assert lp.power_kw.max() == 0.0
    assert lp.cost.shortage_packs == 0.0


def test_solver_failure_falls_back_to_charge_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> LpResult:
        empty = np.zeros(0)
        return LpResult(LpStatus.INFEASIBLE, "stub", np.nan, empty, empty, 0.0, 0.0)

    monkeypatch.setattr(charging, "solve_lp", broken)
    problem = _problem((_unit(10.0, 3), _unit(40.0, None, 1)), (PEAK, VALLEY, VALLEY, PEAK), 120.0)
    lp = solve_charging(problem)
    assert lp.status is ScheduleStatus.FALLBACK
    assert "fell back to charge-at-once" in lp.reasons[0]
    assert check_schedule(problem, lp.power_kw) == []
    assert lp.power_kw[:, 0].sum() == pytest.approx(120.0)


# --- plans -------------------------------------------------------------------------------------


@st.composite
def snapshots(draw: st.DrawFn) -> StationSnapshot:
    n = draw(st.integers(1, 18))
    models = draw(st.lists(st.sampled_from((-1, 0, 1)), min_size=n, max_size=n))
    caps = [0.0 if m < 0 else (171.0 if m == 0 else 160.0) for m in models]
    socs = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    energy = [s * c for s, c in zip(socs, caps, strict=True)]
    accept = [
        0.0 if m < 0 else 180.0 * TAPER.fraction(s) for m, s in zip(models, socs, strict=True)
    ]
    stock = tuple(
        sum(1 for m, s in zip(models, socs, strict=True) if m == j and s >= 0.95) for j in (0, 1)
    )
    return StationSnapshot(
        time_s=draw(st.floats(0.0, 3 * 86_400.0)),
        time_of_day_s=draw(st.floats(0.0, 86_399.0)),
        grid_cap_kw=draw(st.floats(0.0, 3500.0)),
        slot_max_power_kw=(180.0,) * n,
        slot_efficiency=(0.95,) * n,
        slot_pack_model=tuple(models),
        slot_energy_kwh=tuple(energy),
        slot_capacity_kwh=tuple(caps),
        slot_accept_kw=tuple(accept),
        slot_reserved=tuple(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
        charged_soc=0.95,
        charged_stock=stock,
        trucks_queued=draw(st.integers(0, 5)),
        trucks_waiting_for_packs=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        hourly_price_cny_per_kwh=tuple(
            [VALLEY] * 7 + [PEAK] * 4 + [VALLEY] * 4 + [PEAK] * 8 + [VALLEY]
        ),
    )


DEMAND = StationDemand(((3.0,) * 24, (1.0,) * 24), soc_in=(0.3, 0.3), packs_per_truck=(3, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots())
def test_every_mpc_plan_passes_check_plan(snapshot: StationSnapshot) -> None:
    scheduler = MpcChargingScheduler(DEMAND, TAPER)
    plan = scheduler.plan(snapshot)
    assert check_plan(snapshot, plan, strict=True) == []
    assert scheduler.stats.fallbacks == 0
    problem = build_station_problem(snapshot, DEMAND, TAPER).problem
    assert check_schedule(problem, solve_charging(problem).power_kw) == []


@settings(max_examples=40, deadline=None)
@given(snapshots())
def test_every_baseline_plan_passes_check_plan(snapshot: StationSnapshot) -> None:
    for policy in (ChargeAtOnce(), TimeOfUse([[3.0] * 24, [1.0] * 24])):
        assert check_plan(snapshot, policy.plan(snapshot)) == []
    assert (
        check_plan(snapshot, charge_at_once_plan(snapshot, snapshot.time_s + 900.0), strict=True)
        == []
    )


def test_check_plan_names_each_violation() -> None:
    snap = _snapshot(
        _problem((_unit(100.0, 2), _unit(90.0, 2, 1)), (VALLEY,) * 4, 150.0),
        np.array([100.0, 90.0]),
        0,
        (VALLEY,) * 24,
    )
    from openswap.domain.planning import ChargingPlan

    reasons = check_plan(snap, ChargingPlan((-1.0, 120.0), 0.0), strict=True)
    text = " | ".join(reasons)
    for word in ("valid until", "non-negativity", "charger limit", "taper"):
        assert word in text
    assert any("grid cap" in r for r in check_plan(snap, ChargingPlan((100.0, 100.0), 1.0)))
    assert any(
        "energy bound" in r for r in check_plan(snap, ChargingPlan((1.0, 0.0), 1.0), strict=True)
    )
