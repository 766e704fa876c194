"""Property-based fuzzing of every operation in the server's OpenAPI schema (schemathesis).

A real server on 127.0.0.1 is fuzzed over HTTP with the schema it publishes at
``/openapi.json``: valid requests (positive) and requests that break the schema (negative),
signed in as a funded trader so the fuzzer gets past the 401 into the handlers, and again as
an admin for the admin routes. Each operation gets a fresh user and, where its path names a
resource, some requests aimed at a real one of that user's (an open order, a watchlist, an
API key, a preference) besides generated ids.

Every answer must be: not a server error (5xx); a status the schema documents for the
operation; the documented content type; a body that matches the documented schema.

Bounded for CI: a fixed number of examples per operation, no shrinking, derandomized (the
same requests on every run), no example database. Findings are collected over all
operations and reported together, with the request (as curl) and the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import PASSWORD, LiveServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 24  # split between positive, negative and real-resource requests
ADMIN_EXAMPLES_PER_OPERATION = 30
REQUEST_TIMEOUT = 10.0
RUNTIME_BUDGET = 90.0  # seconds for a pass; CI must not grow a slow fuzz step unnoticed

V1 = "/api/v1"
ORDER = {"symbol": "RELIANCE", "side": "buy", "quantity": "1", "price": "1300.00"}
# Valid bodies sent besides the generated ones, so the success answers of the main writes
# are checked against the schema too (random decimals rarely make a valid order).
VALID_BODIES: dict[str, list[Any]] = {
    f"POST {V1}/orders": [
        ORDER,
        {"symbol": "RELIANCE", "side": "sell", "quantity": "2", "order_type": "market"},
        {**ORDER, "tif": "ioc", "client_order_id": "fuzz-ioc"},
    ],
    f"PATCH {V1}/orders/{{order_id}}": [{"price": "1299.00"}, {"quantity": "2"}],
    f"POST {V1}/watchlists": [{"name": "core", "symbols": ["INFY", "TCS"]}],
    f"PUT {V1}/watchlists/{{watchlist_id}}": [{"name": "renamed", "symbols": ["TCS"]}],
    f"POST {V1}/admin/accounts/{{account_id}}/{{action}}": [{"amount": "100", "asset": "INR"}],
}


@dataclass(frozen=True)
class Finding:
    operation: str
    problem: str
    status: int | None
    request: str
    response: str

    def __str__(self) -> str:
        return (
            f"{self.operation}: {self.problem}\n"
            f"  request:  {self.request}\n"
            f"  response: {self.status} {self.response}"
        )


@dataclass
class Caller:
    """Who fuzzes one operation: their bearer token and the real resources they own."""

    headers: dict[str, str]
    path_parameters: dict[str, Any]


# -- preparing callers (on the server's event loop) ------------------------------------------
async def signed_in(live: LiveServer, name: str, role: str = "trader") -> tuple[Any, str]:
    auth = live.context.auth
    user = await auth.create_user(f"{name}@example.com", PASSWORD, role=role, verified=True)
    await live.fund(user.account_id, "INR", "1000000")
    await live.fund(user.account_id, "RELIANCE", "100")
    tokens = await auth.issue_tokens_for(user.user_id)
    return user, tokens.access_token


async def owned_resources(live: LiveServer, token: str, tag: str) -> dict[str, Any]:
    """An open order, a watchlist, an API key and a preference of the token's user."""
    async with httpx.AsyncClient(
        base_url=live.base_url, headers={"authorization": f"Bearer {token}"}
    ) as client:
        order = await client.post(f"{V1}/orders", json=ORDER)
        watchlist = await client.post(f"{V1}/watchlists", json={"name": tag, "symbols": ["TCS"]})
        key = await client.post(f"{V1}/auth/api-keys", json={"name": tag, "scopes": ["read"]})
        preference = await client.put(f"{V1}/preferences/layout.{tag}", json={"docks": [1, 2]})
    for response in (order, watchlist, key, preference):
        assert response.status_code in (200, 201), response.text
    return {
        "order_id": order.json()["order_id"],
        "watchlist_id": watchlist.json()["watchlist_id"],
        "key_id": key.json()["key_id"],
        "key": f"layout.{tag}",
        "symbol": "RELIANCE",
    }


