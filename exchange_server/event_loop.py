"""The event loop the server runs on: uvloop where it is installed (Linux and macOS; a
dependency there), asyncio's own otherwise or when a setting asks for it.

uvloop's transports and callbacks are written in C: per WebSocket frame and per
acknowledged command, the loop's own work is a large share of the server's, so this is the
loop every server process and server benchmark runs on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
LoopChoice = Literal["auto", "uvloop", "asyncio"]
CHOICES: tuple[LoopChoice, ...] = ("auto", "uvloop", "asyncio")


def loop_factory(choice: str = "auto") -> Callable[[], asyncio.AbstractEventLoop]:
    """What builds the loop for ``choice``; "auto" falls back to asyncio without uvloop."""
    if choice not in CHOICES:
        raise ValueError(f"event loop {choice!r}: choose one of {', '.join(CHOICES)}")
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise
            log.info("uvloop is not installed: running on asyncio's event loop")
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], choice: str = "auto") -> T:
    """``asyncio.run`` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)
