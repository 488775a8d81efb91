"""Pack telemetry: raw readings and per-cell frames (PostgreSQL: range-partitioned by day,
partitions created on demand by the store), minute aggregates, days awaiting downsampling,
dead letters, health alarms and health estimates.

Revision ID: 0003_telemetry
Revises: 0002_ledger
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_telemetry"
down_revision: str | None = "0002_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOAT64 = sa.Float(precision=53).with_variant(postgresql.DOUBLE_PRECISION(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
RAW: dict[str, Any] = {"postgresql_partition_by": "RANGE (day)", "sqlite_with_rowid": False}


def upgrade() -> None:
    op.create_table(
        "telemetry_readings",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("time_s", FLOAT64, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("soc", sa.REAL(), nullable=False),
        sa.Column("voltage_v", sa.REAL(), nullable=False),
        sa.Column("current_a", sa.REAL(), nullable=False),
        sa.Column("cell_v_min", sa.REAL(), nullable=False),
        sa.Column("cell_v_max", sa.REAL(), nullable=False),
        sa.Column("temp_max_c", sa.REAL(), nullable=False),
        sa.Column("spread_c", sa.REAL(), nullable=True),
        sa.Column("insulation_ohm", sa.REAL(), nullable=False),
        sa.Column("alarm_flags", sa.Integer(), nullable=False),
        sa.Column("temps", sa.LargeBinary(), nullable=False),
        sa.Column("positions", sa.String(length=64), nullable=False),
        sa.Column("coolant_in_c", sa.REAL(), nullable=True),
        sa.Column("coolant_out_c", sa.REAL(), nullable=True),
        sa.PrimaryKeyConstraint("day", "serial", "time_s", name=op.f("pk_telemetry_readings")),
        **RAW,
    )
    op.create_table(
        "telemetry_cell_frames",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("time_s", FLOAT64, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("cells", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", "serial", "time_s", name=op.f("pk_telemetry_cell_frames")),
        **RAW,
    )
    op.create_table(
        "telemetry_minutes",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("soc_mean", sa.REAL(), nullable=False),
        sa.Column("current_mean_a", sa.REAL(), nullable=False),
        sa.Column("voltage_mean_v", sa.REAL(), nullable=False),
        sa.Column("cell_v_min", sa.REAL(), nullable=False),
        sa.Column("cell_v_max", sa.REAL(), nullable=False),
        sa.Column("temp_max_c", sa.REAL(), nullable=False),
        sa.Column("spread_mean_c", sa.REAL(), nullable=True),
        sa.Column("spread_max_c", sa.REAL(), nullable=True),
        sa.Column("insulation_min_ohm", sa.REAL(), nullable=False),
        sa.Column("alarm_flags", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("serial", "minute", name=op.f("pk_telemetry_minutes")),
    )
    op.create_table(
        "telemetry_dirty_days",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_telemetry_dirty_days")),
    )
    op.create_table(
        "telemetry_dead_letters",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.Column("serial", sa.String(length=400), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_dead_letters")),
    )
    op.create_index(
        op.f("ix_telemetry_dead_letters_received_at"), "telemetry_dead_letters", ["received_at"]
    )
    op.create_index(op.f("ix_telemetry_dead_letters_serial"), "telemetry_dead_letters", ["serial"])
    op.create_table(
        "pack_alarms",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("onset_time_s", FLOAT64, nullable=False),
        sa.Column("detected_time_s", FLOAT64, nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_alarms")),
        sa.UniqueConstraint(
            "serial",
            "kind",
            "subject",
            "detected_time_s",
            name=op.f("uq_pack_alarms_serial_kind_subject_detected_time_s"),
        ),
    )
    op.create_index(op.f("ix_pack_alarms_serial"), "pack_alarms", ["serial"])
    op.create_table(
        "pack_health_estimates",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("time_s", FLOAT64, nullable=False),
        sa.Column("window_start_s", FLOAT64, nullable=False),
        sa.Column("capacity_soh", FLOAT64, nullable=True),
        sa.Column("capacity_soh_low", FLOAT64, nullable=True),
        sa.Column("capacity_soh_high", FLOAT64, nullable=True),
        sa.Column("resistance_ohm", FLOAT64, nullable=True),
        sa.Column("resistance_soh", FLOAT64, nullable=True),
        sa.Column("resistance_soh_low", FLOAT64, nullable=True),
        sa.Column("resistance_soh_high", FLOAT64, nullable=True),
        sa.Column("max_spread_c", FLOAT64, nullable=True),
        sa.Column("min_insulation_ohm", FLOAT64, nullable=True),
        sa.Column("estimated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("serial", "time_s", name=op.f("pk_pack_health_estimates")),
    )


def downgrade() -> None:
    op.drop_table("pack_health_estimates")
    op.drop_index(op.f("ix_pack_alarms_serial"), table_name="pack_alarms")
    op.drop_table("pack_alarms")
    op.drop_index(op.f("ix_telemetry_dead_letters_serial"), table_name="telemetry_dead_letters")
    op.drop_index(
        op.f("ix_telemetry_dead_letters_received_at"), table_name="telemetry_dead_letters"
    )
    op.drop_table("telemetry_dead_letters")
    op.drop_table("telemetry_dirty_days")
    op.drop_table("telemetry_minutes")
    op.drop_table("telemetry_cell_frames")  # its day partitions go with it
    op.drop_table("telemetry_readings")
