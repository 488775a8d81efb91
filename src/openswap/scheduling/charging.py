"""The station charging LP: which pack charges at what grid power in each slot of a horizon.

A `ChargingProblem` lists charging units (a pack on the rack, or a fluid group of packs
expected to dock later) with the slot they arrive in and the slot they are due (handed to a
truck); `solve_charging` minimises time-of-use energy cost + demand charge on the peak + a
penalty per pack not charged by its due slot, under the grid cap, charger limits, the CC-CV taper
and pack capacity. Formulation and symbols: docs/design/scheduling.md. No binaries: power is
continuous and readiness is a per-unit energy target with a shortage slack.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from openswap.domain.errors import InputError, Problem
from openswap.scheduling.lp import FloatArray, IntArray, LpSolver, LpStatus, SparseLp, solve_lp

BoolArray = npt.NDArray[np.bool_]
SECONDS_PER_HOUR = 3600.0
TOL = 1e-6  # relative and absolute tolerance of the schedule checks (kW, kWh)
PEAK_TIE_BREAK_CNY_PER_KW = 1e-3  # flattens the peak among equal-cost schedules
# Slots after the due slot at which lateness is measured (each stands until the next one).
LATENESS_CHECKPOINTS = (0, 1, 2, 4, 8)
LATE_STAY_SLOTS = 8  # a late unit stays this many slots after its due slot, then leaves
LAST_CHECKPOINT_H = 2.0  # hours the last checkpoint stands for


# --- problem -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Taper:
    """Most grid-side power a pack accepts, as a fraction of its charger limit, against SoC.

    `pieces` are (intercept, slope) lines; the fraction is min(1, min over pieces of
    intercept + slope * soc), a concave piecewise-linear function, which keeps `p <= a e + b`
    linear in the pack's energy. Slopes must be <= 0 (power never rises with SoC).
    """

    pieces: tuple[tuple[float, float], ...]

    @classmethod
    def cc_cv(cls, knee_soc: float, end_fraction: float) -> Taper:
        """Full power up to `knee_soc`, then linear down to `end_fraction` at SoC 1 (the twin's
        CC-CV model)."""
        beta = (1.0 - end_fraction) / (1.0 - knee_soc)
        return cls(((1.0 + beta * knee_soc, -beta),))

    def fraction(self, soc: float) -> float:
        """Accepted fraction of the charger limit at `soc` (0 when full)."""
        if soc >= 1.0:
            return 0.0
        return max(0.0, min([1.0, *(b + a * soc for b, a in self.pieces)]))


@dataclass(frozen=True, slots=True)
class ChargingUnit:
    """A pack on the rack (`weight` 1, `rack_slot` >= 0) or `weight` packs expected to dock.

    A group is charged as `weight` identical packs in parallel: energy, capacity and charger
    limit scale with it. It is on site from the start of slot `arrive`; from the start of slot
    `due` (None: not demanded within the horizon) it is wanted charged, and stays until it is.
    """

    model: int  # pack model index
    energy_kwh: float  # at arrival, whole unit
    capacity_kwh: float  # per pack (usable)
    max_power_kw: float  # charger limit per pack, grid side
    efficiency: float  # charger efficiency, 0..1
    arrive: int = 0
    due: int | None = None
    weight: float = 1.0
    rack_slot: int = -1  # -1: expected, not on the rack yet


@dataclass(frozen=True, slots=True)
class ChargingProblem:
    """One station's charging horizon: slots, prices, cap, units and objective weights.

    Slot t lasts `slot_s[t]` seconds from `start_s + sum(slot_s[:t])`; prices and caps are per
    slot. A unit counts as charged from `charged_soc`.
    """

    start_s: float
    slot_s: tuple[float, ...]
    price_cny_per_kwh: tuple[float, ...]
    grid_cap_kw: tuple[float, ...]
    units: tuple[ChargingUnit, ...]
    taper: Taper
    charged_soc: float = 0.95
    shortage_penalty_cny_per_pack: float = 500.0  # a pack not charged when due, once
    lateness_penalty_cny_per_pack_hour: float = 1000.0  # and for every hour it stays short
    demand_charge_cny_per_kw: float = 0.0  # marginal cost of raising the billing peak
    peak_so_far_kw: float = 0.0  # the billing period's peak so far (raising it costs)
    # Among equal prices charge earlier: CNY/kWh added per hour from the start (0: off). Ties
    # are common (a valley hours long), and later is riskier when demand comes early.
    early_tie_break_cny_per_kwh_h: float = 0.0
    fill_value_cny_per_kwh: float | None = None  # energy in a pack handed out; None: see below
    terminal_value_cny_per_kwh: float | None = None  # energy left at the horizon's end
    model_names: tuple[str, ...] = ()

    @property
    def slots(self) -> int:
        return len(self.slot_s)

    def slot_starts_s(self) -> FloatArray:
        return self.start_s + np.concatenate(([0.0], np.cumsum(self.slot_s)[:-1]))

    def fill_value(self) -> float:
        """Default: a little above the dearest grid kWh per pack kWh, so every demanded pack is
        filled (as a charge-at-once station would) and only the timing is optimised."""
        if self.fill_value_cny_per_kwh is not None:
            return self.fill_value_cny_per_kwh
        eff = min((u.efficiency for u in self.units), default=1.0)
        return 1.05 * max(self.price_cny_per_kwh, default=0.0) / eff + 0.01

    def terminal_value(self) -> float:
        """Default: a little below the cheapest kWh, so packs nobody asks for wait."""
        if self.terminal_value_cny_per_kwh is not None:
            return self.terminal_value_cny_per_kwh
        return 0.95 * min(self.price_cny_per_kwh, default=0.0)

    def model_name(self, m: int) -> str:
        return self.model_names[m] if m < len(self.model_names) else f"model {m}"


def check_charging_problem(problem: ChargingProblem) -> list[Problem]:
    """Reasons the problem is malformed, each naming the field; empty when it can be solved."""
    out: list[Problem] = []
    n = problem.slots
    if n == 0:
        out.append(Problem("the horizon has no slots", field="slot_s"))
    for name, values in (
        ("price_cny_per_kwh", problem.price_cny_per_kwh),
        ("grid_cap_kw", problem.grid_cap_kw),
    ):
        if len(values) != n:
            out.append(Problem(f"needs {n} entries, got {len(values)}", field=name))
    for t, dt in enumerate(problem.slot_s):
        if not (math.isfinite(dt) and dt > 0.0):
            out.append(Problem(f"slot length must be > 0 s, got {dt!r}", field=f"slot_s[{t}]"))
    for t, price in enumerate(problem.price_cny_per_kwh):
        if not (math.isfinite(price) and price >= 0.0):
            out.append(
                Problem(
                    f"negative or non-finite tariff window: {price!r} CNY/kWh "
                    "(a price must be >= 0)",
                    field=f"price_cny_per_kwh[{t}]",
                )
            )
    for t, cap in enumerate(problem.grid_cap_kw):
        if not (math.isfinite(cap) and cap >= 0.0):
            out.append(Problem(f"grid cap must be >= 0 kW, got {cap!r}", field=f"grid_cap_kw[{t}]"))
    for j, (b, a) in enumerate(problem.taper.pieces):
        if not (math.isfinite(a) and math.isfinite(b) and a <= 0.0):
            out.append(
                Problem(f"taper piece needs a finite slope <= 0, got {a!r}", field=f"taper[{j}]")
            )
    if not 0.0 < problem.charged_soc <= 1.0:
        out.append(Problem("must be in (0, 1]", field="charged_soc"))
    for k, u in enumerate(problem.units):
        where = f"units[{k}]"
        if not (u.weight > 0.0 and u.capacity_kwh > 0.0 and u.max_power_kw >= 0.0):
            out.append(Problem("weight and capacity must be > 0, power >= 0", field=where))
            continue
        if not 0.0 < u.efficiency <= 1.0:
            out.append(Problem(f"efficiency must be in (0, 1], got {u.efficiency}", field=where))
        full = u.weight * u.capacity_kwh
        if not 0.0 <= u.energy_kwh <= full * (1.0 + 1e-9):
            out.append(
                Problem(
                    f"pack energy {u.energy_kwh:.3f} kWh is outside 0..{full:.3f} kWh "
                    "(over-full or negative)",
                    field=f"{where}.energy_kwh",
                )
            )
        if not 0 <= u.arrive <= n:
            out.append(Problem(f"arrive {u.arrive} is outside 0..{n}", field=f"{where}.arrive"))
        if u.due is not None and not u.arrive <= u.due <= n:
            out.append(Problem(f"due {u.due} is outside {u.arrive}..{n}", field=f"{where}.due"))
    return out


# --- schedule ------------------------------------------------------------------------------


class ScheduleStatus(StrEnum):
    OPTIMAL = "optimal"
    FALLBACK = "fallback"  # the LP failed; charge-at-once within the cap instead
    BASELINE = "baseline"  # made by a rule on purpose (for comparison)


@dataclass(frozen=True, slots=True)
class ScheduleCost:
    """What a schedule costs under its problem's objective, part by part (CNY)."""

    energy_cost_cny: float
    demand_charge_cny: float
    shortage_penalty_cny: float  # shortage when due plus lateness
    fill_credit_cny: float  # value of energy in packs handed out or left at the end (subtracted)
    energy_kwh: float  # grid energy
    peak_kw: float
    shortage_packs: float  # relaxed (fractional) packs short when due, as the LP sees it
    late_pack_hours: float  # relaxed pack-hours short after the due slot

    @property
    def objective_cny(self) -> float:
        return (
            self.energy_cost_cny
            + self.demand_charge_cny
            + self.shortage_penalty_cny
            - self.fill_credit_cny
        )


