"""Running an exchange call from a button without blocking the UI, and never losing its
error: a refusal goes to the caller's handler or, failing that, to the session's notices.

Like ``workstation.session.tasks.spawn``, with a result handler too: the ticket shows the
accepted order, the blotters say what was cancelled."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from workstation.session.tasks import describe

__all__ = ["describe", "spawn"]

T = TypeVar("T")
_RUNNING: set[asyncio.Future[Any]] = set()  # strong references: tasks are not collected


def spawn(
    work: Awaitable[T],
    *,
    on_done: Callable[[T], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    session: Any = None,
    what: str = "",
) -> asyncio.Future[T] | None:
    """Schedule ``work`` on the running loop (qasync's in the app); report the outcome.

    None, with ``work`` dropped, when no loop runs: a panel's Qt timer can fire while none
    does (a window closing with the app, a panel outliving its session), and then there is
    neither a server to ask nor anyone to tell."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        if inspect.iscoroutine(work):
            work.close()  # never started: no "was never awaited" warning either
        return None
    future = asyncio.ensure_future(work)
    _RUNNING.add(future)

    def finished(done: asyncio.Future[T]) -> None:
        _RUNNING.discard(done)
        if done.cancelled():
            return
        error = done.exception()
        if error is None:
            if on_done is not None:
                on_done(done.result())
            return
        if on_error is not None:
            on_error(error)
        elif session is not None:
            prefix = f"{what}: " if what else ""
            session.notice.emit("error", prefix + describe(error))

    future.add_done_callback(finished)
    return future
