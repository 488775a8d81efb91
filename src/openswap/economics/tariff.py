"""What electricity costs: the energy cost of a power time series under a time-of-use tariff
and an optional demand charge. The tariff itself is domain data (`openswap.domain.tariff`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openswap.domain.errors import InputError, Problem
from openswap.domain.tariff import (
    HOURS_PER_DAY,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    TimeOfUseTariff,
)

QUARTER_HOUR_S = 900.0  # metering interval of Chinese grid-company demand meters [estimate]
# Demand charges are billed per calendar month; simulation time has no calendar, so a billing
# month is taken as 30 days and a partial month is charged pro rata. [estimate]
BILLING_MONTH_S = 30 * SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class ElectricityBill:
    """What a power time series costs under a tariff."""

    energy_kwh: float
    energy_cost_cny: float
    peak_demand_kw: float
    demand_charge_cny: float  # 0 when the tariff has no demand charge

    @property
    def total_cny(self) -> float:
        return self.energy_cost_cny + self.demand_charge_cny

    @property
    def average_price_cny_per_kwh(self) -> float:
        """Total cost per kWh; NaN when no energy was drawn."""
        return self.total_cny / self.energy_kwh if self.energy_kwh > 0.0 else math.nan


def energy_cost_cny(
    tariff: TimeOfUseTariff,
    power_kw: npt.ArrayLike,
    step_s: float = QUARTER_HOUR_S,
    start_time_s: float = 0.0,
) -> float:
    """Energy cost in CNY of drawing `power_kw[i]` (kW, >= 0, average over interval i) during
    [start_time_s + i*step_s, start_time_s + (i+1)*step_s).

    Exact for any `step_s` > 0: an interval that straddles a price change is split at the hour.
    """
    power = _check_series(power_kw, step_s, start_time_s)
    edges_s = start_time_s + step_s * np.arange(power.size + 1, dtype=np.float64)
    price_seconds = _cumulative_price_cny_s_per_kwh(tariff, edges_s)
    return float(np.dot(power, np.diff(price_seconds)) / SECONDS_PER_HOUR)


def demand_charge_cny(
    tariff: TimeOfUseTariff,
    power_kw: npt.ArrayLike,
    step_s: float = QUARTER_HOUR_S,
    start_time_s: float = 0.0,
) -> float:
    """Demand charge in CNY for the series: per 30-day billing month from `start_time_s`, the
    month's highest interval power (kW) x the tariff's CNY/kW-month rate, pro rata for a part
    month. 0 when the tariff has no demand charge. `step_s` should be the metering interval
    (15 min) so that `power_kw` holds interval averages as a demand meter sees them.
    """
    power = _check_series(power_kw, step_s, start_time_s)
    rate = tariff.demand_charge_cny_per_kw_month
    if rate is None or power.size == 0:
        return 0.0
    offsets_s = step_s * np.arange(power.size, dtype=np.float64)
    month_index = np.floor(offsets_s / BILLING_MONTH_S).astype(np.int64)
    total_cny = 0.0
    for month in np.unique(month_index):
        in_month = month_index == month
        covered_frac = float(np.count_nonzero(in_month)) * step_s / BILLING_MONTH_S
        total_cny += float(power[in_month].max()) * rate * covered_frac
    return total_cny


def electricity_bill(
    tariff: TimeOfUseTariff,
    power_kw: npt.ArrayLike,
    step_s: float = QUARTER_HOUR_S,
    start_time_s: float = 0.0,
) -> ElectricityBill:
    """Energy, energy cost, peak demand and demand charge of a power series (see
    `energy_cost_cny` and `demand_charge_cny` for units and preconditions)."""
    power = _check_series(power_kw, step_s, start_time_s)
    return ElectricityBill(
        energy_kwh=float(power.sum()) * step_s / SECONDS_PER_HOUR,
        energy_cost_cny=energy_cost_cny(tariff, power, step_s, start_time_s),
        peak_demand_kw=float(power.max()) if power.size else 0.0,
        demand_charge_cny=demand_charge_cny(tariff, power, step_s, start_time_s),
    )


def _cumulative_price_cny_s_per_kwh(
    tariff: TimeOfUseTariff, times_s: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Integral of the price from time 0 to each time, in CNY*s/kWh (piecewise linear)."""
    prices = np.asarray(tariff.hourly_prices_cny_per_kwh, dtype=np.float64)
    at_hour_start = np.concatenate(([0.0], np.cumsum(prices))) * SECONDS_PER_HOUR
    days = np.floor(times_s / SECONDS_PER_DAY)
    into_day_s = times_s - days * SECONDS_PER_DAY
    hour = np.clip((into_day_s // SECONDS_PER_HOUR).astype(np.int64), 0, HOURS_PER_DAY - 1)
    into_hour_s = into_day_s - hour * SECONDS_PER_HOUR
    result: npt.NDArray[np.float64] = (
        days * at_hour_start[-1] + at_hour_start[hour] + prices[hour] * into_hour_s
    )
    return result


def _check_series(
    power_kw: npt.ArrayLike, step_s: float, start_time_s: float
) -> npt.NDArray[np.float64]:
    problems: list[Problem] = []
    power = np.asarray(power_kw, dtype=np.float64)
    if power.ndim != 1:
        problems.append(
            Problem(f"must be one-dimensional, got shape {power.shape}", field="power_kw")
        )
    else:
        bad = np.flatnonzero(~np.isfinite(power) | (power < 0.0))
        if bad.size:
            i = int(bad[0])
            problems.append(
                Problem(
                    f"must be finite and >= 0, got {power[i]!r} ({bad.size} bad values)",
                    field=f"power_kw[{i}]",
                )
            )
    if not (math.isfinite(step_s) and step_s > 0.0):
        problems.append(Problem(f"must be > 0, got {step_s!r}", field="step_s"))
    if not math.isfinite(start_time_s):
        problems.append(Problem(f"must be finite, got {start_time_s!r}", field="start_time_s"))
    if problems:
        raise InputError(problems)
    return power
