"""Repositories of the station link (implement `services.station_records` ports)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openswap.services.station_records import (
    ChargingSession,
    CommandState,
    ConnectorStatus,
    ReportedBattery,
    StationCommand,
    StationLink,
    SwapProgress,
)
from openswap.storage.station_tables import (
    ChargingSessionRow,
    ConnectorStatusRow,
    StationCommandRow,
    StationCredentialRow,
    StationLinkRow,
    SwapProgressRow,
)

_LINK_FIELDS = (
    "boot_status",
    "vendor",
    "model",
    "firmware",
    "booted_at",
    "worker_id",
    "ocpp_version",
    "connected_at",
    "disconnected_at",
)
_SESSION_FIELDS = (
    "evse_id",
    "state",
    "started_at",
    "updated_at",
    "seq_no",
    "pack_serial",
    "energy_kwh",
    "power_kw",
    "soc",
    "ended_at",
    "stopped_reason",
)
_COMMAND_FIELDS = (
    "station_id",
    "action",
    "payload",
    "created_at",
    "expires_at",
    "requested_by",
    "sent_at",
    "finished_at",
    "message_id",
    "response",
    "error",
    "swap_id",
)


def _batteries(data: list[dict[str, Any]] | None) -> tuple[ReportedBattery, ...] | None:
    if data is None:
        return None
    return tuple(ReportedBattery(d["evse_id"], d["serial"], d["soc"], d["soh"]) for d in data)


def _battery_rows(batteries: tuple[ReportedBattery, ...] | None) -> list[dict[str, Any]] | None:
    if batteries is None:
        return None
    return [
        {"evse_id": b.evse_id, "serial": b.serial, "soc": b.soc, "soh": b.soh} for b in batteries
    ]


class StationLinkRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    def password_hash(self, station_id: str) -> str | None:
        row = self.s.get(StationCredentialRow, station_id)
        return None if row is None else row.password_hash

    def set_password_hash(self, station_id: str, password_hash: str, at: Any) -> None:
        row = self.s.get(StationCredentialRow, station_id)
        if row is None:
            self.s.add(
                StationCredentialRow(
                    station_id=station_id, password_hash=password_hash, updated_at=at
                )
            )
        else:
            row.password_hash = password_hash
            row.updated_at = at
        self.s.flush()

    def link(self, station_id: str) -> StationLink | None:
        row = self.s.get(StationLinkRow, station_id)
        if row is None:
            return None
        return StationLink(station_id, **{f: getattr(row, f) for f in _LINK_FIELDS})

    def put_link(self, link: StationLink) -> None:
        row = self.s.get(StationLinkRow, link.station_id)
        if row is None:
            row = StationLinkRow(station_id=link.station_id)
            self.s.add(row)
        for f in _LINK_FIELDS:
            setattr(row, f, getattr(link, f))
        self.s.flush()

    def put_connector(self, status: ConnectorStatus) -> None:
        key = (status.station_id, status.evse_id, status.connector_id)
        row = self.s.get(ConnectorStatusRow, key)
        if row is None:
            row = ConnectorStatusRow(
                station_id=status.station_id,
                evse_id=status.evse_id,
                connector_id=status.connector_id,
            )
            self.s.add(row)
        row.status = status.status
        row.updated_at = status.updated_at
        self.s.flush()

    def connectors(self, station_id: str) -> list[ConnectorStatus]:
        rows = self.s.scalars(
            select(ConnectorStatusRow)
            .where(ConnectorStatusRow.station_id == station_id)
            .order_by(ConnectorStatusRow.evse_id, ConnectorStatusRow.connector_id)
        )
        return [
            ConnectorStatus(r.station_id, r.evse_id, r.connector_id, r.status, r.updated_at)
            for r in rows
        ]

    def _session(self, row: ChargingSessionRow) -> ChargingSession:
        return ChargingSession(
            row.station_id, row.transaction_id, **{f: getattr(row, f) for f in _SESSION_FIELDS}
        )

    def session(
        self, station_id: str, transaction_id: str, *, for_update: bool = False
    ) -> ChargingSession | None:
        q = select(ChargingSessionRow).where(
            ChargingSessionRow.station_id == station_id,
            ChargingSessionRow.transaction_id == transaction_id,
        )
        if for_update:
            q = q.with_for_update()
        row = self.s.scalar(q)
        return None if row is None else self._session(row)

    def open_session_on(self, station_id: str, evse_id: int) -> ChargingSession | None:
        row = self.s.scalar(
            select(ChargingSessionRow)
            .where(
                ChargingSessionRow.station_id == station_id,
                ChargingSessionRow.evse_id == evse_id,
                ChargingSessionRow.state == "started",
            )
            .order_by(ChargingSessionRow.started_at.desc())
            .limit(1)
        )
        return None if row is None else self._session(row)

    def put_session(self, session: ChargingSession) -> None:
        row = self.s.get(ChargingSessionRow, (session.station_id, session.transaction_id))
        if row is None:
            row = ChargingSessionRow(
                station_id=session.station_id, transaction_id=session.transaction_id
            )
            self.s.add(row)
        for f in _SESSION_FIELDS:
            setattr(row, f, getattr(session, f))
        self.s.flush()

    def sessions(self, station_id: str) -> list[ChargingSession]:
        rows = self.s.scalars(
            select(ChargingSessionRow)
            .where(ChargingSessionRow.station_id == station_id)
            .order_by(ChargingSessionRow.started_at, ChargingSessionRow.transaction_id)
        )
        return [self._session(r) for r in rows]

    def _progress(self, row: SwapProgressRow) -> SwapProgress:
        return SwapProgress(
            station_id=row.station_id,
            request_id=row.request_id,
            swap_id=row.swap_id,
            vehicle_id=row.vehicle_id,
            updated_at=row.updated_at,
            battery_in=_batteries(row.battery_in),
            battery_out=_batteries(row.battery_out),
            outcome=row.outcome,
        )

    def progress(
        self, station_id: str, request_id: int, *, for_update: bool = False
    ) -> SwapProgress | None:
        q = select(SwapProgressRow).where(
            SwapProgressRow.station_id == station_id, SwapProgressRow.request_id == request_id
        )
        if for_update:
            q = q.with_for_update()
        row = self.s.scalar(q)
        return None if row is None else self._progress(row)

    def progress_for_swap(self, swap_id: str) -> SwapProgress | None:
        row = self.s.scalar(select(SwapProgressRow).where(SwapProgressRow.swap_id == swap_id))
        return None if row is None else self._progress(row)

    def put_progress(self, progress: SwapProgress) -> None:
        row = self.s.get(SwapProgressRow, (progress.station_id, progress.request_id))
        if row is None:
            row = SwapProgressRow(station_id=progress.station_id, request_id=progress.request_id)
            self.s.add(row)
        row.swap_id = progress.swap_id
        row.vehicle_id = progress.vehicle_id
        row.updated_at = progress.updated_at
        row.battery_in = _battery_rows(progress.battery_in)
        row.battery_out = _battery_rows(progress.battery_out)
        row.outcome = progress.outcome
        self.s.flush()

    def next_request_id(self, station_id: str) -> int:
        top = self.s.scalar(
            select(func.max(SwapProgressRow.request_id)).where(
                SwapProgressRow.station_id == station_id
            )
        )
        return 1 if top is None else int(top) + 1


class StationCommandRepo:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _record(row: StationCommandRow) -> StationCommand:
        return StationCommand(
            id=row.id,
            state=CommandState(row.state),
            **{f: getattr(row, f) for f in _COMMAND_FIELDS},
        )

    def add(self, command: StationCommand) -> None:
        row = StationCommandRow(id=command.id, state=str(command.state))
        for f in _COMMAND_FIELDS:
            setattr(row, f, getattr(command, f))
        self.s.add(row)
        self.s.flush()

    def get(self, command_id: str, *, for_update: bool = False) -> StationCommand | None:
        q = select(StationCommandRow).where(StationCommandRow.id == command_id)
        if for_update:
            q = q.with_for_update()
        row = self.s.scalar(q)
        return None if row is None else self._record(row)

    def update(self, command: StationCommand) -> None:
        row = self.s.get(StationCommandRow, command.id)
        if row is None:
            raise KeyError(command.id)
        row.state = str(command.state)
        for f in _COMMAND_FIELDS:
            setattr(row, f, getattr(command, f))
        self.s.flush()

    def queued(self, station_id: str) -> list[StationCommand]:
        rows = self.s.scalars(
            select(StationCommandRow)
            .where(StationCommandRow.station_id == station_id, StationCommandRow.state == "queued")
            .order_by(StationCommandRow.created_at, StationCommandRow.id)
        )
        return [self._record(r) for r in rows]

    def stations_with_queued(self, station_ids: Sequence[str] | None = None) -> list[str]:
        q = select(StationCommandRow.station_id).where(StationCommandRow.state == "queued")
        if station_ids is not None:
            q = q.where(StationCommandRow.station_id.in_(list(station_ids)))
        return sorted(set(self.s.scalars(q.distinct())))

    def find(self, station_id: str, *, limit: int = 100) -> list[StationCommand]:
        rows = self.s.scalars(
            select(StationCommandRow)
            .where(StationCommandRow.station_id == station_id)
            .order_by(StationCommandRow.created_at.desc(), StationCommandRow.id.desc())
            .limit(limit)
        )
        return [self._record(r) for r in rows]
