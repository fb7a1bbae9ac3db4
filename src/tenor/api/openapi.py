"""The OpenAPI document, with every error declared as ``application/problem+json``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tenor.api.problems import PROBLEM_JSON

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def problem_json_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each 4xx/5xx answer's content as a problem document, nothing else.

    FastAPI declares an additional response's model under ``application/json`` and adds its
    own 422 shape (``HTTPValidationError``); Tenor answers both with problem+json, and a
    client (or Schemathesis) must find exactly that in the document.
    """
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, answer in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    answer["content"] = {PROBLEM_JSON: {"schema": _PROBLEM}}
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`problem_json_errors` of FastAPI's document at ``app.openapi_url``."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_json_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
