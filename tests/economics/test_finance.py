"""Station finance: payback, NPV and discounted payback against hand computations."""

from __future__ import annotations

import math

import pytest

from openswap.domain.errors import InputError
from openswap.economics.finance import (
    PACK_PRICE_CNY_PER_KWH,
    STATION_CAPEX_CNY,
    STATION_LIFETIME_YEARS,
    SWAP_PRICE_ALL_IN_CNY_PER_KWH,
    StationCase,
    cash_flows_cny,
    discounted_payback_years,
    evaluate_station,
    npv_cny,
    pack_stock_capex_cny,
    simple_payback_years,
)


def test_defaults_follow_domain_facts() -> None:
    assert STATION_CAPEX_CNY == 10_000_000.0
    assert STATION_LIFETIME_YEARS == 10
    assert SWAP_PRICE_ALL_IN_CNY_PER_KWH == 1.1
    assert PACK_PRICE_CNY_PER_KWH == 700.0


def test_pack_stock_capex() -> None:
    # 18 rack slots of 171 kWh blocks at 700 CNY/kWh.
    assert pack_stock_capex_cny(18, 171.0) == pytest.approx(2_154_600.0)
    with pytest.raises(InputError) as caught:
        pack_stock_capex_cny(-1, 171.0)
    assert caught.value.problems[0].field == "pack_count"


def test_simple_payback() -> None:
    assert simple_payback_years(10_000_000.0, 2_500_000.0) == 4.0
    assert simple_payback_years(10_000_000.0, 0.0) == math.inf
    assert simple_payback_years(10_000_000.0, -1.0) == math.inf
    assert simple_payback_years(0.0, -1.0) == 0.0


def test_npv_hand_example() -> None:
    # -100 now, then 60 and 60 at 10 %: -100 + 54.5454... + 49.5867... = 4.1322...
    assert npv_cny([-100.0, 60.0, 60.0], 0.10) == pytest.approx(-100 + 60 / 1.1 + 60 / 1.21)
    assert npv_cny([-100.0, 60.0, 60.0], 0.10) == pytest.approx(4.132231, abs=1e-6)
    assert npv_cny([-100.0, 60.0, 60.0], 0.0) == pytest.approx(20.0)


def test_discounted_payback_hand_example() -> None:
    # Discounted: -100, 54.545, 49.587 -> cumulative -45.455 after year 1, crosses in year 2
    # at 45.455 / 49.587 = 0.9167 of the year.
    years = discounted_payback_years([-100.0, 60.0, 60.0], 0.10)
    assert years == pytest.approx(1 + (100 - 60 / 1.1) / (60 / 1.21))
    assert discounted_payback_years([-100.0, 30.0, 30.0], 0.10) == math.inf
    assert discounted_payback_years([-100.0, 50.0, 50.0], 0.0) == pytest.approx(2.0)


def test_station_case_hand_example() -> None:
    # 8 GWh/yr swapped at 1.1 CNY/kWh = 8.8 M revenue; energy bill 5.2 M; opex 3 % of
    # (10 M + 2 M) = 0.36 M; net 3.24 M/yr -> payback 12 M / 3.24 M = 3.7037 years.
    case = StationCase(
        swapped_energy_kwh_per_year=8_000_000.0,
        energy_cost_cny_per_year=5_200_000.0,
        pack_stock_capex_cny=2_000_000.0,
    )
    result = evaluate_station(case, discount_rate=0.08)
    assert result.capex_cny == 12_000_000.0
    assert result.revenue_cny_per_year == pytest.approx(8_800_000.0)
    assert result.opex_cny_per_year == pytest.approx(360_000.0)
    assert result.net_cash_flow_cny_per_year == pytest.approx(3_240_000.0)
    assert result.simple_payback_years == pytest.approx(12 / 3.24)
    annuity = (1 - 1.08**-10) / 0.08  # 6.710081
    assert result.npv_cny == pytest.approx(-12_000_000 + 3_240_000 * annuity)
    assert result.npv_cny == pytest.approx(9_740_662.9, abs=1.0)
    assert result.pays_back_within_lifetime
    assert result.simple_payback_years < result.discounted_payback_years < 10
    assert cash_flows_cny(case) == (-12_000_000.0, *([pytest.approx(3_240_000.0)] * 10))


def test_station_that_never_pays_back() -> None:
    case = StationCase(
        swapped_energy_kwh_per_year=1_000_000.0, energy_cost_cny_per_year=1_500_000.0
    )
    result = evaluate_station(case)
    assert result.net_cash_flow_cny_per_year < 0
    assert result.simple_payback_years == math.inf
    assert result.discounted_payback_years == math.inf
    assert not result.pays_back_within_lifetime
    assert result.npv_cny < -STATION_CAPEX_CNY


def test_bad_station_case_names_fields() -> None:
    with pytest.raises(InputError) as caught:
        StationCase(
            swapped_energy_kwh_per_year=-1.0, energy_cost_cny_per_year=0.0, lifetime_years=0
        )
    assert {p.field for p in caught.value.problems} == {
        "swapped_energy_kwh_per_year",
        "lifetime_years",
    }
    with pytest.raises(InputError) as caught:
        npv_cny([1.0], -1.0)
    assert caught.value.problems[0].field == "discount_rate"
