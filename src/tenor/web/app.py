"""The console as an application of its own, mounted by the API at ``/web``.

A sub-application rather than more routes on the API, so that its errors are pages, not
problem documents: no session sends the browser to sign in, an id out of the viewer's scope
is the same "not found" page as one that does not exist, a form without its CSRF token is
refused with 403. Its static files (the console's CSS and script, and htmx and ECharts
vendored from the npm registry with their licences) are served from the package: no page
loads anything from another site.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import Scope

from tenor.core.errors import DomainError
from tenor.store.database import Database
from tenor.store.models import utc_now
from tenor.web.delivery import CodeDelivery, OutboxDelivery
from tenor.web.pages import NotSignedInError, PageForbiddenError, redirect, render
from tenor.web.routes import approvals, collect, common, relief, selfservice, staff
from tenor.web.security import CsrfError


class _StaticFiles(StaticFiles):
    """Package files, cacheable for an hour (the API's default is no-store)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def _error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "detail": detail}, status=status)


async def _sign_in(request: Request, error: Exception) -> RedirectResponse:
    assert isinstance(error, NotSignedInError)
    return redirect(request, "/me/sign-in" if error.borrower else "/sign-in")


async def _forbidden(request: Request, _error: Exception) -> HTMLResponse:
    return _error_page(request, 403, "Forbidden", "Your role may not see this page.")


async def _csrf(request: Request, _error: Exception) -> HTMLResponse:
    return _error_page(
        request, 403, "Forbidden", "The form has expired; reload the page and try again."
    )


async def _domain(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, DomainError)
    if error.code == "not_found":
        return _error_page(
            request, 404, "Not found", "This page does not exist, or it is not yours to see."
        )
    return _error_page(request, 400, "Bad request", error.message)


async def _invalid(request: Request, _error: Exception) -> HTMLResponse:
    if request.method == "GET":
        # A malformed id or query in a URL is a page that does not exist.
        return _error_page(
            request, 404, "Not found", "This page does not exist, or it is not yours to see."
        )
    return _error_page(request, 400, "Bad request", "The form holds a value Tenor cannot take.")


async def _http(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return _error_page(
            request, 404, "Not found", "This page does not exist, or it is not yours to see."
        )
    return _error_page(request, error.status_code, "Bad request", str(error.detail))


def create_web_app(
    db: Database,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    delivery: CodeDelivery | None = None,
) -> FastAPI:
    """The console over ``db``; ``clock`` and ``delivery`` are the seams tests replace."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.db = db
    app.state.clock = clock
    app.state.delivery = delivery if delivery is not None else OutboxDelivery()
    app.mount("/static", _StaticFiles(packages=[("tenor.web", "static")]), name="static")
    for module in (common, staff, collect, approvals, selfservice, relief):
        app.include_router(module.router)
    app.add_exception_handler(NotSignedInError, _sign_in)
    app.add_exception_handler(PageForbiddenError, _forbidden)
    app.add_exception_handler(CsrfError, _csrf)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    return app
