"""One swap station on the event core: bays with a FIFO queue, a rack of charger slots, a grid cap.

Trucks are injected by the caller (`SwapStation.arrive`); the station reserves charged packs,
swaps, recharges the packs it receives along a CC-CV taper integrated exactly between events,
never exceeds its grid cap, and accumulates KPIs (`SwapStation.kpis`). Hot state is flat lists
indexed by slot. Semantics and units: docs/design/simulator.md.
"""

from __future__ import annotations

import math
import random
from bisect import insort
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, final

from openswap.domain.errors import OpenswapError
from openswap.domain.planning import ChargingPlan, Scheduler, StationSnapshot
from openswap.sim.core import LATE, EventLoop
from openswap.sim.metering import FOLD_AT, GridMeter

SECONDS_PER_DAY = 86_400.0
_TOL = 1e-9  # relative float tolerance on plan checks


class PlanRejectedError(OpenswapError):
    """A scheduler returned setpoints that break the grid cap, a charger limit or the slot count."""


class WastedTrip(StrEnum):
    """Why a truck left a station without swapping."""

    NO_SUCH_PACKS = (
        "no_such_packs"  # the station holds fewer packs of the model than the truck needs
    )
    STOCK_OUT = "stock_out"  # no charged packs of its model within the truck's patience


# Samplers draw a duration in seconds from the station's injected generator (a bound method
# through `partial`, no Python frame of our own per draw).
@dataclass(frozen=True, slots=True)
class Fixed:
    value_s: float

    def build_sampler(self, rng: random.Random) -> Callable[[], float]:
        value = self.value_s
        return lambda: value


@dataclass(frozen=True, slots=True)
class Uniform:
    low_s: float
    high_s: float

    def build_sampler(self, rng: random.Random) -> Callable[[], float]:
        return partial(rng.uniform, self.low_s, self.high_s)


@dataclass(frozen=True, slots=True)
class Triangular:
    low_s: float
    mode_s: float
    high_s: float

    def build_sampler(self, rng: random.Random) -> Callable[[], float]:
        return partial(rng.triangular, self.low_s, self.high_s, self.mode_s)


@dataclass(frozen=True, slots=True)
class Exponential:
    mean_s: float

    def build_sampler(self, rng: random.Random) -> Callable[[], float]:
        return partial(rng.expovariate, 1.0 / self.mean_s)


Duration = Fixed | Uniform | Triangular | Exponential


@dataclass(frozen=True, slots=True)
class StationConfig:
    """Parameters of one swap station. Defaults: domain-facts sections 1.3 and 8 (estimates).

    `charger_power_kw` and the optional per-slot `slot_power_kw` are grid-side limits; a pack
    receives power x efficiency. `packs_per_model[m]` packs of model m (usable energy
    `pack_capacity_kwh[m]`) start in slots 0, 1, ... at `initial_soc`; the rest stay empty.
    """

    bays: int = 1
    slots: int = 18
    charger_power_kw: float = 180.0
    charger_efficiency: float = 0.95
    slot_power_kw: tuple[float, ...] = ()  # overrides charger_power_kw per slot when given
    grid_kva: float = 4000.0
    power_factor: float = 0.95
    aux_load_kw: float = 300.0
    pack_capacity_kwh: tuple[float, ...] = (171.0,)  # usable energy by pack model index
    packs_per_model: tuple[int, ...] = (18,)
    initial_soc: float = 1.0
    charged_soc: float = 0.95  # at or above: the pack counts as charged stock
    taper_knee_soc: float = 0.8  # CC-CV: full power up to here, then linear down
    taper_end_fraction: float = 0.05  # power at 100 % SoC as a fraction of the charger limit
    swap_service: Duration = field(default_factory=lambda: Triangular(180.0, 300.0, 420.0))
    entry_exit: Duration = field(default_factory=lambda: Uniform(120.0, 300.0))
    stock_patience_s: float = 1800.0  # a truck in a bay waits this long for charged packs
    metering_interval_s: float = 900.0  # grid power series resolution
    day_offset_s: float = 0.0  # local time of day at simulation time 0
    hourly_price_cny_per_kwh: tuple[float, ...] = ()  # tariff hint for schedulers: 24 or none

    @property
    def grid_cap_kw(self) -> float:
        """Active power available for charging: kVA x power factor minus auxiliary load."""
        return self.grid_kva * self.power_factor - self.aux_load_kw

    @property
    def slot_limits_kw(self) -> tuple[float, ...]:
        return self.slot_power_kw or (self.charger_power_kw,) * self.slots

    def check(self) -> None:
        """Raise ValueError naming the first inconsistent field."""
        if self.bays < 1:
            raise ValueError(f"bays must be >= 1, got {self.bays}")
        if self.slot_power_kw and len(self.slot_power_kw) != self.slots:
            raise ValueError(f"slot_power_kw needs {self.slots} entries")
        if any(not p > 0.0 for p in self.slot_limits_kw):
            raise ValueError("every charger limit must be > 0 kW")
        if not 0.0 < self.charger_efficiency <= 1.0:
            raise ValueError("charger_efficiency must be in (0, 1]")
        if self.grid_cap_kw < 0.0:
            raise ValueError("grid cap (kVA x PF - aux) is negative")
        if len(self.pack_capacity_kwh) != len(self.packs_per_model):
            raise ValueError("pack_capacity_kwh and packs_per_model must have equal lengths")
        if any(not c > 0.0 for c in self.pack_capacity_kwh):
            raise ValueError("pack capacities must be > 0 kWh")
        if sum(self.packs_per_model) > self.slots or min(self.packs_per_model, default=0) < 0:
            raise ValueError("packs_per_model must be >= 0 and sum to at most `slots`")
        if not 0.0 <= self.initial_soc <= 1.0 or not 0.0 <= self.charged_soc <= 1.0:
            raise ValueError("initial_soc and charged_soc must be in [0, 1]")
        if not 0.0 < self.taper_knee_soc < 1.0 or not 0.0 < self.taper_end_fraction <= 1.0:
            raise ValueError("taper_knee_soc must be in (0, 1), taper_end_fraction in (0, 1]")
        if self.hourly_price_cny_per_kwh and len(self.hourly_price_cny_per_kwh) != 24:
            raise ValueError("hourly_price_cny_per_kwh needs 24 entries or none")
        if not self.metering_interval_s > 0.0 or self.stock_patience_s < 0.0:
            raise ValueError("metering_interval_s must be > 0, stock_patience_s >= 0")