@dataclass(frozen=True, slots=True, eq=False)
class ChargingSchedule:
    """Grid power of every unit in every slot (`power_kw[k, t]`, kW, 0 outside its stay)."""

    power_kw: FloatArray
    energy_kwh: FloatArray  # [k, t]: unit energy at the start of slot t (t = 0..slots)
    status: ScheduleStatus
    cost: ScheduleCost
    reasons: tuple[str, ...] = ()  # fallback cause and binding constraints of any shortage
    build_s: float = 0.0
    solve_s: float = 0.0

    @property
    def grid_kw(self) -> FloatArray:
        total: FloatArray = self.power_kw.sum(axis=0)
        return total


# --- index structure shared by the LP, the checks and the baselines -------------------------


@dataclass(frozen=True, slots=True)
class _Pairs:
    """(unit, slot) pairs where a unit is on site and may draw power, unit-major."""

    unit: IntArray
    slot: IntArray
    first: npt.NDArray[np.bool_]  # the unit's first slot
    end: IntArray  # per unit: the horizon, or LATE_STAY_SLOTS after its due slot


def _pairs(problem: ChargingProblem) -> _Pairs:
    n = problem.slots
    ends = np.array(
        [n if u.due is None else min(n, u.due + LATE_STAY_SLOTS) for u in problem.units],
        dtype=np.int64,
    )
    starts = np.array([u.arrive for u in problem.units], dtype=np.int64)
    lengths = np.maximum(ends - starts, 0)
    unit = np.repeat(np.arange(len(problem.units), dtype=np.int64), lengths)
    offsets = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(lengths) - lengths, lengths
    )
    slot = np.repeat(starts, lengths) + offsets
    return _Pairs(unit, slot, offsets == 0, ends)


