"""Station link (OCPP): station credentials, boot and connection registry, connector status,
charging sessions, swap progress as stations report it, and the command queue with expiry
(with a PostgreSQL trigger that notifies the worker holding the station).

Revision ID: 0004_ocpp
Revises: 0003_telemetry
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from openswap.storage.station_tables import NOTIFY_FUNCTION_SQL, NOTIFY_TRIGGER_SQL

revision: str = "0004_ocpp"
down_revision: str | None = "0003_telemetry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "station_credentials",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", name="fk_station_credentials_station_id_stations"),
            primary_key=True,
        ),
        sa.Column("password_hash", sa.String(400), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
    )
    op.create_table(
        "station_links",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", name="fk_station_links_station_id_stations"),
            primary_key=True,
        ),
        sa.Column("boot_status", sa.String(32)),
        sa.Column("vendor", sa.String(400)),
        sa.Column("model", sa.String(400)),
        sa.Column("firmware", sa.String(400)),
        sa.Column("booted_at", _TZ),
        sa.Column("worker_id", sa.String(64)),
        sa.Column("ocpp_version", sa.String(16)),
        sa.Column("connected_at", _TZ),
        sa.Column("disconnected_at", _TZ),
    )
    op.create_table(
        "station_connector_status",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", name="fk_station_connector_status_station_id_stations"),
            primary_key=True,
        ),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("connector_id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
    )
    op.create_table(
        "charging_sessions",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", name="fk_charging_sessions_station_id_stations"),
            primary_key=True,
        ),
        sa.Column("transaction_id", sa.String(64), primary_key=True),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("seq_no", sa.Integer, nullable=False),
        sa.Column("pack_serial", sa.String(64)),
        sa.Column("energy_kwh", sa.Float),
        sa.Column("power_kw", sa.Float),
        sa.Column("soc", sa.Float),
        sa.Column("ended_at", _TZ),
        sa.Column("stopped_reason", sa.String(400)),
        sa.CheckConstraint("state IN ('started', 'ended')", name="ck_charging_sessions_state"),
    )
    op.create_index(
        "ix_charging_sessions_station_evse_state",
        "charging_sessions",
        ["station_id", "evse_id", "state"],
    )
    op.create_table(
        "station_swap_progress",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", name="fk_station_swap_progress_station_id_stations"),
            primary_key=True,
        ),
        sa.Column("request_id", sa.Integer, primary_key=True),
        sa.Column(
            "swap_id",
            sa.String(64),
            sa.ForeignKey("swaps.id", name="fk_station_swap_progress_swap_id_swaps"),
            nullable=False,
        ),
        sa.Column(
            "vehicle_id",
            sa.String(64),
            sa.ForeignKey("vehicles.id", name="fk_station_swap_progress_vehicle_id_vehicles"),
            nullable=False,
        ),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("battery_in", sa.JSON),
        sa.Column("battery_out", sa.JSON),
        sa.Column("outcome", sa.String(16)),
        sa.UniqueConstraint("swap_id", name="uq_station_swap_progress_swap_id"),
    )
    op.create_table(
        "station_commands",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", name="fk_station_commands_station_id_stations"),
            nullable=False,
        ),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("sent_at", _TZ),
        sa.Column("finished_at", _TZ),
        sa.Column("message_id", sa.String(64)),
        sa.Column("response", sa.JSON),
        sa.Column("error", sa.String(400)),
        sa.Column("swap_id", sa.String(64)),
        sa.CheckConstraint(
            "state IN ('queued', 'sent', 'accepted', 'rejected', 'failed', 'expired')",
            name="ck_station_commands_state",
        ),
    )
    op.create_index(
        "ix_station_commands_station_state",
        "station_commands",
        ["station_id", "state", "created_at"],
    )
    op.create_index("ix_station_commands_state", "station_commands", ["state"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY_FUNCTION_SQL)
        op.execute(NOTIFY_TRIGGER_SQL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_station_commands_notify ON station_commands")
        op.execute("DROP FUNCTION IF EXISTS openswap_notify_station_command()")
    op.drop_index("ix_station_commands_state", table_name="station_commands")
    op.drop_index("ix_station_commands_station_state", table_name="station_commands")
    op.drop_table("station_commands")
    op.drop_table("station_swap_progress")
    op.drop_index("ix_charging_sessions_station_evse_state", table_name="charging_sessions")
    op.drop_table("charging_sessions")
    op.drop_table("station_connector_status")
    op.drop_table("station_links")
    op.drop_table("station_credentials")
