"""Running coroutines from Qt slots without losing their errors.

A button's slot cannot ``await``; it schedules the coroutine on the (qasync) event loop and
returns. Whatever the coroutine raises must reach the user (a notice) instead of vanishing
into "Task exception was never retrieved", so every task goes through :func:`spawn`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from workstation.client import ApiError, ClientError

log = logging.getLogger(__name__)

T = TypeVar("T")
ErrorReporter = Callable[[str, str], None]  # (level, text), e.g. Session.notice.emit

# Strong references: the loop keeps only weak ones, and a task collected mid-flight is lost.
_running: set[asyncio.Task[Any]] = set()


def describe(error: BaseException) -> str:
    """A sentence for the user: the server's message when it refused, else the error."""
    if isinstance(error, ApiError):
        return error.message or error.code
    if isinstance(error, ClientError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def spawn(
    coroutine: Coroutine[Any, Any, T],
    report: ErrorReporter | None = None,
    what: str = "",
) -> asyncio.Task[T]:
    """Run ``coroutine`` on the running loop; report a failure as ``(level, text)``."""
    task = asyncio.ensure_future(coroutine)
    _running.add(task)

    def done(finished: asyncio.Task[T]) -> None:
        _running.discard(finished)
        if finished.cancelled():
            return
        error = finished.exception()
        if error is None:
            return
        text = f"{what}: {describe(error)}" if what else describe(error)
        if isinstance(error, ClientError):
            log.info("%s", text)
        else:
            log.error("%s", text, exc_info=error)
        if report is not None:
            report("error", text)

    task.add_done_callback(done)
    return task
