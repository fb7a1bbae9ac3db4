"""Cookies, CSRF tokens and security headers of the console.

- The session cookie holds a random token (the database keeps its digest): HttpOnly,
  SameSite=Lax, Path=/web, and Secure whenever the request came over https.
- CSRF: every form carries a token that must equal the one the server expects for this
  browser. Signed in, that is the session's synchronizer token (stored with the session);
  before signing in (the sign-in forms, the language switch) it is a random double-submit
  token in its own HttpOnly cookie. A POST without the right token is refused with 403 and
  changes nothing.
- Headers: a Content-Security-Policy that allows scripts, styles and images from the console
  itself only (no inline script or style anywhere), frames from nowhere, forms only to
  itself; the API's middleware adds X-Frame-Options, X-Content-Type-Options, Referrer-Policy
  and Cache-Control: no-store to every answer.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final, TypeVar

from starlette.requests import Request
from starlette.responses import Response

PREFIX: Final = "/web"
SESSION_COOKIE: Final = "tenor_session"
CSRF_COOKIE: Final = "tenor_csrf"
LOCALE_COOKIE: Final = "tenor_locale"
CSRF_FIELD: Final = "csrf_token"

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


_Response = TypeVar("_Response", bound=Response)


class CsrfError(Exception):
    """A form arrived without the token this browser's forms carry."""


def is_secure(request: Request) -> bool:
    """Whether the browser reached us over https (directly or through a trusted proxy)."""
    return request.url.scheme == "https"


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None = None
) -> None:
    """Set a console cookie: HttpOnly, SameSite=Lax, for /web only, Secure over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    """Remove a console cookie from the browser."""
    response.delete_cookie(
        name, path=PREFIX, httponly=True, samesite="lax", secure=is_secure(request)
    )


def anonymous_csrf(request: Request) -> str:
    """This browser's double-submit token: the cookie's, or a new one to set with the page."""
    current = request.cookies.get(CSRF_COOKIE)
    if current and len(current) == 43:
        return current
    fresh: str | None = getattr(request.state, "new_csrf", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.new_csrf = fresh
    return fresh


def check_csrf(expected: str | None, given: str | None) -> None:
    """Raise CsrfError unless ``given`` is the expected token (compared in constant time)."""
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfError


def finish(request: Request, response: _Response) -> _Response:
    """Add the console's CSP, and the double-submit cookie if this page made the token."""
    response.headers["Content-Security-Policy"] = CSP
    fresh = getattr(request.state, "new_csrf", None)
    if fresh is not None:
        set_cookie(request, response, CSRF_COOKIE, fresh)
    return response
