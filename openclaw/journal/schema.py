"""The journal's SQLite schema (one version; ``meta`` holds it)."""

from __future__ import annotations

SCHEMA_VERSION = 1


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    client_id TEXT PRIMARY KEY,
    venue TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    order_type TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT,
    opportunity_id INTEGER NOT NULL,
    leg INTEGER NOT NULL,
    venue_order_id TEXT,
    filled_qty TEXT NOT NULL,
    notional TEXT NOT NULL,
    fees TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_ns INTEGER NOT NULL,
    sent_ns INTEGER,
    acked_ns INTEGER,
    updated_ns INTEGER NOT NULL,
    closed_ns INTEGER,
    final INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_open ON orders (created_ns) WHERE final = 0;
CREATE INDEX IF NOT EXISTS orders_opportunity ON orders (opportunity_id, leg);
CREATE TABLE IF NOT EXISTS order_events (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES orders (client_id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    ts_ns INTEGER NOT NULL,
    venue_order_id TEXT,
    trade_id TEXT,
    qty TEXT,
    price TEXT,
    fee TEXT,
    fee_asset TEXT,
    reason TEXT,
    recorded_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS order_events_client ON order_events (client_id, id);
CREATE UNIQUE INDEX IF NOT EXISTS order_events_trade
    ON order_events (client_id, trade_id) WHERE kind = 'fill';
CREATE TABLE IF NOT EXISTS balance_snapshots (
    id INTEGER PRIMARY KEY,
    venue TEXT NOT NULL,
    ts_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS balance_snapshots_venue ON balance_snapshots (venue, id);
CREATE TABLE IF NOT EXISTS balances (
    snapshot_id INTEGER NOT NULL REFERENCES balance_snapshots (id),
    asset TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, asset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    started_ns INTEGER,
    finished_ns INTEGER,
    detail TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, created_ns);
CREATE TABLE IF NOT EXISTS run_leases (
    run_id TEXT PRIMARY KEY REFERENCES runs (run_id),
    owner TEXT NOT NULL,
    lease_until_ns INTEGER NOT NULL,
    attempts INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS control_actions (
    id INTEGER PRIMARY KEY,
    ts_ns INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS run_plans (
    run_id TEXT PRIMARY KEY REFERENCES runs (run_id),
    plan TEXT NOT NULL,
    created_ns INTEGER NOT NULL
) WITHOUT ROWID;
"""