def _alive(problem: ChargingProblem) -> npt.NDArray[np.bool_]:
    """[unit, slot]: whether the unit is on site (may draw power) in the slot."""
    pr = _pairs(problem)
    alive = np.zeros((len(problem.units), problem.slots), dtype=bool)
    alive[pr.unit, pr.slot] = True
    return alive


def _unit_arrays(problem: ChargingProblem) -> dict[str, FloatArray]:
    units = problem.units
    return {
        "w": np.array([u.weight for u in units]),
        "cap": np.array([u.capacity_kwh for u in units]),
        "lim": np.array([u.max_power_kw for u in units]),
        "eff": np.array([u.efficiency for u in units]),
        "e0": np.array([u.energy_kwh for u in units]),
    }


# --- the LP as families ------------------------------------------------------------------


@dataclass(slots=True)
class ChargingModel:
    """Column indices of each variable family of the charging LP."""

    lp: SparseLp
    pairs: _Pairs
    power: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per pair
    energy: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # end of slot
    peak: int = -1
    shortage: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per unit
    short_units: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def define_power(model: ChargingModel, problem: ChargingProblem) -> None:
    """p[k,t] in [0, w_k L_k] kW for each slot the unit is on site; cost: price x energy."""
    pr = model.pairs
    ua = _unit_arrays(problem)
    dt_h = np.asarray(problem.slot_s)[pr.slot] / SECONDS_PER_HOUR
    price = np.asarray(problem.price_cny_per_kwh)[pr.slot]
    if problem.early_tie_break_cny_per_kwh_h > 0.0:
        starts_h = (problem.slot_starts_s() - problem.start_s) / SECONDS_PER_HOUR
        price = price + problem.early_tie_break_cny_per_kwh_h * starts_h[pr.slot]
    model.power = model.lp.add_columns(
        "power", np.zeros(len(pr.unit)), (ua["w"] * ua["lim"])[pr.unit], price * dt_h
    )


def define_energy(model: ChargingModel, problem: ChargingProblem) -> None:
    """e[k,t+1] in [0, w_k C_k] kWh with the balance e[k,t+1] = e[k,t] + eta_k dt_t p[k,t]."""
    pr = model.pairs
    ua = _unit_arrays(problem)
    n = len(pr.unit)
    model.energy = model.lp.add_columns("energy", np.zeros(n), (ua["w"] * ua["cap"])[pr.unit])
    dt_h = np.asarray(problem.slot_s)[pr.slot] / SECONDS_PER_HOUR
    rows = np.arange(n, dtype=np.int64)
    prev = ~pr.first
    rhs = np.where(pr.first, ua["e0"][pr.unit], 0.0)
    model.lp.add_rows(
        "energy balance",
        rhs,
        rhs,
        np.concatenate((rows, rows, rows[prev])),
        np.concatenate((model.energy, model.power, model.energy[prev] - 1)),
        np.concatenate((np.ones(n), -ua["eff"][pr.unit] * dt_h, -np.ones(int(prev.sum())))),
    )


