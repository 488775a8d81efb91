"""Fleet cost per km against diesel, and CO2 with the grid and green-electricity factors."""

from __future__ import annotations

import pytest

from openswap.domain.errors import InputError
from openswap.economics.emissions import (
    DIESEL_DEFRA_2024,
    GREEN_ELECTRICITY,
    GRID_CHINA_2022,
    compare_co2,
)
from openswap.economics.fleet import compare_energy_cost_per_km


def test_cost_per_km_hand_example() -> None:
    # 1.43 kWh/km x 1.1 CNY/kWh = 1.573 CNY/km; 33 L/100 km x 7.61 CNY/L = 2.5113 CNY/km.
    result = compare_energy_cost_per_km(1.43)
    assert result.electric_cny_per_km == pytest.approx(1.573)
    assert result.diesel_cny_per_km == pytest.approx(2.5113)
    assert result.saving_cny_per_km == pytest.approx(0.9383)
    assert result.saving_cny_per_year(100_000.0) == pytest.approx(93_830.0)
    # Cross-check against the brokerage report's "39 % less energy spend" (domain facts 5.2).
    assert result.saving_frac == pytest.approx(0.39, abs=0.03)


def test_cost_per_km_rejects_negative_input() -> None:
    with pytest.raises(InputError) as caught:
        compare_energy_cost_per_km(-0.1)
    assert caught.value.problems[0].field == "energy_kwh_per_km"


def test_co2_grid_hand_example() -> None:
    # 100,000 km at 1.43 kWh/km through 95 % chargers: 150,526.3 kWh x 0.5366 = 80,772.4 kg;
    # diesel 33,000 L x 2.66 = 87,780 kg.
    result = compare_co2(100_000.0, 1.43)
    assert result.grid_energy_kwh == pytest.approx(143_000 / 0.95)
    assert result.electric_co2_kg == pytest.approx(143_000 / 0.95 * 0.5366)
    assert result.diesel_co2_kg == pytest.approx(87_780.0)
    assert result.avoided_co2_kg == pytest.approx(87_780.0 - 143_000 / 0.95 * 0.5366)
    assert result.grid_factor is GRID_CHINA_2022
    assert result.grid_factor.co2_kg_per_unit == 0.5366
    assert result.diesel_factor is DIESEL_DEFRA_2024
    assert result.diesel_factor.co2_kg_per_unit == 2.66


def test_co2_green_electricity_variant() -> None:
    result = compare_co2(100_000.0, 1.43, grid_factor=GREEN_ELECTRICITY)
    assert result.electric_co2_kg == 0.0
    assert result.avoided_frac == 1.0
    assert result.grid_factor.co2_kg_per_unit == 0.0
    assert "green" in result.grid_factor.name


def test_diesel_co2_matches_catl_example() -> None:
    # CATL: 200,000 km/yr at 33 L/100 km emits about 174 t CO2 (domain facts 5.3).
    result = compare_co2(200_000.0, 0.0)
    assert result.diesel_co2_kg / 1000 == pytest.approx(174.0, rel=0.01)


def test_factor_units_are_checked() -> None:
    with pytest.raises(InputError) as caught:
        compare_co2(1.0, 1.0, grid_factor=DIESEL_DEFRA_2024, diesel_factor=GRID_CHINA_2022)
    assert {p.field for p in caught.value.problems} == {"grid_factor", "diesel_factor"}
