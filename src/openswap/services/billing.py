"""Billing of a completed swap and the settlement under vehicle–battery separation.

The fleet pays, per kWh delivered (energy in the packs it receives minus energy in the packs
it hands back, usable x SoH x SoC):
- `energy`: the station's time-of-use electricity price at completion (local time), to the
  station operator, who bought the grid energy that charged the packs;
- `service`: the station's swap service fee, to the station operator;
- `battery_usage`: the station's battery fee, to each owner of the packs received, split in
  proportion to the energy each owner's packs carry in (no line when the fleet owns them).
Pack ownership never changes in a swap, only custody. Amounts are integer fen, each line
rounded half-to-even on its own; the bill total is the exact sum of its lines.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from openswap.domain.assets import Pack
from openswap.domain.errors import ConflictError
from openswap.domain.tariff import FUJIAN_TOU_TARIFF, TimeOfUseTariff
from openswap.services.model import BillLine, BillLineKind, BillRecord, StationRecord

TARIFFS: dict[str, TimeOfUseTariff] = {"fujian-tou-2024": FUJIAN_TOU_TARIFF}
DEFAULT_TARIFF = "fujian-tou-2024"


def tariff_for(station: StationRecord) -> TimeOfUseTariff:
    try:
        return TARIFFS[station.tariff]
    except KeyError:
        raise ConflictError(
            f"station {station.id} names unknown tariff {station.tariff!r} "
            f"(known: {', '.join(sorted(TARIFFS))})"
        ) from None


def local_seconds_of_day(at: datetime, utc_offset_min: int) -> float:
    """Seconds since local midnight at the aware UTC instant `at`."""
    local = at + timedelta(minutes=utc_offset_min)
    return local.hour * 3600.0 + local.minute * 60.0 + local.second + local.microsecond / 1e6


def fen(quantity: float, unit_price_cny: float) -> int:
    """quantity x price in fen (0.01 CNY), rounded half-to-even on the decimal values."""
    cny = Decimal(repr(quantity)) * Decimal(repr(unit_price_cny)) * 100
    return int(cny.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def build_bill(
    *,
    bill_id: str,
    swap_id: str,
    station: StationRecord,
    fleet_org_id: str,
    packs_in: list[tuple[Pack, float]],
    delivered_kwh: float,
    at: datetime,
) -> BillRecord:
    """The bill for one swap. `packs_in` pairs each received pack with the energy (kWh) it
    carried in; `delivered_kwh` is the net energy delivered (lines only when it is > 0)."""
    tariff = tariff_for(station)
    period = tariff.period_at(local_seconds_of_day(at, station.utc_offset_min))
    qty = round(max(delivered_kwh, 0.0), 3)
    lines: list[BillLine] = []

    def add(kind: BillLineKind, payee: str, text: str, q: float, price: float) -> None:
        lines.append(BillLine(len(lines) + 1, kind, payee, text, q, "kWh", price, fen(q, price)))

    if qty > 0:
        add(
            BillLineKind.ENERGY,
            station.operator_org_id,
            f"energy delivered at {station.id}, {period.name} price ({tariff.name})",
            qty,
            period.price_cny_per_kwh,
        )
        add(
            BillLineKind.SERVICE,
            station.operator_org_id,
            f"swap service at {station.id}",
            qty,
            station.service_fee_cny_per_kwh,
        )
        by_owner: dict[str, float] = defaultdict(float)
        for pack, energy_kwh in packs_in:
            by_owner[pack.owner] += max(energy_kwh, 0.0)
        total_in = sum(by_owner.values())
        for owner in sorted(by_owner):
            if owner == fleet_org_id or total_in <= 0:
                continue
            share = round(qty * by_owner[owner] / total_in, 3)
            add(
                BillLineKind.BATTERY_USAGE,
                owner,
                f"battery usage, packs owned by {owner}",
                share,
                station.battery_fee_cny_per_kwh,
            )
    return BillRecord(
        id=bill_id,
        swap_id=swap_id,
        payer_org_id=fleet_org_id,
        created_at=at,
        total_fen=sum(line.amount_fen for line in lines),
        lines=tuple(lines),
    )
