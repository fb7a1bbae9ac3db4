"""What every console page shares: who is looking, in which language, and how a page is drawn.

A page handler asks for a :class:`Viewer` with :func:`staff_viewer` or :func:`borrower_viewer`
(FastAPI dependencies) and answers :func:`render`. The navigation is data: :data:`STAFF_PAGES`
lists the staff pages in order with the permission each needs, so that a capability adds its
page (the collector workbench, approvals, ...) with one entry and one template.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib.resources import files
from typing import Any, Final

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tenor.api.roles import Permission, Principal, Role
from tenor.store.database import Database
from tenor.store.journal import business_date
from tenor.web.accounts import find_session, session_actor, session_collector
from tenor.web.i18n import LOCALES, Formats, negotiate, translate
from tenor.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    LOCALE_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    anonymous_csrf,
    check_csrf,
    finish,
)
from tenor.web.views import chart_spec


class Collections(StrEnum):
    """What the console's collections pages need: the API's ``collections:*`` and
    ``legal:read`` permissions, for the roles that hold them (:data:`COLLECTIONS_ROLES`).

    ``read`` is cases and queues, ``work`` recording what a contact gave, ``report`` the
    collections performance and champion/challenger reports, ``legal`` legal cases. Agencies
    read and work only their placed cases through the API; the console shows them none yet.
    """

    READ = "collections:read"
    WORK = "collections:work"
    REPORT = "collections:report"
    LEGAL = "legal:read"


#: The roles that hold each of :class:`Collections`, as the API's role table grants them.
COLLECTIONS_ROLES: Final[dict[Collections, frozenset[Role]]] = {
    Collections.READ: frozenset({Role.ADMIN, Role.RISK, Role.COLLECTOR, Role.AUDITOR}),
    Collections.WORK: frozenset({Role.ADMIN, Role.COLLECTOR}),
    Collections.REPORT: frozenset({Role.ADMIN, Role.RISK, Role.AUDITOR}),
    Collections.LEGAL: frozenset({Role.ADMIN, Role.RISK, Role.COLLECTOR, Role.AUDITOR}),
}


@dataclass(frozen=True, slots=True)
class NavPage:
    """One entry of the staff navigation: its path under /web, its label and its permission."""

    path: str
    label: str
    permission: Permission | Collections
    whole_book: bool = False


#: The staff console's pages, in the navigation's order. ``whole_book`` pages summarise every
#: loan, so roles with a narrower scope (agencies) do not see them.
STAFF_PAGES: Final = (
    NavPage("/portfolio", "Portfolio", Permission.READ_LOANS, whole_book=True),
    NavPage("/loans", "Loans", Permission.READ_LOANS),
    NavPage("/borrowers", "Borrowers", Permission.READ_BORROWERS),
    NavPage("/collect", "Collections", Collections.READ, whole_book=True),
    NavPage("/approvals", "Approvals", Permission.READ_LOANS, whole_book=True),
)


#: The borrower's pages under /web/me, in the navigation's order (a loan's relief is reached
#: from the loan's page).
BORROWER_PAGES: Final = (
    NavPage("/me", "My loans", Permission.READ_LOANS),
    NavPage("/me/contact", "Contact preferences", Permission.UPDATE_CONTACTS),
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person: their role and scope, their session's CSRF token, ``actor``,
    how the journal and relief name them (:func:`tenor.web.accounts.session_actor`), and for a
    collector's user, their collector."""

    session_id: int
    role: Role
    name: str
    csrf_token: str
    actor: str
    borrower_id: int | None = None
    agency_id: int | None = None
    collector_id: int | None = None

    @property
    def is_borrower(self) -> bool:
        """Whether this is a borrower in self-service (not a member of staff)."""
        return self.role is Role.BORROWER

    def principal(self) -> Principal:
        """The viewer as the API's role rules see a caller (scope, masking)."""
        return Principal(
            key_id=self.session_id,
            prefix=f"web-{self.session_id}",
            role=self.role,
            borrower_id=self.borrower_id,
            agency_id=self.agency_id,
        )

    def may(self, permission: Permission | Collections) -> bool:
        """Whether the viewer's role holds ``permission``."""
        if isinstance(permission, Collections):
            return self.role in COLLECTIONS_ROLES[permission]
        return self.principal().may(permission)

    def nav(self) -> list[NavPage]:
        """The pages this viewer may open: the borrower's own, or the staff pages of the role."""
        principal = self.principal()
        if self.is_borrower:
            return [page for page in BORROWER_PAGES if self.may(page.permission)]
        return [
            page
            for page in STAFF_PAGES
            if self.may(page.permission) and (principal.sees_everything or not page.whole_book)
        ]


