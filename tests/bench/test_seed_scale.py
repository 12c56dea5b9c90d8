"""``python -m bench.seed_scale --smoke``: the seed benchmark runs end to end on PostgreSQL.

It works in its own database (``crm_bench_smoke``), never in ``crm_bench`` where the
full-scale data lives, and not in the test database either: it creates, migrates and loads a
fresh one, as the full run does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import seed_scale

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


def test_smoke_uses_its_own_database():
    assert seed_scale.SMOKE_DB != seed_scale.BENCH_DB


def test_seed_scale_smoke_loads_the_requested_rows():
    server = os.environ.get("DATABASE_URL", "")
    assert server.startswith(("postgres://", "postgresql://"))
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}  # production settings

    done = subprocess.run(
        [sys.executable, "-m", "bench.seed_scale", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    output = done.stdout
    assert done.returncode == 0, output + done.stderr
    assert f"Fresh database {seed_scale.SMOKE_DB} on" in output
    customers, orders = seed_scale.SMOKE
    assert f"seed_demo --customers {customers} --orders {orders}:" in output
    # "table  added  total" rows: exactly the requested customers and orders were added, with
    # items, payments, history and stock movements alongside.
    added = {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"^(\w+)\s+([\d,]+)\s+[\d,]+$", output, re.M)}
    assert set(seed_scale.TABLES) <= set(added), output
    assert added["customers_customer"] == customers
    assert added["orders_order"] == orders
    assert added["orders_orderitem"] >= orders
    assert added["orders_orderstatuschange"] >= orders
    assert added["orders_payment"] > 0
    assert added["inventory_stockmovement"] > 0
    assert re.search(r"^[\d,]+ rows/s$", output, re.M)
