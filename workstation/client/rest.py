"""The REST half of the client: one typed coroutine per route, credentials, token refresh.

``ExchangeClient`` owns one ``httpx.AsyncClient`` (a connection pool), the caller's
credentials (an access/refresh token pair or an API key) and the refresh policy. Responses
are parsed into the shared wire models of :mod:`exchange_server.protocol`, so a script and
the workstation see the same exact ``Decimal`` values the server sent as strings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_json

from exchange_server.protocol import (
    API_PREFIX,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    Balance,
    CancelAllRequest,
    CancelAllResult,
    CandleSeries,
    Depth,
    EmbeddedLoginRequest,
    FeeSchedule,
    Fill,
    FundsRequest,
    Health,
    InstrumentOut,
    LedgerEntry,
    LoginAttemptOut,
    LoginRequest,
    MarketCalendar,
    MarketStatus,
    OrderOut,
    OrderType,
    Page,
    PasswordChangeRequest,
    PasswordResetConfirm,
    PasswordResetRequest,
    PlaceOrderRequest,
    Position,
    Preference,
    PublicTrade,
    Quote,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    ResendVerificationRequest,
    Role,
    Scope,
    Side,
    TimeInForce,
    TokenPair,
    TotpConfirmRequest,
    TotpDisableRequest,
    TotpEnrolment,
    TradingStatusRequest,
    UserOut,
    UserUpdate,
    VerifyEmailRequest,
    WatchlistIn,
    WatchlistOut,
)
from workstation.client.errors import ApiError, NotAuthenticated, TransportError
from workstation.client.wire import (
    Number,
    modify_request,
    order_request,
    parse_retry_after,
    to_decimal,
    websocket_url,
)

if TYPE_CHECKING:
    from workstation.client.stream import StreamClient

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)
TokenListener = Callable[[TokenPair | None], None]


def _params(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _body(model: BaseModel) -> dict[str, Any]:
    # exclude_none: an omitted optional means "server default / unchanged", not null.
    return model.model_dump(mode="json", exclude_none=True)


class ExchangeClient:
    """An async client of one exchange server's REST API.

    Use as ``async with ExchangeClient("http://127.0.0.1:8000") as client``; then
    ``await client.login(email, password)`` (or ``use_api_key``, ``login_embedded``) and call
    the typed methods. Access tokens are refreshed shortly before they expire and once more
    if the server still says ``token_expired``; concurrent callers share one refresh.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        refresh_margin: float = 30.0,
        max_rate_limit_retries: int = 3,
        max_retry_after: float = 30.0,
        on_tokens: TokenListener | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.refresh_margin = refresh_margin
        self.max_rate_limit_retries = max_rate_limit_retries
        self.max_retry_after = max_retry_after
        self._on_tokens = on_tokens
        self._clock = clock
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)
        self._tokens: TokenPair | None = None
        self._access_expires_at = 0.0  # on self._clock's scale
        self._api_key: str | None = None
        self._refreshing: asyncio.Task[TokenPair] | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
        await self._http.aclose()

    @property
    def ws_url(self) -> str:
        return websocket_url(self.base_url)

    # -- credentials ----------------------------------------------------------------------
    @property
    def tokens(self) -> TokenPair | None:
        return self._tokens

    @property
    def user(self) -> UserOut | None:
        """The signed-in user as of the last login or refresh."""
        return self._tokens.user if self._tokens is not None else None

    @property
    def api_key(self) -> str | None:
        return self._api_key

    def use_tokens(self, tokens: TokenPair | None) -> None:
        """Adopt a token pair (a resumed session, or one from another login path)."""
        self._tokens = tokens
        self._api_key = None
        self._access_expires_at = self._clock() + tokens.expires_in if tokens else 0.0
        if self._on_tokens is not None:
            self._on_tokens(tokens)

    def use_api_key(self, api_key: str) -> None:
        """Authenticate every call with ``X-API-Key: <key id>.<secret>`` (no tokens)."""
        self.use_tokens(None)
        self._api_key = api_key

    def _refresh_due(self) -> bool:
        if self._tokens is None:
            return False
        # Short-lived tokens (tests, strict servers) refresh at a quarter of their life
        # left rather than on every call.
        margin = min(self.refresh_margin, self._tokens.expires_in / 4)
        return self._clock() >= self._access_expires_at - margin

    async def fresh_access_token(self) -> str | None:
        """The current access token, refreshed first if it is about to expire (None when
        signed in by API key or not at all). The stream calls this on each (re)connect."""
        if self._tokens is None:
            return None
        if self._refresh_due():
            await self.refresh()
        return self._tokens.access_token if self._tokens is not None else None

    async def refresh(self) -> TokenPair:
        """Trade the refresh token for a new pair. Concurrent callers share one request (the
        server rotates refresh tokens, so two refreshes with the same one would race)."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh_once(), name="token-refresh")
            # Retrieved here so a refresh whose awaiters were all cancelled logs nothing.
            self._refreshing.add_done_callback(lambda task: task.cancelled() or task.exception())
        # shield: one caller being cancelled must not cancel the refresh the others await.
        return await asyncio.shield(self._refreshing)

    async def _refresh_once(self) -> TokenPair:
        if self._tokens is None:
            raise NotAuthenticated("no refresh token: log in first")
        body = _body(RefreshRequest(refresh_token=self._tokens.refresh_token))
        try:
            response = await self._send("POST", "/auth/refresh", body=body, authenticated=False)
        except ApiError as error:
            if error.status in (400, 401, 403):
                # The session is over (revoked, expired, reused): callers must log in again.
                self.use_tokens(None)
            raise
        tokens = TokenPair.model_validate(response.json())
        self.use_tokens(tokens)
        return tokens

    async def _auth_headers(self) -> dict[str, str]:
        if self._api_key is not None:
            return {"X-API-Key": self._api_key}
        token = await self.fresh_access_token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    # -- transport ------------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        authenticated: bool = True,
        prefix: str = API_PREFIX,
        accept_statuses: Iterable[int] = (),
    ) -> httpx.Response:
        """One call with the retry policy: a ``token_expired`` 401 refreshes and retries
        once (the server refused before acting, so this is safe for any method); a 429 on a
        GET waits out Retry-After (bounded) and retries; nothing else is retried."""
        refreshed = False
        rate_limited = 0
        content = None if body is None else to_json(body)
        while True:
            headers = await self._auth_headers() if authenticated else {}
            if content is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = await self._http.request(
                    method, prefix + path, params=params, content=content, headers=headers
                )
            except httpx.TransportError as problem:
                raise TransportError(f"{method} {path}: {problem!r}") from problem
            if response.is_success or response.status_code in accept_statuses:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            error = ApiError.from_body(response.status_code, response.content, retry_after)
            if (
                error.status == 401
                and error.code == "token_expired"
                and "Authorization" in headers
                and self._tokens is not None
                and not refreshed
            ):
                refreshed = True
                # Someone else may have refreshed while this request was in flight.
                if headers["Authorization"] == f"Bearer {self._tokens.access_token}":
                    await self.refresh()
                continue
            if (
                error.status == 429
                and method == "GET"  # a POST may have been counted; the caller decides
                and rate_limited < self.max_rate_limit_retries
                and (retry_after is None or retry_after <= self.max_retry_after)
            ):
                rate_limited += 1
                delay = 1.0 if retry_after is None else retry_after
                log.info("rate limited on %s %s; retrying in %.1f s", method, path, delay)
                await asyncio.sleep(delay)
                continue
            raise error

    async def _get(self, path: str, **params: Any) -> Any:
        return (await self._send("GET", path, params=_params(**params))).json()

    async def _model(
        self, model: type[ModelT], method: str, path: str, body: Any = None, **params: Any
    ) -> ModelT:
        response = await self._send(method, path, params=_params(**params), body=body)
        return model.model_validate(response.json())

    async def _models(self, model: type[ModelT], path: str, **params: Any) -> list[ModelT]:
        data = await self._get(path, **params)
        return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]

    async def _page(self, model: type[ModelT], path: str, **params: Any) -> Page[ModelT]:
        data = await self._get(path, **params)
        return Page[model].model_validate(data)  # type: ignore[valid-type]

    async def _pages(
        self,
        fetch: Callable[[str | None], Awaitable[Page[ModelT]]],
    ) -> AsyncIterator[ModelT]:
        cursor: str | None = None
        while True:
            page = await fetch(cursor)
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    # -- health (no API prefix) -----------------------------------------------------------
    async def healthz(self) -> Health:
        response = await self._send("GET", "/healthz", prefix="", authenticated=False)
        return Health.model_validate(response.json())

    async def readyz(self) -> Health:
        """Readiness; a 503 carrying a Health body is an answer ("failing"), not an error."""
        response = await self._send(
            "GET", "/readyz", prefix="", authenticated=False, accept_statuses=(503,)
        )
        if response.status_code == 503:
            try:
                return Health.model_validate(response.json())
            except ValueError:
                raise ApiError.from_body(503, response.content) from None
        return Health.model_validate(response.json())

    # -- authentication -------------------------------------------------------------------
    async def register(self, email: str, password: str, display_name: str = "") -> UserOut:
        request = RegisterRequest(email=email, password=password, display_name=display_name)
        response = await self._send(
            "POST", "/auth/register", body=_body(request), authenticated=False
        )
        return UserOut.model_validate(response.json())

    async def verify_email(self, token: str) -> UserOut:
        """Confirm an e-mail address with the token from the mailed link."""
        body = _body(VerifyEmailRequest(token=token))
        response = await self._send("POST", "/auth/verify-email", body=body, authenticated=False)
        return UserOut.model_validate(response.json())

    async def resend_verification(self, email: str) -> None:
        body = _body(ResendVerificationRequest(email=email))
        await self._send("POST", "/auth/resend-verification", body=body, authenticated=False)

    async def login(
        self,
        email: str,
        password: str,
        otp: str | None = None,
        *,
        recovery_code: str | None = None,
    ) -> TokenPair:
        """Sign in and keep the tokens. With 2FA on and no ``otp`` the server answers 401
        ``mfa_required`` (raised as ApiError): ask the user for a code and call again."""
        request = LoginRequest(email=email, password=password, otp=otp, recovery_code=recovery_code)
        response = await self._send("POST", "/auth/login", body=_body(request), authenticated=False)
        tokens = TokenPair.model_validate(response.json())
        self.use_tokens(tokens)
        return tokens

    async def login_embedded(self, secret: str) -> TokenPair:
        """Sign in to an embedded server as its paper user with the one-time secret."""
        body = _body(EmbeddedLoginRequest(secret=secret))
        response = await self._send("POST", "/auth/embedded", body=body, authenticated=False)
        tokens = TokenPair.model_validate(response.json())
        self.use_tokens(tokens)
        return tokens

    async def logout(self) -> None:
        """End this session on the server (its refresh token) and forget the tokens."""
        tokens = self._tokens
        if tokens is None:
            return
        try:
            body = _body(RefreshRequest(refresh_token=tokens.refresh_token))
            await self._send("POST", "/auth/logout", body=body)
        finally:
            self.use_tokens(None)

    async def logout_all(self) -> None:
        """End every session of this user, on every device."""
        try:
            await self._send("POST", "/auth/logout-all")
        finally:
            self.use_tokens(None)

    async def me(self) -> UserOut:
        return await self._model(UserOut, "GET", "/auth/me")

    async def change_password(self, current_password: str, new_password: str) -> None:
        request = PasswordChangeRequest(
            current_password=current_password, new_password=new_password
        )
        await self._send("POST", "/auth/password/change", body=_body(request))

    async def request_password_reset(self, email: str) -> None:
        body = _body(PasswordResetRequest(email=email))
        await self._send("POST", "/auth/password/reset-request", body=body, authenticated=False)

    async def reset_password(self, token: str, new_password: str) -> None:
        body = _body(PasswordResetConfirm(token=token, new_password=new_password))
        await self._send("POST", "/auth/password/reset", body=body, authenticated=False)

    async def enrol_totp(self) -> TotpEnrolment:
        return await self._model(TotpEnrolment, "POST", "/auth/2fa/enrol")

    async def confirm_totp(self, code: str) -> RecoveryCodes:
        body = _body(TotpConfirmRequest(code=code))
        return await self._model(RecoveryCodes, "POST", "/auth/2fa/confirm", body)

    async def disable_totp(self, password: str, code: str) -> None:
        body = _body(TotpDisableRequest(password=password, code=code))
        await self._send("POST", "/auth/2fa/disable", body=body)

    async def regenerate_recovery_codes(self, code: str) -> RecoveryCodes:
        """New recovery codes (shown once); the previous ones stop working."""
        body = _body(TotpConfirmRequest(code=code))
        return await self._model(RecoveryCodes, "POST", "/auth/2fa/recovery-codes", body)

    async def api_keys(self) -> list[ApiKeyOut]:
        return await self._models(ApiKeyOut, "/auth/api-keys")

    async def create_api_key(self, name: str, scopes: Iterable[Scope] = ("read",)) -> ApiKeyCreated:
        """A new key; its ``api_key`` ("<id>.<secret>") is shown only in this answer."""
        body = _body(ApiKeyCreate(name=name, scopes=list(scopes)))
        return await self._model(ApiKeyCreated, "POST", "/auth/api-keys", body)

    async def revoke_api_key(self, key_id: str) -> None:
        await self._send("DELETE", f"/auth/api-keys/{quote(key_id, safe='')}")

    # -- market data ----------------------------------------------------------------------
    async def instruments(
        self,
        search: str | None = None,
        *,
        sector: str | None = None,
        asset_class: str | None = None,
    ) -> list[InstrumentOut]:
        return await self._models(
            InstrumentOut, "/instruments", search=search, sector=sector, asset_class=asset_class
        )

    async def instrument(self, symbol: str) -> InstrumentOut:
        return await self._model(InstrumentOut, "GET", f"/instruments/{quote(symbol, safe='')}")

    async def quotes(self, symbols: Iterable[str]) -> list[Quote]:
        return await self._models(Quote, "/quotes", symbols=",".join(symbols))

    async def quote(self, symbol: str) -> Quote:
        return await self._model(Quote, "GET", f"/quotes/{quote(symbol, safe='')}")

    async def depth(self, symbol: str, levels: int = 5) -> Depth:
        return await self._model(Depth, "GET", f"/depth/{quote(symbol, safe='')}", levels=levels)

    async def trades(self, symbol: str, limit: int | None = None) -> list[PublicTrade]:
        return await self._models(PublicTrade, f"/trades/{quote(symbol, safe='')}", limit=limit)

    async def candles(
        self,
        symbol: str,
        interval: str = "1m",
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
    ) -> CandleSeries:
        """Bars of ``interval``; ``start``/``end`` are epoch nanoseconds."""
        return await self._model(
            CandleSeries,
            "GET",
            f"/candles/{quote(symbol, safe='')}",
            interval=interval,
            start=start,
            end=end,
            limit=limit,
        )

    async def market_status(self) -> MarketStatus:
        return await self._model(MarketStatus, "GET", "/market/status")

    async def market_calendar(self, days: int | None = None) -> MarketCalendar:
        return await self._model(MarketCalendar, "GET", "/market/calendar", days=days)

    # -- trading --------------------------------------------------------------------------
    async def place_order(
        self,
        symbol: str,
        side: Side,
        quantity: Number,
        price: Number | None = None,
        *,
        order_type: OrderType | None = None,
        trigger_price: Number | None = None,
        tif: TimeInForce = "day",
        client_order_id: str | None = None,
        post_only: bool = False,
        expire_at: int | None = None,
    ) -> OrderOut:
        """Place an order: a limit order when ``price`` is given, a market order when not
        (unless ``order_type`` says otherwise). A client order id is generated when none is
        given; it comes back on the order and its stream updates."""
        request = order_request(
            symbol,
            side,
            quantity,
            price,
            order_type=order_type,
            trigger_price=trigger_price,
            tif=tif,
            client_order_id=client_order_id,
            post_only=post_only,
            expire_at=expire_at,
        )
        return await self.submit_order(request)

    async def submit_order(self, request: PlaceOrderRequest) -> OrderOut:
        return await self._model(OrderOut, "POST", "/orders", _body(request))

    async def orders(
        self,
        status: str = "open",
        *,
        symbol: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[OrderOut]:
        """One page of orders (``status`` "open" or "all"), newest first."""
        return await self._page(
            OrderOut, "/orders", status=status, symbol=symbol, cursor=cursor, limit=limit
        )

    def iter_orders(
        self, status: str = "open", *, symbol: str | None = None, limit: int | None = None
    ) -> AsyncIterator[OrderOut]:
        """Every order, following the cursors page by page."""
        return self._pages(
            lambda cursor: self.orders(status, symbol=symbol, cursor=cursor, limit=limit)
        )

    async def order(self, order_id: int) -> OrderOut:
        return await self._model(OrderOut, "GET", f"/orders/{int(order_id)}")

    async def modify_order(
        self,
        order_id: int,
        *,
        quantity: Number | None = None,
        price: Number | None = None,
        trigger_price: Number | None = None,
    ) -> OrderOut:
        """Change the total quantity and/or price (trigger for stops); None keeps a field."""
        request = modify_request(quantity=quantity, price=price, trigger_price=trigger_price)
        return await self._model(OrderOut, "PATCH", f"/orders/{int(order_id)}", _body(request))

    async def cancel_order(self, order_id: int) -> OrderOut:
        return await self._model(OrderOut, "DELETE", f"/orders/{int(order_id)}")

    async def cancel_all(self, symbol: str | None = None) -> CancelAllResult:
        body = _body(CancelAllRequest(symbol=symbol))
        return await self._model(CancelAllResult, "POST", "/orders/cancel-all", body)

    async def fills(
        self, symbol: str | None = None, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Fill]:
        return await self._page(Fill, "/fills", symbol=symbol, cursor=cursor, limit=limit)

    def iter_fills(
        self, symbol: str | None = None, *, limit: int | None = None
    ) -> AsyncIterator[Fill]:
        return self._pages(lambda cursor: self.fills(symbol, cursor=cursor, limit=limit))

    async def positions(self) -> list[Position]:
        return await self._models(Position, "/positions")

    async def balances(self) -> list[Balance]:
        return await self._models(Balance, "/balances")

    async def fees(self) -> FeeSchedule:
        """The maker and taker fees of the caller's fills (ppm of notional) and what a buy
        holds for them on top of its worst-case cost."""
        return await self._model(FeeSchedule, "GET", "/account/fees")

    async def ledger(
        self, asset: str | None = None, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[LedgerEntry]:
        return await self._page(LedgerEntry, "/ledger", asset=asset, cursor=cursor, limit=limit)

    def iter_ledger(
        self, asset: str | None = None, *, limit: int | None = None
    ) -> AsyncIterator[LedgerEntry]:
        return self._pages(lambda cursor: self.ledger(asset, cursor=cursor, limit=limit))

    # -- watchlists and preferences -------------------------------------------------------
    async def watchlists(self) -> list[WatchlistOut]:
        return await self._models(WatchlistOut, "/watchlists")

    async def create_watchlist(self, name: str, symbols: Iterable[str] = ()) -> WatchlistOut:
        body = _body(WatchlistIn(name=name, symbols=list(symbols)))
        return await self._model(WatchlistOut, "POST", "/watchlists", body)

    async def update_watchlist(
        self, watchlist_id: int, name: str, symbols: Iterable[str]
    ) -> WatchlistOut:
        body = _body(WatchlistIn(name=name, symbols=list(symbols)))
        return await self._model(WatchlistOut, "PUT", f"/watchlists/{int(watchlist_id)}", body)

    async def delete_watchlist(self, watchlist_id: int) -> None:
        await self._send("DELETE", f"/watchlists/{int(watchlist_id)}")

    async def preferences(self) -> list[Preference]:
        return await self._models(Preference, "/preferences")

    async def preference(self, key: str) -> Preference:
        return await self._model(Preference, "GET", f"/preferences/{quote(key, safe='')}")

    async def set_preference(self, key: str, value: Any) -> Preference:
        """Store any JSON value (Decimals go as strings) under ``key``."""
        path = f"/preferences/{quote(key, safe='')}"
        response = await self._send("PUT", path, body=value)
        if response.status_code == 204 or not response.content:
            return Preference(key=key, value=value)
        return Preference.model_validate(response.json())

    async def delete_preference(self, key: str) -> None:
        await self._send("DELETE", f"/preferences/{quote(key, safe='')}")

    # -- administration -------------------------------------------------------------------
    async def admin_users(
        self,
        search: str | None = None,
        *,
        role: Role | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[UserOut]:
        """Users by id (brokers and admins); ``search`` matches e-mail or display name."""
        return await self._page(
            UserOut, "/admin/users", search=search, role=role, cursor=cursor, limit=limit
        )

    def iter_admin_users(
        self, search: str | None = None, *, role: Role | None = None
    ) -> AsyncIterator[UserOut]:
        return self._pages(lambda cursor: self.admin_users(search, role=role, cursor=cursor))

    async def admin_user(self, user_id: int) -> UserOut:
        return await self._model(UserOut, "GET", f"/admin/users/{int(user_id)}")

    async def admin_login_attempts(
        self, email: str | None = None, *, limit: int | None = None
    ) -> list[LoginAttemptOut]:
        """Sign-in attempts, newest first, optionally of one e-mail address."""
        return await self._models(
            LoginAttemptOut, "/admin/login-attempts", email=email, limit=limit
        )

    async def admin_update_user(
        self,
        user_id: int,
        *,
        role: Role | None = None,
        is_active: bool | None = None,
        unlock: bool = False,
    ) -> UserOut:
        body = _body(UserUpdate(role=role, is_active=is_active, unlock=unlock))
        return await self._model(UserOut, "PATCH", f"/admin/users/{int(user_id)}", body)

    async def admin_funds(
        self,
        account_id: int,
        action: Literal["deposit", "withdraw", "adjust"],
        amount: Number,
        asset: str = "INR",
        reference: str = "",
    ) -> Balance:
        """Move an account's cash (``adjust``: signed ``amount``); the balance after it."""
        if action not in ("deposit", "withdraw", "adjust"):
            raise ValueError(f"unknown funds action {action!r}")
        body = _body(
            FundsRequest(amount=to_decimal(amount, "amount"), asset=asset, reference=reference)
        )
        return await self._model(
            Balance, "POST", f"/admin/accounts/{int(account_id)}/{action}", body
        )

    async def admin_set_trading_status(
        self,
        symbol: str,
        status: Literal["open", "halted", "cancel_only", "post_only"],
        reason: str = "",
    ) -> InstrumentOut:
        """Halt, restrict or resume trading in a symbol."""
        body = _body(TradingStatusRequest(status=status, reason=reason))
        path = f"/admin/instruments/{quote(symbol, safe='')}/status"
        return await self._model(InstrumentOut, "POST", path, body)

    def stream(self, **options: Any) -> StreamClient:
        """A :class:`~workstation.client.stream.StreamClient` on this server, authenticated
        with this client's credentials (fresh on every reconnect)."""
        from workstation.client.stream import StreamClient

        return StreamClient(self, **options)