# -- fuzzing one operation (in a worker thread: requests and Hypothesis are blocking) -------
def fuzz_operation(
    operation: Any, base_url: str, caller: Caller, max_examples: int
) -> tuple[list[Finding], Counter[int]]:
    wanted = {
        name: value
        for name, value in caller.path_parameters.items()
        if name in {parameter.name for parameter in operation.path_parameters}
    }
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if wanted:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=wanted))
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=wanted))
    for body in VALID_BODIES.get(operation.label, []):
        strategies.append(operation.as_strategy(path_parameters=wanted, body=body))
    findings: dict[tuple[str, int | None], Finding] = {}
    statuses: Counter[int] = Counter()
    session = requests.Session()

    def check(case: Case) -> None:
        try:
            response = case.call(
                base_url=base_url,
                session=session,
                headers=caller.headers,
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as error:
            key = (f"no answer: {type(error).__name__}", None)
            findings.setdefault(key, Finding(operation.label, key[0], None, _curl(case), ""))
            return
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=caller.headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                _record(findings, operation.label, failure, case, response)
        except Failure as failure:
            _record(findings, operation.label, failure, case, response)

    fuzz = settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: findings are collected
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )(given(case=st.one_of(strategies))(check))
    fuzz()
    session.close()
    return list(findings.values()), statuses


def _record(
    findings: dict[tuple[str, int | None], Finding],
    label: str,
    failure: Failure,
    case: Case,
    response: Any,
) -> None:
    key = (failure.title, response.status_code)
    if key not in findings:
        findings[key] = Finding(
            label,
            f"{failure.title}: {failure.message.strip()[:400]}",
            response.status_code,
            _curl(case),
            response.text[:400],
        )


def _curl(case: Case) -> str:
    return case.as_curl_command().replace("\n", " ")[:600]


# -- the passes ------------------------------------------------------------------------------
async def load_schema(live: LiveServer) -> Any:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        raw = (await client.get("/openapi.json")).json()
    return schemathesis.openapi.from_dict(raw)


def operations(schema: Any, selected: Callable[[Any], bool]) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted((op for op in found if selected(op)), key=lambda op: op.label)


async def fuzz_pass(
    live: LiveServer,
    role: str,
    selected: Callable[[Any], bool],
    max_examples: int,
    victim_ids: Callable[[Any], dict[str, Any]] | None = None,
) -> tuple[list[Finding], dict[str, Counter[int]]]:
    """Findings, and the statuses each operation answered."""
    schema = await load_schema(live)
    chosen = operations(schema, selected)
    findings: list[Finding] = []
    answered: dict[str, Counter[int]] = {}
    for number, operation in enumerate(chosen):
        # A fresh user per operation: one operation (signing out everywhere, changing the
        # password, disabling a user) never takes another's caller away.
        user, token = await signed_in(live, f"{role}{number}", role)
        resources = await owned_resources(live, token, f"fuzz{number}")
        if victim_ids is not None:
            resources.update(victim_ids(user))
        caller = Caller({"Authorization": f"Bearer {token}"}, resources)
        found, answered[operation.label] = await asyncio.to_thread(
            fuzz_operation, operation, live.base_url, caller, max_examples
        )
        findings += found
    return findings, answered


def report(findings: list[Finding]) -> str:
    return f"{len(findings)} finding(s):\n\n" + "\n\n".join(str(f) for f in findings)


def is_admin(operation: Any) -> bool:
    return str(operation.path).startswith(f"{V1}/admin/")


def unreached(answered: dict[str, Counter[int]]) -> list[str]:
    """Operations that never got past authentication: the fuzzing tested nothing there."""
    return [label for label, statuses in answered.items() if set(statuses) <= {401, 403}]


async def test_fuzz_every_operation_as_a_trader(live_server: LiveServer) -> None:
    started = time.monotonic()
    findings, answered = await fuzz_pass(
        live_server, "trader", lambda operation: True, EXAMPLES_PER_OPERATION
    )
    assert len(answered) >= 50, f"only {len(answered)} operations in the schema"
    # Operations found by reading the schema; these were added later and must be in it.
    assert f"GET {V1}/account/fees" in answered, sorted(answered)
    assert not findings, report(findings)
    # Admin operations answer a trader 403 (test_fuzz_admin_operations_as_an_admin).
    trading = {label: statuses for label, statuses in answered.items() if "/admin/" not in label}
    assert not unreached(trading), answered
    assert time.monotonic() - started < RUNTIME_BUDGET


async def test_fuzz_admin_operations_as_an_admin(live_server: LiveServer) -> None:
    started = time.monotonic()
    victim, _ = await signed_in(live_server, "victim")

    def victim_ids(admin: Any) -> dict[str, Any]:
        return {"user_id": victim.user_id, "account_id": victim.account_id}

    findings, answered = await fuzz_pass(
        live_server, "admin", is_admin, ADMIN_EXAMPLES_PER_OPERATION, victim_ids
    )
    assert len(answered) >= 6, f"only {len(answered)} admin operations in the schema"
    assert not findings, report(findings)
    assert not unreached(answered), answered
    assert time.monotonic() - started < RUNTIME_BUDGET
