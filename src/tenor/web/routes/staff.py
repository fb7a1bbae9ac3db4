"""The staff console: the portfolio dashboard (the open book, the close's roll rates and vintage
curves, collections performance, the early-warning watchlist), loans (with their contacts,
relief, collection and legal cases, bureau records and audit receipts) and borrowers, as each
role may see them.

Every page reads through the same documents as the API (:mod:`tenor.store.reads`) and the
same rules of scope and masking (:mod:`tenor.api.roles`): a collector sees phone numbers and
not national IDs, an auditor neither, an agency only what is placed with it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from tenor.api.queries import (
    check_borrower_in_scope,
    check_loan_in_scope,
    list_borrowers,
    scoped_borrowers,
    scoped_loans,
)
from tenor.api.roles import Permission, borrower_view
from tenor.audit.receipts import build_receipt
from tenor.core.errors import InvalidArgumentError
from tenor.store.journal import NotFoundError, business_date
from tenor.store.models import Borrower
from tenor.store.reads import (
    LoanFilter,
    get_loan,
    journal_document,
    list_loans,
    schedule_document,
)
from tenor.web import loanpage, performance
from tenor.web.dashboard import RollMatrix, Vintages, open_watchlist, roll_matrices, vintages
from tenor.web.pages import (
    Collections,
    PageForbiddenError,
    Viewer,
    database,
    render,
    require,
    staff_viewer,
)
from tenor.web.views import BUCKET_ORDER, Chart, borrower_names, portfolio, reversed_events
from tenor.web.workbench import loan_collections

router = APIRouter()

Staff = Annotated[Viewer, Depends(staff_viewer)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
EventId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]
PAGE_SIZE: Final = 50
CHARTS: Final = ("buckets", "classes", "products", "rolls", "vintages")
STATUSES: Final = ("active", "overpaid", "closed", "written-off", "pending", "approved")


def _whole_book(viewer: Viewer) -> None:
    require(viewer, Permission.READ_LOANS)
    if not viewer.principal().sees_everything:
        raise PageForbiddenError


@router.get("/portfolio", name="portfolio")
def portfolio_page(request: Request, viewer: Staff) -> HTMLResponse:
    """Open loans by bucket, class and product, the month-over-month roll rates and vintage
    curves of the close, collections performance and the early-warning watchlist: charts with
    their tables and CSV."""
    _whole_book(viewer)
    with database(request).reading() as session:
        sections = {section.currency: section for section in portfolio(session)}
        rolls, rolls_note = roll_matrices(session)
        curves = vintages(session)
        watch = open_watchlist(session) if viewer.may(Permission.READ_RISK) else None
    currencies = sorted(set(sections) | set(rolls) | set(curves))
    return render(
        request,
        "portfolio.html",
        {
            "currencies": currencies,
            "sections": sections,
            "rolls": rolls,
            "rolls_note": rolls_note,
            "vintages": curves,
            "collections_shown": viewer.may(Collections.REPORT),
            "watchlist": watch,
            "charts": True,
        },
    )


@router.get("/portfolio/collections", name="portfolio_collections")
def collections_page(request: Request, viewer: Staff) -> HTMLResponse:
    """Collections performance: rates by stage reached, promises, champion against challenger
    and agencies. The portfolio asks for it with htmx once it is shown (it reads every case and
    its payments); a browser without JavaScript opens it as a page."""
    _whole_book(viewer)
    require(viewer, Collections.REPORT)
    with database(request).reading() as session:
        found = performance.performance(session, business_date(session))
    template = (
        "collections_section.html" if request.headers.get("HX-Request") else "collections.html"
    )
    return render(request, template, {"collections": found, "charts": True})


def _csv(text: str, filename: str) -> Response:
    """A CSV download (UTF-8 with a byte-order mark, so spreadsheets read 中文)."""
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/portfolio/watchlist.csv", name="watchlist_csv")
def watchlist_csv(request: Request, viewer: Staff) -> Response:
    """The open watchlist as CSV, each task in Chinese and English."""
    _whole_book(viewer)
    require(viewer, Permission.READ_RISK)
    with database(request).reading() as session:
        return _csv(open_watchlist(session).csv(), "tenor-watchlist.csv")


@router.get("/portfolio/{currency}/{chart}.csv", name="portfolio_csv")
def portfolio_csv(
    request: Request,
    viewer: Staff,
    currency: Annotated[str, Path(pattern=r"^[A-Z]{3}$")],
    chart: Annotated[str, Path(pattern=r"^[a-z]+$")],
) -> Response:
    """One chart's data as CSV: the same rows as the table under the chart."""
    _whole_book(viewer)
    if chart not in CHARTS and chart not in performance.CHARTS:
        raise NotFoundError(f"no chart {chart!r}")
    data: Chart | RollMatrix | Vintages | performance.CollectionsChart | None
    with database(request).reading() as session:
        if chart in performance.CHARTS:
            require(viewer, Collections.REPORT)
            found = performance.performance(session, business_date(session))
            data = found.chart(chart) if found and found.currency == currency else None
        elif chart == "rolls":
            data = roll_matrices(session)[0].get(currency)
        elif chart == "vintages":
            data = vintages(session).get(currency)
        else:
            section = {s.currency: s for s in portfolio(session)}.get(currency)
            data = None
            if section is not None:
                data = {"buckets": section.by_bucket, "classes": section.by_class}.get(
                    chart, section.by_product
                )
    if data is None:
        raise NotFoundError(f"no {chart} in {currency}")
    return _csv(data.csv(), f"tenor-{chart}-{currency}.csv")


