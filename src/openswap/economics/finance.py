"""Swap-station finance: capex (station and pack stock), yearly revenue and costs, simple and
discounted payback, and net present value at a given discount rate over the station lifetime.

Yearly figures are constant over the lifetime (no growth, escalation or pack replacement);
year 0 holds the whole investment and years 1..lifetime the net cash flows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from openswap.domain.errors import InputError, Problem

# batteryswapstation.com via domain facts section 8 (station_defaults.capex_cny) [weak];
# the scope is unclear and likely includes the initial pack stock.
STATION_CAPEX_CNY = 10_000_000.0
STATION_LIFETIME_YEARS = 10  # domain facts section 8 [estimate]; enerax warns 5-7 y hurts ROI
# All-in swap price (electricity + service fee): brokerage report "换电重卡行业分析研究" (2023),
# mirror http://cornels-photography.com/paper/292807209.html, domain facts 5.2 [secondary]
SWAP_PRICE_ALL_IN_CNY_PER_KWH = 1.1
# LFP swap block incl. pack, BMS and swap frame: domain facts 5.4 / section 8 [estimate]
# (cells 0.44 CNY/Wh end-2023 plus pack integration; block about CNY 0.6-0.8/Wh).
PACK_PRICE_CNY_PER_KWH = 700.0
# Operation and maintenance (staff, robot service, land lease, insurance) as a share of capex
# per year. No published figure was found: our own [estimate].
OPEX_FRAC_OF_CAPEX_PER_YEAR = 0.03
# Real discount rate for infrastructure in China. No published figure retrieved: [estimate].
DISCOUNT_RATE = 0.08


def pack_stock_capex_cny(
    pack_count: int,
    pack_energy_kwh: float,
    pack_price_cny_per_kwh: float = PACK_PRICE_CNY_PER_KWH,
) -> float:
    """Cost in CNY of `pack_count` (>= 0) spare packs of `pack_energy_kwh` (> 0) each."""
    problems: list[Problem] = []
    if pack_count < 0:
        problems.append(Problem(f"must be >= 0, got {pack_count!r}", field="pack_count"))
    if not (math.isfinite(pack_energy_kwh) and pack_energy_kwh > 0.0):
        problems.append(Problem(f"must be > 0, got {pack_energy_kwh!r}", field="pack_energy_kwh"))
    _require_non_negative(problems, "pack_price_cny_per_kwh", pack_price_cny_per_kwh)
    if problems:
        raise InputError(problems)
    return pack_count * pack_energy_kwh * pack_price_cny_per_kwh


def simple_payback_years(investment_cny: float, net_cash_flow_cny_per_year: float) -> float:
    """Years until constant yearly net cash flows repay `investment_cny` (>= 0), undiscounted.

    `math.inf` when the yearly net cash flow is zero or negative (never pays back); 0 when
    nothing was invested.
    """
    problems: list[Problem] = []
    _require_non_negative(problems, "investment_cny", investment_cny)
    if not math.isfinite(net_cash_flow_cny_per_year):
        problems.append(
            Problem(
                f"must be finite, got {net_cash_flow_cny_per_year!r}",
                field="net_cash_flow_cny_per_year",
            )
        )
    if problems:
        raise InputError(problems)
    if investment_cny == 0.0:
        return 0.0
    if net_cash_flow_cny_per_year <= 0.0:
        return math.inf
    return investment_cny / net_cash_flow_cny_per_year


def npv_cny(cash_flows_cny: Sequence[float], discount_rate: float) -> float:
    """Net present value in CNY of yearly cash flows; `cash_flows_cny[t]` falls at the end of
    year t (t = 0 is today, undiscounted). `discount_rate` is a fraction per year, > -1.
    """
    _check_rate(discount_rate)
    return math.fsum(cf / (1.0 + discount_rate) ** t for t, cf in enumerate(cash_flows_cny))


def discounted_payback_years(cash_flows_cny: Sequence[float], discount_rate: float) -> float:
    """Years until the cumulative discounted cash flow (see `npv_cny`) turns non-negative.

    Within the year where it crosses zero the flow is taken as spread evenly (linear
    interpolation). `math.inf` when it never does within the flows given.
    """
    _check_rate(discount_rate)
    cumulative = 0.0
    for t, cf in enumerate(cash_flows_cny):
        discounted = cf / (1.0 + discount_rate) ** t
        if cumulative + discounted >= 0.0:
            if t == 0 or discounted <= 0.0:
                return float(t)
            return t - 1 + (-cumulative) / discounted
        cumulative += discounted
    return math.inf


@dataclass(frozen=True, slots=True)
class StationCase:
    """The yearly operating figures and investment of one swap station.

    `swapped_energy_kwh_per_year` is energy delivered to trucks in swapped packs, sold at
    `service_price_cny_per_kwh` (all-in: electricity plus service fee). `energy_cost_cny_per_year`
    is the station's electricity bill (charger losses and auxiliary load included; see
    `openswap.economics.tariff.electricity_bill`). Opex is a yearly share of the total capex.
    """

    swapped_energy_kwh_per_year: float
    energy_cost_cny_per_year: float
    station_capex_cny: float = STATION_CAPEX_CNY
    pack_stock_capex_cny: float = 0.0  # the default capex figure likely includes the stock
    service_price_cny_per_kwh: float = SWAP_PRICE_ALL_IN_CNY_PER_KWH
    opex_frac_of_capex_per_year: float = OPEX_FRAC_OF_CAPEX_PER_YEAR
    lifetime_years: int = STATION_LIFETIME_YEARS

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in (
            "swapped_energy_kwh_per_year",
            "energy_cost_cny_per_year",
            "station_capex_cny",
            "pack_stock_capex_cny",
            "service_price_cny_per_kwh",
            "opex_frac_of_capex_per_year",
        ):
            _require_non_negative(problems, name, getattr(self, name))
        if not (isinstance(self.lifetime_years, int) and self.lifetime_years >= 1):
            problems.append(
                Problem(
                    f"must be a whole number of years >= 1, got {self.lifetime_years!r}",
                    field="lifetime_years",
                )
            )
        if problems:
            raise InputError(problems)

    @property
    def capex_cny(self) -> float:
        return self.station_capex_cny + self.pack_stock_capex_cny


@dataclass(frozen=True, slots=True)
class StationFinance:
    """Yearly figures, payback and NPV of a `StationCase` at one discount rate."""

    capex_cny: float
    revenue_cny_per_year: float
    energy_cost_cny_per_year: float
    opex_cny_per_year: float
    simple_payback_years: float  # math.inf when the station never pays back
    discounted_payback_years: float  # math.inf when not within the lifetime
    npv_cny: float
    discount_rate: float
    lifetime_years: int

    @property
    def net_cash_flow_cny_per_year(self) -> float:
        return self.revenue_cny_per_year - self.energy_cost_cny_per_year - self.opex_cny_per_year

    @property
    def pays_back_within_lifetime(self) -> bool:
        return self.simple_payback_years <= self.lifetime_years


def cash_flows_cny(case: StationCase) -> tuple[float, ...]:
    """Year 0 (minus the capex) then `lifetime_years` equal net yearly cash flows, in CNY."""
    net = _net_cash_flow_cny_per_year(case)
    return (-case.capex_cny, *([net] * case.lifetime_years))


def evaluate_station(case: StationCase, discount_rate: float = DISCOUNT_RATE) -> StationFinance:
    """Payback and NPV of `case` at `discount_rate` (fraction per year, > -1)."""
    _check_rate(discount_rate)
    flows = cash_flows_cny(case)
    revenue = case.swapped_energy_kwh_per_year * case.service_price_cny_per_kwh
    return StationFinance(
        capex_cny=case.capex_cny,
        revenue_cny_per_year=revenue,
        energy_cost_cny_per_year=case.energy_cost_cny_per_year,
        opex_cny_per_year=case.capex_cny * case.opex_frac_of_capex_per_year,
        simple_payback_years=simple_payback_years(case.capex_cny, flows[1]),
        discounted_payback_years=discounted_payback_years(flows, discount_rate),
        npv_cny=npv_cny(flows, discount_rate),
        discount_rate=discount_rate,
        lifetime_years=case.lifetime_years,
    )


def _net_cash_flow_cny_per_year(case: StationCase) -> float:
    revenue = case.swapped_energy_kwh_per_year * case.service_price_cny_per_kwh
    opex = case.capex_cny * case.opex_frac_of_capex_per_year
    return revenue - case.energy_cost_cny_per_year - opex


def _check_rate(discount_rate: float) -> None:
    if not (math.isfinite(discount_rate) and discount_rate > -1.0):
        raise InputError([Problem(f"must be > -1, got {discount_rate!r}", field="discount_rate")])


def _require_non_negative(problems: list[Problem], name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        problems.append(Problem(f"must be >= 0, got {value!r}", field=name))
