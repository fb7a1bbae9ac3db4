"""The application factory: ``create_app(db)`` is the whole REST API.

Routes live under ``/v1``; the OpenAPI document is at ``/openapi.json``, its interactive page
at ``/docs`` and Prometheus metrics at ``/metrics`` (unauthenticated, like most scrape
targets: it holds request counts and latencies by route, no data). Every ``/v1`` call needs
``Authorization: Bearer <key>`` (see :mod:`tenor.api.roles` for what each role may do).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tenor.api.auth import Authenticator
from tenor.api.logs import configure_logging
from tenor.api.middleware import Metrics, RequestMiddleware
from tenor.api.openapi import install_openapi
from tenor.api.problems import install_problem_handlers
from tenor.api.routes import (
    audit,
    borrowers,
    collections,
    loans,
    notify,
    products,
    relief,
    risk,
)
from tenor.store.database import Database
from tenor.web.app import create_web_app

_DESCRIPTION = """\
Tenor follows every loan from disbursement to its last repayment. Amounts are decimal strings
in major units (`"120.50"`), dates `YYYY-MM-DD`. Errors are RFC 9457 problem documents
(`application/problem+json`) with a stable `code`. Writes to a loan's journal take an
`Idempotency-Key` header (required for repayments): the first request answers 201, the same
request again 200 with the same event id; the same key with another request answers 409.
"""


def _version() -> str:
    try:
        return version("tenor")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(db: Database | None = None) -> FastAPI:
    """The REST API over ``db`` (by default the database ``TENOR_DATABASE_URL`` names).

    The app keeps one engine and its connection pool for its lifetime; a database it opened
    itself it closes at shutdown.
    """
    database = db if db is not None else Database()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if db is None:
            database.dispose()

    if not structlog.is_configured():
        configure_logging()
    app = FastAPI(
        title="Tenor",
        version=_version(),
        description=_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        # Operation ids are the handlers' names (post_repayment), for generated clients.
        generate_unique_id_function=_operation_id,
    )
    app.state.db = database
    app.state.authenticator = Authenticator(database)
    metrics = Metrics()
    app.state.metrics = metrics
    app.add_middleware(RequestMiddleware, metrics=metrics)
    install_problem_handlers(app)
    for module in (borrowers, products, loans, relief, collections, audit, notify, risk):
        app.include_router(module.router)
    app.add_route("/metrics", metrics.endpoint, methods=["GET"], include_in_schema=False)
    app.mount("/web", create_web_app(database))
    install_openapi(app)
    return app