@router.get("/loans", name="loans")
def loans_page(
    request: Request,
    viewer: Staff,
    status: Annotated[str | None, Query(max_length=16)] = None,
    bucket: Annotated[str | None, Query(max_length=16)] = None,
    min_dpd: Annotated[str | None, Query(max_length=6)] = None,
    page: Annotated[int, Query(ge=1, le=10**7)] = 1,
) -> HTMLResponse:
    """Loans in the viewer's scope, filtered; htmx asks for the table alone."""
    require(viewer, Permission.READ_LOANS)
    # An empty field of the filter form means "any"; anything else must be a known value.
    if min_dpd and not min_dpd.isdigit():
        raise InvalidArgumentError("days past due is a whole number of days")
    if status and status not in STATUSES:
        raise InvalidArgumentError(f"unknown status {status!r}")
    if bucket and bucket not in BUCKET_ORDER:
        raise InvalidArgumentError(f"unknown bucket {bucket!r}")
    filters = LoanFilter(
        status=status or None,
        bucket=bucket or None,
        min_dpd=int(min_dpd) if min_dpd else None,
        within=scoped_loans(viewer.principal()),
    )
    with database(request).reading() as session:
        items, total = list_loans(session, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        names = borrower_names(session, {item["borrower_id"] for item in items})
    context = {
        "items": items,
        "total": total,
        "names": names,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": filters,
        "statuses": STATUSES,
        "buckets": BUCKET_ORDER,
    }
    template = "loans_table.html" if request.headers.get("HX-Request") else "loans.html"
    return render(request, template, context)


@router.get("/loans/{loan_id}", name="loan")
def loan_page(request: Request, viewer: Staff, loan_id: Id) -> HTMLResponse:
    """A loan: terms, balances, schedule, the journal as a timeline, whom to contact, the
    contacts made, its relief and restructurings, its collection and legal cases, bureau
    records and audit receipts."""
    require(viewer, Permission.READ_LOANS)
    with database(request).reading() as session:
        check_loan_in_scope(session, viewer.principal(), loan_id)
        loan = get_loan(session, loan_id)
        schedule = schedule_document(session, loan_id)
        events = journal_document(session, loan_id)["events"]
        reversed_ids = reversed_events(session, loan_id)
        borrower = session.get(Borrower, loan["borrower_id"])
        assert borrower is not None  # a loan's borrower row always exists (foreign key)
        person = borrower_view(borrower, viewer.principal())
        day = business_date(session)
        sent = (
            loanpage.contacts(session, loan_id)
            if viewer.may(Permission.READ_NOTIFICATIONS)
            else None
        )
        context = {
            "loan": loan,
            "schedule": schedule,
            "events": list(reversed(events)),
            "reversed_ids": reversed_ids,
            "borrower": person,
            "contacts": sent,
            "relief": loanpage.relief(session, loan_id, events),
            "bureau": loanpage.bureau(session, loan_id, day, events),
            "audit": loanpage.audit(session, loan_id),
            "collections": loan_collections(session, loan_id, legal=viewer.may(Collections.LEGAL))
            if viewer.may(Collections.READ)
            else None,
        }
    return render(request, "loan.html", context)


@router.get("/loans/{loan_id}/receipts/{event_id}.json", name="loan_receipt")
def loan_receipt(request: Request, viewer: Staff, loan_id: Id, event_id: EventId) -> Response:
    """The inclusion receipt of one of the loan's events: the event, its leaf, its audit path
    and a signed tree head (check it with ``tenor audit verify-receipt``)."""
    require(viewer, Permission.READ_LOANS)
    with database(request).reading() as session:
        check_loan_in_scope(session, viewer.principal(), loan_id)
        if not loanpage.event_of_loan(session, loan_id, event_id):
            raise NotFoundError(f"loan {loan_id} has no event {event_id}")
        receipt = build_receipt(session, event_id)
    return Response(
        json.dumps(receipt, ensure_ascii=False, indent=2) + "\n",
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="tenor-receipt-{loan_id}-{event_id}.json"'
        },
    )


@router.get("/borrowers", name="borrowers")
def borrowers_page(
    request: Request,
    viewer: Staff,
    name: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=10**7)] = 1,
) -> HTMLResponse:
    """Borrowers in the viewer's scope, by id, whose name contains ``name``."""
    require(viewer, Permission.READ_BORROWERS)
    with database(request).reading() as session:
        found, total = list_borrowers(
            session,
            kind=None,
            name=name or None,
            only_id=None,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            within=scoped_borrowers(viewer.principal()),
        )
        rows = [borrower_view(row, viewer.principal()) for row in found]
    return render(
        request,
        "borrowers.html",
        {
            "rows": rows,
            "total": total,
            "name": name or "",
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
        },
    )


@router.get("/borrowers/{borrower_id}", name="borrower")
def borrower_page(request: Request, viewer: Staff, borrower_id: Id) -> HTMLResponse:
    """A borrower, masked as the viewer's role requires, and their loans."""
    require(viewer, Permission.READ_BORROWERS)
    with database(request).reading() as session:
        check_borrower_in_scope(session, viewer.principal(), borrower_id)
        borrower = session.get(Borrower, borrower_id)
        if borrower is None:
            raise NotFoundError(f"borrower {borrower_id} does not exist")
        person = borrower_view(borrower, viewer.principal())
        loans: list[dict[str, Any]] = []
        if viewer.may(Permission.READ_LOANS):
            scope = scoped_loans(viewer.principal())
            loans, _ = list_loans(
                session, LoanFilter(borrower_id=borrower_id, within=scope), limit=500
            )
    return render(request, "borrower.html", {"borrower": person, "loans": loans})
