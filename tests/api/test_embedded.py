"""The embedded server as the workstation uses it: a child process on 127.0.0.1 with a
one-time secret, a funded paper user, a live demo market, and no life beyond its parent's.
Also the self-hosted server's drain on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from exchange_server.embedded import EmbeddedServer, start_embedded


def wait_until(condition, timeout: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.fixture
def embedded(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = start_embedded(tmp_path, paper_cash=Decimal("500000"), demo_market=True)
    try:
        yield server
    finally:
        assert server.stop() == 0, "\n".join(server.log_tail)


def sign_in(server: EmbeddedServer) -> httpx.Client:
    response = httpx.post(f"{server.base_url}/api/v1/auth/embedded", json={"secret": server.secret})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return httpx.Client(
        base_url=server.base_url, headers={"authorization": f"Bearer {token}"}, timeout=10
    )


def test_embedded_server_signs_in_the_paper_trader_once(embedded: EmbeddedServer) -> None:
    assert embedded.base_url.startswith("http://127.0.0.1:")
    with sign_in(embedded) as client:
        me = client.get("/api/v1/auth/me").json()
        assert me["is_paper"] and me["role"] == "trader"
        balances = {b["asset"]: b for b in client.get("/api/v1/balances").json()}
        assert Decimal(balances["INR"]["balance"]) == Decimal("500000")

        again = httpx.post(
            f"{embedded.base_url}/api/v1/auth/embedded", json={"secret": embedded.secret}
        )
        assert again.status_code == 401  # the secret was for one sign-in only

        # The demo market trades by itself.
        def traded() -> bool:
            quotes = client.get("/api/v1/quotes").json()
            return any(quote["trades"] > 0 for quote in quotes)

        wait_until(traded, what="demo market trades")

        order = client.post(
            "/api/v1/orders",
            json={"symbol": "SBIN", "side": "buy", "quantity": "10", "order_type": "market"},
        )
        assert order.status_code == 201, order.text
        reset = client.post("/api/v1/paper/reset", json={"cash": "250000"})
        assert reset.status_code == 200, reset.text
        after = {b["asset"]: b for b in reset.json()}
        assert Decimal(after["INR"]["balance"]) == Decimal("250000")
        assert all(Decimal(b["balance"]) == 0 for a, b in after.items() if a != "INR")
        assert client.get("/api/v1/orders?status=open").json()["items"] == []


PARENT = """
import sys, time
from pathlib import Path
from exchange_server.embedded import start_embedded
server = start_embedded(Path(sys.argv[1]), demo_market=False)
print(server.process.pid, flush=True)
time.sleep(600)
"""


def test_embedded_server_exits_when_its_parent_dies(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        assert not process_gone(child_pid)
        parent.send_signal(signal.SIGKILL)  # a crash: no clean-up code runs
        parent.wait()
        wait_until(lambda: process_gone(child_pid), what="the orphaned server to exit")
    finally:
        parent.kill()


def test_serve_drains_on_sigterm_and_keeps_acknowledged_orders(tmp_path: Path) -> None:
    """SIGTERM: in-flight work commits, streams close, the process exits 0; after a
    restart every acknowledged order is still there."""
    server = start_embedded(tmp_path, demo_market=False)
    try:
        with sign_in(server) as client:
            placed = client.post(
                "/api/v1/orders",
                json={"symbol": "TCS", "side": "buy", "quantity": "3", "price": "2300.00"},
            )
            assert placed.status_code == 201, placed.text
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0, "\n".join(server.log_tail)
    finally:
        server.stop()
    restarted = start_embedded(tmp_path, demo_market=False)
    try:
        with sign_in(restarted) as client:
            orders = client.get("/api/v1/orders?status=open").json()["items"]
            assert [(o["order_id"], o["quantity"]) for o in orders] == [
                (placed.json()["order_id"], "3")
            ]
    finally:
        assert restarted.stop() == 0