def define_taper(model: ChargingModel, problem: ChargingProblem) -> None:
    """CC-CV taper, one row per sloped piece (b, a): p[k,t] <= w L (b + a e[k,t+1] / (w C)).

    Evaluated at the slot's end energy: the taper never rises with SoC, so a pack can take the
    planned power for the whole slot and the plan is exactly realisable.
    """
    pr = model.pairs
    ua = _unit_arrays(problem)
    n = len(pr.unit)
    rows = np.arange(n, dtype=np.int64)
    lim = ua["lim"][pr.unit]
    w = ua["w"][pr.unit]
    cap = ua["cap"][pr.unit]
    for j, (b, a) in enumerate(problem.taper.pieces):
        if a == 0.0 and b >= 1.0:
            continue  # the charger bound already says this
        model.lp.add_rows(
            f"taper piece {j}",
            np.full(n, -np.inf),
            w * lim * b,
            np.concatenate((rows, rows)),
            np.concatenate((model.power, model.energy)),
            np.concatenate((np.ones(n), -lim * a / cap)),
        )


def define_grid_cap(model: ChargingModel, problem: ChargingProblem) -> None:
    """sum_k p[k,t] <= cap_t and sum_k p[k,t] <= peak; the peak costs the demand charge."""
    pr = model.pairs
    n_slots = problem.slots
    model.lp.add_rows(
        "grid cap",
        np.full(n_slots, -np.inf),
        np.asarray(problem.grid_cap_kw, dtype=np.float64),
        pr.slot,
        model.power,
        np.ones(len(pr.slot)),
    )
    peak = model.lp.add_columns(
        "peak",
        np.array([problem.peak_so_far_kw]),
        np.array([np.inf]),
        np.array([problem.demand_charge_cny_per_kw + PEAK_TIE_BREAK_CNY_PER_KW]),
    )
    model.peak = int(peak[0])
    slots = np.arange(n_slots, dtype=np.int64)
    model.lp.add_rows(
        "peak",
        np.full(n_slots, -np.inf),
        np.zeros(n_slots),
        np.concatenate((pr.slot, slots)),
        np.concatenate((model.power, np.full(n_slots, model.peak, dtype=np.int64))),
        np.concatenate((np.ones(len(pr.slot)), -np.ones(n_slots))),
    )
    # The tie-break and the peak so far are constants of every schedule: keep objectives equal
    # to the economic cost by taking the part below the running peak back out.
    model.lp.offset -= (
        problem.demand_charge_cny_per_kw + PEAK_TIE_BREAK_CNY_PER_KW
    ) * problem.peak_so_far_kw


def _checkpoints(due: int, n: int, dt_h: FloatArray) -> list[tuple[int, float]]:
    """(slot, hours it stands for) of a unit's lateness checkpoints within the horizon."""
    marks = sorted({due + d for d in LATENESS_CHECKPOINTS if due + d <= n})
    out = []
    for a, b in zip(marks, [*marks[1:], None], strict=True):
        if a >= n:  # energy at the horizon's end: stands for the last checkpoint's hours
            out.append((a, LAST_CHECKPOINT_H))
        else:
            out.append((a, float(dt_h[a:b].sum()) if b is not None else LAST_CHECKPOINT_H))
    return out


