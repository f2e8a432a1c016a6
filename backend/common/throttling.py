"""The API's rate limit per caller, counted so that concurrent requests cannot get round it."""

from typing import Any

from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    """API_RATE per signed-in caller, in fixed windows (e.g. 600 in each minute). DRF's own keeps
    a list of request times that each request reads and writes back: requests at the same time
    each write their own list, so the limit grew with concurrency (900 of 900 got through eight
    parallel clients at 600/min). Here each request adds one to the window's counter with the
    cache's atomic increment (Redis INCR; common.cache.AtomicDatabaseCache on the database)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        limit, duration = self.parse_rate(self.rate)
        if limit is None or duration is None:
            return True
        window = int(self.timer() // duration)
        self.window_ends = (window + 1) * duration
        key = f"{self.key}:{window}"
        try:
            count = self.cache.incr(key)
        except ValueError:  # the window's first request (or, failing that, one begun meanwhile)
            count = 1 if self.cache.add(key, 1, duration + 5) else self.cache.incr(key)
        return bool(count <= limit)

    def wait(self) -> float:
        return max(self.window_ends - self.timer(), 1.0)
