"""Concurrent callers with the same key share one execution of some async work: one
upstream fetch per page or file, one database read per index an install's first requests
all miss."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    """Concurrent callers with the same key share one execution of the work."""

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    def start(
        self, key: Hashable, work: Callable[[], Awaitable[T]]
    ) -> tuple[asyncio.Future[T], bool]:
        """The running future for key, or a new one; True when this call started it.

        Registration happens before any await, so two callers in one loop tick cannot
        both start the work."""
        future = self._running.get(key)
        if future is not None:
            return future, False
        future = asyncio.ensure_future(work())
        self._running[key] = future
        future.add_done_callback(lambda _: self._running.pop(key, None))
        return future, True

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> T:
        future, _ = self.start(key, work)
        # shield: a caller that disconnects must not cancel the others' work.
        return await asyncio.shield(future)