# --- CC-CV charging physics ----------------------------------------------------------------
# Grid-side power at SoC s under setpoint p and charger limit L is min(p, L, L*(alpha - beta*s))
# for s < 1, and 0 when full; alpha - beta*s is 1 at the knee and the end fraction at s = 1.
# In the constant part SoC rises linearly; in the taper part (alpha - beta*s) decays
# exponentially, so both SoC at a time and time to a SoC have closed forms.


def taper_coefficients(knee_soc: float, end_fraction: float) -> tuple[float, float]:
    """(alpha, beta) of the taper line alpha - beta*soc through (knee, 1) and (1, end_fraction)."""
    beta = (1.0 - end_fraction) / (1.0 - knee_soc)
    return 1.0 + beta * knee_soc, beta


def soc_after(
    soc0: float,
    dt_s: float,
    setpoint_kw: float,
    limit_kw: float,
    efficiency: float,
    capacity_kwh: float,
    alpha: float,
    beta: float,
    end_fraction: float,
) -> float:
    """SoC after charging `dt_s` seconds from `soc0` at a grid-side setpoint, taper included."""
    if soc0 >= 1.0 or setpoint_kw <= 0.0 or dt_s <= 0.0:
        return soc0
    q = setpoint_kw if setpoint_kw < limit_kw else limit_kw
    s_x = (alpha - q / limit_kw) / beta  # where the taper starts to bind
    if s_x > 1.0:
        s_x = 1.0
    if soc0 < s_x:
        rate = efficiency * q / (capacity_kwh * 3600.0)
        t1 = (s_x - soc0) / rate
        if dt_s <= t1:
            return soc0 + rate * dt_s
        if s_x >= 1.0:
            return 1.0
        dt_s -= t1
        u = alpha - beta * s_x
    else:
        u = alpha - beta * soc0
    u *= math.exp(-efficiency * limit_kw * beta / (capacity_kwh * 3600.0) * dt_s)
    if u <= end_fraction:
        return 1.0
    return (alpha - u) / beta


def seconds_to_soc(
    soc0: float,
    target_soc: float,
    setpoint_kw: float,
    limit_kw: float,
    efficiency: float,
    capacity_kwh: float,
    alpha: float,
    beta: float,
) -> float:
    """Seconds to charge from `soc0` to `target_soc` (<= 1) at a setpoint; inf if never."""
    if target_soc <= soc0:
        return 0.0
    if setpoint_kw <= 0.0:
        return math.inf
    q = setpoint_kw if setpoint_kw < limit_kw else limit_kw
    s_x = (alpha - q / limit_kw) / beta
    if s_x > 1.0:
        s_x = 1.0
    rate = efficiency * q / (capacity_kwh * 3600.0)
    if target_soc <= s_x:
        return (target_soc - soc0) / rate
    t1 = 0.0
    if soc0 < s_x:
        t1 = (s_x - soc0) / rate
        soc0 = s_x
    k = efficiency * limit_kw * beta / (capacity_kwh * 3600.0)
    return t1 + math.log((alpha - beta * soc0) / (alpha - beta * target_soc)) / k


