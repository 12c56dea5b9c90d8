"""Real processes for the scale-out tests: a redis-server of our own (so stopping it harms nobody)
and Daphne processes serving config.asgi against the test PostgreSQL database.

Each test starts what it needs and stops it in its finally/teardown, whatever happens. The
processes log to files under the test's tmp_path; on a failure their tails are printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = Path(sys.executable).with_name("daphne")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout:g} s")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class RedisServer:
    """A redis-server subprocess on a port of its own; stop() and start() keep the port."""

    port: int
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        args += ["--daemonize", "no"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, timeout=15)

    def stop(self) -> None:
        stop(self.process)
        self.process = None


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(port=free_port(), log=tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class DaphneProcess:
    name: str
    port: int
    log: Path
    process: subprocess.Popen
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """One HTTP request; answers (status, parsed JSON or text). Never raises on 4xx/5xx."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.origin}{path}", data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        text = raw.decode(errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text


def database_url() -> str:
    settings = connection.settings_dict
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


@pytest.fixture
def daphnes(tmp_path, request):
    """start(n, redis_url) → n Daphne processes sharing the test database, Redis and a prefix."""
    started: list[DaphneProcess] = []

    def start(count: int, redis_url: str) -> list[DaphneProcess]:
        prefix = f"crmlive-{uuid.uuid4().hex[:10]}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "CRM_REDIS_PREFIX": prefix,
            "CRM_LIVE_CHECK_SECONDS": "1",
            "CRM_LIVE_GAP_GRACE_SECONDS": "1",
            "CRM_PUBLISH_TIMEOUT_SECONDS": "1",
            "CRM_DB_POOL_MAX": "4",
            "CRM_TEST_AXES": "0",
            "PYTHONUNBUFFERED": "1",
        }
        processes = []
        for index in range(count):
            port = free_port()
            log = tmp_path / f"daphne-{index}.log"
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            daphne = DaphneProcess(name="AB"[index] if index < 2 else str(index), port=port, log=log, process=process)
            started.append(daphne)
            processes.append(daphne)
        for daphne in processes:
            wait_for_port(daphne.port, daphne.process)
        return processes

    try:
        yield start
    finally:
        for daphne in started:
            stop(daphne.process)
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            for daphne in started:
                print(f"\n--- daphne {daphne.name} (port {daphne.port}) ---\n{tail(daphne.log)}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
