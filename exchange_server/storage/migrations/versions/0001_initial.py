"""The initial schema: journal, snapshots, projection checkpoints and the projections.

Revision ID: 0001
Revises:
Create Date: 2025-11-21
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
        "journal",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("command", sa.LargeBinary(), nullable=False),
        sa.Column("events", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal")),
    )
    op.create_table(
        "snapshots",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_snapshots")),
    )
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projection_checkpoints")),
    )
    op.create_table(
        "instruments",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), server_default=sa.text("''"), nullable=False),
        sa.Column(
            "asset_class", sa.String(length=20), server_default=sa.text("''"), nullable=False
        ),
        sa.Column("exchange", sa.String(length=20), server_default=sa.text("''"), nullable=False),
        sa.Column("currency", sa.String(length=10), server_default=sa.text("''"), nullable=False),
        sa.Column("sector", sa.String(length=100), server_default=sa.text("''"), nullable=False),
        sa.Column("isin", sa.String(length=20), server_default=sa.text("''"), nullable=False),
        sa.Column("price_decimals", sa.Integer(), nullable=False),
        sa.Column("quantity_decimals", sa.Integer(), nullable=False),
        sa.Column("tick_size", sa.BigInteger(), nullable=False),
        sa.Column("lot_size", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default=sa.text("''"), nullable=False),
        sa.Column("reference_price", sa.BigInteger(), nullable=False),
        sa.Column("band_low", sa.BigInteger(), nullable=False),
        sa.Column("band_high", sa.BigInteger(), nullable=False),
        sa.Column("updated_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_instruments")),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("self_trade_prevention", sa.String(length=30), nullable=False),
        sa.Column("updated_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=20), nullable=False),
        sa.Column("tif", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("trigger_price", sa.BigInteger(), nullable=False),
        sa.Column("filled", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("filled_notional", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column(
            "client_order_id", sa.String(length=64), server_default=sa.text("''"), nullable=False
        ),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("expire_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), server_default=sa.text("''"), nullable=False),
        sa.Column("updated_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    op.create_index("ix_orders_account_status", "orders", ["account", "status"])
    op.create_index("ix_orders_account_client_order_id", "orders", ["account", "client_order_id"])
    op.create_index("ix_orders_symbol_status", "orders", ["symbol", "status"])
    op.create_table(
        "fills",
        sa.Column("trade_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("notional", sa.BigInteger(), nullable=False),
        sa.Column("aggressor", sa.String(length=4), nullable=False),
        sa.Column("buy_order_id", sa.BigInteger(), nullable=False),
        sa.Column("sell_order_id", sa.BigInteger(), nullable=False),
        sa.Column("buyer", sa.BigInteger(), nullable=False),
        sa.Column("seller", sa.BigInteger(), nullable=False),
        sa.Column("buyer_fee", sa.BigInteger(), nullable=False),
        sa.Column("seller_fee", sa.BigInteger(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_fills")),
    )
    op.create_index("ix_fills_buyer_trade_id", "fills", ["buyer", "trade_id"])
    op.create_index("ix_fills_seller_trade_id", "fills", ["seller", "trade_id"])
    op.create_index("ix_fills_symbol_ts_ns", "fills", ["symbol", "ts_ns"])
    op.create_table(
        "balances",
        sa.Column("account", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("updated_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "asset", name=op.f("pk_balances")),
    )
    op.create_table(
        "ledger_entries",
        # INTEGER on SQLite makes the key an alias of the rowid, which SQLite auto-assigns.
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_ledger_entries")),
    )
    op.create_index(
        "ix_ledger_entries_account_asset_entry_id",
        "ledger_entries",
        ["account", "asset", "entry_id"],
    )
    op.create_table(
        "positions",
        sa.Column("account", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("realised_pnl", sa.BigInteger(), nullable=False),
        sa.Column("updated_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "symbol", name=op.f("pk_positions")),
    )


def downgrade() -> None:
    op.drop_table("positions")
    op.drop_index("ix_ledger_entries_account_asset_entry_id", table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("balances")
    op.drop_index("ix_fills_symbol_ts_ns", table_name="fills")
    op.drop_index("ix_fills_seller_trade_id", table_name="fills")
    op.drop_index("ix_fills_buyer_trade_id", table_name="fills")
    op.drop_table("fills")
    op.drop_index("ix_orders_symbol_status", table_name="orders")
    op.drop_index("ix_orders_account_client_order_id", table_name="orders")
    op.drop_index("ix_orders_account_status", table_name="orders")
    op.drop_table("orders")
    op.drop_table("accounts")
    op.drop_table("instruments")
    op.drop_table("projection_checkpoints")
    op.drop_table("snapshots")
    op.drop_table("journal")
