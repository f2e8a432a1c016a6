"""The shared cache (rate limits, sign-in limits) on Redis, failing open.

The cache only ever limits how often something may happen. When Redis is unreachable (a
restart, a network blip) the API must go on serving, as it does for the broker: limits are
not applied for that moment and a warning is logged, instead of every request failing.
"""

import logging
from typing import Any

from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connections, router, transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class ReusedClient(RedisCacheClient):
    """Django builds a new redis client object for every cache call (about 0.15 ms each, two per
    API request for the rate limit); one per connection pool does the same work."""

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # not in stubs
        clients: dict[int, Any] = self.__dict__.setdefault("_clients", {})
        if id(pool) not in clients:
            clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return clients[id(pool)]


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClient

    def _unavailable(self, exc: Exception) -> None:
        logger.warning("cache unavailable, limits not applied: %s", type(exc).__name__)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            self._unavailable(exc)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            self._unavailable(exc)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return bool(super().add(key, value, timeout, version))
        except RedisError as exc:
            self._unavailable(exc)
            return True  # as if counted: nothing is refused for want of the cache

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return int(super().incr(key, delta, version))
        except RedisError as exc:
            self._unavailable(exc)
            return 0

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return bool(super().delete(key, version))
        except RedisError as exc:
            self._unavailable(exc)
            return False


class AtomicDatabaseCache(DatabaseCache):
    """Django's database cache (the embedded default's shared cache) with an incr that counts
    every call: Django's reads the value and writes it back, so two requests at once count once
    and a rate limit grows with concurrency. Here the row is locked first, in the same
    transaction, so a concurrent incr waits for this one (SQLite's immediate transactions
    serialise writers anyway; PostgreSQL holds the row lock until commit)."""

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)  # type: ignore[attr-defined]
        column = connection.ops.quote_name("cache_key")
        cache_key = self.make_and_validate_key(key, version=version)
        with transaction.atomic(using=db), connection.cursor() as cursor:
            # Table and column names from Django's cache model; the key is bound.
            cursor.execute(
                f"UPDATE {table} SET expires = expires WHERE {column} = %s",  # noqa: S608
                [cache_key],
            )
            return int(super().incr(key, delta, version))