# --- Outputs -------------------------------------------------------------------------------


@final
class Departure:
    """What the caller's callback receives when a truck leaves the station (read-only by
    convention; a plain slotted class because one is built per truck, on the hot path)."""

    __slots__ = (
        "pack_model_idx",
        "pack_serials",
        "queue_wait_s",
        "soc_out",
        "stock_wait_s",
        "time_s",
        "truck_idx",
        "wasted",
    )

    def __init__(
        self,
        time_s: float,
        truck_idx: int,
        pack_model_idx: int,
        wasted: WastedTrip | None,
        pack_serials: tuple[int, ...],
        soc_out: tuple[float, ...],
        queue_wait_s: float,
        stock_wait_s: float,
    ) -> None:
        self.time_s = time_s
        self.truck_idx = truck_idx
        self.pack_model_idx = pack_model_idx
        self.wasted = wasted  # None when the truck swapped
        self.pack_serials = pack_serials  # packs the truck leaves with (its own when wasted)
        self.soc_out = soc_out  # their SoC
        self.queue_wait_s = queue_wait_s  # arrival to bay
        self.stock_wait_s = stock_wait_s  # in the bay, waiting for charged packs

    def __repr__(self) -> str:
        return (
            f"Departure(time_s={self.time_s!r}, truck_idx={self.truck_idx!r}, "
            f"wasted={self.wasted!r}, pack_serials={self.pack_serials!r})"
        )


DepartureCallback = Callable[[Departure], object]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of `values` with linear interpolation; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class StationKpis:
    """KPIs of one station from time 0 to `elapsed_s`; `to_dict` is JSON-ready."""

    elapsed_s: float
    arrivals: int
    swaps: int  # trucks served
    packs_swapped: int
    wasted_trips: dict[str, int]  # by WastedTrip value
    queue_waits_s: tuple[float, ...]  # arrival to bay, every truck that reached a bay
    stock_waits_s: tuple[float, ...]  # in the bay for packs, every truck that reached a bay
    bay_busy_s: float
    bay_utilisation: float
    charger_busy_s: float  # slot-seconds spent drawing power
    charger_utilisation: float
    pack_count: int
    pack_turnover_per_day: float  # packs swapped out per pack on site per day
    grid_energy_kwh: float
    pack_energy_kwh: float  # energy into packs
    peak_kw: float  # highest mean grid power over one metering interval
    grid_kw_by_interval: tuple[float, ...]  # mean grid power per metering interval
    metering_interval_s: float
    queue_length_area_s: float  # integral of the queue length over time
    in_station_area_s: float  # integral of trucks queued or in a bay over time
    time_in_station_s: float  # summed over trucks that left

    @property
    def mean_queue_wait_s(self) -> float:
        w = self.queue_waits_s
        return sum(w) / len(w) if w else math.nan

    @property
    def p50_queue_wait_s(self) -> float:
        return percentile(self.queue_waits_s, 0.5)

    @property
    def p95_queue_wait_s(self) -> float:
        return percentile(self.queue_waits_s, 0.95)

    @property
    def max_queue_wait_s(self) -> float:
        return max(self.queue_waits_s, default=math.nan)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def __reduce__(self) -> tuple[type[StationKpis], tuple[Any, ...]]:
        """Pickle by constructor arguments (worker processes send KPIs back): this also works
        when the module is compiled with mypyc, whose frozen classes refuse attribute setting."""
        return (StationKpis, tuple(getattr(self, n) for n in self.__dataclass_fields__))


# --- The station ---------------------------------------------------------------------------


class _Visit:
    """One truck's stay; lives only while the truck is at the station."""

    __slots__ = (
        "callback",
        "entry_s",
        "exit_s",
        "model",
        "n_packs",
        "reserved",
        "serials_in",
        "service_s",
        "soc_in",
        "stock_wait_s",
        "t_arrive",
        "t_seize",
        "truck_idx",
    )

    def __init__(
        self,
        truck_idx: int,
        model: int,
        n_packs: int,
        soc_in: float,
        serials_in: tuple[int, ...],
        callback: DepartureCallback,
        t_arrive: float,
    ) -> None:
        self.truck_idx = truck_idx
        self.model = model
        self.n_packs = n_packs
        self.soc_in = soc_in
        self.serials_in = serials_in
        self.callback = callback
        self.t_arrive = t_arrive
        self.t_seize = 0.0
        self.entry_s = 0.0
        self.exit_s = 0.0
        self.service_s = 0.0
        self.stock_wait_s = 0.0
        self.reserved: list[int] = []


