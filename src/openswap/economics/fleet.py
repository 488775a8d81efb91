"""Fleet energy cost per km: a battery-swap truck paying the all-in swap price against a diesel
truck, with yearly savings for a given mileage."""

from __future__ import annotations

import math
from dataclasses import dataclass

from openswap.domain.errors import InputError, Problem
from openswap.economics.finance import SWAP_PRICE_ALL_IN_CNY_PER_KWH

# Diesel at CNY 7.61/L on 10 Jan 2023: brokerage report "换电重卡行业分析研究" (2023), mirror
# http://cornels-photography.com/paper/292807209.html, domain facts 5.2 [secondary];
# use 7.0-7.6 for sensitivity (domain facts section 8).
DIESEL_PRICE_CNY_PER_L = 7.61
# CATL's diesel baseline, 33 L/100 km (donanimhaber / svethardware, domain facts 2.3 and 5.2)
# [secondary]; generic heavy trucks use 25-40 L/100 km [weak].
DIESEL_CONSUMPTION_L_PER_100KM = 33.0


@dataclass(frozen=True, slots=True)
class FleetCostPerKm:
    """Energy cost per km of a swap truck and of a diesel truck, with the inputs used."""

    electric_cny_per_km: float
    diesel_cny_per_km: float
    energy_kwh_per_km: float
    swap_price_cny_per_kwh: float
    diesel_price_cny_per_l: float
    diesel_l_per_100km: float

    @property
    def saving_cny_per_km(self) -> float:
        """Diesel minus electric; negative when the swap truck costs more per km."""
        return self.diesel_cny_per_km - self.electric_cny_per_km

    @property
    def saving_frac(self) -> float:
        """Saving as a fraction of the diesel cost (NaN when diesel costs nothing)."""
        if self.diesel_cny_per_km == 0.0:
            return math.nan
        return self.saving_cny_per_km / self.diesel_cny_per_km

    def saving_cny_per_year(self, distance_km_per_year: float) -> float:
        """Yearly saving in CNY for `distance_km_per_year` (>= 0) km driven."""
        if not (math.isfinite(distance_km_per_year) and distance_km_per_year >= 0.0):
            raise InputError(
                [
                    Problem(
                        f"must be >= 0, got {distance_km_per_year!r}",
                        field="distance_km_per_year",
                    )
                ]
            )
        return self.saving_cny_per_km * distance_km_per_year


def compare_energy_cost_per_km(
    energy_kwh_per_km: float,
    swap_price_cny_per_kwh: float = SWAP_PRICE_ALL_IN_CNY_PER_KWH,
    diesel_price_cny_per_l: float = DIESEL_PRICE_CNY_PER_L,
    diesel_l_per_100km: float = DIESEL_CONSUMPTION_L_PER_100KM,
) -> FleetCostPerKm:
    """Energy cost per km of a swap truck using `energy_kwh_per_km` of swapped energy (as sold
    by the station, so the all-in price already covers charger losses) against a diesel truck.
    All inputs >= 0.
    """
    problems: list[Problem] = []
    for name, value in (
        ("energy_kwh_per_km", energy_kwh_per_km),
        ("swap_price_cny_per_kwh", swap_price_cny_per_kwh),
        ("diesel_price_cny_per_l", diesel_price_cny_per_l),
        ("diesel_l_per_100km", diesel_l_per_100km),
    ):
        if not (math.isfinite(value) and value >= 0.0):
            problems.append(Problem(f"must be >= 0, got {value!r}", field=name))
    if problems:
        raise InputError(problems)
    return FleetCostPerKm(
        electric_cny_per_km=energy_kwh_per_km * swap_price_cny_per_kwh,
        diesel_cny_per_km=diesel_l_per_100km / 100.0 * diesel_price_cny_per_l,
        energy_kwh_per_km=energy_kwh_per_km,
        swap_price_cny_per_kwh=swap_price_cny_per_kwh,
        diesel_price_cny_per_l=diesel_price_cny_per_l,
        diesel_l_per_100km=diesel_l_per_100km,
    )
