"""What the fan-out benchmark's servers (bench/_ws_app.py, bench/_ws_bare.py) and its client
(bench/_ws_client.py) agree on, free of Django so the bare server does not load it."""

from __future__ import annotations

import time
from typing import Any

CONTROL_PATH = "/bench/control/"
LIVE_PATH = "/ws/live/"
EVENT_TYPE = "order.status_changed"
TOPIC = "orders.board"


def event_data(run: str, n: int) -> dict[str, Any]:
    """An ``order.status_changed`` shaped like the orders service's (crm_core/orders/services.py),
    with the benchmark's own keys under ``bench``; ``sent`` is ``time.time()`` just before the
    publish. The order and customer ids name no row, so a renderer that looks them up renders
    nothing (as for a record the user may not see)."""
    return {
        "order": 900_000_000 + n,
        "number": f"ORD-B-{n:06d}",
        "status": "confirmed",
        "customer": 900_000_000 + n % 97,
        "total": "1250.00",
        "paid": "500.00",
        "balance": "750.00",
        "version": 2,
        "from_status": "draft",
        "bench": {"run": run, "n": n, "sent": time.time()},
    }
