"""Signing staff in and out, the language switch, and ``/web/`` itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tenor.web.accounts import (
    SignInError,
    check_password,
    end_session,
    open_key_session,
    open_staff_session,
)
from tenor.web.i18n import LOCALES
from tenor.web.pages import (
    check_form,
    current_viewer,
    database,
    now,
    redirect,
    render,
)
from tenor.web.security import LOCALE_COOKIE, PREFIX, SESSION_COOKIE, clear_cookie, set_cookie

router = APIRouter()

Field = Annotated[str | None, Form(max_length=500)]

_YEAR = 365 * 24 * 3600


@router.get("/", name="home")
def home(request: Request) -> RedirectResponse:
    """Staff to their first page, borrowers to their loans, anyone else to sign in."""
    viewer = current_viewer(request)
    if viewer is None:
        return redirect(request, "/sign-in")
    pages = viewer.nav()
    return redirect(request, pages[0].path if pages else "/loans")


@router.get("/sign-in", name="sign_in_page")
def sign_in_page(request: Request) -> HTMLResponse:
    """The staff sign-in page: username and password, or an API key."""
    return render(request, "sign_in.html", {"error": None, "notice": request.query_params.get("n")})


@router.post("/sign-in", name="sign_in")
def sign_in(
    request: Request,
    csrf_token: Field = None,
    username: Field = None,
    password: Field = None,
    api_key: Field = None,
) -> Response:
    """Check the password or the key; open a session and set its cookie."""
    check_form(request, csrf_token)
    moment = now(request)
    failure: SignInError | None = None
    with database(request).transaction() as session:
        # A refusal still commits: the count of wrong passwords must be kept.
        try:
            if api_key:
                opened = open_key_session(session, api_key, moment)
            else:
                user = check_password(session, username or "", password or "", moment)
                opened = open_staff_session(session, user, moment)
        except SignInError as error:
            failure = error
    if failure is not None:
        return render(
            request, "sign_in.html", {"error": failure.message, "notice": None}, status=401
        )
    response = redirect(request, "/")
    set_cookie(request, response, SESSION_COOKIE, opened.token)
    return response


@router.post("/sign-out", name="sign_out")
def sign_out(request: Request, csrf_token: Field = None) -> RedirectResponse:
    """End the session and forget its cookie."""
    check_form(request, csrf_token)
    viewer = current_viewer(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with database(request).transaction() as session:
            end_session(session, token, now(request))
    target = "/me/sign-in?n=out" if viewer is not None and viewer.is_borrower else "/sign-in?n=out"
    response = redirect(request, target)
    clear_cookie(request, response, SESSION_COOKIE)
    return response


@router.post("/locale", name="switch_locale")
def switch_locale(
    request: Request, csrf_token: Field = None, locale: Field = None, back: Field = None
) -> RedirectResponse:
    """Remember the chosen language and go back to the page it was chosen on."""
    check_form(request, csrf_token)
    chosen = locale if locale in LOCALES else LOCALES[0]
    # Only a path of the console itself: never an open redirect to another site.
    target = back if back and back.startswith(PREFIX + "/") and "//" not in back else PREFIX + "/"
    response = redirect(request, target.removeprefix(PREFIX))
    set_cookie(request, response, LOCALE_COOKIE, chosen, max_age=_YEAR)
    return response
