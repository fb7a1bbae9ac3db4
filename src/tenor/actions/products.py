"""Products: validated documents, each code versioned."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.audit.changes import log_product
from tenor.core.errors import InvalidArgumentError
from tenor.products import ProductConfig
from tenor.store.models import Product


def create_product(session: Session, *, code: str, name: str, config: ProductConfig) -> Product:
    """A product; creating one with an existing code makes its next version."""
    if not code.strip() or not name.strip():
        raise InvalidArgumentError("a product needs a code and a name")
    latest = session.scalar(select(func.max(Product.version)).where(Product.code == code))
    product = Product(
        code=code,
        version=(latest or 0) + 1,
        name=name,
        currency=config.currency,
        config=config.document(),
    )
    session.add(product)
    session.flush()
    log_product(session, product)
    return product