def define_readiness(model: ChargingModel, problem: ChargingProblem) -> None:
    """Per demanded unit k and checkpoint tau (its due slot, then `LATENESS_CHECKPOINTS` slots
    later, up to the horizon): e[k,tau] + theta C_k s[k,tau] >= theta w_k C_k, shortage
    s[k,tau] in [0, w_k] packs. s at the due slot costs the shortage penalty once; every s costs
    the lateness penalty for the hours up to the next checkpoint (a step approximation of
    pack-hours late that keeps the LP small). Energy at the due slot earns the fill value;
    energy of units nobody asks for, at the horizon's end, the terminal value."""
    pr = model.pairs
    ua = _unit_arrays(problem)
    theta = problem.charged_soc
    n = problem.slots
    dt_h = np.asarray(problem.slot_s) / SECONDS_PER_HOUR
    # pair index of (unit, slot): energy at the start of slot tau is pair (k, tau - 1)'s e
    pair_at = {(int(k), int(t)): j for j, (k, t) in enumerate(zip(pr.unit, pr.slot, strict=True))}
    r_units: list[int] = []
    r_slots: list[int] = []
    r_weight_h: list[float] = []  # hours the checkpoint stands for
    for k, u in enumerate(problem.units):
        if u.due is None or u.due > n:
            continue
        for a, hours in _checkpoints(u.due, n, dt_h):
            r_units.append(k)
            r_slots.append(a)
            r_weight_h.append(hours)
    ku = np.asarray(r_units, dtype=np.int64)
    tu = np.asarray(r_slots, dtype=np.int64)
    dues = np.array([-1 if u.due is None else u.due for u in problem.units], dtype=np.int64)
    penalty = problem.lateness_penalty_cny_per_pack_hour * np.asarray(r_weight_h) + np.where(
        tu == dues[ku], problem.shortage_penalty_cny_per_pack, 0.0
    )
    model.short_units = ku
    model.shortage = model.lp.add_columns("shortage", np.zeros(len(ku)), ua["w"][ku], penalty)
    e_col = np.array(
        [
            model.energy[pair_at[(k, t - 1)]] if (k, t - 1) in pair_at else -1
            for k, t in zip(r_units, r_slots, strict=True)
        ],
        dtype=np.int64,
    )
    has = e_col >= 0
    rows = np.arange(len(ku), dtype=np.int64)
    target = theta * ua["w"][ku] * ua["cap"][ku]
    const = np.where(has, 0.0, ua["e0"][ku])  # before any charging the energy is fixed
    model.lp.add_rows(
        "readiness",
        target - const,
        np.full(len(ku), np.inf),
        np.concatenate((rows, rows[has])),
        np.concatenate((model.shortage, e_col[has])),
        np.concatenate((theta * ua["cap"][ku], np.ones(int(has.sum())))),
    )
    fill, terminal = problem.fill_value(), problem.terminal_value()
    credit_cols: list[int] = []
    credit_vals: list[float] = []
    for k, u in enumerate(problem.units):
        at = n if u.due is None else u.due
        value = terminal if u.due is None else fill
        j = pair_at.get((k, at - 1))
        if j is None:
            model.lp.offset -= value * u.energy_kwh
        else:
            credit_cols.append(int(model.energy[j]))
            credit_vals.append(-value)
    model.lp.add_cost(np.asarray(credit_cols, dtype=np.int64), np.asarray(credit_vals))


def build_charging_model(problem: ChargingProblem) -> ChargingModel:
    """The whole LP: every family above."""
    model = ChargingModel(SparseLp(), _pairs(problem))
    define_power(model, problem)
    define_energy(model, problem)
    define_taper(model, problem)
    define_grid_cap(model, problem)
    define_readiness(model, problem)
    return model


# --- physics shared by the checks, the sanitiser and the baselines -------------------------


def _max_power(
    problem: ChargingProblem,
    e: FloatArray,
    w: FloatArray,
    cap: FloatArray,
    lim: FloatArray,
    eff: FloatArray,
    dt_s: float,
) -> FloatArray:
    """Most grid power units at energy `e` can draw for a whole slot of `dt_s` seconds: charger
    limit, taper at the slot's end energy, and room left in the pack."""
    k = eff * dt_s / SECONDS_PER_HOUR  # kWh in the pack per kW for the slot
    most = w * lim
    for b, a in problem.taper.pieces:
        # p <= w L b + (L a / C) (e + k p)  <=>  p (1 - L a k / C) <= w L b + L a e / C
        bound = (w * lim * b + lim * a * e / cap) / (1.0 - lim * a * k / cap)
        most = np.minimum(most, bound)
    room = (w * cap - e) / k
    out: FloatArray = np.clip(np.minimum(most, room), 0.0, None)
    return out


def _integrate(problem: ChargingProblem, power: FloatArray) -> FloatArray:
    """Energy of every unit at every slot start (arrival energy before arrival; held after
    leaving), from the powers alone."""
    ua = _unit_arrays(problem)
    dt_h = np.asarray(problem.slot_s) / SECONDS_PER_HOUR
    gained = power * dt_h[None, :] * ua["eff"][:, None]
    energy: FloatArray = ua["e0"][:, None] + np.concatenate(
        (np.zeros((len(problem.units), 1)), np.cumsum(gained, axis=1)), axis=1
    )
    return energy


