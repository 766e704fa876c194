"""Per-user data the workstation keeps on the server: named, ordered watchlists and
preferences (JSON documents such as window layouts)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Body, Path, Response
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from exchange_server.api.deps import Context, Reader, Writer
from exchange_server.api.errors import ApiError
from exchange_server.protocol import API_PREFIX, Preference, WatchlistIn, WatchlistOut
from exchange_server.storage.database import WRITE_TRANSACTION
from exchange_server.storage.models import PreferenceRow, WatchlistRow, utc_now

router = APIRouter(prefix=API_PREFIX, tags=["watchlists and preferences"])

T = TypeVar("T")
MAX_WATCHLISTS = 50
MAX_PREFERENCES = 200
MAX_PREFERENCE_BYTES = 256 * 1024
WatchlistId = Annotated[int, Path(ge=1, le=2**62)]
PreferenceKey = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


async def _in_transaction(context: Context, work: Callable[[Connection], T]) -> T:
    engine = context.backoffice_engine
    if engine is None:
        raise ApiError(503, "starting", "the exchange is starting")

    def run() -> T:
        with engine.connect() as connection:
            connection = connection.execution_options(**WRITE_TRANSACTION)
            with connection.begin():
                return work(connection)

    return await asyncio.to_thread(run)


def _watchlist(row: Any) -> WatchlistOut:
    symbols = [s for s in row.symbols.split(",") if s]
    return WatchlistOut(
        watchlist_id=row.watchlist_id, name=row.name, position=row.position, symbols=symbols
    )


def _check_symbols(context: Context, body: WatchlistIn) -> str:
    known = context.market.instruments
    symbols = [s.upper() for s in body.symbols]
    for index, symbol in enumerate(symbols):
        if symbol not in known:
            raise ApiError(
                422, "unknown_instrument", f"no instrument {symbol!r}", f"symbols.{index}"
            )
    return ",".join(dict.fromkeys(symbols))  # keep order, drop repeats


@router.get("/watchlists", response_model=list[WatchlistOut])
async def list_watchlists(context: Context, caller: Reader) -> list[WatchlistOut]:
    def work(connection: Connection) -> list[WatchlistOut]:
        rows = connection.execute(
            select(WatchlistRow)
            .where(WatchlistRow.user_id == caller.user_id)
            .order_by(WatchlistRow.position, WatchlistRow.watchlist_id)
        ).all()
        return [_watchlist(row) for row in rows]

    return await _in_transaction(context, work)


@router.post("/watchlists", status_code=201, response_model=WatchlistOut)
async def create_watchlist(context: Context, caller: Writer, body: WatchlistIn) -> WatchlistOut:
    symbols = _check_symbols(context, body)

    def work(connection: Connection) -> WatchlistOut:
        count = connection.execute(
            select(func.count()).where(WatchlistRow.user_id == caller.user_id)
        ).scalar_one()
        if count >= MAX_WATCHLISTS:
            raise ApiError(409, "too_many_watchlists", f"at most {MAX_WATCHLISTS} watchlists")
        watchlist_id = connection.execute(
            insert(WatchlistRow).values(
                user_id=caller.user_id, name=body.name, position=count, symbols=symbols
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        row = connection.execute(
            select(WatchlistRow).where(WatchlistRow.watchlist_id == watchlist_id)
        ).one()
        return _watchlist(row)

    try:
        return await _in_transaction(context, work)
    except IntegrityError:
        raise ApiError(
            409, "watchlist_exists", "a watchlist with this name exists", "name"
        ) from None


@router.put("/watchlists/{watchlist_id}", response_model=WatchlistOut)
async def replace_watchlist(
    context: Context, caller: Writer, watchlist_id: WatchlistId, body: WatchlistIn
) -> WatchlistOut:
    """Rename and/or reorder: the symbols are replaced as given, in that order."""
    symbols = _check_symbols(context, body)

    def work(connection: Connection) -> WatchlistOut:
        changed = connection.execute(
            update(WatchlistRow)
            .where(
                WatchlistRow.watchlist_id == watchlist_id,
                WatchlistRow.user_id == caller.user_id,
            )
            .values(name=body.name, symbols=symbols)
        ).rowcount
        if not changed:
            raise ApiError(404, "unknown_watchlist", "no such watchlist", "watchlist_id")
        row = connection.execute(
            select(WatchlistRow).where(WatchlistRow.watchlist_id == watchlist_id)
        ).one()
        return _watchlist(row)

    try:
        return await _in_transaction(context, work)
    except IntegrityError:
        raise ApiError(
            409, "watchlist_exists", "a watchlist with this name exists", "name"
        ) from None


@router.delete("/watchlists/{watchlist_id}", status_code=204)
async def delete_watchlist(context: Context, caller: Writer, watchlist_id: WatchlistId) -> Response:
    def work(connection: Connection) -> None:
        deleted = connection.execute(
            delete(WatchlistRow).where(
                WatchlistRow.watchlist_id == watchlist_id,
                WatchlistRow.user_id == caller.user_id,
            )
        ).rowcount
        if not deleted:
            raise ApiError(404, "unknown_watchlist", "no such watchlist", "watchlist_id")

    await _in_transaction(context, work)
    return Response(status_code=204)


@router.get("/preferences", response_model=list[Preference])
async def list_preferences(context: Context, caller: Reader) -> list[Preference]:
    def work(connection: Connection) -> list[Preference]:
        rows = connection.execute(
            select(PreferenceRow)
            .where(PreferenceRow.user_id == caller.user_id)
            .order_by(PreferenceRow.key)
        ).all()
        return [Preference(key=row.key, value=orjson.loads(row.value)) for row in rows]

    return await _in_transaction(context, work)


@router.get("/preferences/{key}", response_model=Preference)
async def get_preference(context: Context, caller: Reader, key: PreferenceKey) -> Preference:
    def work(connection: Connection) -> Preference:
        row = connection.execute(
            select(PreferenceRow).where(
                PreferenceRow.user_id == caller.user_id, PreferenceRow.key == key
            )
        ).one_or_none()
        if row is None:
            raise ApiError(404, "unknown_preference", f"no preference {key!r}", "key")
        return Preference(key=row.key, value=orjson.loads(row.value))

    return await _in_transaction(context, work)


@router.put("/preferences/{key}", response_model=Preference)
async def put_preference(
    context: Context, caller: Writer, key: PreferenceKey, value: Annotated[Any, Body()]
) -> Preference:
    """Store any JSON value under ``key`` (up to 256 KiB), replacing what was there."""
    encoded = orjson.dumps(value).decode()
    if len(encoded) > MAX_PREFERENCE_BYTES:
        raise ApiError(413, "preference_too_large", "a preference holds at most 256 KiB", "value")

    def work(connection: Connection) -> Preference:
        where = (PreferenceRow.user_id == caller.user_id, PreferenceRow.key == key)
        changed = connection.execute(
            update(PreferenceRow).where(*where).values(value=encoded, updated_at=utc_now())
        ).rowcount
        if not changed:
            count = connection.execute(
                select(func.count()).where(PreferenceRow.user_id == caller.user_id)
            ).scalar_one()
            if count >= MAX_PREFERENCES:
                raise ApiError(409, "too_many_preferences", f"at most {MAX_PREFERENCES} keys")
            connection.execute(
                insert(PreferenceRow).values(
                    user_id=caller.user_id, key=key, value=encoded, updated_at=utc_now()
                )
            )
        return Preference(key=key, value=value)

    return await _in_transaction(context, work)


@router.delete("/preferences/{key}", status_code=204)
async def delete_preference(context: Context, caller: Writer, key: PreferenceKey) -> Response:
    def work(connection: Connection) -> None:
        deleted = connection.execute(
            delete(PreferenceRow).where(
                PreferenceRow.user_id == caller.user_id, PreferenceRow.key == key
            )
        ).rowcount
        if not deleted:
            raise ApiError(404, "unknown_preference", f"no preference {key!r}", "key")

    await _in_transaction(context, work)
    return Response(status_code=204)
