"""One thin handler per action a station sends: OCPP payload in, use case of
`services.stations` called, OCPP response out. Handlers run in a worker thread (the use cases
are synchronous) and decide nothing themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openswap.ocpp import messages as m
from openswap.services import stations as st
from openswap.services.model import Actor
from openswap.services.operations import OperationsContext

log = logging.getLogger("openswap.ocpp")


@dataclass(frozen=True, slots=True)
class Request:
    """One CALL from a station, as a handler sees it."""

    ctx: OperationsContext
    actor: Actor
    station_id: str
    version: str
    action: str
    message_id: str
    payload: dict[str, Any]
    heartbeat_interval_s: int


@dataclass(frozen=True, slots=True)
class Handled:
    """The response payload and whether commands may now wait for this station."""

    response: dict[str, Any]
    kick: bool = False
    registered: bool | None = None  # set by BootNotification


Handler = Callable[[Request], Handled]


def boot_notification(r: Request) -> Handled:
    cs = r.payload["chargingStation"]
    result = st.boot_station(
        r.ctx,
        r.actor,
        st.BootStation(
            r.station_id,
            vendor=cs["vendorName"],
            model=cs["model"],
            firmware=cs.get("firmwareVersion"),
            reason=r.payload.get("reason"),
        ),
    )
    response: dict[str, Any] = {
        "currentTime": m.format_time(r.ctx.now()),
        "interval": r.heartbeat_interval_s,
        "status": str(result.status),
    }
    if result.reason:
        response["statusInfo"] = {"reasonCode": "Unknown", "additionalInfo": result.reason[:1024]}
    accepted = result.status is st.BootStatus.ACCEPTED
    return Handled(response, kick=accepted, registered=accepted)


def heartbeat(r: Request) -> Handled:
    return Handled({"currentTime": m.format_time(r.ctx.now())})


def status_notification(r: Request) -> Handled:
    p = r.payload
    out = st.record_connector_status(
        r.ctx,
        r.actor,
        st.ReportConnectorStatus(
            r.station_id,
            p["evseId"],
            p["connectorId"],
            p["connectorStatus"],
            m.parse_time(p["timestamp"]),
        ),
    )
    if out.discrepancy:
        log.warning("station %s: %s", r.station_id, out.discrepancy)
    return Handled({})


def notify_event(r: Request) -> Handled:
    out = st.record_station_events(
        r.ctx, r.actor, st.ReportStationEvents(r.station_id, m.events(r.payload["eventData"]))
    )
    if out.alarmed:
        log.warning("station %s: packs in alarm: %s", r.station_id, ", ".join(out.alarmed))
    return Handled({})


def meter_values(r: Request) -> Handled:
    st.record_slot_meter(
        r.ctx,
        r.actor,
        st.ReportSlotMeter(r.station_id, r.payload["evseId"], m.readings(r.payload["meterValue"])),
    )
    return Handled({})


def transaction_event(r: Request) -> Handled:
    p = r.payload
    info = p["transactionInfo"]
    st.record_transaction_event(
        r.ctx,
        r.actor,
        st.ReportTransaction(
            station_id=r.station_id,
            transaction_id=info["transactionId"],
            event=m.tx_event(p["eventType"]),
            seq_no=p["seqNo"],
            at=m.parse_time(p["timestamp"]),
            evse_id=(p.get("evse") or {}).get("id"),
            readings=m.readings(p.get("meterValue", [])),
            stopped_reason=info.get("stoppedReason"),
        ),
    )
    return Handled({})


def authorize(r: Request) -> Handled:
    token = r.payload["idToken"]["idToken"]
    out = st.admit_truck(
        r.ctx, r.actor, st.AuthorizeToken(r.station_id, token), f"arrival:{r.message_id}"
    )
    v = out.verdict
    info: dict[str, Any] = {"status": str(v.status)}
    if v.fleet_org_id is not None:
        info["groupIdToken"] = {"idToken": v.fleet_org_id, "type": m.ID_TOKEN_TYPE}
    note = "; ".join(v.reasons + out.refusal)
    if note:
        info["personalMessage"] = {"format": "UTF8", "content": note[:1024]}
    return Handled({"idTokenInfo": info}, kick=out.requested is not None)


def battery_swap(r: Request) -> Handled:
    p = r.payload
    out = st.report_battery_swap(
        r.ctx,
        r.actor,
        st.ReportBatterySwap(
            station_id=r.station_id,
            event=m.swap_event(p["eventType"]),
            request_id=p["requestId"],
            id_token=p["idToken"]["idToken"],
            batteries=m.batteries(p["batteryData"]),
        ),
    )
    if out.state in ("refused", "aborted"):
        log.warning(
            "station %s: battery swap request %s %s: %s",
            r.station_id,
            p["requestId"],
            out.state,
            "; ".join(out.reasons),
        )
    # The response is empty by specification (a report cannot be rejected); a refusal acts
    # through the swap transaction, quarantine and the commands it queued.
    return Handled({}, kick=out.state == "refused")


HANDLERS: dict[str, Handler] = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "NotifyEvent": notify_event,
    "MeterValues": meter_values,
    "TransactionEvent": transaction_event,
    "Authorize": authorize,
    "BatterySwap": battery_swap,
}

# Pure reads and naturally ordered messages need no message log entry.
UNLOGGED = frozenset({"Heartbeat", "BootNotification"})

# Handlers that do no I/O and run in the event loop itself.
INLINE = frozenset({"Heartbeat"})
