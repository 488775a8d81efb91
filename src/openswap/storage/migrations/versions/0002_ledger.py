"""Lifecycle ledger: entries, complete-subtree nodes, pack chain heads, the entry-signing key
registry, published checkpoints, the outbox relay's record and sealed secrets.

Revision ID: 0002_ledger
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_ledger"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoints")),
    )
    op.create_index(
        op.f("ix_ledger_checkpoints_size"), "ledger_checkpoints", ["size"], unique=False
    )
    op.create_table(
        "ledger_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_ledger_entries")),
    )
    op.create_index(
        op.f("ix_ledger_entries_leaf_hash"), "ledger_entries", ["leaf_hash"], unique=False
    )
    op.create_table(
        "ledger_keys",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org", sa.String(length=128), nullable=False),
        sa.Column("roles", sa.String(length=400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("revoked_from", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "revoked_from IS NULL OR revoked_from >= valid_from",
            name=op.f("ck_ledger_keys_revoked_after_valid"),
        ),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_ledger_keys")),
    )
    op.create_index(op.f("ix_ledger_keys_name"), "ledger_keys", ["name"], unique=False)
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("level >= 1", name=op.f("ck_ledger_nodes_level")),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_ledger_nodes")),
    )
    op.create_table(
        "ledger_pack_heads",
        sa.Column("pack", sa.String(length=128), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pack", name=op.f("pk_ledger_pack_heads")),
    )
    op.create_table(
        "ledger_relay",
        sa.Column("outbox_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_index", sa.BigInteger(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('appended', 'skipped', 'rejected')", name=op.f("ck_ledger_relay_status")
        ),
        sa.PrimaryKeyConstraint("outbox_seq", name=op.f("pk_ledger_relay")),
    )
    op.create_index(op.f("ix_ledger_relay_status"), "ledger_relay", ["status"], unique=False)
    op.create_table(
        "sealed_secrets",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sealed_secrets")),
    )


def downgrade() -> None:
    op.drop_table("sealed_secrets")
    op.drop_index(op.f("ix_ledger_relay_status"), table_name="ledger_relay")
    op.drop_table("ledger_relay")
    op.drop_table("ledger_pack_heads")
    op.drop_table("ledger_nodes")
    op.drop_index(op.f("ix_ledger_keys_name"), table_name="ledger_keys")
    op.drop_table("ledger_keys")
    op.drop_index(op.f("ix_ledger_entries_leaf_hash"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index(op.f("ix_ledger_checkpoints_size"), table_name="ledger_checkpoints")
    op.drop_table("ledger_checkpoints")