def evaluate_schedule(problem: ChargingProblem, power: FloatArray) -> ScheduleCost:
    """The LP objective of any power matrix [unit, slot], shortages at their least."""
    ua = _unit_arrays(problem)
    energy = _integrate(problem, power)
    dt_h = np.asarray(problem.slot_s) / SECONDS_PER_HOUR
    grid = power.sum(axis=0) if power.size else np.zeros(problem.slots)
    energy_cost = float(np.sum(grid * dt_h * np.asarray(problem.price_cny_per_kwh)))
    peak = max(float(grid.max(initial=0.0)), problem.peak_so_far_kw)
    demand = problem.demand_charge_cny_per_kw * (peak - problem.peak_so_far_kw)
    n = problem.slots
    theta = problem.charged_soc
    short = 0.0
    late = 0.0
    credit = 0.0
    fill, terminal = problem.fill_value(), problem.terminal_value()
    for k, u in enumerate(problem.units):
        if u.due is None:
            credit += terminal * float(energy[k, n])
            continue
        credit += fill * float(energy[k, max(u.due, u.arrive)])
        target = theta * ua["w"][k] * ua["cap"][k]
        for a, hours in _checkpoints(u.due, n, dt_h):
            gap = max(target - float(energy[k, a]), 0.0) / (theta * ua["cap"][k])
            if a == u.due:
                short += gap
            late += gap * hours
    return ScheduleCost(
        energy_cost_cny=energy_cost,
        demand_charge_cny=demand + PEAK_TIE_BREAK_CNY_PER_KW * (peak - problem.peak_so_far_kw),
        shortage_penalty_cny=problem.shortage_penalty_cny_per_pack * short
        + problem.lateness_penalty_cny_per_pack_hour * late,
        fill_credit_cny=credit,
        energy_kwh=float(np.sum(grid * dt_h)),
        peak_kw=float(grid.max(initial=0.0)),
        shortage_packs=short,
        late_pack_hours=late,
    )


def saturated(problem: ChargingProblem, power: FloatArray, rel: float = 1e-3) -> BoolArray:
    """[unit, slot]: whether the unit draws (within `rel`) the most the physics lets it draw
    for the whole slot (charger limit, taper at the slot's end, room in the pack) and is not
    full. Such a unit wants all it can get: a plan may give it what the pack accepts *now*,
    which the taper-at-the-slot's-end bound understates in the CV phase."""
    ua = _unit_arrays(problem)
    energy = _integrate(problem, power)
    out = np.zeros(power.shape, dtype=bool)
    for t in range(problem.slots):
        most = _max_power(
            problem, energy[:, t], ua["w"], ua["cap"], ua["lim"], ua["eff"], problem.slot_s[t]
        )
        out[:, t] = (most > TOL) & (power[:, t] >= most * (1.0 - rel))
    return out


def check_schedule(problem: ChargingProblem, power: FloatArray) -> list[str]:
    """Reasons a power matrix [unit, slot] breaks the physics or the cap; empty when it is
    feasible. Independent of any solver: energies are integrated from the powers here."""
    reasons: list[str] = []
    n = problem.slots
    k_units = len(problem.units)
    if power.shape != (k_units, n):
        return [f"power matrix has shape {power.shape}, expected {(k_units, n)}"]
    if not np.all(np.isfinite(power)):
        return ["power matrix holds non-finite values"]
    ua = _unit_arrays(problem)
    energy = _integrate(problem, power)
    alive = _alive(problem)
    for k, t in zip(*np.nonzero(~alive & (np.abs(power) > TOL)), strict=True):
        reasons.append(f"unit {k} draws {power[k, t]:.3f} kW in slot {t} while not on site")
    for k, t in zip(*np.nonzero(power < -TOL), strict=True):
        reasons.append(f"non-negativity: unit {k} draws {power[k, t]:.3f} kW in slot {t}")
    limit = (ua["w"] * ua["lim"])[:, None]
    for k, t in zip(*np.nonzero(power > limit * (1 + TOL) + TOL), strict=True):
        reasons.append(
            f"charger limit: unit {k} draws {power[k, t]:.3f} kW > {limit[k, 0]:.3f} kW in slot {t}"
        )
    grid = power.sum(axis=0)
    caps = np.asarray(problem.grid_cap_kw)
    for t in np.flatnonzero(grid > caps * (1 + TOL) + TOL):
        reasons.append(f"grid cap: {grid[t]:.3f} kW > {caps[t]:.3f} kW in slot {t}")
    full = (ua["w"] * ua["cap"])[:, None]
    for k, t in zip(*np.nonzero(energy > full * (1 + TOL) + TOL), strict=True):
        reasons.append(
            f"energy bound: unit {k} holds {energy[k, t]:.3f} kWh > {full[k, 0]:.3f} kWh "
            f"at slot {t}"
        )
    for b, a in problem.taper.pieces:
        soc_end = energy[:, 1:] / full
        bound = limit * np.maximum(b + a * soc_end, 0.0)
        for k, t in zip(*np.nonzero(alive & (power > bound * (1 + TOL) + TOL)), strict=True):
            reasons.append(
                f"taper: unit {k} draws {power[k, t]:.3f} kW in slot {t}, the CC-CV taper "
                f"allows {bound[k, t]:.3f} kW at SoC {soc_end[k, t]:.3f}"
            )
    return reasons


