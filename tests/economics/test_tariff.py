"""Time-of-use tariff: coverage validation, price lookup, cost of power series, demand charge."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openswap.domain.errors import InputError
from openswap.domain.tariff import (
    FUJIAN_TOU_TARIFF,
    TariffPeriod,
    TimeOfUseTariff,
    check_tariff_periods,
    hour_of_day,
)
from openswap.economics.tariff import demand_charge_cny, electricity_bill, energy_cost_cny

DAY_S = 86_400.0
TWO_BAND = (
    TariffPeriod("day", 1.0, tuple(range(8, 20))),
    TariffPeriod("night", 0.5, (*range(20, 24), *range(8))),
)


def test_fujian_default_is_marked_unverified_and_covers_the_day() -> None:
    assert "UNVERIFIED" in FUJIAN_TOU_TARIFF.name
    assert FUJIAN_TOU_TARIFF.source is not None
    assert FUJIAN_TOU_TARIFF.source.confidence == "weak"
    assert check_tariff_periods(FUJIAN_TOU_TARIFF.periods) == []
    assert sorted(h for p in FUJIAN_TOU_TARIFF.periods for h in p.hours) == list(range(24))


@pytest.mark.parametrize(
    ("time_s", "price"),
    [
        (0.0, 0.348),  # 00:00 valley
        (7 * 3600.0, 0.685),  # 07:00 flat
        (8 * 3600.0 - 1e-6, 0.685),  # just before 08:00
        (8 * 3600.0, 1.097),  # 08:00 peak
        (12 * 3600.0, 0.348),  # midday valley
        (19.5 * 3600.0, 1.294),  # sharp peak
        (22 * 3600.0, 0.685),
        (23.99 * 3600.0, 0.348),
        (DAY_S + 19 * 3600.0, 1.294),  # second day
    ],
)
def test_fujian_price_at_time(time_s: float, price: float) -> None:
    assert FUJIAN_TOU_TARIFF.price_cny_per_kwh_at(time_s) == price


def test_period_at() -> None:
    assert FUJIAN_TOU_TARIFF.period_at(20 * 3600.0).name == "sharp_peak"
    assert hour_of_day(3 * DAY_S + 5 * 3600.0 + 10.0) == 5


def test_missing_and_duplicate_hours_are_reported() -> None:
    periods = (
        TariffPeriod("a", 1.0, tuple(range(12))),
        TariffPeriod("b", 0.5, (11, *range(12, 23))),  # 11 twice, 23 missing
    )
    problems = check_tariff_periods(periods)
    messages = [(p.field, p.message) for p in problems]
    assert ("periods[1].hours", "hour 11 of 'b' is already covered by 'a'") in messages
    assert ("periods", "hours [23] are not covered by any period") in messages
    with pytest.raises(InputError):
        TimeOfUseTariff("bad", periods)


def test_negative_price_and_bad_hour_are_reported() -> None:
    periods = (
        TariffPeriod("a", -0.1, tuple(range(24))),
        TariffPeriod("b", 0.5, (24,)),
    )
    fields = {p.field for p in check_tariff_periods(periods)}
    assert fields == {"periods[0].price_cny_per_kwh", "periods[1].hours"}


def test_negative_demand_charge_is_rejected() -> None:
    with pytest.raises(InputError) as caught:
        TimeOfUseTariff("x", TWO_BAND, demand_charge_cny_per_kw_month=-1.0)
    assert caught.value.problems[0].field == "demand_charge_cny_per_kw_month"


def test_constant_1_mw_for_24_h_costs_the_hand_sum() -> None:
    # 1000 kW x 1 h in each hour: 2 h sharp peak, 7 h peak, 3 h flat, 12 h valley.
    expected = 1000 * (2 * 1.294 + 7 * 1.097 + 3 * 0.685 + 12 * 0.348)
    assert expected == pytest.approx(16_498.0)
    power = np.full(96, 1000.0)
    assert energy_cost_cny(FUJIAN_TOU_TARIFF, power) == pytest.approx(expected, rel=1e-12)
    bill = electricity_bill(FUJIAN_TOU_TARIFF, power)
    assert bill.energy_kwh == pytest.approx(24_000.0)
    assert bill.average_price_cny_per_kwh == pytest.approx(16_498.0 / 24_000.0)
    assert bill.demand_charge_cny == 0.0


def test_intervals_straddling_a_price_change_are_split() -> None:
    # One 1-hour interval from 07:30 to 08:30: half at flat 0.685, half at peak 1.097.
    cost = energy_cost_cny(FUJIAN_TOU_TARIFF, [100.0], step_s=3600.0, start_time_s=7.5 * 3600)
    assert cost == pytest.approx(100 * (0.5 * 0.685 + 0.5 * 1.097))


def test_single_quarter_hour_pays_its_own_price() -> None:
    # 1000 kW during 19:15-19:30 only: 250 kWh at the sharp peak price.
    power = np.zeros(96)
    power[19 * 4 + 1] = 1000.0
    assert energy_cost_cny(FUJIAN_TOU_TARIFF, power) == pytest.approx(250 * 1.294)


def test_cost_over_several_days_with_offset_start() -> None:
    # Three days starting at 06:00 on day 2: the same as three whole days of flat 1 MW.
    power = np.full(3 * 96, 1000.0)
    cost = energy_cost_cny(FUJIAN_TOU_TARIFF, power, start_time_s=DAY_S + 6 * 3600.0)
    assert cost == pytest.approx(3 * 16_498.0, rel=1e-12)


def test_valley_only_charging_pays_valley_price() -> None:
    power = np.zeros(96)
    power[11 * 4 : 15 * 4] = 500.0  # 11:00-15:00 valley
    assert energy_cost_cny(FUJIAN_TOU_TARIFF, power) == pytest.approx(500 * 4 * 0.348)


def test_bad_power_series_names_the_sample() -> None:
    with pytest.raises(InputError) as caught:
        energy_cost_cny(FUJIAN_TOU_TARIFF, [10.0, -1.0, 5.0])
    assert caught.value.problems[0].field == "power_kw[1]"
    with pytest.raises(InputError) as caught:
        energy_cost_cny(FUJIAN_TOU_TARIFF, [10.0], step_s=0.0)
    assert caught.value.problems[0].field == "step_s"
    with pytest.raises(InputError):
        FUJIAN_TOU_TARIFF.price_cny_per_kwh_at(math.nan)


def test_demand_charge_per_billing_month() -> None:
    tariff = TimeOfUseTariff("two-band", TWO_BAND, demand_charge_cny_per_kw_month=30.0)
    # 45 days of 15-minute samples: month 1 peaks at 2000 kW, the half month after at 800 kW.
    power = np.full(45 * 96, 500.0)
    power[100] = 2000.0
    power[30 * 96 + 5] = 800.0
    expected = 2000 * 30.0 + 800 * 30.0 * 0.5
    assert demand_charge_cny(tariff, power) == pytest.approx(expected)
    bill = electricity_bill(tariff, power)
    assert bill.peak_demand_kw == 2000.0
    assert bill.total_cny == pytest.approx(bill.energy_cost_cny + expected)
