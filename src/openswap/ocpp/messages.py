"""OCPP payloads to and from the protocol-neutral commands of `services.stations`.

OCPP uses percent for SoC and SoH and Wh / W for energy and power; openswap uses fractions,
kWh and kW: converted here and nowhere else. A swap station's EVSE id is its rack slot number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from openswap.services.station_records import ReportedBattery, StationCommand
from openswap.services.stations import (
    CommandKind,
    SlotReading,
    StationEvent,
    SwapEvent,
)

ID_TOKEN_TYPE = "Central"  # a truck's token is its vehicle id, issued by openswap

_SWAP_EVENTS = {
    "BatteryIn": SwapEvent.BATTERY_IN,
    "BatteryOut": SwapEvent.BATTERY_OUT,
    "BatteryOutTimeout": SwapEvent.BATTERY_OUT_TIMEOUT,
}
_TX_EVENTS = {"Started": "started", "Updated": "updated", "Ended": "ended"}

# measurand -> (unit multipliers to kWh / kW / fraction)
_ENERGY = "Energy.Active.Import.Register"
_POWER = "Power.Active.Import"
_SOC = "SoC"
_ENERGY_UNITS = {"Wh": 1e-3, "kWh": 1.0}
_POWER_UNITS = {"W": 1e-3, "kW": 1.0}


def fraction(percent: float) -> float:
    """OCPP percent (0..100) to an openswap fraction (0..1)."""
    return round(float(percent) / 100.0, 6)


def percent(frac: float) -> float:
    return round(frac * 100.0, 3)


def parse_time(text: str) -> datetime:
    """An OCPP date-time (RFC 3339) as aware UTC; naive text is read as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def swap_event(name: str) -> SwapEvent:
    return _SWAP_EVENTS[name]


def tx_event(name: str) -> str:
    return _TX_EVENTS[name]


def batteries(data: list[dict[str, Any]]) -> tuple[ReportedBattery, ...]:
    return tuple(
        ReportedBattery(
            int(b["evseId"]), str(b["serialNumber"]), fraction(b["soC"]), fraction(b["soH"])
        )
        for b in data
    )


def _unit(sv: dict[str, Any], default: str) -> str:
    um = sv.get("unitOfMeasure") or {}
    unit = str(um.get("unit", default))
    multiplier = int(um.get("multiplier", 0))
    if multiplier == 3 and unit in ("Wh", "W"):
        return "k" + unit
    return unit


def readings(meter_values: list[dict[str, Any]]) -> tuple[SlotReading, ...]:
    """OCPP meterValue entries as slot readings (measurands openswap uses; others ignored)."""
    out: list[SlotReading] = []
    for mv in meter_values:
        energy = power = soc = None
        for sv in mv.get("sampledValue", []):
            measurand = sv.get("measurand", _ENERGY)
            value = float(sv["value"])
            if measurand == _ENERGY:
                energy = value * _ENERGY_UNITS.get(_unit(sv, "Wh"), 1e-3)
            elif measurand == _POWER:
                power = value * _POWER_UNITS.get(_unit(sv, "W"), 1e-3)
            elif measurand == _SOC:
                soc = fraction(value)
        out.append(SlotReading(parse_time(mv["timestamp"]), energy, power, soc))
    return tuple(out)


def events(event_data: list[dict[str, Any]]) -> tuple[StationEvent, ...]:
    out: list[StationEvent] = []
    for ev in event_data:
        component = ev.get("component", {})
        evse = component.get("evse") or {}
        out.append(
            StationEvent(
                component=str(component.get("name", "")),
                variable=str(ev.get("variable", {}).get("name", "")),
                value=str(ev.get("actualValue", "")),
                evse_id=int(evse["id"]) if "id" in evse else None,
                cleared=bool(ev.get("cleared", False)),
            )
        )
    return tuple(out)


# --- commands to the station -------------------------------------------------------------------

_ACTIONS = {
    CommandKind.REQUEST_SWAP: "RequestBatterySwap",
    CommandKind.RESERVE_SLOT: "ReserveNow",
    CommandKind.CANCEL_SLOT_RESERVATION: "CancelReservation",
    CommandKind.LIMIT_SLOT_POWER: "SetChargingProfile",
    CommandKind.GET_VARIABLES: "GetVariables",
    CommandKind.SET_VARIABLES: "SetVariables",
    CommandKind.RESET: "Reset",
    CommandKind.SET_SLOT_AVAILABILITY: "ChangeAvailability",
}
ONLY_2_1 = frozenset({CommandKind.REQUEST_SWAP})


def to_ocpp(command: StationCommand) -> tuple[str, dict[str, Any]]:
    """The OCPP action and payload of a queued command."""
    kind = CommandKind(command.action)
    a = command.payload
    match kind:
        case CommandKind.REQUEST_SWAP:
            payload: dict[str, Any] = {
                "idToken": {"idToken": a["vehicle_id"], "type": ID_TOKEN_TYPE},
                "requestId": a["request_id"],
            }
        case CommandKind.RESERVE_SLOT:
            payload = {
                "id": a["reservation_no"],
                "expiryDateTime": format_time(parse_time(a["expires_at"])),
                "idToken": {"idToken": a["vehicle_id"], "type": ID_TOKEN_TYPE},
                "evseId": a["slot_no"],
            }
        case CommandKind.CANCEL_SLOT_RESERVATION:
            payload = {"reservationId": a["reservation_no"]}
        case CommandKind.LIMIT_SLOT_POWER:
            payload = {
                "evseId": a["slot_no"],
                "chargingProfile": {
                    "id": a["profile_no"],
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": [
                        {
                            "id": a["profile_no"],
                            "chargingRateUnit": "W",
                            "chargingSchedulePeriod": [
                                {"startPeriod": 0, "limit": round(a["power_kw"] * 1000.0, 1)}
                            ],
                            "startSchedule": format_time(command.created_at),
                        }
                    ],
                },
            }
        case CommandKind.GET_VARIABLES:
            payload = {
                "getVariableData": [
                    {"component": {"name": v["component"]}, "variable": {"name": v["variable"]}}
                    for v in a["variables"]
                ]
            }
        case CommandKind.SET_VARIABLES:
            payload = {
                "setVariableData": [
                    {
                        "attributeValue": v["value"],
                        "component": {"name": v["component"]},
                        "variable": {"name": v["variable"]},
                    }
                    for v in a["variables"]
                ]
            }
        case CommandKind.RESET:
            payload = {"type": "OnIdle" if a.get("when") == "on_idle" else "Immediate"}
        case CommandKind.SET_SLOT_AVAILABILITY:
            payload = {
                "operationalStatus": "Operative" if a["operative"] else "Inoperative",
                "evse": {"id": a["slot_no"]},
            }
    return _ACTIONS[kind], payload


def accepted(action: str, response: dict[str, Any]) -> bool:
    """Did the station accept? GetVariables / SetVariables: every item Accepted."""
    if action == "GetVariables":
        return all(
            r.get("attributeStatus") == "Accepted" for r in response.get("getVariableResult", [])
        )
    if action == "SetVariables":
        return all(
            r.get("attributeStatus") in ("Accepted", "RebootRequired")
            for r in response.get("setVariableResult", [])
        )
    return response.get("status") in ("Accepted", "Scheduled")