def check_readiness(problem: ChargingProblem, power: FloatArray) -> list[str]:
    """The discrete readiness the LP relaxes: every demanded unit whose packs are not each at
    `charged_soc` when due (a group of w packs charges as w equal packs)."""
    energy = _integrate(problem, power)
    theta = problem.charged_soc
    starts = problem.slot_starts_s()
    out: list[str] = []
    for k, u in enumerate(problem.units):
        if u.due is None:
            continue
        soc = float(energy[k, max(u.due, u.arrive)]) / (u.weight * u.capacity_kwh)
        if soc < theta * (1 - TOL):
            at = (
                float(starts[u.due])
                if u.due < problem.slots
                else problem.start_s + float(sum(problem.slot_s))
            )
            what = "pack" if u.rack_slot >= 0 else f"{u.weight:.2f} expected packs"
            out.append(
                f"{problem.model_name(u.model)}: {what} (unit {k}) at SoC {soc:.2f} < "
                f"{theta:.2f} when due at t={at:.0f} s"
            )
    return out


def sanitise(problem: ChargingProblem, power: FloatArray) -> FloatArray:
    """The largest schedule at or below `power` that passes `check_schedule` exactly: a forward
    pass clipping each slot to the physics and scaling it into the cap (removes solver noise)."""
    ua = _unit_arrays(problem)
    n = problem.slots
    out = np.zeros_like(power)
    e = ua["e0"].copy()
    alive = _alive(problem)
    for t in range(n):
        most = _max_power(problem, e, ua["w"], ua["cap"], ua["lim"], ua["eff"], problem.slot_s[t])
        p = np.where(alive[:, t], np.clip(power[:, t], 0.0, most), 0.0)
        total = float(p.sum())
        cap = problem.grid_cap_kw[t]
        if total > cap:
            p *= cap / total * (1 - 1e-12)
        out[:, t] = p
        e = e + p * ua["eff"] * problem.slot_s[t] / SECONDS_PER_HOUR
    return out


# --- baselines and fallback ------------------------------------------------------------------


def _water_fill(demand: FloatArray, cap: float) -> FloatArray:
    """Equal shares of `cap`, no unit above its demand (the twin's fair sharing)."""
    if float(demand.sum()) <= cap:
        return demand.copy()
    out = np.zeros_like(demand)
    remaining = cap
    order = np.argsort(demand, kind="stable")
    for rank, i in enumerate(order):
        give = min(float(demand[i]), remaining / (len(order) - rank))
        out[i] = give
        remaining -= give
    return out


def charge_at_once_schedule(problem: ChargingProblem) -> FloatArray:
    """Every unit on site at the most it can take, the cap shared fairly: the baseline and the
    fallback. Feasible by construction."""
    ua = _unit_arrays(problem)
    n = problem.slots
    power = np.zeros((len(problem.units), n))
    e = ua["e0"].copy()
    target = problem.charged_soc * ua["w"] * ua["cap"] * (1 - TOL)
    due = np.array([n if u.due is None else u.due for u in problem.units])
    stay = _alive(problem)
    for t in range(n):
        # on site from arrival; after its due slot only while still short (else handed out)
        alive = stay[:, t] & ((t < due) | (e < target))
        most = _max_power(problem, e, ua["w"], ua["cap"], ua["lim"], ua["eff"], problem.slot_s[t])
        p = _water_fill(np.where(alive, most, 0.0), problem.grid_cap_kw[t])
        power[:, t] = p
        e = e + p * ua["eff"] * problem.slot_s[t] / SECONDS_PER_HOUR
    return sanitise(problem, power)


# --- solve ----------------------------------------------------------------------------------


