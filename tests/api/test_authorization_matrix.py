"""Who may call what: every route of the running server, called anonymously, as the trader
who owns the resources, as another trader, as a broker, as an admin and with the owner's
read-only API key.

Each route is classified in ``ROUTES``. A route the server serves that is not classified
(or a classified route that is gone) fails ``test_every_route_is_classified``: adding a route
means deciding who may call it.

- public: anyone, signed in or not, gets the same answer.
- own: any signed-in user, acting on their own data only. On a path naming the owner's
  order, watchlist, API key or preference, everyone else gets 404, never the data; list
  routes show each caller their own items only.
- broker: staff that may read (brokers and admins); traders get 403.
- admin: admins only; traders and brokers get 403.

Anonymous callers get 401 on everything but public routes. An API key with only the
``read`` scope reads, but gets 403 ``insufficient_scope`` on trading writes and 403
``session_required`` on credential changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import string
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import fastapi.routing
import httpx
import orjson
import pytest
import pytest_asyncio
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import ClientConnection, connect

from exchange_server.api.app import create_app
from exchange_server.protocol import TokenPair
from tests.api.conftest import PASSWORD, LiveServer, serve, server_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

Access = Literal["public", "own", "broker", "admin"]
# What an API key needs: the read scope, the trade scope, or no key at all (a person's
# signed-in session: changing credentials).
Needs = Literal["read", "trade", "session"]
Body = Any | Callable[["World"], Any]

V1 = "/api/v1"
AUTH = f"{V1}/auth"
ADMIN = f"{V1}/admin"
ORDER = {"symbol": "RELIANCE", "side": "buy", "quantity": "1", "price": "1300.00"}
IDENTITIES = ("anonymous", "read_key", "other", "broker", "admin", "owner")


@dataclass(frozen=True)
class Route:
    access: Access
    ok: int = 200  # the status a permitted caller gets
    body: Body = None
    needs: Needs = "read"
    # The path names the owner's resource: everyone else gets 404.
    owned: bool = False
    # What signed-in callers other than the owner get, when not ``ok`` (or 404 if owned).
    others: int | None = None
    owner_is_paper: bool = False  # the owner is the paper-trading user


def unique_email(world: World) -> dict[str, str]:
    return {"email": f"new{world.unique()}@example.com", "password": PASSWORD}


async def fresh_refresh_token(world: World) -> dict[str, str]:
    """A refresh token of a new session of the owner (each is good once)."""
    return {"refresh_token": (await world.login(world.owner_email)).refresh_token}


def watchlist(world: World) -> dict[str, Any]:
    return {"name": f"list {world.unique()}", "symbols": ["INFY", "TCS"]}


def api_key(world: World) -> dict[str, Any]:
    return {"name": f"key {world.unique()}", "scopes": ["read"]}


def password_change(world: World) -> dict[str, str]:
    return {"current_password": PASSWORD, "new_password": f"new secret {world.unique()}"}


ROUTES: dict[tuple[str, str], Route] = {
    # -- documentation, health and metrics (no /api prefix) ------------------------------
    ("GET", "/openapi.json"): Route("public"),
    ("GET", "/docs"): Route("public"),
    ("GET", "/docs/oauth2-redirect"): Route("public"),
    ("GET", "/redoc"): Route("public"),
    ("GET", "/healthz"): Route("public"),
    ("GET", "/readyz"): Route("public"),
    ("GET", "/metrics"): Route("public"),
    # -- sign-up and sign-in: before anyone is signed in ---------------------------------
    ("POST", f"{AUTH}/register"): Route("public", 201, unique_email),
    ("POST", f"{AUTH}/verify-email"): Route("public", 400, {"token": "x" * 32}),
    ("POST", f"{AUTH}/resend-verification"): Route("public", 202, {"email": "nobody@example.com"}),
    ("POST", f"{AUTH}/login"): Route(
        "public", 200, lambda world: {"email": world.owner_email, "password": PASSWORD}
    ),
    ("POST", f"{AUTH}/refresh"): Route("public", 200, fresh_refresh_token),
    ("POST", f"{AUTH}/logout"): Route("public", 204, fresh_refresh_token),
    # This server was not started by a workstation: there is no embedded sign-in.
    ("POST", f"{AUTH}/embedded"): Route("public", 404, {"secret": "x" * 32}),
    ("POST", f"{AUTH}/password/reset-request"): Route(
        "public", 202, {"email": "nobody@example.com"}
    ),
    ("POST", f"{AUTH}/password/reset"): Route(
        "public", 400, {"token": "x" * 32, "new_password": "a brand new secret"}
    ),
    # -- the signed-in user's own profile and credentials ---------------------------------
    ("GET", f"{AUTH}/me"): Route("own"),
    ("POST", f"{AUTH}/logout-all"): Route("own", 204, needs="session"),
    ("POST", f"{AUTH}/password/change"): Route("own", 204, password_change, "session"),
    ("POST", f"{AUTH}/2fa/enrol"): Route("own", 200, needs="session"),
    # Two-factor is off for everyone here: each caller reaches their own account's state.
    ("POST", f"{AUTH}/2fa/confirm"): Route("own", 409, {"code": "123456"}, "session"),
    ("POST", f"{AUTH}/2fa/disable"): Route(
        "own", 409, {"password": PASSWORD, "code": "123456"}, "session"
    ),
    ("POST", f"{AUTH}/2fa/recovery-codes"): Route("own", 409, {"code": "123456"}, "session"),
    ("GET", f"{AUTH}/api-keys"): Route("own"),
    ("POST", f"{AUTH}/api-keys"): Route("own", 201, api_key, "session"),
    ("DELETE", f"{AUTH}/api-keys/{{key_id}}"): Route("own", 204, needs="session", owned=True),
    # -- market data: public ---------------------------------------------------------------
    ("GET", f"{V1}/instruments"): Route("public"),
    ("GET", f"{V1}/instruments/{{symbol}}"): Route("public"),
    ("GET", f"{V1}/quotes"): Route("public"),
    ("GET", f"{V1}/quotes/{{symbol}}"): Route("public"),
    ("GET", f"{V1}/depth/{{symbol}}"): Route("public"),
    ("GET", f"{V1}/trades/{{symbol}}"): Route("public"),
    ("GET", f"{V1}/candles/{{symbol}}"): Route("public"),
    ("GET", f"{V1}/market/status"): Route("public"),
    ("GET", f"{V1}/market/calendar"): Route("public"),
    # -- trading: the caller's own account ---------------------------------------------------
    ("POST", f"{V1}/orders"): Route("own", 201, ORDER, "trade"),
    ("GET", f"{V1}/orders"): Route("own"),
    ("GET", f"{V1}/orders/{{order_id}}"): Route("own", owned=True),
    ("PATCH", f"{V1}/orders/{{order_id}}"): Route(
        "own", 200, {"quantity": "1", "price": "1299.00"}, "trade", owned=True
    ),
    ("DELETE", f"{V1}/orders/{{order_id}}"): Route("own", 200, needs="trade", owned=True),
    ("POST", f"{V1}/orders/cancel-all"): Route("own", 200, {}, "trade"),
    ("GET", f"{V1}/fills"): Route("own"),
    ("GET", f"{V1}/positions"): Route("own"),
    ("GET", f"{V1}/balances"): Route("own"),
    ("GET", f"{V1}/ledger"): Route("own"),
    # The fees the caller pays (the same schedule for everyone today): read scope suffices.
    ("GET", f"{V1}/account/fees"): Route("own"),
    # Only the paper-trading user's account can be reset; a real account is refused.
    ("POST", f"{V1}/paper/reset"): Route("own", 200, {}, "trade", others=403, owner_is_paper=True),
    # -- watchlists and preferences: the caller's own; a read-only key cannot change them -----
    ("GET", f"{V1}/watchlists"): Route("own"),
    ("POST", f"{V1}/watchlists"): Route("own", 201, watchlist, needs="trade"),
    ("PUT", f"{V1}/watchlists/{{watchlist_id}}"): Route(
        "own", 200, watchlist, needs="trade", owned=True
    ),
    ("DELETE", f"{V1}/watchlists/{{watchlist_id}}"): Route("own", 204, needs="trade", owned=True),
    ("GET", f"{V1}/preferences"): Route("own"),
    ("GET", f"{V1}/preferences/{{key}}"): Route("own", owned=True),
    # Keys are per user: storing under the same key stores the caller's own preference.
    ("PUT", f"{V1}/preferences/{{key}}"): Route("own", 200, {"theme": "dark"}, needs="trade"),
    ("DELETE", f"{V1}/preferences/{{key}}"): Route("own", 204, needs="trade", owned=True),
    # -- administration ------------------------------------------------------------------------
    ("GET", f"{ADMIN}/users"): Route("broker"),
    ("GET", f"{ADMIN}/users/{{user_id}}"): Route("broker"),
    ("PATCH", f"{ADMIN}/users/{{user_id}}"): Route("admin", 200, {"unlock": True}),
    ("GET", f"{ADMIN}/login-attempts"): Route("admin"),
    ("POST", f"{ADMIN}/accounts/{{account_id}}/{{action}}"): Route("admin", 200, {"amount": "100"}),
    ("POST", f"{ADMIN}/instruments/{{symbol}}/status"): Route(
        "admin", 200, {"status": "open", "reason": "authorization test"}
    ),
    ("PUT", f"{ADMIN}/fees"): Route("admin", 200, {"maker_fee_ppm": 0, "taker_fee_ppm": 0}),
    # -- the stream: authenticates in its protocol (see test_stream_needs_credentials...) ----
    ("WEBSOCKET", "/ws"): Route("public"),
}

TRADING_WRITES = sorted(key for key, route in ROUTES.items() if route.needs == "trade")


# -- the routes the server serves ------------------------------------------------------------
def served_routes(tmp_path: Path) -> set[tuple[str, str]]:
    """(method, path) of every route of the app, including those left out of the schema."""
    app = create_app(server_settings(tmp_path))
    # FastAPI keeps included routers' routes behind the app's own; walk through to them.
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: list[Any] = list(walk(app.routes)) if walk is not None else list(app.routes)
    served: set[tuple[str, str]] = set()
    for route in routes:
        path = getattr(route, "path_format", None) or route.path
        methods = getattr(route, "methods", None)
        if methods is not None:
            served.update((method, path) for method in methods if method != "HEAD")
        elif isinstance(getattr(route, "original_route", route), WebSocketRoute):
            served.add(("WEBSOCKET", path))
        else:  # a mount or anything else: unclassified, so the test says what it is
            served.add((type(route).__name__.upper(), path))
    return served


async def documented_operations(live: LiveServer) -> set[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        schema = (await client.get("/openapi.json")).json()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    }


# -- who calls -----------------------------------------------------------------------------------
@dataclass
class World:
    """Fresh users for one route: the owner with an order, a watchlist, an API key and a
    preference that carry a marker (``secret``) no one else may ever see; another trader,
    a broker, an admin, and the owner's read-only API key."""

    live: LiveServer
    tag: str
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    owner_email: str = ""
    owner_user_id: int = 0
    owner_account_id: int = 0
    counter: itertools.count[int] = field(default_factory=itertools.count)
    _closing: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def secret(self) -> str:
        return f"secret-{self.tag}"

    def unique(self) -> str:
        return f"{self.tag}-{next(self.counter)}"

    def client(self, **headers: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.live.base_url, headers=headers, timeout=10.0)
        self._closing.append(client)
        return client

    async def login(self, email: str) -> TokenPair:
        response = await self.client().post(
            f"{AUTH}/login", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return TokenPair.model_validate(response.json())

    async def sign_in(self, name: str, role: str = "trader") -> httpx.AsyncClient:
        email = f"{name}-{self.tag}@example.com"
        user = await self.live.context.auth.create_user(
            email, PASSWORD, role=role, verified=True, display_name=f"{name} {self.tag}"
        )
        await self.live.fund(user.account_id, "INR", "1000000")
        # A session without the password round (sign-in itself is a route tested here).
        tokens = await self.live.context.auth.issue_tokens_for(user.user_id)
        client = self.client(authorization=f"Bearer {tokens.access_token}")
        self.clients[name] = client
        if name == "owner":
            self.owner_email, self.owner_user_id = email, user.user_id
            self.owner_account_id = user.account_id
        return client

    async def sign_in_paper_user(self) -> httpx.AsyncClient:
        auth = self.live.context.auth
        user = await auth.provision_paper_user(f"paper-{self.tag}@localhost")
        tokens = await auth.issue_tokens_for(user.user_id)
        return self.client(authorization=f"Bearer {tokens.access_token}")

    async def setup(self) -> None:
        owner, *_ = await asyncio.gather(
            self.sign_in("owner"),
            self.sign_in("other"),
            self.sign_in("broker", "broker"),
            self.sign_in("admin", "admin"),
        )
        # Marked data the owner has before anyone calls: leaks would show it.
        await asyncio.gather(
            self.order_id(client_order_id=self.secret),
            self.watchlist_id(name=self.secret),
            self.key_id(name=self.secret),
            self.preference_key(key=self.secret),
        )
        created = await owner.post(f"{AUTH}/api-keys", json={"name": "reader", "scopes": ["read"]})
        assert created.status_code == 201, created.text
        self.clients["read_key"] = self.client(**{"x-api-key": created.json()["api_key"]})
        self.clients["anonymous"] = self.client()

    async def close(self) -> None:
        for client in self._closing:
            await client.aclose()

    # The owner's resources, made fresh for each call so no call depends on another.
    async def order_id(self, client_order_id: str = "") -> int:
        body = {**ORDER, "client_order_id": client_order_id or self.unique()}
        response = await self.clients["owner"].post(f"{V1}/orders", json=body)
        assert response.status_code == 201 and response.json()["status"] == "new", response.text
        order_id: int = response.json()["order_id"]
        return order_id

    async def watchlist_id(self, name: str = "") -> int:
        body = {"name": name or self.unique(), "symbols": ["RELIANCE"]}
        response = await self.clients["owner"].post(f"{V1}/watchlists", json=body)
        assert response.status_code == 201, response.text
        watchlist_id: int = response.json()["watchlist_id"]
        return watchlist_id

    async def key_id(self, name: str = "") -> str:
        body = {"name": name or self.unique(), "scopes": ["read", "trade"]}
        response = await self.clients["owner"].post(f"{AUTH}/api-keys", json=body)
        assert response.status_code == 201, response.text
        key_id: str = response.json()["key_id"]
        return key_id

    async def preference_key(self, key: str = "") -> str:
        key = key or f"layout.{self.unique()}"
        response = await self.clients["owner"].put(
            f"{V1}/preferences/{key}", json={"note": self.secret}
        )
        assert response.status_code == 200, response.text
        return key

    async def path_for(self, template: str) -> str:
        makers: dict[str, Callable[[], Awaitable[object]]] = {
            "order_id": self.order_id,
            "watchlist_id": self.watchlist_id,
            "key_id": self.key_id,
            "key": self.preference_key,
        }
        fixed = {
            "symbol": "RELIANCE",
            "user_id": self.owner_user_id,
            "account_id": self.owner_account_id,
            "action": "deposit",
        }
        values: dict[str, object] = {}
        for _, name, _, _ in string.Formatter().parse(template):
            if name:
                values[name] = await makers[name]() if name in makers else fixed[name]
        return template.format(**values)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with serve(server_settings(tmp_path_factory.mktemp("authorization"))) as server:
        yield server


@contextlib.asynccontextmanager
async def world_for(live: LiveServer, tag: str) -> AsyncIterator[World]:
    world = World(live, tag)
    try:
        await world.setup()
        yield world
    finally:
        await world.close()


def expected(route: Route, identity: str) -> tuple[int, str | None]:
    """The status (and error code, when refused for who is calling) ``identity`` gets."""
    if route.access == "public":
        return route.ok, None
    if identity == "anonymous":
        return 401, "unauthorized"
    if identity == "read_key":
        if route.access != "own":
            return 403, None  # forbidden (role) or insufficient_scope: either refuses
        if route.needs == "trade":
            return 403, "insufficient_scope"
        if route.needs == "session":
            return 403, "session_required"
        return route.ok, None  # reads as the owner: the owner's own resources
    if route.access == "broker" and identity in ("owner", "other"):
        return 403, "forbidden"
    if route.access == "admin" and identity != "admin":
        return 403, "forbidden"
    if route.access == "own" and identity != "owner":
        if route.others is not None:
            return route.others, None
        if route.owned:
            return 404, None
    return route.ok, None


def slug(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


def tag_of(key: tuple[str, str]) -> str:
    """A name for the route usable in e-mail addresses, client order ids and keys."""
    return "".join(c if c.isalnum() else "-" for c in slug(key).lower()).strip("-")[:60]


# -- the tests -----------------------------------------------------------------------------------
async def test_every_route_is_classified(live: LiveServer, tmp_path: Path) -> None:
    served = served_routes(tmp_path)
    documented = await documented_operations(live)
    assert documented <= served, f"documented but not served: {sorted(documented - served)}"
    unclassified = sorted(served - ROUTES.keys())
    assert not unclassified, (
        f"routes with no entry in ROUTES (decide who may call them and add them): {unclassified}"
    )
    gone = sorted(ROUTES.keys() - served)
    assert not gone, f"ROUTES lists routes the server does not serve: {gone}"


HTTP_ROUTES = sorted(key for key in ROUTES if key[0] != "WEBSOCKET")


@pytest.mark.parametrize("key", HTTP_ROUTES, ids=[slug(key) for key in HTTP_ROUTES])
async def test_route_answers_each_caller_as_classified(
    live: LiveServer, key: tuple[str, str]
) -> None:
    method, template = key
    route = ROUTES[key]
    async with world_for(live, tag_of(key)) as world:
        if route.owner_is_paper:
            world.clients["owner"] = await world.sign_in_paper_user()
        problems: list[str] = []
        # The owner goes last: everyone else's attempt must leave the resource untouched.
        for identity in IDENTITIES:
            path = await world.path_for(template)
            body = route.body(world) if callable(route.body) else route.body
            if isinstance(body, Awaitable):
                body = await body
            response = await world.clients[identity].request(
                method, path, json=body if method != "GET" else None
            )
            status, code = expected(route, identity)
            if response.status_code != status:
                problems.append(
                    f"{identity}: {method} {path} answered {response.status_code}, "
                    f"expected {status}: {response.text[:300]}"
                )
                continue
            if code is not None and response.json()["error"]["code"] != code:
                problems.append(f"{identity}: {method} {path}: {response.text[:300]}")
            leaked = world.secret in response.text or world.owner_email in response.text
            if leaked and route.access == "own" and identity not in ("owner", "read_key"):
                problems.append(f"{identity} saw the owner's data: {method} {path}")
        assert not problems, "\n".join(problems)


async def test_owner_resources_survive_everyone_elses_attempts(live: LiveServer) -> None:
    """After others tried to read, change and delete them, the owner's things are as made."""
    async with world_for(live, "survive") as world:
        order_id, watchlist_id = await world.order_id(), await world.watchlist_id()
        key_id, key = await world.key_id(), await world.preference_key()
        attempts = [
            ("GET", f"{V1}/orders/{order_id}", None),
            ("PATCH", f"{V1}/orders/{order_id}", {"quantity": "1", "price": "1200.00"}),
            ("DELETE", f"{V1}/orders/{order_id}", None),
            ("PUT", f"{V1}/watchlists/{watchlist_id}", {"name": "mine now", "symbols": []}),
            ("DELETE", f"{V1}/watchlists/{watchlist_id}", None),
            ("DELETE", f"{AUTH}/api-keys/{key_id}", None),
            ("GET", f"{V1}/preferences/{key}", None),
            ("DELETE", f"{V1}/preferences/{key}", None),
        ]
        for identity in ("other", "broker", "admin"):
            client = world.clients[identity]
            for method, path, body in attempts:
                response = await client.request(method, path, json=body)
                assert response.status_code == 404, (identity, method, path, response.text)
            cancelled = await client.post(f"{V1}/orders/cancel-all", json={})
            assert cancelled.json()["cancelled"] == [], (identity, cancelled.text)
        owner = world.clients["owner"]
        order = (await owner.get(f"{V1}/orders/{order_id}")).json()
        assert (order["status"], order["quantity"], order["price"]) == ("new", "1", "1300.00")
        lists = (await owner.get(f"{V1}/watchlists")).json()
        mine = [w for w in lists if w["watchlist_id"] == watchlist_id]
        assert mine and mine[0]["symbols"] == ["RELIANCE"] and mine[0]["name"] != "mine now"
        keys = [k["key_id"] for k in (await owner.get(f"{AUTH}/api-keys")).json()]
        assert key_id in keys
        preference = (await owner.get(f"{V1}/preferences/{key}")).json()
        assert preference["value"] == {"note": world.secret}


@pytest.mark.parametrize("key", TRADING_WRITES, ids=[slug(key) for key in TRADING_WRITES])
async def test_read_only_api_key_cannot_trade(live: LiveServer, key: tuple[str, str]) -> None:
    method, template = key
    route = ROUTES[key]
    async with world_for(live, f"key-{tag_of(key)}") as world:
        path = await world.path_for(template)
        body = route.body(world) if callable(route.body) else route.body
        response = await world.clients["read_key"].request(method, path, json=body)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "insufficient_scope"
        # Nothing happened: the owner's orders are as they were.
        orders = await world.clients["owner"].get(f"{V1}/orders", params={"status": "open"})
        assert all(o["status"] == "new" and o["quantity"] == "1" for o in orders.json()["items"])
        made = 1 + template.count("{order_id}")  # the marked order, and the one in the path
        assert len(orders.json()["items"]) == made


# -- the stream ----------------------------------------------------------------------------------
class Stream:
    """One WebSocket connection: requests with ids, replies read off the socket."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.ids = itertools.count(1)
        self.seen: list[dict[str, Any]] = []

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        request_id = next(self.ids)
        await self.connection.send(orjson.dumps({"op": op, "id": request_id, **fields}).decode())
        return await self.until(lambda m: m.get("id") == request_id and "seq" not in m)

    async def until(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for message in self.seen:
            if wanted(message):
                return message
        async with asyncio.timeout(10):
            async for raw in self.connection:
                decoded = orjson.loads(raw)
                for message in decoded if isinstance(decoded, list) else [decoded]:
                    self.seen.append(message)
                    if wanted(message):
                        return message
        raise AssertionError("the stream closed")


@contextlib.asynccontextmanager
async def stream(live: LiveServer, **headers: str) -> AsyncIterator[Stream]:
    async with connect(live.ws_url, additional_headers=headers) as connection:
        yield Stream(connection)


async def test_stream_needs_credentials_and_keeps_orders_private(live: LiveServer) -> None:
    async with world_for(live, "stream") as world:
        order_id = await world.order_id()
        owner_key = world.clients["read_key"].headers["x-api-key"]

        async with stream(live) as anonymous:
            for op, fields in (
                ("subscribe", {"channel": "orders"}),
                ("place", {"order": ORDER}),
                ("cancel", {"order_id": order_id}),
            ):
                reply = await anonymous.request(op, **fields)
                assert reply["type"] == "error", reply
                assert reply["error"]["code"] == "unauthorized", reply

        other_token = world.clients["other"].headers["authorization"]
        async with stream(live, authorization=other_token) as other:
            await other.until(lambda m: m.get("type") == "authenticated")
            refused = await other.request("cancel", order_id=order_id)
            assert refused["type"] == "error", refused
            assert refused["error"]["code"] == "unknown_order", refused
            changed = await other.request(
                "modify", order_id=order_id, changes={"quantity": "1", "price": "1200.00"}
            )
            assert changed["type"] == "error", changed
            assert (await other.request("subscribe", channel="orders"))["type"] == "subscribed"
            snapshot = await other.until(lambda m: m.get("type") == "snapshot")
            assert all(o["order_id"] != order_id for o in snapshot["data"]), snapshot

        async with stream(live, **{"x-api-key": owner_key}) as reader:
            await reader.until(lambda m: m.get("type") == "authenticated")
            reply = await reader.request("cancel", order_id=order_id)
            assert reply["type"] == "error", reply
            assert reply["error"]["code"] == "insufficient_scope", reply
            assert (await reader.request("subscribe", channel="orders"))["type"] == "subscribed"
            snapshot = await reader.until(lambda m: m.get("type") == "snapshot")
            assert order_id in [o["order_id"] for o in snapshot["data"]], snapshot

        order = (await world.clients["owner"].get(f"{V1}/orders/{order_id}")).json()
        assert order["status"] == "new" and order["quantity"] == "1"
