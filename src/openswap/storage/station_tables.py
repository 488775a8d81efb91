"""Tables of the station link (OCPP): station credentials (hashes only), boot and connection
registry, connector status, charging sessions, swap progress as stations report it, and the
command queue with expiry. On PostgreSQL an insert into `station_commands` notifies channel
`openswap_station_commands` with the station id (a trigger), so the worker holding the
station's websocket wakes up whoever queued the command.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from openswap.storage.models import ID, TEXT, Base, one_of

COMMAND_STATES = ("queued", "sent", "accepted", "rejected", "failed", "expired")
NOTIFY_CHANNEL = "openswap_station_commands"


class StationCredentialRow(Base):
    __tablename__ = "station_credentials"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(TEXT))
    updated_at: Mapped[datetime]


class StationLinkRow(Base):
    __tablename__ = "station_links"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    boot_status: Mapped[str | None] = mapped_column(String(32))
    vendor: Mapped[str | None] = mapped_column(String(TEXT))
    model: Mapped[str | None] = mapped_column(String(TEXT))
    firmware: Mapped[str | None] = mapped_column(String(TEXT))
    booted_at: Mapped[datetime | None]
    worker_id: Mapped[str | None] = mapped_column(String(ID))
    ocpp_version: Mapped[str | None] = mapped_column(String(16))
    connected_at: Mapped[datetime | None]
    disconnected_at: Mapped[datetime | None]


class ConnectorStatusRow(Base):
    __tablename__ = "station_connector_status"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class ChargingSessionRow(Base):
    __tablename__ = "charging_sessions"
    __table_args__ = (
        CheckConstraint(one_of("state", ("started", "ended")), name="state"),
        Index("ix_charging_sessions_station_evse_state", "station_id", "evse_id", "state"),
    )
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    seq_no: Mapped[int] = mapped_column(Integer)
    pack_serial: Mapped[str | None] = mapped_column(String(ID))
    energy_kwh: Mapped[float | None] = mapped_column(Float)
    power_kw: Mapped[float | None] = mapped_column(Float)
    soc: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[datetime | None]
    stopped_reason: Mapped[str | None] = mapped_column(String(TEXT))


class SwapProgressRow(Base):
    __tablename__ = "station_swap_progress"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    swap_id: Mapped[str] = mapped_column(ForeignKey("swaps.id"), unique=True)
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"))
    updated_at: Mapped[datetime]
    battery_in: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    battery_out: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(16))


class StationCommandRow(Base):
    __tablename__ = "station_commands"
    __table_args__ = (
        CheckConstraint(one_of("state", COMMAND_STATES), name="state"),
        Index("ix_station_commands_station_state", "station_id", "state", "created_at"),
        Index("ix_station_commands_state", "state"),
    )
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"))
    action: Mapped[str] = mapped_column(String(ID))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(ID))
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(ID))
    response: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(String(TEXT))
    swap_id: Mapped[str | None] = mapped_column(String(ID))


NOTIFY_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION openswap_notify_station_command() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', NEW.station_id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
NOTIFY_TRIGGER_SQL = """
CREATE TRIGGER trg_station_commands_notify AFTER INSERT ON station_commands
FOR EACH ROW EXECUTE FUNCTION openswap_notify_station_command()
"""

# Tests build schemas with `create_all`; the migration creates the same trigger.
for _sql in (NOTIFY_FUNCTION_SQL, NOTIFY_TRIGGER_SQL):
    event.listen(
        StationCommandRow.__table__,
        "after_create",
        DDL(_sql).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
    )
