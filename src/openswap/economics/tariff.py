"""Time-of-use electricity tariffs: periods by hour of day, prices at a simulation time, the cost
of a power time series and an optional demand charge.

Simulation time `time_s` is float seconds since local midnight of the scenario's first day (the
scenario starts at midnight); hour h of the day covers [h:00, h+1:00).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from openswap.domain.errors import InputError, Problem
from openswap.domain.specs import Source

SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24
SECONDS_PER_DAY = 86_400.0
QUARTER_HOUR_S = 900.0  # metering interval of Chinese grid-company demand meters [estimate]
# Demand charges are billed per calendar month; simulation time has no calendar, so a billing
# month is taken as 30 days and a partial month is charged pro rata. [estimate]
BILLING_MONTH_S = 30 * SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class TariffPeriod:
    """One price band of a time-of-use tariff and the hours of the day (0..23) it applies to."""

    name: str
    price_cny_per_kwh: float
    hours: tuple[int, ...]


def check_tariff_periods(periods: Sequence[TariffPeriod]) -> list[Problem]:
    """Reasons `periods` is not a valid day: every hour 0..23 covered exactly once, prices >= 0.

    Returns an empty list when the periods are valid; each problem names the period field.
    """
    problems: list[Problem] = []
    owner: dict[int, str] = {}
    for index, period in enumerate(periods):
        where = f"periods[{index}]"
        price = period.price_cny_per_kwh
        if not (math.isfinite(price) and price >= 0.0):
            problems.append(
                Problem(f"must be a price >= 0, got {price!r}", field=f"{where}.price_cny_per_kwh")
            )
        for hour in period.hours:
            if not (isinstance(hour, int) and 0 <= hour < HOURS_PER_DAY):
                problems.append(Problem(f"hour {hour!r} is not in 0..23", field=f"{where}.hours"))
            elif hour in owner:
                problems.append(
                    Problem(
                        f"hour {hour} of {period.name!r} is already covered by {owner[hour]!r}",
                        field=f"{where}.hours",
                    )
                )
            else:
                owner[hour] = period.name
    missing = [h for h in range(HOURS_PER_DAY) if h not in owner]
    if missing:
        problems.append(Problem(f"hours {missing} are not covered by any period", field="periods"))
    return problems


@dataclass(frozen=True, slots=True)
class TimeOfUseTariff:
    """A daily time-of-use energy tariff, optionally with a demand charge in CNY per kW-month.

    Construction validates the periods (see `check_tariff_periods`) and the demand charge
    (>= 0) and raises `InputError` naming the field at fault.
    """

    name: str
    periods: tuple[TariffPeriod, ...]
    demand_charge_cny_per_kw_month: float | None = None
    source: Source | None = None
    hourly_prices_cny_per_kwh: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = check_tariff_periods(self.periods)
        rate = self.demand_charge_cny_per_kw_month
        if rate is not None and not (math.isfinite(rate) and rate >= 0.0):
            problems.append(
                Problem(f"must be >= 0, got {rate!r}", field="demand_charge_cny_per_kw_month")
            )
        if problems:
            raise InputError(problems)
        by_hour = [0.0] * HOURS_PER_DAY
        for period in self.periods:
            for hour in period.hours:
                by_hour[hour] = period.price_cny_per_kwh
        object.__setattr__(self, "hourly_prices_cny_per_kwh", tuple(by_hour))

    def price_cny_per_kwh_at(self, time_s: float) -> float:
        """Energy price in CNY/kWh at simulation time `time_s` (finite; any day)."""
        return self.hourly_prices_cny_per_kwh[hour_of_day(time_s)]

    def period_at(self, time_s: float) -> TariffPeriod:
        """The period in force at simulation time `time_s` (finite; any day)."""
        hour = hour_of_day(time_s)
        return next(p for p in self.periods if hour in p.hours)


def hour_of_day(time_s: float) -> int:
    """Hour of the local day (0..23) at simulation time `time_s` (finite seconds)."""
    if not math.isfinite(time_s):
        raise InputError([Problem(f"must be finite, got {time_s!r}", field="time_s")])
    # min() guards the float edge where time_s % day rounds up to a whole day
    return min(int((time_s % SECONDS_PER_DAY) // SECONDS_PER_HOUR), HOURS_PER_DAY - 1)


# Fujian industrial and commercial time-of-use tariff, "2024 edition".
# UNVERIFIED: no official Fujian document was retrieved. The only figures found are an
# open-source code comment "福建省工商业分时电价（2024 版）" whose repository could not be
# identified (domain facts 5.1 and section 8, [weak]). Hour lists follow the comment's stated
# windows. Verify against the State Grid Fujian agency-purchase price notice
# (国网福建省电力有限公司代理购电价格公告) and the Fujian DRC time-of-use notice before publishing.
FUJIAN_TOU_TARIFF = TimeOfUseTariff(
    name="fujian-industrial-tou-2024-UNVERIFIED",
    periods=(
        TariffPeriod("sharp_peak", 1.294, (19, 20)),
        TariffPeriod("peak", 1.097, (8, 9, 10, 15, 16, 17, 18)),
        TariffPeriod("flat", 0.685, (7, 21, 22)),
        TariffPeriod("valley", 0.348, (11, 12, 13, 14, 23, 0, 1, 2, 3, 4, 5, 6)),
    ),
    demand_charge_cny_per_kw_month=None,  # not known for Fujian (domain facts section 10)
    source=Source(
        ref="UNVERIFIED: code comment '福建省工商业分时电价（2024 版）', repository unidentified; "
        "domain facts 5.1 / section 8",
        confidence="weak",
    ),
)


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
