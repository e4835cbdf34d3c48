"""The FastAPI app factory: domain routers, role-checked routes, problem+json errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.auth import public_route
from core.errors import ClearframeError
from core.limits import BodySizeLimit
from core.modules import load_modules
from core.openapi import READINESS_RESPONSES, HealthPublic, ReadinessPublic, install_openapi
from core.services import Services
from core.transient import RetryReads, is_transient, unavailable_headers, unavailable_problem

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://clearframe.dev/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_session(request: Request) -> Iterator[Session]:
    """A session for queries. Commands change state by appending events through
    ``services.store``; on SQLite this session never takes the write lock."""
    with get_services(request).read_sessions() as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session)]


def create_app(services: Services | None = None) -> FastAPI:
    services = services or Services.from_settings()
    app = FastAPI(
        title="Clearframe",
        version="0.1.0",
        description="Trust-and-safety and provenance backend for AI text-to-video services.",
    )
    app.state.services = services

    @app.exception_handler(ClearframeError)
    async def _domain_error(_request: Request, exc: ClearframeError) -> JSONResponse:
        body = exc.to_problem()
        return JSONResponse(body, status_code=exc.status, media_type=PROBLEM)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return problem(
            422,
            "validation_failed",
            "Invalid input",
            "the request did not match the expected shape",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail))

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
        # A dropped connection or a serialization failure is the database's moment, not a
        # fault of the request: 503 with Retry-After (core/transient.py); anything else is
        # the 500 below.
        if not is_transient(exc):
            raise exc
        log.warning("transient database failure answered 503: %s", type(exc).__name__)
        return JSONResponse(
            unavailable_problem(exc),
            status_code=503,
            media_type=PROBLEM,
            headers=unavailable_headers(),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(
            500, "internal_error", "Internal error", "an unexpected error occurred; it was logged"
        )

    @app.get(
        "/healthz",
        tags=["ops"],
        dependencies=[Depends(public_route())],
        response_model=HealthPublic,
    )
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    broker_probe: Any = None
    if services.settings.uses_kafka:
        from core.kafka import BrokerProbe

        # cached for a few seconds and bounded to about 1 s: a broker that is down must not
        # hold readiness probes for the Kafka clients' own timeouts
        broker_probe = BrokerProbe(services.settings, ttl_s=3.0, wait_s=0.8, probe_timeout_s=3.0)

    @app.get(
        "/readyz",
        tags=["ops"],
        dependencies=[Depends(public_route())],
        response_model=ReadinessPublic,
        responses=READINESS_RESPONSES,
    )
    def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        body: dict[str, Any] = {}
        try:
            with services.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        if broker_probe is not None:
            checks["broker"] = broker_probe.check()
            if checks["database"] == "ok":
                # how far the outbox relay is behind (whichever process runs it); not a
                # readiness condition: the API serves while the relay catches up
                from core.outbox import relay_lag

                try:
                    body["relay"] = relay_lag(services.read_sessions).as_dict()
                except Exception as exc:
                    body["relay"] = {"error": type(exc).__name__}
        else:
            checks["broker"] = "embedded (sql tail)"
        models = services.warm_up.check()
        if models is not None:
            checks["models"] = models
            body["models"] = services.warm_up.modules()
        ready = all(v == "ok" or v.startswith("embedded") for v in checks.values())
        return JSONResponse(
            {"ready": ready, "checks": checks, **body}, status_code=200 if ready else 503
        )

    from core.admin import router as admin_router

    app.include_router(admin_router)  # the core's own admin routes (erasure)
    if services.wiring is None:
        services.wire()  # a required port that no module provides stops the app here
    for module in load_modules():
        for router in module.routers:
            app.include_router(router)
        for hook in module.startup:
            hook(services)
    install_openapi(app)  # problem+json errors declared, bearer security, 405 with Allow

    app.add_middleware(RetryReads)  # GET/HEAD met by a transient database failure run again
    app.add_middleware(
        BodySizeLimit,
        max_body=services.settings.max_body_bytes,
        max_upload=services.settings.max_upload_bytes,
    )
    return app