class SwapStation:
    """A swap station on a shared `EventLoop`, charging as its `Scheduler` decides.

    Every pack on site sits in a charger slot; a swap hands a truck's packs to the slots its
    charged packs leave, so packs are never created or destroyed. `pack_serials` of initial packs
    are `first_serial`, `first_serial + 1`, ...; packs a caller does not name carry serial -1.
    """

    def __init__(
        self,
        loop: EventLoop,
        config: StationConfig,
        scheduler: Scheduler,
        rng: random.Random,
        *,
        first_serial: int = 0,
    ) -> None:
        config.check()
        self.loop = loop
        self.config = config
        self.scheduler = scheduler
        self._draw_service = config.swap_service.build_sampler(rng)
        self._draw_overhead = config.entry_exit.build_sampler(rng)
        self._alpha, self._beta = taper_coefficients(
            config.taper_knee_soc, config.taper_end_fraction
        )
        self._end = config.taper_end_fraction
        self._theta = config.charged_soc
        self._grid_cap_kw = config.grid_cap_kw
        self._meter_s = config.metering_interval_s
        n_models = len(config.pack_capacity_kwh)
        n = config.slots
        self._lim: list[float] = list(config.slot_limits_kw)
        self._eff: list[float] = [config.charger_efficiency] * n
        # Per-slot pack and charging segment: the pack's SoC was _soc[i] at time _t0[i] and has
        # been charging at setpoint _p[i] since.
        self._model: list[int] = [-1] * n
        self._cap: list[float] = [0.0] * n
        self._serial: list[int] = [-1] * n
        self._soc: list[float] = [0.0] * n
        self._t0: list[float] = [loop.now] * n
        self._p: list[float] = [0.0] * n
        self._charged: list[bool] = [False] * n
        self._reserved: list[bool] = [False] * n
        self._stock: list[deque[int]] = [deque() for _ in range(n_models)]
        # Packs not yet charged whose setpoint will get them there, per model, as entries
        # (time they reach charged_soc, sequence, slot) sorted by time then sequence. They join
        # the stock when someone looks (`_promote`), not by an event each.
        self._pending: list[list[tuple[float, int, int]]] = [[] for _ in range(n_models)]
        self._pending_entry: list[tuple[float, int, int] | None] = [None] * n
        self._pending_seq = 0
        self._packs_of_model: list[int] = list(config.packs_per_model)
        slot = 0
        for m, count in enumerate(config.packs_per_model):
            for _ in range(count):
                self._model[slot] = m
                self._cap[slot] = config.pack_capacity_kwh[m]
                self._serial[slot] = first_serial + slot
                self._soc[slot] = config.initial_soc
                if config.initial_soc >= self._theta:
                    self._charged[slot] = True
                    self._stock[m].append(slot)
                slot += 1
        self.pack_count = slot
        self._initial_pack_kwh = self.rack_energy_kwh()
        # Bays and trucks.
        self._bays_free = config.bays
        self._queue: deque[_Visit] = deque()
        self._waiting: list[deque[_Visit]] = [deque() for _ in range(n_models)]
        # One wake-up per model while trucks wait for its packs: when the head truck's packs
        # are charged or its patience runs out, whichever comes first.
        self._wake_handle: list[int] = [-1] * n_models
        self._wake_at: list[float] = [math.inf] * n_models
        # KPI accumulators.
        self._t_start = loop.now
        self._arrivals = 0
        self._swaps = 0
        self._packs_swapped = 0
        self._wasted: dict[str, int] = {}
        self._queue_waits: list[float] = []
        self._stock_waits: list[float] = []
        self._bay_busy_s = 0.0
        self._in_bay = 0
        self._in_bay_seize_sum = 0.0
        self._area_t = loop.now
        self._queue_area = 0.0
        self._system_area = 0.0
        self._in_system = 0
        self._time_in_station = 0.0
        self._charger_busy_s = 0.0
        self._grid_kwh = 0.0
        self._pack_kwh = 0.0
        self._meter = GridMeter(self._meter_s, self._alpha, self._beta, self._end)
        self._pieces = self._meter.pieces
        # Trucks on their way that said so (booked swaps): truck -> (eta, model, packs).
        self._announced: dict[int, tuple[float, int, int]] = {}
        # Decisions.
        self._decision_at = math.inf
        self._decision_handle = -1
        self._request_decision()

    # --- trucks -----------------------------------------------------------------------------

    def announce(self, truck_idx: int, eta_s: float, pack_model_idx: int, n_packs: int) -> None:
        """A truck says it is on its way (a booked swap); schedulers see it in the snapshot
        until the truck arrives or withdraws. Changes nothing else in the station."""
        self._announced[truck_idx] = (eta_s, pack_model_idx, n_packs)

    def withdraw(self, truck_idx: int) -> None:
        """Forget a truck's announcement (it arrived or changed its plan)."""
        self._announced.pop(truck_idx, None)

    def announced_arrivals(self) -> tuple[tuple[float, int, int], ...]:
        """(expected arrival time_s, pack model index, packs) of announced trucks, earliest
        first."""
        return tuple(sorted(self._announced.values()))

    @property
    def trucks_on_site(self) -> int:
        """Trucks queued for a bay or in one."""
        return self._in_system

    def arrive(
        self,
        t_s: float,
        truck_idx: int,
        pack_model_idx: int,
        n_packs: int,
        soc_in: float,
        callback: DepartureCallback,
        pack_serials: tuple[int, ...] | None = None,
    ) -> None:
        """A truck with `n_packs` packs of one model at `soc_in` arrives at `t_s` (>= now).

        `callback(Departure)` fires when it leaves, swapped or not.
        """
        if not 0.0 <= soc_in <= 1.0:
            raise ValueError(f"soc_in must be in [0, 1], got {soc_in}")
        if n_packs < 1:
            raise ValueError(f"a truck needs at least one pack, got {n_packs}")
        if not 0 <= pack_model_idx < len(self._stock):
            raise ValueError(f"unknown pack model index {pack_model_idx}")
        serials = pack_serials if pack_serials is not None else (-1,) * n_packs
        if len(serials) != n_packs:
            raise ValueError(f"{len(serials)} pack serials for {n_packs} packs")
        visit = _Visit(truck_idx, pack_model_idx, n_packs, soc_in, serials, callback, t_s)
        self._announced.pop(truck_idx, None)
        if t_s > self.loop.now:
            self.loop.schedule_at(t_s, self._on_arrival, visit)
        else:
            self._on_arrival(visit)

    def _advance_areas(self, now: float) -> None:
        dt = now - self._area_t
        if dt > 0.0:
            self._queue_area += len(self._queue) * dt
            self._system_area += self._in_system * dt
            self._area_t = now

    def _on_arrival(self, visit: _Visit) -> None:
        now = self.loop.now
        self._arrivals += 1
        if self._packs_of_model[visit.model] < visit.n_packs:
            self._leave_unserved(visit, WastedTrip.NO_SUCH_PACKS, now)
            return
        self._advance_areas(now)
        self._in_system += 1
        if self._bays_free and not self._queue:
            self._seize(visit, now)
        else:
            self._queue.append(visit)

    def _seize(self, visit: _Visit, now: float) -> None:
        self._bays_free -= 1
        self._in_bay += 1
        self._in_bay_seize_sum += now
        visit.t_seize = now
        self._queue_waits.append(now - visit.t_arrive)
        overhead = self._draw_overhead()
        visit.entry_s = visit.exit_s = 0.5 * overhead
        visit.service_s = self._draw_service()
        m = visit.model
        waiting = self._waiting[m]
        if not waiting:
            stock = self._stock[m]
            if self._pending[m]:
                self._promote(m, now)
            if len(stock) >= visit.n_packs:
                self._reserve(visit, stock)
                self._stock_waits.append(0.0)
                self.loop.schedule_at(
                    now + visit.entry_s + visit.service_s, self._on_swapped, visit
                )
                return
            waiting.append(visit)
            self._arm_wake(m)
        else:
            waiting.append(visit)

    def _reserve(self, visit: _Visit, stock: deque[int]) -> None:
        reserved = visit.reserved
        flags = self._reserved
        for _ in range(visit.n_packs):
            i = stock.popleft()  # the pack charged longest ago goes first
            flags[i] = True
            reserved.append(i)

    def _serve_waiting(self, m: int) -> None:
        """Serve, in order, the trucks in bays waiting for packs of model m; send away those whose
        patience ran out; then arm the wake-up for the next one."""
        waiting = self._waiting[m]
        stock = self._stock[m]
        now = self.loop.now
        patience_s = self.config.stock_patience_s
        self._promote(m, now)
        while waiting:
            visit = waiting[0]
            if len(stock) >= visit.n_packs:
                waiting.popleft()
                self._reserve(visit, stock)
                visit.stock_wait_s = now - visit.t_seize
                self._stock_waits.append(visit.stock_wait_s)
                start = max(now, visit.t_seize + visit.entry_s)
                self.loop.schedule_at(start + visit.service_s, self._on_swapped, visit)
            elif visit.t_seize + patience_s <= now:
                waiting.popleft()
                self._stock_waits.append(now - visit.t_seize)
                self._release_bay(visit, now)
                self._leave_unserved(visit, WastedTrip.STOCK_OUT, now, counted=True)
            else:
                break
        self._arm_wake(m)

    def _arm_wake(self, m: int) -> None:
        """(Re)schedule model m's wake-up for its head waiting truck, or drop it when none waits."""
        waiting = self._waiting[m]
        at = math.inf
        if waiting:
            head = waiting[0]
            at = head.t_seize + self.config.stock_patience_s
            need = head.n_packs - len(self._stock[m])
            pending = self._pending[m]
            if need <= 0:
                at = self.loop.now
            elif need <= len(pending) and pending[need - 1][0] < at:
                at = pending[need - 1][0]
        if at == self._wake_at[m]:
            return
        if self._wake_handle[m] >= 0:
            self.loop.cancel(self._wake_handle[m])
        self._wake_at[m] = at
        self._wake_handle[m] = self.loop.schedule_at(at, self._on_wake, m) if at != math.inf else -1

    def _on_wake(self, m: int) -> None:
        self._wake_handle[m] = -1
        self._wake_at[m] = math.inf
        self._serve_waiting(m)

    def _on_swapped(self, visit: _Visit) -> None:
        """End of the robot cycle: charged packs leave their slots, the truck's packs dock."""
        now = self.loop.now
        soc = self._soc
        serial = self._serial
        flags = self._reserved
        soc_in = visit.soc_in
        m = visit.model
        reserved = visit.reserved
        self._settle_slots(reserved, now)
        soc_out = tuple([soc[i] for i in reserved])
        serials_out = tuple([serial[i] for i in reserved])
        for i, s in zip(reserved, visit.serials_in, strict=True):
            serial[i] = s
            soc[i] = soc_in
            flags[i] = False
        replan = False
        if soc_in >= self._theta:
            if self._pending[m]:
                self._promote(m, now)  # packs charged earlier keep their place in the stock
            self._stock[m].extend(reserved)
        else:
            charged = self._charged
            for i in reserved:
                charged[i] = False
            self._track_slots(reserved, now)
            taper = self._alpha - self._beta * soc_in
            accept = (taper if taper < 1.0 else 1.0) * (1.0 - _TOL)
            lim = self._lim
            p = self._p
            replan = any(p[i] < lim[i] * accept for i in reserved)
        visit.serials_in = serials_out
        visit.soc_in = 0.0
        visit.reserved = []
        self.loop.schedule_at(now + visit.exit_s, self._on_departed, visit, soc_out)
        if self._waiting[m]:
            self._serve_waiting(m)
        if replan:
            self._request_decision()

    def _on_departed(self, visit: _Visit, soc_out: tuple[float, ...]) -> None:
        now = self.loop.now
        self._swaps += 1
        self._packs_swapped += visit.n_packs
        self._release_bay(visit, now)
        visit.callback(
            Departure(
                now,
                visit.truck_idx,
                visit.model,
                None,
                visit.serials_in,
                soc_out,
                visit.t_seize - visit.t_arrive,
                visit.stock_wait_s,
            )
        )

    def _leave_unserved(
        self, visit: _Visit, reason: WastedTrip, now: float, *, counted: bool = False
    ) -> None:
        self._wasted[reason.value] = self._wasted.get(reason.value, 0) + 1
        queue_wait = visit.t_seize - visit.t_arrive if counted else 0.0
        stock_wait = now - visit.t_seize if counted else 0.0
        visit.callback(
            Departure(
                now,
                visit.truck_idx,
                visit.model,
                reason,
                visit.serials_in,
                (visit.soc_in,) * visit.n_packs,
                queue_wait,
                stock_wait,
            )
        )

    def _release_bay(self, visit: _Visit, now: float) -> None:
        self._advance_areas(now)
        self._in_system -= 1
        self._time_in_station += now - visit.t_arrive
        self._bays_free += 1
        self._in_bay -= 1
        self._in_bay_seize_sum -= visit.t_seize
        self._bay_busy_s += now - visit.t_seize
        if self._queue:
            self._seize(self._queue.popleft(), now)

    # --- charging ---------------------------------------------------------------------------

    def _accept_kw(self, i: int, soc: float) -> float:
        """Most grid-side power the pack in slot i can take at `soc` (CC-CV taper)."""
        if self._model[i] < 0 or soc >= 1.0:
            return 0.0
        taper = self._alpha - self._beta * soc
        return self._lim[i] * (taper if taper < 1.0 else 1.0)

    def _track_slots(self, slots: Iterable[int], now: float) -> None:
        """Re-enter the uncharged packs in `slots` (settled at `now`) among the pending packs at
        the time their setpoints get them to charged_soc (not at all when they never do)."""
        soc, p, lim, eff, cap = self._soc, self._p, self._lim, self._eff, self._cap
        entries = self._pending_entry
        last: tuple[float, ...] = ()
        dt = math.inf
        for i in slots:
            pending = self._pending[self._model[i]]
            old = entries[i]
            if old is not None:
                pending.remove(old)
            # Packs docked together on equal chargers share one closed-form result.
            key = (soc[i], p[i], lim[i], eff[i], cap[i])
            if key != last:
                last = key
                dt = seconds_to_soc(
                    soc[i], self._theta, p[i], lim[i], eff[i], cap[i], self._alpha, self._beta
                )
            if dt == math.inf:
                entries[i] = None
                continue
            entry = (now + dt, self._pending_seq, i)
            self._pending_seq += 1
            entries[i] = entry
            insort(pending, entry)

    def _promote(self, m: int, now: float) -> None:
        """Packs of model m that reached charged_soc by `now` join the stock, earliest first."""
        pending = self._pending[m]
        stock = self._stock[m]
        while pending and pending[0][0] <= now:
            i = pending.pop(0)[2]
            self._pending_entry[i] = None
            self._charged[i] = True
            stock.append(i)

    def _settle_slots(self, slots: Iterable[int], t: float) -> None:
        """Book the charging of `slots` from their segment starts to `t` and restart their
        segments at `t`.

        Consecutive slots in the same state (the lot a truck docked together, on equal chargers)
        share one closed-form result and one piece record whose pack count grows.
        """
        t0s, socs, ps, model = self._t0, self._soc, self._p, self._model
        caps, lims, effs = self._cap, self._lim, self._eff
        alpha, beta, end = self._alpha, self._beta, self._end
        pieces = self._pieces
        busy_s = self._charger_busy_s
        pack_total = self._pack_kwh
        grid_total = self._grid_kwh
        last: tuple[float, float, float, float, float, float] | None = None
        s1 = t1 = 0.0
        for i in slots:
            t0 = t0s[i]
            if t <= t0:
                continue
            t0s[i] = t
            p = ps[i]
            s0 = socs[i]
            if p <= 0.0 or s0 >= 1.0 or model[i] < 0:
                continue
            cap, lim, eff = caps[i], lims[i], effs[i]
            key = (t0, s0, p, lim, eff, cap)
            if key == last:
                pieces[-1] += 1.0  # one more pack of the lot
            else:
                last = key
                q = p if p < lim else lim
                s1 = soc_after(s0, t - t0, q, lim, eff, cap, alpha, beta, end)
                t1 = t
                if s1 >= 1.0:  # the charger went idle when the pack became full
                    t_full = t0 + seconds_to_soc(s0, 1.0, q, lim, eff, cap, alpha, beta)
                    if t_full < t:
                        t1 = t_full
                pieces.extend((t0, t1, s0, s1, q, lim, eff, cap, 1.0))
            socs[i] = s1
            busy_s += t1 - t0
            pack_kwh = (s1 - s0) * cap
            pack_total += pack_kwh
            grid_total += pack_kwh / eff
        self._charger_busy_s = busy_s
        self._pack_kwh = pack_total
        self._grid_kwh = grid_total
        if len(pieces) >= FOLD_AT:
            self._meter.fold()

    def settle(self) -> None:
        """Book every slot's charging up to now and move packs that are charged by now into the
        stock (KPIs and snapshots call this)."""
        now = self.loop.now
        self._settle_slots(range(len(self._t0)), now)
        for m in range(len(self._stock)):
            self._promote(m, now)

    def _request_decision(self) -> None:
        now = self.loop.now
        if self._decision_at <= now:
            return
        if self._decision_handle >= 0:
            self.loop.cancel(self._decision_handle)
        self._decision_at = now
        self._decision_handle = self.loop.schedule_at(now, self._decide, priority=LATE)

    def snapshot(self) -> StationSnapshot:
        """The station's charging state now, as a scheduler sees it."""
        self.settle()
        now = self.loop.now
        soc = self._soc
        cfg = self.config
        n = len(soc)
        return StationSnapshot(
            time_s=now,
            time_of_day_s=(now + cfg.day_offset_s) % SECONDS_PER_DAY,
            grid_cap_kw=self._grid_cap_kw,
            slot_max_power_kw=tuple(self._lim),
            slot_efficiency=tuple(self._eff),
            slot_pack_model=tuple(self._model),
            slot_energy_kwh=tuple(soc[i] * self._cap[i] for i in range(n)),
            slot_capacity_kwh=tuple(self._cap),
            slot_accept_kw=tuple(self._accept_kw(i, soc[i]) for i in range(n)),
            slot_reserved=tuple(self._reserved),
            charged_soc=self._theta,
            charged_stock=tuple(len(s) for s in self._stock),
            trucks_queued=len(self._queue),
            trucks_waiting_for_packs=tuple(len(w) for w in self._waiting),
            hourly_price_cny_per_kwh=cfg.hourly_price_cny_per_kwh,
            announced_arrivals=self.announced_arrivals(),
        )

    def _decide(self) -> None:
        self._decision_handle = -1
        snapshot = self.snapshot()
        plan = self.scheduler.plan(snapshot)
        self._check_plan(plan, snapshot)
        now = snapshot.time_s
        p = self._p
        changed = []
        for i, new in enumerate(plan.setpoints_kw):
            if new == p[i]:
                continue
            p[i] = new
            if self._model[i] >= 0 and not self._charged[i]:
                changed.append(i)
        self._track_slots(changed, now)
        for m, waiting in enumerate(self._waiting):
            if waiting:
                self._arm_wake(m)
        self._decision_at = plan.valid_until_s
        if plan.valid_until_s != math.inf:
            self._decision_handle = self.loop.schedule_at(
                plan.valid_until_s, self._decide, priority=LATE
            )

    def _check_plan(self, plan: ChargingPlan, snapshot: StationSnapshot) -> None:
        setpoints = plan.setpoints_kw
        who = type(self.scheduler).__name__
        if len(setpoints) != len(self._lim):
            raise PlanRejectedError(
                f"{who} planned {len(setpoints)} slots, station has {len(self._lim)}"
            )
        if not plan.valid_until_s > snapshot.time_s:
            raise PlanRejectedError(
                f"{who} plan valid until {plan.valid_until_s} <= now {snapshot.time_s}"
            )
        for i, sp in enumerate(setpoints):
            if not 0.0 <= sp <= self._lim[i] * (1.0 + _TOL):
                raise PlanRejectedError(f"{who} set slot {i} to {sp} kW (limit {self._lim[i]} kW)")
        total = math.fsum(setpoints)
        if total > self._grid_cap_kw * (1.0 + _TOL) + _TOL:
            raise PlanRejectedError(
                f"{who} planned {total} kW over the {self._grid_cap_kw} kW grid cap"
            )

    # --- readout ----------------------------------------------------------------------------

    def slot_power_kw(self, i: int) -> float:
        """Grid-side power slot i draws at this instant."""
        p = self._p[i]
        if p <= 0.0 or self._model[i] < 0:
            return 0.0
        soc = soc_after(
            self._soc[i],
            self.loop.now - self._t0[i],
            p,
            self._lim[i],
            self._eff[i],
            self._cap[i],
            self._alpha,
            self._beta,
            self._end,
        )
        accept = self._accept_kw(i, soc)
        return min(p, accept)

    def grid_power_kw(self) -> float:
        """Grid-side charging power of the whole station at this instant."""
        return sum(self.slot_power_kw(i) for i in range(len(self._p)))

    def rack_energy_kwh(self) -> float:
        """Energy in the packs on site as of their last settlement (call `settle` first)."""
        return math.fsum(self._soc[i] * self._cap[i] for i in range(len(self._soc)))

    def pack_serials(self) -> tuple[int, ...]:
        """Serials of the packs on site, by slot (-1 for an empty slot or an unnamed pack)."""
        return tuple(s if m >= 0 else -1 for s, m in zip(self._serial, self._model, strict=True))

    def charged_stock(self) -> tuple[int, ...]:
        """Charged, unpromised packs by pack model index."""
        now = self.loop.now
        for m in range(len(self._stock)):
            self._promote(m, now)
        return tuple(len(s) for s in self._stock)

    def kpis(self) -> StationKpis:
        """KPIs from the start to now (settles charging; trucks still on site count as busy)."""
        self.settle()
        now = self.loop.now
        self._advance_areas(now)
        elapsed = now - self._t_start
        bay_busy = self._bay_busy_s + self._in_bay * now - self._in_bay_seize_sum
        width = self._meter_s
        n_intervals = math.ceil(elapsed / width) if elapsed > 0 else 0
        series = tuple((self._meter.kwh_by_interval(n_intervals) * 3600.0 / width).tolist())
        days = elapsed / SECONDS_PER_DAY
        slots = len(self._lim)
        return StationKpis(
            elapsed_s=elapsed,
            arrivals=self._arrivals,
            swaps=self._swaps,
            packs_swapped=self._packs_swapped,
            wasted_trips=dict(sorted(self._wasted.items())),
            queue_waits_s=tuple(self._queue_waits),
            stock_waits_s=tuple(self._stock_waits),
            bay_busy_s=bay_busy,
            bay_utilisation=bay_busy / (self.config.bays * elapsed) if elapsed > 0 else 0.0,
            charger_busy_s=self._charger_busy_s,
            charger_utilisation=self._charger_busy_s / (slots * elapsed) if elapsed > 0 else 0.0,
            pack_count=self.pack_count,
            pack_turnover_per_day=(
                self._packs_swapped / self.pack_count / days
                if days > 0 and self.pack_count
                else 0.0
            ),
            grid_energy_kwh=self._grid_kwh,
            pack_energy_kwh=self._pack_kwh,
            peak_kw=max(series, default=0.0),
            grid_kw_by_interval=series,
            metering_interval_s=width,
            queue_length_area_s=self._queue_area,
            in_station_area_s=self._system_area,
            time_in_station_s=self._time_in_station,
        )
