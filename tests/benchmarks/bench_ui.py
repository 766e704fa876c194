"""UI benchmarks: responsiveness under a market-data storm, and time to a populated window.

``ui_responsiveness``: the real workstation (Session, MainWindow with the Trading
workspace: watchlist, chart, depth, ticket, blotters) on a qasync loop, offscreen, fed by a
feed server in a child process that speaks the exchange's REST + WebSocket protocol and
sends 2,000 market updates a second spread over 200 watched symbols (quotes for all,
depth, trades and candles for the linked symbol shown in the chart and depth panels).
The chart and depth panels are checked to be open on the linked symbol, and the depth
and candle updates they received are reported, so a run that lost them does not pass
silently. Measured: event-loop lag (a 10 ms timer's lateness; p50/p99/max) and resident
memory over the run, with its slope by least squares after a warm-up. Targets: p99 lag
under 30 ms, no memory growth. ``--ui-seconds`` sets the duration (default 60; the issue's
full run is 600). With ``BENCH_UI_PAINTS=1`` the time spent painting each panel is
reported too (an application-wide event hook: it adds overhead, so lag figures from such a
run are not comparable).

``ui_startup``: ``workstation --smoke-screenshot`` against the embedded exchange (a data
directory prepared by one untimed run, as on a user's second start): seconds from launching
the process until every open panel shows live data. Target: under 4 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tests.benchmarks.report import report

SYMBOLS = 200
UPDATES_PER_SECOND = 2_000
FEED_HZ = 50  # frames a second; the real server batches a connection's messages likewise
LINKED = "SYM000"


# -- the feed server (child process) ------------------------------------------------------
def _instrument(index: int) -> dict[str, Any]:
    price = 100 + index * 7
    return {
        "symbol": f"SYM{index:03d}",
        "name": f"Benchmark Company {index}",
        "asset_class": "equity",
        "exchange": "NSE",
        "currency": "INR",
        "sector": ("Energy", "IT", "Banks", "Auto")[index % 4],
        "isin": f"INE{index:09d}",
        "tick_size": "0.05",
        "lot_size": "1",
        "price_decimals": 2,
        "quantity_decimals": 0,
        "status": "open",
        "reference_price": f"{price}.00",
        "band_low": f"{price * 0.8:.2f}",
        "band_high": f"{price * 1.2:.2f}",
    }


INSTRUMENTS = [_instrument(i) for i in range(SYMBOLS)]
USER = {
    "user_id": 1,
    "email": "bench@example.com",
    "display_name": "Bench",
    "role": "trader",
    "account_id": 1,
    "email_verified": True,
    "totp_enabled": False,
    "is_paper": True,
    "is_active": True,
    "locked_until": None,
    "created_at": "2026-01-01T00:00:00Z",
}


class FeedState:
    def __init__(self) -> None:
        self.tick = 0
        self.watchlists: list[dict[str, Any]] = []

    def price(self, index: int) -> float:
        # A deterministic wiggle: every update really changes the numbers shown.
        return 100 + index * 7 + ((self.tick * 7 + index * 13) % 41 - 20) * 0.05

    def quote(self, index: int) -> dict[str, Any]:
        price = self.price(index)
        return {
            "symbol": f"SYM{index:03d}",
            "status": "open",
            "bid": f"{price - 0.05:.2f}",
            "bid_size": str(10 + self.tick % 90),
            "ask": f"{price + 0.05:.2f}",
            "ask_size": str(12 + self.tick % 80),
            "last": f"{price:.2f}",
            "last_size": "5",
            "open": f"{100 + index * 7:.2f}",
            "high": f"{price + 1:.2f}",
            "low": f"{price - 1:.2f}",
            "previous_close": f"{100 + index * 7:.2f}",
            "change": f"{price - 100 - index * 7:.2f}",
            "change_percent": "0.10",
            "volume": str(1000 + self.tick),
            "turnover": "100000",
            "trades": self.tick,
            "ts": time.time_ns(),
        }

    def depth(self, levels: int) -> dict[str, Any]:
        price = self.price(0)
        return {
            "symbol": LINKED,
            "bids": [
                {"price": f"{price - 0.05 * (i + 1):.2f}", "quantity": str(10 + i), "orders": 1}
                for i in range(levels)
            ],
            "asks": [
                {"price": f"{price + 0.05 * (i + 1):.2f}", "quantity": str(10 + i), "orders": 1}
                for i in range(levels)
            ],
            "ts": time.time_ns(),
        }

    def trade(self) -> dict[str, Any]:
        return {
            "trade_id": self.tick,
            "symbol": LINKED,
            "price": f"{self.price(0):.2f}",
            "quantity": "3",
            "aggressor": "buy" if self.tick % 2 else "sell",
            "ts": time.time_ns(),
        }

    def candle(self, interval_ns: int) -> dict[str, Any]:
        now = time.time_ns()
        price = f"{self.price(0):.2f}"
        return {
            "ts": now - now % interval_ns,
            "open": price,
            "high": price,
            "low": price,
            "close": price,
            "volume": str(self.tick),
            "trades": self.tick,
        }


INTERVALS_NS = {
    "1s": 10**9,
    "1m": 60 * 10**9,
    "5m": 300 * 10**9,
    "15m": 900 * 10**9,
    "1h": 3600 * 10**9,
    "1d": 86400 * 10**9,  # the chart panel's default: its forming candle, updated in place
}


def _history(interval: str, count: int = 300) -> list[dict[str, Any]]:
    step = INTERVALS_NS.get(interval, 60 * 10**9)
    now = time.time_ns()
    start = now - now % step - step * count
    bars = []
    for i in range(count):
        price = 100 + (i % 23) * 0.5
        bars.append(
            {
                "ts": start + i * step,
                "open": f"{price:.2f}",
                "high": f"{price + 1:.2f}",
                "low": f"{price - 1:.2f}",
                "close": f"{price + 0.5:.2f}",
                "volume": "100",
                "trades": 10,
            }
        )
    return bars


def _rest(state: FeedState, method: str, path: str, body: bytes) -> tuple[int, Any]:
    path, _, _query = path.partition("?")
    if path == "/healthz":
        return 200, {"status": "ok", "seq": state.tick}
    if not path.startswith("/api/v1/"):
        return 404, {"error": {"code": "not_found", "message": path}}
    route = path[len("/api/v1/") :]
    if route == "instruments":
        return 200, INSTRUMENTS
    if route.startswith("instruments/"):
        index = int(route.rsplit("SYM", 1)[-1] or 0)
        return 200, INSTRUMENTS[index]
    if route == "auth/me":
        return 200, USER
    if route == "market/status":
        return 200, {
            "exchange": "NSE",
            "timezone": "Asia/Kolkata",
            "is_open": True,
            "session": "open",
            "next_open": None,
            "next_close": None,
            "halted_symbols": [],
        }
    if route in ("orders", "fills", "ledger") and method == "GET":
        return 200, {"items": [], "next_cursor": None}
    if route in ("positions",):
        return 200, []
    if route == "balances":
        return 200, [
            {"asset": "INR", "balance": "1000000", "reserved": "0", "available": "1000000"}
        ]
    if route.startswith("candles/"):
        symbol = route.split("/", 1)[1]
        interval = "1m"
        for part in _query.split("&"):
            if part.startswith("interval="):
                interval = part.split("=", 1)[1]
        return 200, {"symbol": symbol, "interval": interval, "candles": _history(interval)}
    if route.startswith("quotes"):
        return 200, [state.quote(i) for i in range(SYMBOLS)]
    if route == "watchlists" and method == "GET":
        return 200, state.watchlists
    if route.startswith("watchlists"):
        data = json.loads(body or b"{}")
        if method == "POST":
            entry = {"watchlist_id": len(state.watchlists) + 1, "position": 0, **data}
            state.watchlists.append(entry)
            return 201, entry
        if method == "PUT":
            watchlist_id = int(route.rsplit("/", 1)[1])
            return 200, {"watchlist_id": watchlist_id, "position": 0, **data}
        return 204, None
    if route.startswith("preferences/"):
        if method == "PUT":
            return 200, {"key": route.split("/", 1)[1], "value": json.loads(body or b"null")}
        return 404, {"error": {"code": "not_found", "message": "no such preference"}}
    if route == "preferences":
        return 200, []
    return 404, {"error": {"code": "not_found", "message": f"{method} {path}"}}


async def _serve_feed(port_file: Path) -> None:
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.datastructures import Headers
    from websockets.http11 import Request, Response

    state = FeedState()
    connections: dict[ServerConnection, dict[str, int]] = {}

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        # websockets parses GET only; the bench's client issues GETs plus a few writes,
        # which arrive here as GETs with an override header (see _Transport below).
        method = request.headers.get("X-Method", "GET")
        body = bytes.fromhex(request.headers.get("X-Body", ""))
        status, payload = _rest(state, method, request.path, body)
        content = b"" if payload is None else json.dumps(payload).encode()
        headers = Headers(
            [("Content-Type", "application/json"), ("Content-Length", str(len(content)))]
        )
        headers["Date"] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
        return Response(status, HTTPStatus(status).phrase, headers, content)

    def snapshot(channel: str) -> Any:
        kind, _, rest = channel.partition(":")
        if kind == "quote":
            return state.quote(int(rest[3:]))
        if kind == "depth":
            return state.depth(int(channel.rsplit(":", 1)[1]))
        if kind == "trades":
            return [state.trade()]
        if kind.startswith("candles."):
            return _history(kind.split(".", 1)[1], 50)
        if kind == "balances":
            return [{"asset": "INR", "balance": "1000000", "reserved": "0", "available": "1000000"}]
        return []

    async def handler(connection: ServerConnection) -> None:
        channels: dict[str, int] = {}
        connections[connection] = channels
        await connection.send(json.dumps({"type": "welcome", "heartbeat_seconds": 10}))
        try:
            async for raw in connection:
                message = json.loads(raw)
                op, request_id = message.get("op"), message.get("id")
                if op == "auth":
                    reply = {"type": "authenticated", "id": request_id, "user_id": 1}
                    await connection.send(json.dumps({**reply, "account_id": 1}))
                elif op in ("subscribe", "unsubscribe"):
                    name = message["channel"]
                    if message.get("symbol"):
                        name += f":{message['symbol']}"
                    if message.get("levels"):
                        name += f":{message['levels']}"
                    if op == "subscribe":
                        channels[name] = 1
                        frame = [
                            {"type": "subscribed", "id": request_id, "channel": name},
                            {"type": "snapshot", "channel": name, "seq": 1, "data": snapshot(name)},
                        ]
                    else:
                        channels.pop(name, None)
                        frame = [{"type": "unsubscribed", "id": request_id, "channel": name}]
                    await connection.send(json.dumps(frame))
                elif op == "ping":
                    await connection.send(json.dumps({"type": "pong", "id": request_id}))
        finally:
            connections.pop(connection, None)

    async def pump() -> None:
        per_frame = UPDATES_PER_SECOND // FEED_HZ
        next_at = time.perf_counter()
        while True:
            next_at += 1 / FEED_HZ
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            state.tick += 1
            for connection, channels in list(connections.items()):
                quotes = [c for c in channels if c.startswith("quote:")]
                extras = [c for c in channels if not c.startswith(("quote:", "orders", "fills"))]
                extras = [c for c in extras if not c.startswith(("positions", "balances"))]
                if not quotes and not extras:
                    continue
                frame = []
                # A tenth of the flow to the linked symbol's depth/trades/candles.
                extra_count = per_frame // 10 if extras else 0
                for i in range(per_frame - extra_count):
                    name = quotes[(state.tick * per_frame + i) % len(quotes)] if quotes else None
                    if name is None:
                        break
                    channels[name] += 1
                    data = state.quote(int(name.split(":")[1][3:]))
                    frame.append(
                        {"type": "update", "channel": name, "seq": channels[name], "data": data}
                    )
                for i in range(extra_count):
                    name = extras[i % len(extras)]
                    channels[name] += 1
                    kind = name.split(":")[0]
                    if kind == "depth":
                        data = state.depth(int(name.rsplit(":", 1)[1]))
                    elif kind == "trades":
                        data = state.trade()
                    elif kind == "ticker":
                        data = state.quote(0)
                    else:
                        data = state.candle(INTERVALS_NS.get(kind.split(".")[-1], 60 * 10**9))
                    frame.append(
                        {"type": "update", "channel": name, "seq": channels[name], "data": data}
                    )
                with contextlib.suppress(Exception):
                    await connection.send(json.dumps(frame))

    async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        port_file.write_text(str(port))
        await pump()


def serve_feed_main(port_file: str) -> None:
    import threading

    def exit_with_parent() -> None:
        # The parent holds our stdin: EOF means it is gone, however it ended.
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    asyncio.run(_serve_feed(Path(port_file)))


# -- the measured client -----------------------------------------------------------------
class _Transport:
    """httpx transport for the bench client: the feed server (a websockets server) only
    parses GET requests, so writes travel as GETs carrying the method and body in headers."""

    def __init__(self) -> None:
        import httpx

        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: Any) -> Any:
        import httpx

        body = await request.aread()
        headers = dict(request.headers)
        headers.pop("content-length", None)
        headers["X-Method"] = request.method
        headers["X-Body"] = body.hex()
        rewritten = httpx.Request("GET", request.url, headers=headers)
        return await self._inner.handle_async_request(rewritten)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _slope_per_minute(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return 0.0
    xs = [t for t, _ in samples]
    ys = [m for _, m in samples]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return 60 * sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var


async def _measure(port: int, seconds: float, config: Path) -> dict[str, float]:
    from exchange_server.protocol import TokenPair, UserOut
    from workstation.client import ExchangeClient
    from workstation.main_window import MainWindow
    from workstation.session.session import Session
    from workstation.settings import Settings

    client = ExchangeClient(f"http://127.0.0.1:{port}", transport=_Transport())  # type: ignore[arg-type]
    client.use_tokens(
        TokenPair(
            access_token="bench",
            expires_in=10**6,
            refresh_token="bench",
            refresh_expires_in=10**6,
            user=UserOut.model_validate(USER),
        )
    )
    session = Session(client, profile="bench")
    await session.start()
    window = MainWindow(session, Settings.load(config))
    window.resize(1600, 960)
    window.show()
    window.links.set_symbol("red", LINKED)
    # The setting: chart and depth open on a watched symbol, streaming.
    streams = {"depth": 0, "candles": 0}
    for dock_id in ("chart", "depth", "watchlist"):
        dock = window.dock(dock_id)
        if dock is None:
            raise RuntimeError(f"the Trading workspace has no {dock_id} panel")
        dock.show()
        dock.raise_()
    chart = window.dock("chart")
    assert chart is not None
    for dock_id in ("chart", "depth"):
        dock = window.dock(dock_id)
        assert dock is not None
        if dock.symbol != LINKED:
            dock.set_symbol(LINKED)

    def depth_changed(symbol: str) -> None:
        if symbol == LINKED:
            streams["depth"] += 1

    def candles_changed(symbol: str, interval: str) -> None:
        if symbol == chart.symbol and interval == getattr(chart, "interval", interval):
            streams["candles"] += 1

    session.depth_changed.connect(depth_changed)
    session.candles_changed.connect(candles_changed)
    withdraw = session.watch_quotes(i["symbol"] for i in INSTRUMENTS)
    lags: list[float] = []
    memory: list[tuple[float, float]] = []
    started = time.perf_counter()
    warmup = min(10.0, seconds / 4)
    received_at_warmup = 0
    cpu_at_warmup = 0.0
    next_sample = started
    period = 0.010
    while (now := time.perf_counter()) - started < seconds:
        expected = now + period
        await asyncio.sleep(period)
        lag = time.perf_counter() - expected
        elapsed = time.perf_counter() - started
        if elapsed >= warmup:
            if not received_at_warmup:
                received_at_warmup = session.updates_received
                cpu_at_warmup = time.process_time()
            lags.append(max(0.0, lag) * 1000)
        if time.perf_counter() >= next_sample:
            next_sample += 1.0
            if elapsed >= warmup:
                memory.append((elapsed, _rss_mb()))
    measured = time.perf_counter() - started - warmup
    rate = (session.updates_received - received_at_warmup) / measured if measured > 0 else 0
    total = time.perf_counter() - started
    depth_dock = window.dock("depth")
    populated = chart.is_populated() and depth_dock is not None and depth_dock.is_populated()
    cpu = (time.process_time() - cpu_at_warmup) / measured if measured > 0 else 0
    withdraw()
    window.close_without_saving()
    await session.close()
    lags.sort()
    return {
        "p50": lags[len(lags) // 2],
        "p99": lags[int(len(lags) * 0.99)],
        "max": lags[-1],
        "rate": rate,
        "rss_start": memory[0][1] if memory else 0.0,
        "rss_end": memory[-1][1] if memory else 0.0,
        "slope": _slope_per_minute(memory),
        # The second half's own slope: a cache filling early on is not a leak; a leak
        # keeps the same slope to the end.
        "slope_late": _slope_per_minute(memory[len(memory) // 2 :]),
        "seconds": measured,
        "wall": total,
        "cpu": cpu * 100,
        "depth_rate": streams["depth"] / total,
        "candle_rate": streams["candles"] / total,
        "panels_populated": float(populated),
    }


def _application() -> Any:
    """The QApplication; with BENCH_UI_PAINTS=1 one that times paint events per panel."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    if os.environ.get("BENCH_UI_PAINTS") != "1":
        return QApplication([])
    paint = QEvent.Type.Paint

    def panel(widget: QObject) -> str:
        name = type(widget).__name__
        parent = widget.parent()
        if name == "QWidget" and parent is not None:  # a view's viewport
            name = f"{type(parent).__name__}.viewport"
        current: QObject | None = widget
        while isinstance(current, QWidget):
            if hasattr(current, "dock_id"):
                return f"{current.dock_id}/{name}"
            current = current.parentWidget()
        return name

    class PaintTimingApplication(QApplication):
        def __init__(self) -> None:
            super().__init__([])
            self.paint_seconds: dict[str, float] = {}

        def notify(self, receiver: QObject, event: QEvent) -> bool:
            if event.type() != paint:
                return super().notify(receiver, event)
            started = time.perf_counter()
            handled = super().notify(receiver, event)
            key = panel(receiver)
            spent = time.perf_counter() - started
            self.paint_seconds[key] = self.paint_seconds.get(key, 0.0) + spent
            return handled

    return PaintTimingApplication()


