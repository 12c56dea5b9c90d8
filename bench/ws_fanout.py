"""WebSocket fan-out: how fast one event reaches a thousand open boards, and what it costs.

    # Full scale: PostgreSQL + Redis, production settings. Creates (if missing) and migrates the
    # database crm_bench_ws on DATABASE_URL's server (never crm_bench, never a test database),
    # with 2,000 dispatchers and their sessions; Redis keys under a prefix of the run's own,
    # removed at the end.
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm REDIS_URL=redis://127.0.0.1:6379/0 \\
        python -m bench.ws_fanout [--clients 1000] [--seconds 30] [--rate 20] [--profile] [--what-if] \\
            [--connect-concurrency 64] [--only daphne-1,bare] [--profile-raw stacks.txt] [--markdown]

    # Smoke (CI): 20 clients for 3 s. Embedded default (SQLite, in-memory layer): one Daphne
    # process and the bare server; with DATABASE_URL and REDIS_URL also two Daphne processes.
    python -m bench.ws_fanout --smoke

Scenarios (each on fresh server processes):

* ``daphne-1`` — N browsers on ONE Daphne process serving production's ASGI application
  (``daphne config.asgi`` plus the benchmark's control socket, bench/_ws_app.py), on /ws/live/
  with a session cookie and an allowed Origin, each subscribed to ``orders.board``: 90 % of
  them dispatchers of branch A, 10 % of branch B.
* ``daphne-2`` — 2N browsers across TWO Daphne processes (N each) behind the Redis channel layer.
* ``bare`` — the ceiling: N browsers on a bare ``websockets`` server (bench/_ws_bare.py) that
  sends the same frames, JSON-encoded per connection, with nothing else.
* ``daphne-1-profiled`` — with ``--profile``: ``daphne-1`` again under ``py-spy record --gil``,
  and where its time goes (py-spy is in requirements-dev.txt).
* ``daphne-1-no-db-hop`` — with ``--what-if``: ``daphne-1`` with Channels' per-message
  ``close_old_connections`` hop skipped for ``crm.event`` (a measurement, not the site's code).

``--connect-concurrency 1000`` opens every connection at once, like browsers coming back after a
restart; the details line counts the streams that reported "live: false" (a failed join).

Events: ``order.status_changed`` at ``--rate`` per second for ``--seconds``, every 10th to
branch B, the rest to branch A; with two processes they take turns, as requests would land on
either. Each is published inside the server process through ``realtime.publish.publish`` in
``transaction.atomic()`` (after-commit, group numbers, one ``group_send`` per group: production's
path), with ``time.time()`` stamped into its data just before the call. A client's latency is its
read time minus that stamp.

Every client runs in ONE asyncio process (this one, bench/_ws_client.py), which shares the
machine's cores with the servers: the table shows its CPU and the load average.

Exit status 1 when a frame had not arrived when the run stopped (60 s after the last publish, or
10 s without a frame), reached a client of the other branch or arrived twice, a client could not
connect or a publish failed or did not finish; latency over the target never fails the run (it is
a figure, read by people, recorded in docs/PERFORMANCE.md).

``run(smoke=...)`` is the entry point for tests: it writes its users and sessions into the
database Django is configured with (give it a test database), and hands the servers that
database (an in-memory SQLite test database is copied to a file first).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "crm_bench_ws"
FULL_CLIENTS, SMOKE_CLIENTS = 1_000, 20
FULL_SECONDS, SMOKE_SECONDS = 30.0, 3.0
RATE = 20.0
B_EVERY = 10  # every 10th client, and every 10th event, is of branch B
TARGET_P99_MS = 200.0
# After the last publish, clients wait for what is still on its way while frames keep coming,
# up to the cap; a frame that has not come when they stop is counted undelivered.
STALL_SECONDS = 10.0
DRAIN_CAP_SECONDS = 60.0
BRANCHES = (("WSA", "فرع القياس أ"), ("WSB", "فرع القياس ب"))
USERNAME = "wsbench-{:05d}"
SESSION_MARK = "wsbench"  # bench sessions' keys start with it, so a rerun can remove its own
DAPHNE = Path(sys.executable).with_name("daphne")
PY_SPY = Path(sys.executable).with_name("py-spy")
CONNECT_CONCURRENCY = 64  # handshakes in flight at once while the clients connect
WHAT_IF_ENV = "CRM_BENCH_NO_DISPATCH_DB_HOP"  # read by bench/_ws_app.py

Log = Callable[[str], None]


# --- People ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: int
    branch: int
    cookie: str


def branch_of(index: int, branches: tuple[int, int]) -> int:
    return branches[1] if index % B_EVERY == B_EVERY - 1 else branches[0]


def ensure_people(count: int, log: Log = print) -> tuple[list[Person], tuple[int, int]]:
    """``count`` active dispatchers (90 % branch A, 10 % B) with a fresh session each, in bulk."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from crm_core.accounts.models import Branch, Role, User

    began = time.monotonic()
    ids = []
    for code, name in BRANCHES:
        branch, _ = Branch.objects.get_or_create(code=code, defaults={"name": name})
        ids.append(branch.pk)
    branches = (ids[0], ids[1])
    names = [USERNAME.format(i) for i in range(count)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    password = make_password(secrets.token_urlsafe(16))
    User.objects.bulk_create(
        [
            User(
                username=name,
                password=password,
                first_name="مرسل",
                last_name=f"{i:05d}",
                role=Role.DISPATCHER,
                branch_id=branch_of(i, branches),
                language="ar",
                is_active=True,
            )
            for i, name in enumerate(names)
            if name not in existing
        ],
        batch_size=1_000,
    )
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    for i, name in enumerate(names):
        user = users[name]
        if user.branch_id != branch_of(i, branches) or user.role != Role.DISPATCHER or not user.is_active:
            User.objects.filter(pk=user.pk).update(
                branch_id=branch_of(i, branches), role=Role.DISPATCHER, is_active=True
            )
            user.refresh_from_db()
    Session.objects.filter(session_key__startswith=SESSION_MARK).delete()
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    people, sessions = [], []
    for name in names:
        user = users[name]
        key = SESSION_MARK + get_random_string(32, VALID_KEY_CHARS)
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        people.append(Person(user.pk, user.branch_id, f"{settings.SESSION_COOKIE_NAME}={key}"))
    Session.objects.bulk_create(sessions, batch_size=1_000)
    log(f"{count:,} dispatchers and their sessions ready in {time.monotonic() - began:.1f} s")
    return people, branches


# --- Server processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    kind: str  # "daphne" or "bare"
    port: int
    process: subprocess.Popen
    log: Path
    rss_idle_kib: int = 0

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def live_url(self, branch: int) -> str:
        from bench._ws_protocol import LIVE_PATH

        return self.base + LIVE_PATH + (f"?branch={branch}" if self.kind == "bare" else "")

    def wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} on port {self.port} exited with {self.process.returncode}:\n{tail(self.log)}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    self.rss_idle_kib = rss_kib(self.process.pid)[0]
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"{self.kind} did not listen on port {self.port} within {timeout:g} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Site:
    """What the Daphne processes are started with."""

    database_url: str
    redis_url: str
    secret_key: str
    workdir: Path
    prefix: str = field(default_factory=lambda: f"crm-wsbench-{uuid.uuid4().hex[:10]}")

    def env(self, prefix: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("REDIS_URL", "DATABASE_URL", "CRM_TEST_DATABASE", "DJANGO_SETTINGS_MODULE")
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": self.secret_key,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DATABASE_URL": self.database_url,
                "CRM_REDIS_PREFIX": prefix,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def start(self, kind: str, name: str, prefix: str, extra: dict[str, str] | None = None) -> Server:
        port = free_port()
        log = self.workdir / f"{name}.log"
        if kind == "daphne":
            # Production's command line (docs/SCALING.md), serving the benchmark's application.
            command = [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), "bench._ws_app:application"]
        else:
            command = [sys.executable, "-m", "bench._ws_bare", "--port", str(port)]
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env={**self.env(prefix), **(extra or {})}, stdout=out, stderr=subprocess.STDOUT
            )
        return Server(kind=kind, port=port, process=process, log=log)

    def forget_redis_keys(self) -> None:
        if not self.redis_url:
            return
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = list(client.scan_iter(match=f"{self.prefix}*", count=1_000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
        finally:
            client.close()


# --- Measuring ---------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def redis_cpu_seconds(url: str) -> float | None:
    if not url:
        return None
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("cpu")
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
    except Exception:
        return None
    finally:
        client.close()


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def nearest_rank(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- Scenarios -------------------------------------------------------------------------------------


@dataclass
class Scenario:
    key: str
    label: str
    kind: str
    processes: int
    clients: int
    profile: bool = False
    env: dict[str, str] = field(default_factory=dict)  # for the server processes


@dataclass
class Outcome:
    scenario: Scenario
    connected: int = 0
    failed: list[str] = field(default_factory=list)
    connect_s: float = math.nan
    events: Counter = field(default_factory=Counter)  # branch → events published
    expected: int = 0  # frames the clients should get
    delivered: int = 0
    duplicates: int = 0
    foreign: int = 0
    resyncs: int = 0
    resync_reasons: Counter = field(default_factory=Counter)
    paused: int = 0  # clients told "live: false" at some point
    seq_jumps: int = 0
    publish_problems: list[str] = field(default_factory=list)
    lag_max_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    window_s: float = math.nan
    server_cpu_s: list[float] = field(default_factory=list)
    server_rss_kib: list[int] = field(default_factory=list)
    server_hwm_kib: list[int] = field(default_factory=list)
    server_idle_rss_kib: list[int] = field(default_factory=list)
    server_connected_rss_kib: list[int] = field(default_factory=list)
    client_cpu_s: float = math.nan
    redis_cpu_s: float | None = None
    load: tuple[float, float] = (math.nan, math.nan)  # 1-minute load before and after
    layer: str = ""
    layer_config: dict = field(default_factory=dict)
    renderers: dict = field(default_factory=dict)
    profile: list[tuple[str, float]] = field(default_factory=list)
    profile_inclusive: list[tuple[str, float]] = field(default_factory=list)
    profile_samples: int = 0
    profile_raw: str = ""

    @property
    def lost(self) -> int:
        return self.expected - self.delivered

    @property
    def problems(self) -> list[str]:
        found = []
        if self.failed:
            found.append(f"{len(self.failed)} clients failed: {self.failed[0]}")
        if self.lost:
            found.append(f"{self.lost} frames undelivered when the run stopped")
        if self.foreign:
            found.append(f"{self.foreign} frames reached a client of the other branch")
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate frames")
        found += self.publish_problems
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def pct(self, q: float) -> float:
        return nearest_rank(self.latencies_ms, q)

    @property
    def cpu_percent(self) -> list[float]:
        return [100 * c / self.window_s for c in self.server_cpu_s] if self.window_s else []

    @property
    def cpu_us_per_frame(self) -> float:
        return 1e6 * sum(self.server_cpu_s) / self.delivered if self.delivered else math.nan


def plan_events(total: int, branches: tuple[int, int]) -> list[tuple[int, int]]:
    return [(n, branch_of(n, branches)) for n in range(total)]


async def _run_scenario(
    scenario: Scenario,
    servers: list[Server],
    people: list[Person],
    branches: tuple[int, int],
    *,
    rate: float,
    seconds: float,
    redis_url: str,
    workdir: Path,
    connect_concurrency: int,
    log: Log,
) -> Outcome:
    from bench import _ws_client as client

    outcome = Outcome(scenario=scenario)
    browsers = []
    for i, person in enumerate(people[: scenario.clients]):
        server = servers[i % len(servers)]
        browsers.append(
            client.Browser(
                index=i,
                url=server.live_url(person.branch),
                origin=server.origin,
                branch=person.branch,
                cookie=person.cookie if server.kind == "daphne" else None,
            )
        )
    fleet = client.Fleet(browsers)
    controls = [client.Control(s.base, s.origin) for s in servers]
    try:
        outcome.server_idle_rss_kib = [s.rss_idle_kib for s in servers]
        await client.connect_all(fleet, concurrency=connect_concurrency)
        outcome.connect_s = fleet.connect_seconds
        outcome.connected = len(fleet.connected)
        outcome.failed = [b.error for b in fleet.failed]
        outcome.server_connected_rss_kib = [rss_kib(s.process.pid)[0] for s in servers]
        log(f"  {scenario.label}: {outcome.connected:,} of {scenario.clients:,} connected in {outcome.connect_s:.1f} s")
        for control in controls:
            ready = await control.open()
        outcome.layer = ready.get("layer", "")
        outcome.layer_config = ready.get("layer_config", {})
        outcome.renderers = ready.get("renderers", {})

        total = max(1, round(rate * seconds))
        plan = plan_events(total, branches)
        expected: dict[int, set[int]] = {}
        for n, branch in plan:
            expected.setdefault(branch, set()).add(n)
            outcome.events[branch] += 1
        shares = [[step for step in plan if step[0] % len(servers) == k] for k in range(len(servers))]
        start_at = time.time() + 1.0
        publishing = [
            asyncio.create_task(control.publish(run=fleet.run, rate=rate, start_at=start_at, plan=share))
            for control, share in zip(controls, shares, strict=True)
        ]
        spy = None
        if scenario.profile:
            spy = _start_profile(servers[0].process.pid, seconds, workdir / f"{scenario.key}.pyspy.txt")
        await asyncio.sleep(max(0.0, start_at - time.time()))
        load_before = os.getloadavg()[0]
        wall0 = time.time()
        cpu0 = [cpu_seconds(s.process.pid) for s in servers]
        own0 = own_cpu_seconds()
        redis0 = redis_cpu_seconds(redis_url)
        replies = await asyncio.gather(*publishing)
        await client.wait_delivered(fleet, expected, stall=STALL_SECONDS, cap=seconds + DRAIN_CAP_SECONDS)
        wall1 = max(fleet.last_frame_at, wall0 + seconds)
        outcome.window_s = wall1 - wall0
        outcome.server_cpu_s = [cpu_seconds(s.process.pid) - c for s, c in zip(servers, cpu0, strict=True)]
        outcome.client_cpu_s = own_cpu_seconds() - own0
        redis1 = redis_cpu_seconds(redis_url)
        outcome.redis_cpu_s = None if redis0 is None or redis1 is None else redis1 - redis0
        memory = [rss_kib(s.process.pid) for s in servers]
        outcome.server_rss_kib = [m[0] for m in memory]
        outcome.server_hwm_kib = [m[1] for m in memory]
        outcome.load = (load_before, os.getloadavg()[0])
        for reply in replies:
            outcome.lag_max_s = max(outcome.lag_max_s, float(reply.get("lag_max", 0)))
            if reply.get("type") != "published":
                outcome.publish_problems.append(str(reply.get("detail") or reply))
            elif reply["delivered"] != reply["attempted"] or reply.get("errors"):
                outcome.publish_problems.append(
                    f"{reply['attempted'] - reply['delivered']} of {reply['attempted']} publishes failed "
                    f"{reply.get('errors') or ''}".rstrip()
                )
        connected = fleet.connected
        outcome.expected = sum(len(expected.get(b.branch, ())) for b in connected)
        outcome.delivered = client.delivered(fleet, expected)
        outcome.duplicates = sum(count - 1 for b in connected for count in b.seen.values() if count > 1)
        outcome.foreign = sum(b.foreign for b in connected)
        outcome.resyncs = sum(b.resyncs for b in connected)
        outcome.resync_reasons = sum((b.resync_reasons for b in connected), Counter())
        outcome.paused = sum(b.paused for b in connected)
        outcome.seq_jumps = sum(b.seq_jumps for b in connected)
        outcome.failed += [b.error for b in fleet.browsers if b.error and b.error not in outcome.failed]
        outcome.latencies_ms = sorted(1000 * x for x in fleet.latencies)
        if spy is not None:
            _finish_profile(spy, outcome, log)
    finally:
        await client.close_all(fleet)
        for control in controls:
            with contextlib.suppress(Exception):
                await control.close()
    return outcome


def start_servers(scenario: Scenario, site: Site, index: int) -> list[Server]:
    # A Redis prefix per scenario: its processes share groups with each other, not with the rest.
    prefix = f"{site.prefix}-{index}"
    return [site.start(scenario.kind, f"{scenario.key}-{k}", prefix, scenario.env) for k in range(scenario.processes)]


def run_scenario(
    scenario: Scenario,
    site: Site,
    servers: list[Server],
    people: list[Person],
    branches: tuple[int, int],
    *,
    rate: float,
    seconds: float,
    connect_concurrency: int = CONNECT_CONCURRENCY,
    log: Log = print,
) -> Outcome:
    try:
        for server in servers:
            server.wait()
        outcome = asyncio.run(
            _run_scenario(
                scenario,
                servers,
                people,
                branches,
                rate=rate,
                seconds=seconds,
                redis_url=site.redis_url,
                workdir=site.workdir,
                connect_concurrency=connect_concurrency,
                log=log,
            )
        )
    finally:
        for server in servers:
            server.stop()
    if not outcome.ok:
        for server in servers:
            log(f"--- {server.log.name} ---\n{tail(server.log)}")
    log(
        f"  {scenario.label}: {outcome.delivered:,}/{outcome.expected:,} frames, "
        f"p99 {outcome.pct(0.99):.0f} ms, load {outcome.load[0]:.2f}→{outcome.load[1]:.2f}"
        + (f"; {'; '.join(outcome.problems)}" if outcome.problems else "")
    )
    return outcome


def scenarios(
    *, smoke: bool, clients: int, redis: bool, profile: bool, what_if: bool = False, only: set[str] | None = None
) -> list[Scenario]:
    found = [Scenario("daphne-1", "1 Daphne", "daphne", 1, clients)]
    if redis:
        found.append(Scenario("daphne-2", "2 Daphne + Redis", "daphne", 2, 2 * clients))
    found.append(Scenario("bare", "bare websockets", "bare", 1, clients))
    if profile and not smoke:
        found.append(Scenario("daphne-1-profiled", "1 Daphne, profiled", "daphne", 1, clients, profile=True))
    if what_if:
        found.append(
            Scenario(
                "daphne-1-no-db-hop",
                "1 Daphne, what if: no DB hop per event",
                "daphne",
                1,
                clients,
                env={WHAT_IF_ENV: "1"},
            )
        )
    return [s for s in found if only is None or s.key in only]


# --- Profile -----------------------------------------------------------------------------------------

# Innermost frame first: a sample counts for the first category one of its frames (from the leaf
# outwards) falls in.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("Event.as_message (dataclasses.asdict, copy)", ("dataclasses.py", "copy.py")),
    ("Django LazyObject (the scope's session and user)", ("django/utils/functional.py",)),
    ("scope check (user_may_receive)", ("realtime/audiences.py",)),
    ("gap detection (realtime/gaps.py)", ("realtime/gaps.py",)),
    ("JSON encode/decode", ("json/encoder.py", "json/decoder.py", "json/__init__.py")),
    ("renderers", ("realtime/renderers.py", "django/template/")),
    ("consumer (consumers/*.py: dedupe, wants, send lock)", ("consumers/",)),
    ("channels-redis + redis-py + msgpack", ("channels_redis/", "/redis/", "msgpack")),
    ("Channels (dispatch, consumer base)", ("channels/",)),
    ("asgiref", ("asgiref/",)),
    ("autobahn (WebSocket framing)", ("autobahn/",)),
    ("Daphne (ASGI ↔ Twisted)", ("daphne/",)),
    ("Twisted (reactor, transport)", ("twisted/",)),
    ("asyncio event loop", ("asyncio/", "selectors.py")),
    (
        "publishing, Django (realtime.publish, layer, ORM, close_old_connections)",
        ("realtime/", "django/", "psycopg", "bench/"),
    ),
]
INCLUSIVE: list[tuple[str, str]] = [
    ("AsyncConsumer.dispatch → aclose_old_connections (a sync-thread hop per message)", "aclose_old_connections ("),
    ("StreamConsumer.crm_event (all of an event's handling per connection)", "crm_event ("),
    ("  Event.as_message (dataclasses.asdict per connection)", "as_message ("),
    ("  RenderCache.render (per connection: cache lookup, shield)", "RenderCache.render ("),
    ("  InstanceSessionWrapper.send (session middleware on every frame)", "InstanceSessionWrapper.send ("),
    ("channels-redis receive (incl. waking each consumer)", "channels_redis/core.py"),
    ("RedisChannelLayer.group_send (the publishes)", "group_send ("),
    ("StreamConsumer._send_frame (seq, JSON, send)", "_send_frame ("),
    ("Daphne/autobahn send of a frame", "autobahn/"),
    ("user_may_receive", "user_may_receive ("),
    ("GapDetector.seen/overdue", "realtime/gaps.py"),
]


def _start_profile(pid: int, seconds: float, output: Path) -> subprocess.Popen | None:
    if not PY_SPY.exists() and shutil.which("py-spy") is None:
        return None
    binary = str(PY_SPY) if PY_SPY.exists() else shutil.which("py-spy")
    # --gil: only the thread holding the GIL, i.e. where the process spends CPU in Python; the
    # worker threads that wait for the event loop (a publish's async_to_sync) are not work.
    command = [binary, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "100"]
    command += ["--gil", "--format", "raw", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def classify(raw: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]], int]:
    """py-spy's raw (collapsed) stacks → (share of samples by category, inclusive shares, samples)."""
    by_category: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        if not n:
            continue
        total += n
        frames = stack.split(";")
        for frame in reversed(frames):
            category = next((name for name, marks in CATEGORIES if any(m in frame for m in marks)), None)
            if category is not None:
                by_category[category] += n
                break
        else:
            by_category["other (Python runtime, threads)"] += n
        for name, mark in INCLUSIVE:
            if any(mark in frame for frame in frames):
                inclusive[name] += n
    if not total:
        return [], [], 0
    shares = [(name, 100 * n / total) for name, n in by_category.most_common()]
    return shares, [(name, 100 * inclusive[name] / total) for name, _mark in INCLUSIVE], total


def _finish_profile(spy: subprocess.Popen, outcome: Outcome, log: Log) -> None:
    try:
        _out, err = spy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
        _out, err = spy.communicate()
    output = Path(spy.args[spy.args.index("--output") + 1])
    if not output.exists():
        log(f"py-spy wrote no profile: {err.decode(errors='replace').strip()[:300]}")
        return
    outcome.profile_raw = output.read_text()
    outcome.profile, outcome.profile_inclusive, outcome.profile_samples = classify(outcome.profile_raw)


# --- Output ------------------------------------------------------------------------------------------

HEADER = (
    "scenario",
    "clients",
    "events A/B",
    "connect s",
    "frames",
    "frames/s",
    "undelivered",
    "leaked",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "server CPU %",
    "server RSS MiB",
    "CPU µs/frame",
    "client CPU %",
    "redis CPU %",
    "load 1m",
)


def _row(o: Outcome) -> tuple[str, ...]:
    cpu = "+".join(f"{c:.0f}" for c in o.cpu_percent)
    rss = "+".join(f"{r / 1024:.0f}" for r in o.server_rss_kib)
    client = 100 * o.client_cpu_s / o.window_s if o.window_s else math.nan
    redis = "" if o.redis_cpu_s is None else f"{100 * o.redis_cpu_s / o.window_s:.0f}"
    events = "/".join(str(n) for _b, n in sorted(o.events.items(), key=lambda kv: -kv[1]))
    return (
        o.scenario.label,
        f"{o.connected:,}",
        events,
        f"{o.connect_s:.1f}",
        f"{o.delivered:,}",
        f"{o.delivered / o.window_s:,.0f}" if o.window_s else "",
        f"{o.lost:,}",
        f"{o.foreign:,}",
        f"{o.pct(0.50):.0f}",
        f"{o.pct(0.95):.0f}",
        f"{o.pct(0.99):.0f}",
        f"{o.pct(1.0):.0f}",
        cpu,
        rss,
        f"{o.cpu_us_per_frame:.0f}",
        f"{client:.0f}",
        redis,
        f"{o.load[0]:.2f}→{o.load[1]:.2f}",
    )


def table(outcomes: list[Outcome], *, markdown: bool = False) -> str:
    rows = [_row(o) for o in outcomes]
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    return "\n".join([fmt(HEADER), fmt(tuple("-" * w for w in widths)), *map(fmt, rows)])


def details(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        memory = ""
        if o.server_idle_rss_kib and o.connected:
            per = (sum(o.server_connected_rss_kib) - sum(o.server_idle_rss_kib)) / o.connected
            idle = "+".join(f"{r / 1024:.0f}" for r in o.server_idle_rss_kib)
            memory = f"; RSS idle {idle} MiB, ~{per:.0f} KiB per connection"
        lines.append(
            f"{o.scenario.label}: window {o.window_s:.1f} s, publish lag max {1000 * o.lag_max_s:.0f} ms, "
            f"resyncs {o.resyncs}{f' {dict(o.resync_reasons)}' if o.resyncs else ''}, "
            f"clients told live:false {o.paused}, seq jumps {o.seq_jumps}, peak RSS "
            f"{'+'.join(f'{h / 1024:.0f}' for h in o.server_hwm_kib)} MiB{memory}"
        )
        if o.layer:
            lines.append(f"  layer {o.layer} {o.layer_config}; renderers {o.renderers or 'none'}")
    by_key = {o.scenario.key: o for o in outcomes}
    daphne, bare = by_key.get("daphne-1"), by_key.get("bare")
    if daphne and bare and bare.delivered and daphne.delivered:
        lines.append(
            "Daphne+Channels : bare websockets — "
            f"p50 {daphne.pct(0.5) / max(bare.pct(0.5), 1e-9):.1f}×, "
            f"p99 {daphne.pct(0.99) / max(bare.pct(0.99), 1e-9):.1f}×, "
            f"server CPU per delivered frame {daphne.cpu_us_per_frame / bare.cpu_us_per_frame:.1f}× "
            f"({daphne.cpu_us_per_frame:.0f} vs {bare.cpu_us_per_frame:.0f} µs)"
        )
    for o in outcomes:
        if o.profile:
            lines.append(f"Where the time goes ({o.scenario.label}, {o.profile_samples:,} py-spy samples, self time):")
            lines += [f"  {share:5.1f} %  {name}" for name, share in o.profile]
            lines.append("  inclusive:")
            lines += [f"  {share:5.1f} %  {name}" for name, share in o.profile_inclusive]
    return lines


# --- Entry points ------------------------------------------------------------------------------------


def _raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < needed:
        raise RuntimeError(f"{needed:,} sockets need more open files than the hard limit ({hard:,}) allows")


def server_database_url(workdir: Path) -> str:
    """The configured database as the server processes reach it; an in-memory SQLite database
    (the test database of the embedded default) is copied to a file first."""
    import sqlite3

    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = settings.get("USER") or "postgres"
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    if connection.vendor != "sqlite":
        raise RuntimeError(f"no server database for {connection.vendor}")
    if not connection.is_in_memory_db():
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    path = workdir / "bench.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return f"sqlite:///{path}"


def run(
    smoke: bool,
    *,
    clients: int | None = None,
    seconds: float | None = None,
    rate: float = RATE,
    profile: bool = False,
    what_if: bool = False,
    only: set[str] | None = None,
    connect_concurrency: int = CONNECT_CONCURRENCY,
    log: Log = print,
) -> list[Outcome]:
    """Every scenario on the configured database and channel layer; returns their outcomes."""
    from django.conf import settings

    clients = clients or (SMOKE_CLIENTS if smoke else FULL_CLIENTS)
    seconds = seconds or (SMOKE_SECONDS if smoke else FULL_SECONDS)
    redis_url = getattr(settings, "REDIS_URL", "") or ""
    chosen = scenarios(smoke=smoke, clients=clients, redis=bool(redis_url), profile=profile, what_if=what_if, only=only)
    most = max(s.clients for s in chosen)
    _raise_open_files(2 * most + 256)
    workdir = Path(tempfile.mkdtemp(prefix="crm-wsbench-"))
    try:
        people, branches = ensure_people(most, log)
        site = Site(
            database_url=server_database_url(workdir),
            redis_url=redis_url,
            secret_key=settings.SECRET_KEY,
            workdir=workdir,
        )
        # Every scenario's processes start together (an idle Daphne costs nothing measurable),
        # so their start-up overlaps; each scenario still gets processes no other one used.
        started = [start_servers(scenario, site, i) for i, scenario in enumerate(chosen)]
        outcomes = []
        try:
            for scenario, servers in zip(chosen, started, strict=True):
                outcomes.append(
                    run_scenario(
                        scenario,
                        site,
                        servers,
                        people,
                        branches,
                        rate=rate,
                        seconds=seconds,
                        connect_concurrency=connect_concurrency,
                        log=log,
                    )
                )
        finally:
            for server in (server for servers in started for server in servers):
                server.stop()
            site.forget_redis_keys()
        return outcomes
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def _create_database(server_url: str, name: str, *, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_with_database(server_url, "postgres"), autocommit=True) as conn:
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _configure(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DATABASE_URL"] = database_url
    if not os.environ.get("DJANGO_SECRET_KEY"):
        os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(48)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("CRM_REDIS_PREFIX", "crm-wsbench")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _describe(log: Log, *, clients: int, seconds: float, rate: float) -> None:
    import channels
    import channels_redis
    import daphne
    import websockets
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict["NAME"]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    log(f"{connection.vendor} database {db}; channel layer {layer}; DEBUG={settings.DEBUG}")
    log(
        f"Python {sys.version.split()[0]}, Daphne {daphne.__version__}, Channels {channels.__version__}, "
        f"channels-redis {channels_redis.__version__}, websockets {websockets.__version__}"
    )
    log(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    log(f"{clients:,} clients per process, {rate:g} events/s for {seconds:g} s ({round(rate * seconds)} events)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_CLIENTS} clients for {SMOKE_SECONDS:g} s")
    parser.add_argument("--clients", type=int, help=f"clients per server process (default {FULL_CLIENTS})")
    parser.add_argument("--seconds", type=float, help=f"seconds of publishing (default {FULL_SECONDS:g})")
    parser.add_argument("--rate", type=float, default=RATE, help=f"events per second (default {RATE:g})")
    parser.add_argument("--only", help="comma-separated scenarios: daphne-1, daphne-2, bare, daphne-1-profiled")
    parser.add_argument("--profile", action="store_true", help="add a daphne-1 run under py-spy, and its breakdown")
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="add a daphne-1 run whose consumers skip Channels' close_old_connections hop for crm.event messages",
    )
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=CONNECT_CONCURRENCY,
        help=f"handshakes in flight at once (default {CONNECT_CONCURRENCY}; a reconnect storm: 1000)",
    )
    parser.add_argument("--profile-raw", type=Path, help="write py-spy's collapsed stacks of the profiled run here")
    parser.add_argument("--fresh", action="store_true", help=f"drop and recreate {BENCH_DB} first")
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    options = parser.parse_args(argv)

    server = os.environ.get("DATABASE_URL", "")
    on_postgres = server.startswith(("postgres://", "postgresql://"))
    if not options.smoke and (not on_postgres or not os.environ.get("REDIS_URL")):
        print("bench.ws_fanout needs DATABASE_URL=postgres://... and REDIS_URL=redis://... (or --smoke)")
        return 2
    workdir = None
    if on_postgres:
        _create_database(server, BENCH_DB, fresh=options.fresh)
        database_url = _with_database(server, BENCH_DB)
    else:
        # The embedded default: a SQLite file of the run's own.
        workdir = Path(tempfile.mkdtemp(prefix="crm-wsbench-db-"))
        database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    _configure(database_url)
    from django.core.management import call_command

    try:
        began = time.monotonic()
        call_command("migrate", verbosity=0)
        print(f"database migrated in {time.monotonic() - began:.1f} s")
        clients = options.clients or (SMOKE_CLIENTS if options.smoke else FULL_CLIENTS)
        seconds = options.seconds or (SMOKE_SECONDS if options.smoke else FULL_SECONDS)
        _describe(print, clients=clients, seconds=seconds, rate=options.rate)
        only = {s.strip() for s in options.only.split(",")} if options.only else None
        outcomes = run(
            options.smoke,
            clients=clients,
            seconds=seconds,
            rate=options.rate,
            profile=options.profile,
            what_if=options.what_if,
            only=only,
            connect_concurrency=options.connect_concurrency,
        )
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(outcomes, markdown=options.markdown))
    print()
    print("\n".join(details(outcomes)))
    if options.profile_raw:
        options.profile_raw.write_text("".join(o.profile_raw for o in outcomes))
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(f"FAILED: {o.scenario.label}: {'; '.join(o.problems)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
