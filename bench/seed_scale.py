"""Time the bulk demo loader on a fresh PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm python -m bench.seed_scale [--smoke]

Creates (drops first if present) the database ``crm_bench`` on DATABASE_URL's server, migrates
it, loads the demo base set (``seed_demo``) and then times
``seed_demo --customers 100000 --orders 1000000``. ``--smoke`` loads 1,000 and 10,000 into a
database of its own, ``crm_bench_smoke``, so a smoke run never destroys the full-scale data.
Prints the wall time, the rows per table, rows per second and the database size; exits non-zero
when a step fails. Figures of the full run are recorded in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "crm_bench"
SMOKE_DB = "crm_bench_smoke"
FULL = (100_000, 1_000_000)
SMOKE = (1_000, 10_000)
TABLES = [
    "customers_customer",
    "orders_order",
    "orders_orderitem",
    "orders_orderstatuschange",
    "orders_payment",
    "orders_shippingdetails",
    "inventory_stockmovement",
    "inventory_stocklevel",
    "accounts_activitylog",
]


def _with_database(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path="/" + name))


def _recreate(server_url: str, name: str) -> None:
    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _manage(env: dict[str, str], *args: str) -> float:
    began = time.monotonic()
    print(f"$ python manage.py {' '.join(args)}", flush=True)
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed with exit code {result.returncode}")
    return time.monotonic() - began


def _census(url: str) -> tuple[dict[str, int], int, str]:
    with psycopg.connect(url) as conn:
        counts = {}
        for table in TABLES:
            counts[table] = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
    return counts, size, version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help=f"1,000 customers and 10,000 orders, in {SMOKE_DB}")
    options = parser.parse_args(argv)
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        print("bench.seed_scale needs DATABASE_URL=postgres://... (the server to create crm_bench on)", file=sys.stderr)
        return 2
    customers, orders = SMOKE if options.smoke else FULL
    name = SMOKE_DB if options.smoke else BENCH_DB
    url = _with_database(server_url, name)
    env = {**os.environ, "DATABASE_URL": url}
    if not env.get("DJANGO_SECRET_KEY"):
        env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(48)
        env.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    print(f"Fresh database {name} on {urlparse(server_url).hostname}")
    _recreate(server_url, name)
    _manage(env, "migrate", "-v0")
    base = _manage(env, "seed_demo")
    before, _, _ = _census(url)
    wall = _manage(env, "seed_demo", "--customers", str(customers), "--orders", str(orders))
    after, size, version = _census(url)
    added = {table: after[table] - before[table] for table in TABLES}
    total = sum(added.values())
    print()
    print(f"PostgreSQL {version}, {os.cpu_count()} CPUs")
    print(f"base set: {base:.1f} s")
    print(f"seed_demo --customers {customers} --orders {orders}: {wall:.1f} s wall, {total:,} rows added")
    print(f"{total / wall:,.0f} rows/s")
    print(f"{'table':<28} {'added':>12} {'total':>12}")
    for table in TABLES:
        print(f"{table:<28} {added[table]:>12,} {after[table]:>12,}")
    print(f"database size: {size / 2**20:,.0f} MiB")
    if added["customers_customer"] != customers or added["orders_order"] != orders:
        print("ERROR: the load did not add the requested rows", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
