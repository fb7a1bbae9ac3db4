"""What happens around every request: its id, one log line, metrics and security headers.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``, which would copy every
body through a stream. It is the outermost layer Tenor adds, so it also turns an unexpected
exception into a 500 problem document: logged (redacted) here and never re-raised, so that no
server logs a traceback of its own with loan data in its messages.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Final

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as prometheus_text
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenor.api.logs import get_logger
from tenor.api.problems import PROBLEM_JSON

REQUEST_ID_HEADER: Final = "X-Request-ID"
# A caller's request id is kept when it is short and plain; anything else is replaced, so that
# a log line cannot be forged or bloated through the header.
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Responses carry personal and loan data: no shared or browser cache may keep them.
    "Cache-Control": "no-store",
}
# The API returns JSON only; the interactive docs page loads Swagger UI's scripts.
_CSP: Final = "default-src 'none'; frame-ancestors 'none'"
_DOCS_PATHS: Final = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


@dataclass(slots=True)
class RequestInfo:
    """Per-request facts that the handlers fill in and the log line reports."""

    request_id: str
    actor: str | None = None
    problem: str | None = None


class Metrics:
    """Request count and latency by route and status, in a registry of the app's own."""

    def __init__(self) -> None:
        # A registry per app, not the global one: two apps in one process (tests) must not
        # register the same metric twice.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tenor_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tenor_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    async def endpoint(self, _request: Request) -> Response:
        """``GET /metrics`` in Prometheus's text format."""
        return Response(prometheus_text(self.registry), media_type=CONTENT_TYPE_LATEST)


#: Routes FastAPI serves itself, which it does not name in the scope as it names API routes.
_FIXED_ROUTES: Final = frozenset({"/metrics", "/openapi.json", *_DOCS_PATHS})


def _route_of(scope: Scope) -> str:
    # The route's template (/v1/loans/{loan_id}), never the raw path: one time series per
    # endpoint, whatever ids callers send.
    route = getattr(scope.get("route"), "path", None)
    if isinstance(route, str):
        return route
    return scope["path"] if scope["path"] in _FIXED_ROUTES else "unmatched"


def _internal_error(request_id: str, path: str) -> bytes:
    return json.dumps(
        {
            "type": "urn:tenor:problem:internal_error",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "Tenor could not answer this request; it has been logged",
            "code": "internal_error",
            "instance": path,
            "request_id": request_id,
        }
    ).encode()


class RequestMiddleware:
    """Request id, per-request log line, metrics, security headers, last-resort 500."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _GOOD_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        info = RequestInfo(request_id)
        scope["tenor"] = info
        path: str = scope["path"]
        status = 500
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in _SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if path not in _DOCS_PATHS:
                    headers.setdefault("Content-Security-Policy", _CSP)
            await send(message)

        began = time.perf_counter()
        log = get_logger()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                status = 500
                info.problem = "internal_error"
                log.exception("unhandled error", method=scope["method"], path=path)
                if not started:
                    body = _internal_error(request_id, path)
                    await send_with_headers(
                        {
                            "type": "http.response.start",
                            "status": 500,
                            "headers": [
                                (b"content-type", PROBLEM_JSON.encode()),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
            finally:
                seconds = time.perf_counter() - began
                route = _route_of(scope)
                self.metrics.observe(scope["method"], route, status, seconds)
                log.info(
                    "request",
                    method=scope["method"],
                    path=path,
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                    actor=info.actor,
                    problem=info.problem,
                )
