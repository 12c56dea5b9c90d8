"""A Redis cache that degrades instead of failing while Redis is unreachable.

Django's RedisCache raises ``redis.ConnectionError`` on every call while Redis is down, so a
dashboard read, a throttle check or the event-driven cache invalidation would answer 500 for
a change that was saved. Everything this project keeps in the cache can be recomputed (the
dashboard figures, throttle counters) or retried (a WebSocket ticket), so while Redis is
unreachable this backend logs a warning (at most every ``_LOG_EVERY`` seconds) and answers
as for a miss: ``get`` → the default, ``add``/``delete``/``touch``/``has_key`` → False,
``set`` does nothing, ``incr`` raises ValueError as for a missing key. Every call is bounded
by the connection and socket timeouts in settings (``OPTIONS``), so a dead Redis costs a
request at most about a second per cache call, never a hang.

Errors that are not about reaching Redis (a bad value, a programming error) still raise.

``clear()`` deletes this cache's own entries (those under its ``KEY_PREFIX``), not the whole Redis
database as Django's RedisCache does with ``FLUSHDB``: the channel layer keeps its groups, queued
messages and sequence numbers in the same database, and emptying it would drop every live page's
messages in flight.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_LOG_EVERY = 10.0
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_DELETE_BATCH = 1000


class DegradingRedisCache(RedisCache):
    _log_lock = threading.Lock()
    _last_logged = 0.0

    def _unreachable(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        with self._log_lock:
            if now - DegradingRedisCache._last_logged < _LOG_EVERY:
                return
            DegradingRedisCache._last_logged = now
        logger.warning("Cache unreachable (%s: %s); answering as a miss", operation, exc)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("add", exc)
            return False

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            self._unreachable("get", exc)
            return default

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("set", exc)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("touch", exc)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNREACHABLE as exc:
            self._unreachable("delete", exc)
            return False

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            self._unreachable("get_many", exc)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNREACHABLE as exc:
            self._unreachable("has_key", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as exc:
            self._unreachable("incr", exc)
            raise ValueError(f"Key {key!r} not found (the cache is unreachable)") from exc

    def set_many(self, data: dict, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list:
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("set_many", exc)
            return list(data)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as exc:
            self._unreachable("delete_many", exc)

    def clear(self) -> bool:
        if not self.key_prefix:
            return super().clear()  # nothing tells this cache's keys apart: Django's FLUSHDB
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self.key_prefix) + ":*"
        try:
            client = self._cache.get_client(write=True)
            batch: list[bytes] = []
            for key in client.scan_iter(match=pattern, count=_DELETE_BATCH):
                batch.append(key)
                if len(batch) == _DELETE_BATCH:
                    client.delete(*batch)
                    batch.clear()
            if batch:
                client.delete(*batch)
            return True
        except UNREACHABLE as exc:
            self._unreachable("clear", exc)
            return False
