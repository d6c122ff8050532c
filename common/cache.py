"""Django's Redis cache, with one redis-py client per connection pool and a windowed counter
in one round trip.

Django's backend builds a new `redis.Redis` for every cache call, and redis-py 8 reads its
own package metadata from disk for each one it builds (`redis.utils.get_lib_version`): about
a millisecond of CPU a call, five calls a booking. A client is thread-safe (it takes a
connection from its pool per command), so one per pool serves every thread of a process.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            with self._lock:
                client = self._clients.get(index)
                if client is None:
                    pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
                    client = self._clients[index] = self._client(  # type: ignore[attr-defined]
                        connection_pool=pool
                    )
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def incr_window(self, key: str, timeout: int) -> int:
        """Count one more in a counter that starts at 0 and lives `timeout` seconds from its
        first count: SET NX EX and INCR in one pipeline, one round trip (the base cache's
        add then incr costs three: add, EXISTS, INCR)."""
        name = self.make_and_validate_key(key)
        pipeline = self._cache.get_client(name, write=True).pipeline(transaction=False)
        pipeline.set(name, 0, ex=timeout, nx=True)
        pipeline.incr(name)
        return int(pipeline.execute()[-1])
