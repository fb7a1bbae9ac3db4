"""``/v1/products``: create (a new version of a code), read, list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from tenor.actions import products
from tenor.api.auth import database, require
from tenor.api.problems import problem_responses
from tenor.api.queries import list_products
from tenor.api.roles import Permission, Principal
from tenor.api.schemas import MAX_ID, ProductIn, ProductOut, ProductPage
from tenor.core.errors import InvalidArgumentError
from tenor.store.database import Database
from tenor.store.journal import NotFoundError
from tenor.store.models import Product
from tenor.store.reads import product_document

router = APIRouter(
    prefix="/v1/products",
    tags=["products"],
    responses=problem_responses(401, 403, 404, 422),
)

Db = Annotated[Database, Depends(database)]


def _check_text(value: object, where: str) -> None:
    # A product document is stored as JSON; PostgreSQL's json type refuses NUL characters and
    # lone surrogates, so they are refused here with a 422 instead of failing the insert.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgumentError(f"{where} is not valid Unicode text") from None
        if "\x00" in value:
            raise InvalidArgumentError(f"{where} contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{where}[{index}]")


@router.post(
    "",
    status_code=201,
    response_model=ProductOut,
    responses=problem_responses(400, 409),
    summary="Create a product",
)
def create_product(
    body: ProductIn,
    db: Db,
    _who: Annotated[Principal, Depends(require(Permission.WRITE_PRODUCTS))],
    response: Response,
) -> dict[str, Any]:
    """A product; an existing code gets its next version. 201 with the stored document."""
    _check_text(body.config.document(), "config")
    with db.transaction() as session:
        product = products.create_product(
            session, code=body.code, name=body.name, config=body.config
        )
        document = product_document(product)
    response.headers["Location"] = f"/v1/products/{document['id']}"
    return document


@router.get("/{product_id}", response_model=ProductOut, summary="Get a product")
def get_product(
    product_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    db: Db,
    _who: Annotated[Principal, Depends(require(Permission.READ_PRODUCTS))],
) -> dict[str, Any]:
    """One product version."""
    with db.reading() as session:
        product = session.get(Product, product_id)
        if product is None:
            raise NotFoundError(f"product {product_id} does not exist")
        return product_document(product)


@router.get("", response_model=ProductPage, summary="List products")
def get_products(
    db: Db,
    _who: Annotated[Principal, Depends(require(Permission.READ_PRODUCTS))],
    code: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Products (every version), by id: a page and the total that match."""
    with db.reading() as session:
        rows, total = list_products(session, code=code, offset=offset, limit=limit)
        items = [product_document(row) for row in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}