def current_page(pages: list[NavPage], path: str) -> str | None:
    """The page of the navigation that ``path`` is on: the longest whose path it starts with."""
    inside = [
        page.path
        for page in pages
        if path == PREFIX + page.path or path.startswith(PREFIX + page.path + "/")
    ]
    return max(inside, key=len, default=None)


class NotSignedInError(Exception):
    """No live session: send the browser to the right sign-in page."""

    def __init__(self, *, borrower: bool) -> None:
        super().__init__("sign in first")
        self.borrower = borrower


class PageForbiddenError(Exception):
    """The viewer's role may not open this page."""


def database(request: Request) -> Database:
    """The console's database."""
    db: Database = request.app.state.db
    return db


def now(request: Request) -> dt.datetime:
    """The current instant, from the app's clock (tests move it)."""
    clock: Callable[[], dt.datetime] = request.app.state.clock
    return clock()


_UNKNOWN: Final = object()


def current_viewer(request: Request) -> Viewer | None:
    """The viewer of the request's session cookie, or None."""
    # Asked for by the page's dependency, its CSRF check and its template: read once.
    known = getattr(request.state, "viewer", _UNKNOWN)
    if known is None or isinstance(known, Viewer):
        return known
    viewer = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with database(request).reading() as session:
            row = find_session(session, token, now(request))
            if row is not None:
                viewer = Viewer(
                    session_id=row.id,
                    role=Role(row.role),
                    name=row.name,
                    csrf_token=row.csrf_token,
                    actor=session_actor(session, row),
                    borrower_id=row.borrower_id,
                    agency_id=row.agency_id,
                    collector_id=session_collector(session, row),
                )
    request.state.viewer = viewer
    info = request.scope.get("tenor")
    if info is not None and viewer is not None:
        info.actor = f"web:{viewer.role.value}:{viewer.session_id}"
    return viewer


def staff_viewer(request: Request) -> Viewer:
    """The signed-in member of staff; a borrower or nobody is sent to sign in."""
    viewer = current_viewer(request)
    if viewer is None:
        raise NotSignedInError(borrower=False)
    if viewer.is_borrower:
        raise PageForbiddenError
    return viewer


def borrower_viewer(request: Request) -> Viewer:
    """The signed-in borrower; anyone else is sent to the borrower's sign-in."""
    viewer = current_viewer(request)
    if viewer is None or not viewer.is_borrower:
        raise NotSignedInError(borrower=True)
    return viewer


def require(viewer: Viewer, permission: Permission | Collections) -> None:
    """Raise PageForbiddenError unless the viewer's role holds ``permission``."""
    if not viewer.may(permission):
        raise PageForbiddenError


def locale_of(request: Request) -> str:
    """The chosen language (cookie), else the browser's preference; zh-CN by default."""
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    return negotiate(request.headers.get("accept-language"))


def _environment() -> jinja2.Environment:
    templates = files("tenor.web").joinpath("templates")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )


TEMPLATES: Final = _environment()
TEMPLATES.globals["chart_spec"] = chart_spec
TEMPLATES.globals["current_page"] = current_page


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """A page: ``template`` with the viewer, the language, formats and the CSRF token."""
    locale = locale_of(request)
    viewer = current_viewer(request)

    def gettext(message: str, **values: Any) -> str:
        return translate(locale, message, **values)

    day = None
    if viewer is not None and not viewer.is_borrower:
        with database(request).reading() as session:
            day = business_date(session)
    html = TEMPLATES.get_template(template).render(
        {
            "request": request,
            "root": PREFIX,
            "path": request.url.path,
            "viewer": viewer,
            "locale": locale,
            "locales": LOCALES,
            "fmt": Formats(locale),
            "_": gettext,
            "gettext": gettext,
            "csrf_field": CSRF_FIELD,
            "csrf_token": viewer.csrf_token if viewer else anonymous_csrf(request),
            "business_date": day,
            **(context or {}),
        }
    )
    return finish(request, HTMLResponse(html, status_code=status))


def redirect(request: Request, path: str) -> RedirectResponse:
    """A 303 to ``path`` under /web (after a form, so that reloading does not repost)."""
    return finish(request, RedirectResponse(PREFIX + path, status_code=303))


def check_form(request: Request, given: str | None) -> None:
    """Raise CsrfError unless a form carries this browser's token (see tenor.web.security)."""
    viewer = current_viewer(request)
    check_csrf(viewer.csrf_token if viewer else request.cookies.get(CSRF_COOKIE), given)
