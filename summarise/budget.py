"""The token budget of a run (``--max-tokens-per-run``), enforced request by request.

Every model call asks the budget first with an estimate of its worst case (the prompt at
3.5 characters a token, plus the whole answer budget ``max_tokens``); it is admitted only
while the tokens spent plus the estimates of the calls in flight stay within the limit, and
waits while calls in flight may still free room. When nothing in flight can free room the
call raises ``BudgetReached``: the run stops cleanly (exit 3) and a rerun goes on. So the
tokens spent never exceed the budget, unless a call uses more than its estimate.

The budget reaches the client through a context variable set by the batch: the client
needs no parameter for it, and the tasks of one run share it.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

from summarise.errors import ExitCode, FatalError


class BudgetReached(FatalError):
    """No further call fits in the token budget: stop cleanly, rerun to continue."""

    default_code, default_stage = "budget_reached", "model"
    exit_code = ExitCode.BUDGET


class TokenBudget:
    """Tokens a run may spend, shared by all its calls."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self.reserved = 0
        self._changed = asyncio.Condition()

    async def admit(self, estimate: int) -> None:
        """Reserve ``estimate`` tokens for a call, waiting for calls in flight if needed."""
        async with self._changed:
            while self.spent + self.reserved + estimate > self.limit:
                if not self.reserved:
                    raise BudgetReached(
                        f"token budget of {self.limit} reached ({self.spent} spent; the next "
                        f"call may need up to {estimate})"
                    )
                await self._changed.wait()
            self.reserved += estimate

    async def settle(self, estimate: int, used: int) -> None:
        """A call admitted with ``estimate`` is over and used ``used`` tokens."""
        async with self._changed:
            self.reserved -= estimate
            self.spent += used
            self._changed.notify_all()


current_budget: ContextVar[TokenBudget | None] = ContextVar("current_budget", default=None)
