"""Liveness, readiness and Prometheus metrics (outside ``/api/v1``, for orchestrators)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from exchange_server.api.deps import Context
from exchange_server.api.errors import ApiError, json_response
from exchange_server.api.metrics import CONTENT_TYPE
from exchange_server.protocol import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz(context: Context) -> Health:
    """The process is alive and its event loop responds."""
    return Health(status="ok", seq=context.committed_seq)


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(context: Context) -> Response:
    """Ready to take orders: started, not draining, the sequencer healthy."""
    service = context.service
    problem = ""
    if not context.ready or context.draining:
        problem = "starting" if not context.draining else "shutting down"
    elif service.sequencer.failure is not None:
        problem = f"sequencer failed: {service.sequencer.failure!r}"
    elif service.projections is not None and not service.projections.alive:
        problem = "read-model projections stopped"
    health = Health(
        status="failing" if problem else "ok", seq=context.committed_seq, detail=problem
    )
    return json_response(health.model_dump(), 503 if problem else 200)


@router.get("/metrics", include_in_schema=False)
async def metrics(context: Context, request: Request) -> Response:
    token = context.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise ApiError(401, "unauthorized", "metrics need the scraper's bearer token")
    return Response(context.metrics.render(), media_type=CONTENT_TYPE)
