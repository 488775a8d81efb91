"""Rule-based charging baselines that implement `domain.planning.Scheduler`.

`ChargeAtOnce` charges every pack as fast as chargers and the grid cap allow; `TimeOfUse`
charges in valley hours and, outside them, only as many packs as the demand forecast needs
before the next valley. Both keep the sum of setpoints within the grid cap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

from openswap.domain.planning import ChargingPlan, StationSnapshot

_HOUR_S = 3600.0
_DAY_S = 86_400.0


class CapSharing(StrEnum):
    """How power is divided among packs when their demand exceeds the grid cap."""

    FAIR = "fair"  # water-filling: equal shares, a pack's unused share goes to the others
    MOST_CHARGED_FIRST = "most_charged_first"  # fills packs nearest to full first: stock sooner
    LEAST_CHARGED_FIRST = "least_charged_first"  # fills the emptiest packs first


def share_cap(
    demand_kw: Sequence[float],
    cap_kw: float,
    sharing: CapSharing,
    soc: Sequence[float],
) -> tuple[float, ...]:
    """Give each slot at most its demand, in total at most `cap_kw`. Ties go to lower slots."""
    if math.fsum(demand_kw) <= cap_kw:
        return tuple(demand_kw)
    n = len(demand_kw)
    out = [0.0] * n
    remaining = cap_kw
    if sharing is CapSharing.FAIR:
        order = sorted(range(n), key=lambda i: demand_kw[i])
        for rank, i in enumerate(order):
            give = min(demand_kw[i], remaining / (n - rank))
            out[i] = give
            remaining -= give
    else:
        sign = -1.0 if sharing is CapSharing.MOST_CHARGED_FIRST else 1.0
        for i in sorted(range(n), key=lambda i: sign * soc[i]):
            give = min(demand_kw[i], remaining)
            out[i] = give
            remaining -= give
    # float rounding must never push the sum over the cap
    excess = math.fsum(out) - cap_kw
    if excess > 0.0:
        j = max(range(n), key=lambda i: out[i])
        out[j] = max(0.0, out[j] - excess)
    return tuple(out)


def _slot_soc(snapshot: StationSnapshot) -> list[float]:
    return [
        e / c if c > 0.0 else 0.0
        for e, c in zip(snapshot.slot_energy_kwh, snapshot.slot_capacity_kwh, strict=True)
    ]


class ChargeAtOnce:
    """Charge every pack at once at the most its charger and taper allow, within the grid cap.

    When the chargers together cannot exceed the cap, every slot gets its charger limit and the
    plan never expires (a newly docked pack starts at full power). Otherwise each slot asks for
    what its pack accepts now, the cap is shared per `sharing`, and the plan is revisited every
    `recheck_s` seconds (packs in taper free power for others).
    """

    def __init__(self, sharing: CapSharing = CapSharing.FAIR, recheck_s: float = 900.0) -> None:
        if not recheck_s > 0.0:
            raise ValueError("recheck_s must be > 0")
        self.sharing = sharing
        self.recheck_s = recheck_s

    def plan(self, snapshot: StationSnapshot) -> ChargingPlan:
        limits = snapshot.slot_max_power_kw
        if math.fsum(limits) <= snapshot.grid_cap_kw:
            return ChargingPlan(limits, math.inf)
        setpoints = share_cap(
            snapshot.slot_accept_kw, snapshot.grid_cap_kw, self.sharing, _slot_soc(snapshot)
        )
        return ChargingPlan(setpoints, snapshot.time_s + self.recheck_s)


class TimeOfUse:
    """Charge in valley hours; outside them charge only what demand needs before the next valley.

    `demand_packs_per_hour[m][h]` is the expected number of packs of model m swapped out in
    local hour h. Outside the valley, for each model the policy projects charged stock minus
    expected demand (plus trucks already waiting and `reserve_packs`) up to the next valley
    start; if that falls short by k packs, the k uncharged packs nearest to charged get full
    power and every other pack waits. Valley hours are `valley_hours` or, when None, the hours
    at the snapshot tariff's lowest price (every hour when the station has no tariff).
    """

    def __init__(
        self,
        demand_packs_per_hour: Sequence[Sequence[float]],
        *,
        valley_hours: frozenset[int] | None = None,
        reserve_packs: int = 1,
        recheck_s: float = 900.0,
        sharing: CapSharing = CapSharing.FAIR,
    ) -> None:
        if any(len(row) != 24 for row in demand_packs_per_hour):
            raise ValueError("demand_packs_per_hour needs 24 hourly values per pack model")
        if valley_hours is not None and not valley_hours <= frozenset(range(24)):
            raise ValueError("valley_hours must be local hours 0..23")
        if not recheck_s > 0.0:
            raise ValueError("recheck_s must be > 0")
        self.demand = tuple(tuple(row) for row in demand_packs_per_hour)
        self.valley_hours = valley_hours
        self.reserve_packs = reserve_packs
        self.recheck_s = recheck_s
        self.sharing = sharing

    def _valley(self, snapshot: StationSnapshot) -> frozenset[int]:
        if self.valley_hours is not None:
            return self.valley_hours
        prices = snapshot.hourly_price_cny_per_kwh
        if not prices:
            return frozenset(range(24))
        low = min(prices)
        return frozenset(h for h, p in enumerate(prices) if p == low)

    def plan(self, snapshot: StationSnapshot) -> ChargingPlan:
        valley = self._valley(snapshot)
        tod = snapshot.time_of_day_s
        hour = int(tod // _HOUR_S) % 24
        next_hour_s = snapshot.time_s + (_HOUR_S - tod % _HOUR_S)
        valid_until = min(next_hour_s, snapshot.time_s + self.recheck_s)
        soc = _slot_soc(snapshot)
        accept = snapshot.slot_accept_kw
        if hour in valley:
            demand_kw: Sequence[float] = accept
        else:
            demand_kw = self._needed(snapshot, valley, soc)
        setpoints = share_cap(demand_kw, snapshot.grid_cap_kw, self.sharing, soc)
        return ChargingPlan(setpoints, valid_until)

    def _needed(
        self, snapshot: StationSnapshot, valley: frozenset[int], soc: list[float]
    ) -> list[float]:
        """Full power for just enough packs of each model to cover demand until the valley."""
        demand_kw = [0.0] * snapshot.slot_count
        horizon = self._hourly_overlap(snapshot.time_of_day_s, valley)
        for m, per_hour in enumerate(self.demand):
            if m >= len(snapshot.charged_stock):
                break
            expected = sum(per_hour[h] * frac for h, frac in horizon)
            waiting = snapshot.trucks_waiting_for_packs[m]
            short = expected + waiting + self.reserve_packs - snapshot.charged_stock[m]
            if short <= 0.0:
                continue
            candidates = [
                i
                for i, model in enumerate(snapshot.slot_pack_model)
                if model == m and soc[i] < snapshot.charged_soc and not snapshot.slot_reserved[i]
            ]
            candidates.sort(key=lambda i: -soc[i])  # nearest to charged first; stable on ties
            for i in candidates[: math.ceil(short)]:
                demand_kw[i] = snapshot.slot_accept_kw[i]
        return demand_kw

    @staticmethod
    def _hourly_overlap(time_of_day_s: float, valley: frozenset[int]) -> list[tuple[int, float]]:
        """(hour, fraction of it) from now until the next valley hour starts (at most a day)."""
        out: list[tuple[int, float]] = []
        t = time_of_day_s
        end = time_of_day_s + _DAY_S
        while t < end:
            hour = int(t // _HOUR_S) % 24
            if out and hour in valley:
                break
            boundary = (math.floor(t / _HOUR_S) + 1) * _HOUR_S
            out.append((hour, (min(boundary, end) - t) / _HOUR_S))
            t = boundary
        return out
