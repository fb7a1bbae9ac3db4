"""What the approvals page reads: relief offers waiting for a checker, and the versions of the
relief and reminder policies and of the collection strategy in force.

An accepted offer that needs approval stays ``accepted`` until a second person approves it
(:func:`tenor.actions.relief.approve_offer`, which refuses whoever requested, offered or
accepted it). Policies are versioned documents; the newest version of each is in force, and
where none is stored the built-in default answers (a product's relief policy version 0, the
reminder policy ``consumer-standard``, the collection strategy ``standard`` version 0). The
collection strategy in force is the version saved last, whatever its name
(:func:`tenor.collect.strategy.strategy_in_force`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.strategy import (
    COST_CURRENCY,
    DEFAULT_STRATEGY,
    StrategyDocument,
    parse_strategy,
    strategy_in_force,
    strategy_versions,
)
from tenor.notify.policy import DEFAULT_POLICY, ReminderPolicy
from tenor.notify.tables import ReminderPolicyRow
from tenor.relief.policy import ReliefPolicyDocument, default_policy
from tenor.relief.tables import ReliefOffer, ReliefPolicyRow, ReliefRequest
from tenor.relief.workflow import offer_document
from tenor.store.models import Loan, Product
from tenor.web.accounts import aware
from tenor.web.views import borrower_names


def awaiting_approval(session: Session) -> list[dict[str, Any]]:
    """Accepted offers waiting for a checker, the longest waiting first, with who made them."""
    rows = session.execute(
        select(ReliefOffer, ReliefRequest, Loan)
        .join(ReliefRequest, ReliefRequest.id == ReliefOffer.request_id)
        .join(Loan, Loan.id == ReliefOffer.loan_id)
        .where(ReliefOffer.status == "accepted")
        .order_by(ReliefOffer.accepted_at, ReliefOffer.id)
    ).all()
    names = borrower_names(session, {loan.borrower_id for _, _, loan in rows})
    return [
        {
            **offer_document(offer),
            "currency": loan.currency,
            "borrower_id": loan.borrower_id,
            "borrower": names.get(loan.borrower_id, ""),
            "requested_by": request.requested_by,
            "reason": request.reason,
            "accepted_at": None if offer.accepted_at is None else aware(offer.accepted_at),
            "makers": {request.requested_by, offer.offered_by, offer.accepted_by},
        }
        for offer, request, loan in rows
    ]


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One version of a policy document: who stored it and when (None: built in)."""

    version: int
    created_by: str | None
    created_at: Any
    document: dict[str, Any]

    @property
    def text(self) -> str:
        """The document as indented JSON."""
        return json.dumps(self.document, ensure_ascii=False, indent=2)


@dataclass(frozen=True, slots=True)
class ProductRelief:
    """A product's relief policy: the version in force (0: the default) and every version."""

    product_id: int
    code: str
    name: str
    in_force: PolicyVersion
    rules: ReliefPolicyDocument
    versions: list[PolicyVersion]


def relief_policies(session: Session) -> list[ProductRelief]:
    """Every product's relief policy versions, newest first, and the one in force."""
    stored: dict[int, list[PolicyVersion]] = {}
    for row in session.scalars(
        select(ReliefPolicyRow).order_by(ReliefPolicyRow.product_id, ReliefPolicyRow.version.desc())
    ):
        stored.setdefault(row.product_id, []).append(
            PolicyVersion(row.version, row.created_by, aware(row.created_at), row.document)
        )
    found = []
    for product in session.scalars(select(Product).order_by(Product.id)):
        versions = stored.get(product.id, [])
        in_force = (
            versions[0]
            if versions
            else PolicyVersion(0, None, None, default_policy(product.currency).document())
        )
        found.append(
            ProductRelief(
                product_id=product.id,
                code=product.code,
                name=product.name,
                in_force=in_force,
                rules=ReliefPolicyDocument.model_validate(in_force.document),
                versions=versions,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class ReminderPolicies:
    """One reminder policy code: the version in force and every stored version."""

    code: str
    in_force: ReminderPolicy
    versions: list[PolicyVersion]
    built_in: bool


def reminder_policies(session: Session) -> list[ReminderPolicies]:
    """Every stored reminder policy by code (newest version first), and the built-in default
    that answers where no stored policy matches a product."""
    by_code: dict[str, list[PolicyVersion]] = {}
    for row in session.scalars(
        select(ReminderPolicyRow).order_by(ReminderPolicyRow.code, ReminderPolicyRow.version.desc())
    ):
        by_code.setdefault(row.code, []).append(
            PolicyVersion(row.version, None, aware(row.created_at), row.document)
        )
    found = [
        ReminderPolicies(code, ReminderPolicy.model_validate(versions[0].document), versions, False)
        for code, versions in sorted(by_code.items())
    ]
    if DEFAULT_POLICY.code not in by_code:
        document = DEFAULT_POLICY.model_dump(mode="json")
        found.append(
            ReminderPolicies(
                DEFAULT_POLICY.code,
                DEFAULT_POLICY,
                [PolicyVersion(DEFAULT_POLICY.version, None, None, document)],
                True,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class StrategyVersion:
    """One saved version of a collection strategy (version 0: the built-in default)."""

    name: str
    version: int
    created_by: str | None
    created_at: Any
    document: dict[str, Any]
    in_force: bool

    @property
    def text(self) -> str:
        """The document as indented JSON."""
        return json.dumps(self.document, ensure_ascii=False, indent=2)


@dataclass(frozen=True, slots=True)
class CollectionStrategies:
    """The collection strategy in force, parsed, and every version, newest first."""

    in_force: StrategyDocument
    version: int
    versions: list[StrategyVersion]

    @property
    def built_in(self) -> bool:
        """Whether no strategy was ever saved and the default answers."""
        return self.version == 0

    @property
    def currency(self) -> str:
        """The currency a strategy's balance bounds and costs are written in."""
        return COST_CURRENCY


def collection_strategies(session: Session) -> CollectionStrategies:
    """The collection strategy in force and its versions (the default alone before any)."""
    document, version = strategy_in_force(session)
    rows = strategy_versions(session)
    versions = [
        StrategyVersion(
            row.name,
            row.version,
            row.created_by,
            aware(row.created_at),
            row.document,
            in_force=index == 0,
        )
        for index, row in enumerate(rows)
    ]
    if not versions:
        default = parse_strategy(DEFAULT_STRATEGY)
        versions = [
            StrategyVersion(
                default.name, 0, None, None, default.model_dump(mode="json"), in_force=True
            )
        ]
    return CollectionStrategies(document, version, versions)
