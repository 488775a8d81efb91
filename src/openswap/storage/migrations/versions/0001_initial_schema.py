"""Initial schema: catalog, organisations, sites, packs with custody, reservations, swaps,
bills, idempotency records and the lifecycle outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 02:36:06.988877
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "adapters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_id", sa.String(length=64), nullable=False),
        sa.Column("to_id", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adapters")),
    )
    op.create_table(
        "frame_standards",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("mount", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frame_standards")),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_index(
        op.f("ix_idempotency_records_created_at"),
        "idempotency_records",
        ["created_at"],
        unique=False,
    )

    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "outbox_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("pack_serial", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_events_event_id")),
    )
    op.create_index(
        op.f("ix_outbox_events_pack_serial"), "outbox_events", ["pack_serial"], unique=False
    )
    op.create_index(
        "ix_outbox_events_published_at_seq", "outbox_events", ["published_at", "seq"], unique=False
    )

    op.create_table(
        "station_designs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("swap_type", sa.String(length=32), nullable=False),
        sa.Column("bays", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_designs")),
    )
    op.create_table(
        "vehicle_models",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("oem", sa.String(length=400), nullable=False),
        sa.Column("mount", sa.String(length=32), nullable=False),
        sa.Column("pack_positions", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle_models")),
    )
    op.create_table(
        "organisation_roles",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "role IN ('operator', 'fleet', 'battery_owner', 'maker', 'repairer', "
            "'recycler', 'regulator')",
            name=op.f("ck_organisation_roles_role"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_roles_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("org_id", "role", name=op.f("pk_organisation_roles")),
    )
    op.create_table(
        "pack_models",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("maker", sa.String(length=400), nullable=False),
        sa.Column("frame_id", sa.String(length=64), nullable=False),
        sa.Column("usable_energy_kwh", sa.Float(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["frame_id"],
            ["frame_standards.id"],
            name=op.f("fk_pack_models_frame_id_frame_standards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_models")),
    )
    op.create_index(op.f("ix_pack_models_frame_id"), "pack_models", ["frame_id"], unique=False)

    op.create_table(
        "stations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("design_id", sa.String(length=64), nullable=False),
        sa.Column("operator_org_id", sa.String(length=64), nullable=False),
        sa.Column("corridor", sa.String(length=64), nullable=True),
        sa.Column("km", sa.Float(), nullable=True),
        sa.Column("direction", sa.String(length=32), nullable=True),
        sa.Column("utc_offset_min", sa.Integer(), nullable=False),
        sa.Column("tariff", sa.String(length=64), nullable=False),
        sa.Column("service_fee_cny_per_kwh", sa.Float(), nullable=False),
        sa.Column("battery_fee_cny_per_kwh", sa.Float(), nullable=False),
        sa.Column("stocked_models", sa.JSON(), nullable=False),
        sa.Column("adapter_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["design_id"],
            ["station_designs.id"],
            name=op.f("fk_stations_design_id_station_designs"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_org_id"],
            ["organisations.id"],
            name=op.f("fk_stations_operator_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
    )
    op.create_index(op.f("ix_stations_corridor"), "stations", ["corridor"], unique=False)
    op.create_index(
        op.f("ix_stations_operator_org_id"), "stations", ["operator_org_id"], unique=False
    )

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("username", sa.String(length=400), nullable=False),
        sa.Column("password_hash", sa.String(length=400), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'operator', 'fleet', 'station', 'auditor')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_users_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_org_id"), "users", ["org_id"], unique=False)

    op.create_table(
        "vehicles",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("fleet_org_id", sa.String(length=64), nullable=False),
        sa.Column("pack_count", sa.Integer(), nullable=False),
        sa.Column("adapter_ids", sa.JSON(), nullable=False),
        sa.CheckConstraint("pack_count > 0", name=op.f("ck_vehicles_pack_count")),
        sa.ForeignKeyConstraint(
            ["fleet_org_id"],
            ["organisations.id"],
            name=op.f("fk_vehicles_fleet_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["vehicle_models.id"], name=op.f("fk_vehicles_model_id_vehicle_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicles")),
    )
    op.create_index(op.f("ix_vehicles_fleet_org_id"), "vehicles", ["fleet_org_id"], unique=False)

    op.create_table(
        "warehouses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_warehouses_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
    )
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("secret_hash", sa.String(length=400), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role <> 'station' OR station_id IS NOT NULL",
            name=op.f("ck_api_clients_station_device"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'operator', 'fleet', 'station', 'auditor')",
            name=op.f("ck_api_clients_role"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_api_clients_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_api_clients_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_api_clients")),
    )
    op.create_index(op.f("ix_api_clients_org_id"), "api_clients", ["org_id"], unique=False)

    op.create_table(
        "bays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_bays_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bays")),
        sa.UniqueConstraint("station_id", "number", name=op.f("uq_bays_station_id_number")),
    )
    op.create_table(
        "rack_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("charger_standard", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_rack_slots_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rack_slots")),
        sa.UniqueConstraint("station_id", "number", name=op.f("uq_rack_slots_station_id_number")),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("fleet_org_id", sa.String(length=64), nullable=False),
        sa.Column("vehicle_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("walk_in", sa.Boolean(), nullable=False),
        sa.Column("need_kwh", sa.Float(), nullable=True),
        sa.Column("arrive_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=400), nullable=True),
        sa.Column("open_vehicle_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            (
                "(state IN ('active', 'in_use') AND open_vehicle_id = vehicle_id) OR "
                "(state NOT IN ('active', 'in_use') AND open_vehicle_id IS NULL)"
            ),
            name=op.f("ck_reservations_open_vehicle"),
        ),
        sa.CheckConstraint(
            "state IN ('active', 'in_use', 'fulfilled', 'cancelled', 'expired')",
            name=op.f("ck_reservations_state"),
        ),
        sa.ForeignKeyConstraint(
            ["fleet_org_id"],
            ["organisations.id"],
            name=op.f("fk_reservations_fleet_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_reservations_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.id"], name=op.f("fk_reservations_vehicle_id_vehicles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("open_vehicle_id", name=op.f("uq_reservations_open_vehicle_id")),
    )
    op.create_index(
        op.f("ix_reservations_fleet_org_id"), "reservations", ["fleet_org_id"], unique=False
    )
    op.create_index(
        "ix_reservations_state_expires_at", "reservations", ["state", "expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_reservations_station_id"), "reservations", ["station_id"], unique=False
    )
    op.create_index(
        op.f("ix_reservations_vehicle_id"), "reservations", ["vehicle_id"], unique=False
    )

    op.create_table(
        "shipments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=400), nullable=False),
        sa.Column("destination_station_id", sa.String(length=64), nullable=True),
        sa.Column("destination_warehouse_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('in_transit', 'received')", name=op.f("ck_shipments_state")),
        sa.CheckConstraint(
            "(destination_station_id IS NULL) <> (destination_warehouse_id IS NULL)",
            name=op.f("ck_shipments_one_destination"),
        ),
        sa.ForeignKeyConstraint(
            ["destination_station_id"],
            ["stations.id"],
            name=op.f("fk_shipments_destination_station_id_stations"),
        ),
        sa.ForeignKeyConstraint(
            ["destination_warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_shipments_destination_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
    )
    op.create_table(
        "vehicle_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.id"], name=op.f("fk_vehicle_positions_vehicle_id_vehicles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle_positions")),
        sa.UniqueConstraint(
            "vehicle_id", "number", name=op.f("uq_vehicle_positions_vehicle_id_number")
        ),
    )
    op.create_table(
        "packs",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("owner_org_id", sa.String(length=64), nullable=False),
        sa.Column("soc", sa.Float(), nullable=False),
        sa.Column("soh", sa.Float(), nullable=False),
        sa.Column("cycle_count", sa.Integer(), nullable=False),
        sa.Column("safety_state", sa.String(length=32), nullable=False),
        sa.Column("insulation_resistance_ohm", sa.Float(), nullable=False),
        sa.Column("max_cell_temp_spread_c", sa.Float(), nullable=False),
        sa.Column("custody_kind", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("position_id", sa.Integer(), nullable=True),
        sa.Column("bay_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.String(length=64), nullable=True),
        sa.Column("warehouse_id", sa.String(length=64), nullable=True),
        sa.Column("custody_since", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            (
                "(custody_kind = 'vehicle' AND position_id IS NOT NULL AND slot_id IS NULL AND "
                "bay_id IS NULL AND shipment_id IS NULL AND warehouse_id IS NULL) OR "
                "(custody_kind = 'slot' AND position_id IS NULL AND slot_id IS NOT NULL AND "
                "bay_id IS NULL AND shipment_id IS NULL AND warehouse_id IS NULL) OR "
                "(custody_kind = 'bay' AND position_id IS NULL AND slot_id IS NULL AND "
                "bay_id IS NOT NULL AND shipment_id IS NULL AND warehouse_id IS NULL) OR "
                "(custody_kind = 'shipment' AND position_id IS NULL AND slot_id IS NULL AND "
                "bay_id IS NULL AND shipment_id IS NOT NULL AND warehouse_id IS NULL) OR "
                "(custody_kind = 'warehouse' AND position_id IS NULL AND slot_id IS NULL AND "
                "bay_id IS NULL AND shipment_id IS NULL AND warehouse_id IS NOT NULL) OR "
                "(custody_kind = 'retired' AND position_id IS NULL AND slot_id IS NULL AND "
                "bay_id IS NULL AND shipment_id IS NULL AND warehouse_id IS NULL)"
            ),
            name=op.f("ck_packs_one_custodian"),
        ),
        sa.CheckConstraint(
            "custody_kind IN ('vehicle', 'slot', 'bay', 'shipment', 'warehouse', 'retired')",
            name=op.f("ck_packs_custody_kind"),
        ),
        sa.CheckConstraint(
            "safety_state IN ('ok', 'alarm', 'quarantined')", name=op.f("ck_packs_safety_state")
        ),
        sa.CheckConstraint("cycle_count >= 0", name=op.f("ck_packs_cycle_count")),
        sa.CheckConstraint("soc >= 0 AND soc <= 1", name=op.f("ck_packs_soc")),
        sa.CheckConstraint("soh >= 0 AND soh <= 1", name=op.f("ck_packs_soh")),
        sa.ForeignKeyConstraint(["bay_id"], ["bays.id"], name=op.f("fk_packs_bay_id_bays")),
        sa.ForeignKeyConstraint(
            ["model_id"], ["pack_models.id"], name=op.f("fk_packs_model_id_pack_models")
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organisations.id"], name=op.f("fk_packs_owner_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["vehicle_positions.id"],
            name=op.f("fk_packs_position_id_vehicle_positions"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_packs_shipment_id_shipments")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["rack_slots.id"], name=op.f("fk_packs_slot_id_rack_slots")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_packs_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_packs")),
        sa.UniqueConstraint("position_id", name=op.f("uq_packs_position_id")),
        sa.UniqueConstraint("slot_id", name=op.f("uq_packs_slot_id")),
    )
    op.create_index(op.f("ix_packs_bay_id"), "packs", ["bay_id"], unique=False)
    op.create_index(op.f("ix_packs_owner_org_id"), "packs", ["owner_org_id"], unique=False)
    op.create_index(op.f("ix_packs_shipment_id"), "packs", ["shipment_id"], unique=False)
    op.create_index(op.f("ix_packs_warehouse_id"), "packs", ["warehouse_id"], unique=False)

    op.create_table(
        "swaps",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("bay_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.String(length=64), nullable=False),
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("need_kwh", sa.Float(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("abort_reason", sa.String(length=400), nullable=True),
        sa.Column("energy_delivered_kwh", sa.Float(), nullable=True),
        sa.Column("active_bay_id", sa.Integer(), nullable=True),
        sa.Column("active_vehicle_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            (
                "(state = 'started' AND active_bay_id = bay_id AND "
                "active_vehicle_id = vehicle_id) OR (state <> 'started' AND "
                "active_bay_id IS NULL AND active_vehicle_id IS NULL)"
            ),
            name=op.f("ck_swaps_active"),
        ),
        sa.CheckConstraint(
            "state IN ('started', 'completed', 'aborted')", name=op.f("ck_swaps_state")
        ),
        sa.ForeignKeyConstraint(["bay_id"], ["bays.id"], name=op.f("fk_swaps_bay_id_bays")),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_swaps_reservation_id_reservations"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_swaps_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.id"], name=op.f("fk_swaps_vehicle_id_vehicles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swaps")),
        sa.UniqueConstraint("active_bay_id", name=op.f("uq_swaps_active_bay_id")),
        sa.UniqueConstraint("active_vehicle_id", name=op.f("uq_swaps_active_vehicle_id")),
    )
    op.create_index(op.f("ix_swaps_reservation_id"), "swaps", ["reservation_id"], unique=False)
    op.create_index(op.f("ix_swaps_station_id"), "swaps", ["station_id"], unique=False)
    op.create_index(op.f("ix_swaps_vehicle_id"), "swaps", ["vehicle_id"], unique=False)

    op.create_table(
        "bills",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("swap_id", sa.String(length=64), nullable=False),
        sa.Column("payer_org_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payer_org_id"], ["organisations.id"], name=op.f("fk_bills_payer_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(["swap_id"], ["swaps.id"], name=op.f("fk_bills_swap_id_swaps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint("swap_id", name=op.f("uq_bills_swap_id")),
    )
    op.create_index(op.f("ix_bills_payer_org_id"), "bills", ["payer_org_id"], unique=False)

    op.create_table(
        "reservation_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("position_no", sa.Integer(), nullable=False),
        sa.Column("pack_serial", sa.String(length=64), nullable=False),
        sa.Column("held_serial", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "held_serial IS NULL OR held_serial = pack_serial",
            name=op.f("ck_reservation_holds_held_serial"),
        ),
        sa.ForeignKeyConstraint(
            ["pack_serial"], ["packs.serial"], name=op.f("fk_reservation_holds_pack_serial_packs")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_reservation_holds_reservation_id_reservations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation_holds")),
        sa.UniqueConstraint("held_serial", name=op.f("uq_reservation_holds_held_serial")),
        sa.UniqueConstraint(
            "reservation_id",
            "position_no",
            name=op.f("uq_reservation_holds_reservation_id_position_no"),
        ),
    )
    op.create_index(
        op.f("ix_reservation_holds_pack_serial"), "reservation_holds", ["pack_serial"], unique=False
    )

    op.create_table(
        "swap_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("swap_id", sa.String(length=64), nullable=False),
        sa.Column("position_no", sa.Integer(), nullable=False),
        sa.Column("pack_in", sa.String(length=64), nullable=False),
        sa.Column("pack_out", sa.String(length=64), nullable=True),
        sa.Column("soc_in", sa.Float(), nullable=True),
        sa.Column("soc_out", sa.Float(), nullable=True),
        sa.Column("energy_in_kwh", sa.Float(), nullable=True),
        sa.Column("energy_out_kwh", sa.Float(), nullable=True),
        sa.Column("slot_out_no", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pack_in"], ["packs.serial"], name=op.f("fk_swap_lines_pack_in_packs")
        ),
        sa.ForeignKeyConstraint(
            ["pack_out"], ["packs.serial"], name=op.f("fk_swap_lines_pack_out_packs")
        ),
        sa.ForeignKeyConstraint(
            ["swap_id"], ["swaps.id"], name=op.f("fk_swap_lines_swap_id_swaps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_lines")),
        sa.UniqueConstraint(
            "swap_id", "position_no", name=op.f("uq_swap_lines_swap_id_position_no")
        ),
    )
    op.create_table(
        "bill_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payee_org_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=400), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("unit_price_cny", sa.Float(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('energy', 'service', 'battery_usage')", name=op.f("ck_bill_lines_kind")
        ),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["bills.id"], name=op.f("fk_bill_lines_bill_id_bills")
        ),
        sa.ForeignKeyConstraint(
            ["payee_org_id"],
            ["organisations.id"],
            name=op.f("fk_bill_lines_payee_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_lines")),
        sa.UniqueConstraint("bill_id", "line_no", name=op.f("uq_bill_lines_bill_id_line_no")),
    )
    op.create_index(
        op.f("ix_bill_lines_payee_org_id"), "bill_lines", ["payee_org_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bill_lines_payee_org_id"), table_name="bill_lines")

    op.drop_table("bill_lines")
    op.drop_table("swap_lines")
    op.drop_index(op.f("ix_reservation_holds_pack_serial"), table_name="reservation_holds")

    op.drop_table("reservation_holds")
    op.drop_index(op.f("ix_bills_payer_org_id"), table_name="bills")

    op.drop_table("bills")
    op.drop_index(op.f("ix_swaps_vehicle_id"), table_name="swaps")
    op.drop_index(op.f("ix_swaps_station_id"), table_name="swaps")
    op.drop_index(op.f("ix_swaps_reservation_id"), table_name="swaps")

    op.drop_table("swaps")
    op.drop_index(op.f("ix_packs_warehouse_id"), table_name="packs")
    op.drop_index(op.f("ix_packs_shipment_id"), table_name="packs")
    op.drop_index(op.f("ix_packs_owner_org_id"), table_name="packs")
    op.drop_index(op.f("ix_packs_bay_id"), table_name="packs")

    op.drop_table("packs")
    op.drop_table("vehicle_positions")
    op.drop_table("shipments")
    op.drop_index(op.f("ix_reservations_vehicle_id"), table_name="reservations")
    op.drop_index(op.f("ix_reservations_station_id"), table_name="reservations")
    op.drop_index("ix_reservations_state_expires_at", table_name="reservations")
    op.drop_index(op.f("ix_reservations_fleet_org_id"), table_name="reservations")

    op.drop_table("reservations")
    op.drop_table("rack_slots")
    op.drop_table("bays")
    op.drop_index(op.f("ix_api_clients_org_id"), table_name="api_clients")

    op.drop_table("api_clients")
    op.drop_table("warehouses")
    op.drop_index(op.f("ix_vehicles_fleet_org_id"), table_name="vehicles")

    op.drop_table("vehicles")
    op.drop_index(op.f("ix_users_org_id"), table_name="users")

    op.drop_table("users")
    op.drop_index(op.f("ix_stations_operator_org_id"), table_name="stations")
    op.drop_index(op.f("ix_stations_corridor"), table_name="stations")

    op.drop_table("stations")
    op.drop_index(op.f("ix_pack_models_frame_id"), table_name="pack_models")

    op.drop_table("pack_models")
    op.drop_table("organisation_roles")
    op.drop_table("vehicle_models")
    op.drop_table("station_designs")
    op.drop_index("ix_outbox_events_published_at_seq", table_name="outbox_events")
    op.drop_index(op.f("ix_outbox_events_pack_serial"), table_name="outbox_events")

    op.drop_table("outbox_events")
    op.drop_table("organisations")
    op.drop_index(op.f("ix_idempotency_records_created_at"), table_name="idempotency_records")

    op.drop_table("idempotency_records")
    op.drop_table("frame_standards")
    op.drop_table("adapters")
