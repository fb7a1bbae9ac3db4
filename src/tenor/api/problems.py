"""Errors as RFC 9457 problem details (``application/problem+json``) with a stable ``code``.

Every refusal the API gives has the same shape: ``type`` (``urn:tenor:problem:<code>``),
``title``, ``status``, ``detail``, ``code``, the request's ``request_id`` and, for a body that
does not validate, ``errors`` (where and what). Clients branch on ``code``, never on ``detail``.

- A :class:`~tenor.core.errors.DomainError` answers with its own ``code``: 404 for
  ``not_found``; 409 for ``idempotency_conflict``, ``loan_not_active`` and ``concurrent_update``
  (retry it); for ``task_not_open`` (a post-loan task completed before); and for what the
  state of a collection or legal case refuses: ``case_closed``, ``contact_refused`` (the
  contact rules forbid the contact now) and ``invalid_transition`` (a legal case's stage or
  asset preservation cannot move so); 413 ``document_too_large``; 401 ``unauthorized``; 403
  ``forbidden``; 422 for every other domain refusal
  (``currency_mismatch``, ``amount_not_positive``, ``amount_too_precise``, ``amount_too_large``,
  ``invalid_value_date``, ``invalid_event``, ``invalid_argument``, ...).
- A request that does not validate answers 422 ``validation_error``, or the more precise
  ``invalid_amount``, ``invalid_number``, ``invalid_date`` or ``invalid_text`` when every
  error is of that one kind; a body that is not
  JSON answers 400 ``validation_error``; a missing ``Idempotency-Key`` where one is required
  answers 400 ``idempotency_key_required`` (the IETF Idempotency-Key draft's status).
- Anything unexpected answers 500 ``internal_error`` with no detail; it is logged (redacted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenor.core.errors import DomainError

PROBLEM_JSON: Final = "application/problem+json"


class UnauthorizedError(DomainError):
    """No API key, or one that is unknown, malformed or revoked."""

    code = "unauthorized"


class ForbiddenError(DomainError):
    """The key's role does not allow this operation."""

    code = "forbidden"


class AmountTooLargeError(DomainError):
    """An amount beyond the largest one Tenor books."""

    code = "amount_too_large"


class FieldProblem(BaseModel):
    """One reason a request did not validate."""

    location: list[str | int] = Field(description="Where: body, query, path or header, then keys.")
    message: str
    type: str = Field(description="A machine-readable kind of error, such as missing.")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=["urn:tenor:problem:currency_mismatch"])
    title: str
    status: int
    detail: str
    code: str = Field(
        description="Stable machine-readable code, such as not_found or currency_mismatch.",
        examples=["currency_mismatch"],
    )
    instance: str | None = Field(default=None, description="The path of the request.")
    request_id: str | None = None
    errors: list[FieldProblem] | None = None


#: Status of each domain error code that is not 422.
STATUS_BY_CODE: Final[dict[str, int]] = {
    "not_found": 404,
    "idempotency_conflict": 409,
    "loan_not_active": 409,
    "concurrent_update": 409,
    "conflict": 409,
    "unauthorized": 401,
    "forbidden": 403,
    "idempotency_key_required": 400,
    "receipt_not_ready": 409,
    "log_mismatch": 409,
    "task_not_open": 409,
    "case_closed": 409,
    "contact_refused": 409,
    "invalid_transition": 409,
    "document_too_large": 413,
}

#: Validation error types raised by Tenor's own field validators, which become the code.
FIELD_CODES: Final = frozenset({"invalid_amount", "invalid_number", "invalid_date", "invalid_text"})


def status_of(code: str) -> int:
    """The HTTP status of a problem ``code``."""
    return STATUS_BY_CODE.get(code, 422)


def request_id_of(request: Request) -> str | None:
    """The request id the middleware gave this request."""
    info = request.scope.get("tenor")
    return getattr(info, "request_id", None)


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; the middleware logs its ``code``."""
    info = request.scope.get("tenor")
    if info is not None:
        info.problem = code
    body = Problem(
        type=f"urn:tenor:problem:{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        request_id=request_id_of(request),
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    status = status_of(error.code)
    headers = {"WWW-Authenticate": 'Bearer realm="tenor"'} if status == 401 else None
    return problem_response(request, status, error.code, error.message, headers=headers)


def _field_problems(errors: Iterable[Any]) -> list[FieldProblem]:
    # Only where and what: pydantic also reports the input, which may be personal data.
    return [
        FieldProblem(
            location=[part if isinstance(part, int) else str(part) for part in error["loc"]],
            message=str(error["msg"]),
            type=str(error["type"]),
        )
        for error in errors
    ]


def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = list(error.errors())
    if any(item["type"] == "json_invalid" for item in errors):
        return problem_response(
            request, 400, "validation_error", "the request body is not valid JSON"
        )
    problems = _field_problems(errors)
    for item in errors:
        location = item["loc"]
        if (
            item["type"] == "missing"
            and len(location) == 2
            and location[0] == "header"
            and str(location[1]).lower() == "idempotency-key"
        ):
            return problem_response(
                request,
                400,
                "idempotency_key_required",
                "this request needs an Idempotency-Key header, unique to the operation",
            )
    kinds = {item["type"] for item in errors}
    code = kinds.pop() if len(kinds) == 1 and kinds <= FIELD_CODES else "validation_error"
    summary = "; ".join(
        f"{'.'.join(str(part) for part in problem.location)}: {problem.message}"
        for problem in problems[:5]
    )
    return problem_response(request, 422, code, summary, errors=problems)


def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = {
        # FastAPI's own 400: a body it could not read (not UTF-8, a broken form).
        400: "validation_error",
        404: "not_found",
        405: "method_not_allowed",
    }.get(error.status_code, "http_error")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if error.status_code == 404:
        detail = f"no such resource: {request.url.path}"
    return problem_response(request, error.status_code, code, detail, headers=error.headers)


def _integrity_error(request: Request, error: Exception) -> JSONResponse:
    # The database refused a row that raced with another (two products with one code and
    # version); the message holds SQL parameters, so it is not passed on.
    return problem_response(
        request, 409, "conflict", "the request conflicted with another one; retry it"
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every refusal with a problem document."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring problem documents for ``statuses``."""
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses
    }
