"""``python manage.py seed_demo [--customers N] [--orders M]``: demo data.

Without options it loads the base set (branches, staff for every role, customers, catalogue,
stock, orders in every status, this week's inspections) through the services; run again, it
notices the data is there and changes nothing. ``--customers``/``--orders`` add bulk data for
performance work on top of it (see :mod:`crm_core.common.seeding.scale`, which bypasses the
services on purpose).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from crm_core.common.seeding import names as N
from crm_core.common.seeding.base import SEED, demo_logins, is_seeded, seed_base


class Command(BaseCommand):
    help = "Load believable demo data (base set via the services; --customers/--orders add bulk data)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=0, help="add N customers in bulk (default 0)")
        parser.add_argument("--orders", type=int, default=0, help="add M orders in bulk (default 0)")
        parser.add_argument("--seed", type=int, default=SEED, help="random seed (default %(default)s)")

    def handle(self, *args, customers: int, orders: int, seed: int, **options):
        if customers < 0 or orders < 0:
            raise CommandError("--customers and --orders must be zero or more.")
        started = time.monotonic()
        if is_seeded():
            self.stdout.write("demo data already present")
        else:
            from crm_core.accounts.models import Branch

            if Branch.objects.filter(code="CAI").exists():
                raise CommandError(
                    f"Branch CAI exists but user {N.ADMIN_USERNAME!r} does not: this database holds other data; "
                    "seed_demo only fills an empty one."
                )
            self.stdout.write("Loading the demo base set through the services ...")
            seed_base(log=self.stdout.write, seed=seed)
            self.stdout.write(self.style.SUCCESS(f"Base set loaded in {time.monotonic() - started:.1f} s."))
        if customers or orders:
            from crm_core.common.seeding.scale import load_scale

            load_scale(customers=customers, orders=orders, seed=seed, log=self.stdout.write)
        self._print_logins()

    def _print_logins(self) -> None:
        rows = demo_logins()
        header = ("username", "role", "branch", "password")
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
        line = "  ".join("{:<%d}" % w for w in widths)  # noqa: UP031 - widths are computed
        self.stdout.write("")
        self.stdout.write("Demo logins:")
        self.stdout.write(line.format(*header))
        self.stdout.write(line.format(*("-" * w for w in widths)))
        for row in rows:
            self.stdout.write(line.format(*row))
        self.stdout.write("")
        self.stdout.write(f"Open {N.BASE_URL} (administration: {N.ADMIN_URL})")
