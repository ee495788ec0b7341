"""The mock's rate limiter: GCRA (a token bucket) with ``Retry-After`` hints.

With ``retry_after_hint="reserve"`` each rejected request is booked a later slot that its
retry (the same body) gets ahead of newcomers, so a client that honours ``Retry-After``
reaches the configured rate; ``next_token`` tells everyone when the next token comes, as
most servers do.
"""

from __future__ import annotations

import time
from collections import deque

from summarise.backends.openai.replay import exchange_key
from summarise.mock.config import Body, MockConfig

# A retry may come this much before its booked slot (timer jitter), and a booked slot is
# kept this long after its time for a slow client.
_RESERVATION_EARLY_S = 0.005
_RESERVATION_GRACE_S = 2.0


class RateLimiter:
    """Decides, per chat completion, whether it gets in now or how long to wait.

    Runs on the server's loop only, so it needs no lock.
    """

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self._tat = 0.0  # GCRA's theoretical arrival time of the next request
        self._reserved: dict[str, deque[float]] = {}
        self._reservation_order: deque[tuple[float, str]] = deque()

    def admit(self, body: Body) -> float | None:
        """Rate limit (GCRA, a token bucket of ``rate_burst``): ``None`` lets the request
        through, else the seconds to send as ``Retry-After``."""
        cfg = self.config
        if cfg.rate_limit_rps is None:
            return None
        now = time.monotonic()
        interval = 1.0 / cfg.rate_limit_rps
        tolerance = (cfg.rate_burst - 1.0) * interval
        reserve = cfg.retry_after_hint == "reserve"
        key = ""
        if reserve:
            self._expire_reservations(now)
            key = exchange_key("POST", "/chat/completions", body) if self._reserved else ""
            slots = self._reserved.get(key)
            if slots:
                if now >= slots[0] - _RESERVATION_EARLY_S:
                    slots.popleft()
                    if not slots:
                        del self._reserved[key]
                    return None
                return slots[0] - now
        if self._tat - tolerance <= now:
            self._tat = max(self._tat, now) + interval
            return None
        slot = self._tat - tolerance
        if not reserve:
            return slot - now
        # Book the slot for this request: its retry (the same body) at that time gets in
        # ahead of newcomers, so clients that honour Retry-After reach the rate.
        self._tat += interval
        key = key or exchange_key("POST", "/chat/completions", body)
        self._reserved.setdefault(key, deque()).append(slot)
        self._reservation_order.append((slot, key))
        return slot - now

    def _expire_reservations(self, now: float) -> None:
        """Forget slots nobody came back for (their capacity is lost, as on a real server)."""
        order = self._reservation_order
        while order and order[0][0] < now - _RESERVATION_GRACE_S:
            slot, key = order.popleft()
            slots = self._reserved.get(key)
            if slots and slots[0] == slot:
                slots.popleft()
                if not slots:
                    del self._reserved[key]
