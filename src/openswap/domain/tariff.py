"""Time-of-use electricity tariffs: price periods by hour of day and the price at a simulation time.

Simulation time `time_s` is float seconds since local midnight of the scenario's first day (the
scenario starts at midnight); hour h of the day covers [h:00, h+1:00).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from openswap.domain.errors import InputError, Problem
from openswap.domain.specs import Source

SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24
SECONDS_PER_DAY = 86_400.0


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