def solve_charging(problem: ChargingProblem, solver: LpSolver = LpSolver.GLOP) -> ChargingSchedule:
    """The least-cost schedule, or the charge-at-once fallback (status FALLBACK, reasons say
    why) when the LP fails. Raises InputError naming the field for a malformed problem.

    Shortages never make the LP infeasible (they are priced); when the optimum has any, the
    reasons name what binds: the stock on hand, the chargers and taper, or the grid cap.
    """
    problems = check_charging_problem(problem)
    if problems:
        raise InputError(problems)
    started = time.perf_counter()
    model = build_charging_model(problem)
    built = time.perf_counter()
    result = solve_lp(model.lp, solver)
    shape = (len(problem.units), problem.slots)
    if result.status is not LpStatus.OPTIMAL:
        return _fallback(
            problem,
            f"the LP ended {result.status.value} ({result.detail}): "
            "fell back to charge-at-once within the grid cap",
            built - started,
            result.solve_s,
        )
    raw = np.zeros(shape)
    raw[model.pairs.unit, model.pairs.slot] = result.x[model.power]
    power = sanitise(problem, raw)
    violations = check_schedule(problem, power)
    if violations:  # cannot happen after sanitise; kept as the run-time guard
        return _fallback(
            problem,
            "the LP schedule failed its check (" + "; ".join(violations[:3]) + "): "
            "fell back to charge-at-once within the grid cap",
            built - started,
            result.solve_s,
        )
    cost = evaluate_schedule(problem, power)
    reasons = tuple(explain_shortage(problem, power)) if cost.shortage_packs > 1e-6 else ()
    return ChargingSchedule(
        power,
        _integrate(problem, power),
        ScheduleStatus.OPTIMAL,
        cost,
        reasons,
        built - started + result.write_s,
        result.solve_s,
    )


def _fallback(
    problem: ChargingProblem, reason: str, build_s: float, solve_s: float
) -> ChargingSchedule:
    power = charge_at_once_schedule(problem)
    return ChargingSchedule(
        power,
        _integrate(problem, power),
        ScheduleStatus.FALLBACK,
        evaluate_schedule(problem, power),
        (reason, *explain_shortage(problem, power)),
        build_s,
        solve_s,
    )


def baseline_schedule(problem: ChargingProblem, power: FloatArray) -> ChargingSchedule:
    """Wrap a rule's power matrix (after `sanitise`) as a schedule for comparisons."""
    clean = sanitise(problem, power)
    return ChargingSchedule(
        clean,
        _integrate(problem, clean),
        ScheduleStatus.BASELINE,
        evaluate_schedule(problem, clean),
        tuple(explain_shortage(problem, clean)),
    )


def explain_shortage(problem: ChargingProblem, power: FloatArray) -> list[str]:
    """For every model short of charged packs, the constraint that binds, by name.

    Per short unit: `stock` when it is due before it could charge at all (demand beyond the
    packs on site), `charger limit and CC-CV taper` when even its own charger at full power,
    alone on the grid, cannot reach charged SoC in time, and otherwise `grid cap`.
    """
    ua = _unit_arrays(problem)
    energy = _integrate(problem, power)
    theta = problem.charged_soc
    n = problem.slots
    tally: dict[tuple[int, str], float] = {}
    first_due: dict[tuple[int, str], int] = {}
    for k, u in enumerate(problem.units):
        if u.due is None:
            continue
        target = theta * u.weight * u.capacity_kwh
        e_due = float(energy[k, max(u.due, u.arrive)])
        if e_due >= target * (1 - TOL):
            continue
        if u.due <= u.arrive:
            why = "stock"
        else:
            e = np.array([u.energy_kwh])
            for t in range(u.arrive, u.due):
                most = _max_power(
                    problem,
                    e,
                    ua["w"][k : k + 1],
                    ua["cap"][k : k + 1],
                    ua["lim"][k : k + 1],
                    ua["eff"][k : k + 1],
                    problem.slot_s[t],
                )
                e = e + most * u.efficiency * problem.slot_s[t] / SECONDS_PER_HOUR
            why = "charger limit and CC-CV taper" if e[0] < target * (1 - TOL) else "grid cap"
        key = (u.model, why)
        tally[key] = tally.get(key, 0.0) + (target - e_due) / (theta * u.capacity_kwh)
        first_due[key] = min(first_due.get(key, n), u.due)
    starts = problem.slot_starts_s()
    out = []
    for (m, why), packs in sorted(tally.items()):
        due = first_due[(m, why)]
        at = float(starts[due]) if due < n else problem.start_s + float(sum(problem.slot_s))
        detail = {
            "stock": "demand falls due before enough packs are on site to charge",
            "charger limit and CC-CV taper": "a pack cannot reach charged SoC in time even at "
            "its charger's full power",
            "grid cap": f"the grid cap ({min(problem.grid_cap_kw):,.0f} kW) cannot charge "
            "enough packs in time",
        }[why]
        out.append(
            f"{problem.model_name(m)}: {packs:.2f} packs short from t={at:.0f} s; "
            f"binding: {why} ({detail})"
        )
    return out


def schedule_from_rows(problem: ChargingProblem, rows: Sequence[Sequence[float]]) -> FloatArray:
    """A power matrix from nested rows (tests and callers without numpy)."""
    return np.asarray(rows, dtype=np.float64).reshape(len(problem.units), problem.slots)