def _free_port_file() -> Path:
    handle, name = tempfile.mkstemp(prefix="bench-ui-port-")
    os.close(handle)
    path = Path(name)
    path.unlink()
    return path


def run_responsiveness(seconds: float = 60.0) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    port_file = _free_port_file()
    feed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from {__name__} import serve_feed_main; serve_feed_main({str(port_file)!r})",
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if feed.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the feed server did not start")
            time.sleep(0.05)
        port = int(port_file.read_text())
        with tempfile.TemporaryDirectory() as config:
            os.environ["WORKSTATION_CONFIG_DIR"] = config
            app = QApplication.instance() or _application()
            assert isinstance(app, QApplication)
            app.setQuitOnLastWindowClosed(False)  # closing the window must not stop the loop
            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            try:
                result = loop.run_until_complete(_measure(port, seconds, Path(config)))
            finally:
                loop.close()
    finally:
        feed.terminate()
        feed.wait(10)
        port_file.unlink(missing_ok=True)
    bench = "ui_responsiveness"
    extra = {"symbols": SYMBOLS, "seconds": round(result["seconds"], 1)}
    paints = getattr(app, "paint_seconds", None)
    if paints:
        for panel, spent in sorted(paints.items(), key=lambda item: -item[1])[:8]:
            per_second = spent / result["wall"] * 1000
            report(bench, "paint_ms_per_second", round(per_second, 1), "ms/s", panel=panel)
    report(bench, "updates_received_per_second", round(result["rate"]), "msg/s", **extra)
    report(bench, "depth_panel_updates_per_second", round(result["depth_rate"], 1), "1/s", **extra)
    report(
        bench, "chart_candle_updates_per_second", round(result["candle_rate"], 1), "1/s", **extra
    )
    report(bench, "chart_and_depth_populated", result["panels_populated"], "bool", **extra)
    report(bench, "event_loop_lag_p50", round(result["p50"], 2), "ms", **extra)
    report(bench, "event_loop_lag_p99", round(result["p99"], 2), "ms", target="< 30", **extra)
    report(bench, "event_loop_lag_max", round(result["max"], 2), "ms", **extra)
    report(bench, "ui_process_cpu", round(result["cpu"]), "%", **extra)
    report(bench, "rss_start", round(result["rss_start"], 1), "MB", **extra)
    report(bench, "rss_end", round(result["rss_end"], 1), "MB", **extra)
    report(bench, "rss_slope", round(result["slope"], 3), "MB/min", target="~0", **extra)
    report(bench, "rss_slope_second_half", round(result["slope_late"], 3), "MB/min", **extra)


def run_startup() -> None:
    """Seconds from launching ``workstation --smoke-screenshot`` to a populated window."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "WORKSTATION_CONFIG_DIR": str(root / "config"),
        }
        command = [
            sys.executable,
            "-m",
            "workstation.app",
            "--data-dir",
            str(root / "data"),
            "--smoke-screenshot",
            str(root / "shot.png"),
        ]
        # The first start creates the database and seeds history (once per installation).
        subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            assert process.stdout is not None
            populated = None
            for line in process.stdout:
                if "populated in" in line:
                    populated = time.perf_counter() - started
            process.wait(120)
            if populated is not None and process.returncode == 0:
                timings.append(populated)
    if not timings:
        print('{"bench": "ui_startup", "error": "the window did not populate"}', flush=True)
        return
    report("ui_startup", "seconds_to_populated_window", round(min(timings), 2), "s", target="< 4")


def run(seconds: float = 60.0) -> None:
    run_responsiveness(seconds)
    run_startup()


if __name__ == "__main__":
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0)
