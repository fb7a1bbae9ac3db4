"""Roles: what each API key may call, which rows it sees, and which personal data it reads.

Permissions (an endpoint needs exactly one):

========================  =====  ====  =========  ======  =======  ========
permission                admin  risk  collector  agency  auditor  borrower
========================  =====  ====  =========  ======  =======  ========
borrowers:read            yes    yes   yes        scope   yes      self
borrowers:create          yes    -     -          -       -        -
borrowers:contact         yes    -     yes        scope   -        self
products:read             yes    yes   yes        -       yes      -
products:write            yes    yes   -          -       -        -
loans:read                yes    yes   yes        scope   yes      own
loans:originate           yes    -     -          -       -        -
loans:repay               yes    -     yes        scope   -        -
loans:adjust              yes    -     -          -       -        -
relief:request            yes    -     yes        -       -        own
relief:offer              yes    yes   yes        -       -        -
relief:accept             yes    -     yes        -       -        own
relief:approve            yes    yes   -          -       -        -
relief:policy             yes    yes   -          -       -        -
credit-scores:write       yes    yes   -          -       -        -
audit:read                yes    yes   yes        yes     yes      yes
notifications:read        yes    yes   yes        -       yes      -
risk:read                 yes    yes   yes        -       yes      -
risk:score                yes    yes   -          -       -        -
risk:write                yes    yes   -          -       -        -
collections:read          yes    yes   yes        scope   yes      -
collections:work          yes    -     yes        scope   -        -
collections:manage        yes    -     -          -       -        -
collections:strategy      yes    yes   -          -       -        -
collections:report        yes    yes   -          -       yes      -
legal:read                yes    yes   yes        -       yes      -
legal:write               yes    -     -          -       -        -
========================  =====  ====  =========  ======  =======  ========

- ``borrowers:contact`` is ``PATCH /v1/borrowers/{id}/contact-preferences``: a collector records
  a borrower's request to be contacted differently (or not at all); a borrower sets their own.
- ``loans:originate`` is creating, approving and disbursing a loan; ``loans:repay`` is posting
  a repayment (a collector records money collected in the field); ``loans:adjust`` is reversals,
  charges and waivers, which change what a borrower owes and stay with admins.
- ``relief:*`` is the relief workflow (``tenor.api.routes.relief``): a borrower asks for relief
  and accepts an offer on their own loans, a collector does both for them and makes offers;
  approving an accepted offer (maker-checker: never by whoever requested, offered or accepted
  it) and setting products' relief policies stay with risk officers and admins, who also record
  credit scores (``credit-scores:write``).
- ``audit:read`` is the transparency log's tree heads and consistency proofs: sizes, hashes and
  signatures, for everyone to check; an inclusion proof or a receipt names an event and needs
  ``loans:read`` in the loan's scope.
- ``risk:read`` is the early-warning watchlist, its post-loan tasks, loans' covenants and a
  delinquent loan's propensity to pay (which collectors' queues rank by);
  ``risk:score`` is scoring applicants and borrowers by a model's champion; ``risk:write`` is
  setting covenants, completing post-loan tasks and recording borrowers' risk profiles.
- ``collections:*`` is collections (``tenor.api.routes.collections``): ``read`` is collection
  cases, collectors' queues, strategies, collectors, agencies and agency statements; ``work``
  is recording a contact's outcome (a promise to pay, a dispute...) on a case; ``manage`` is
  resolving disputes, placing cases with agencies and recalling them, writing loans off, and
  registering collectors and agencies; ``strategy`` is saving a new version of the collection
  strategy; ``report`` is the collections and champion/challenger reports. ``legal:read`` and
  ``legal:write`` are legal recovery cases: reading them, and opening them, moving their stage
  and asset preservation, recording costs and attaching documents. Money recovered on a
  written-off loan (``POST /v1/loans/{id}/recoveries``) is recorded as a repayment is, with
  ``loans:repay``.
- risk officers read the whole book, maintain products and collection strategies and read the
  reports; auditors read everything and never write (every write answers 403).

A missing permission answers 403 ``forbidden``. Rows outside a key's scope answer 404
``not_found``, exactly as rows that do not exist, so that a key cannot probe for ids:

- a borrower's key sees its borrower and that borrower's loans, nothing else;
- an agency's key sees the collection cases placed with its agency now (an open placement),
  their loans and their borrowers, and its own agency and statement; lists hold only those, and
  any other id is 404 (a recalled case included). The whole-book reads of collections (queues,
  strategies, collectors) answer an agency 403, and an agency records outcomes only on its
  placed cases, under its own name.

Personal data: national ID numbers are shown to admins and to the borrower themself, masked
(``110***********1234``) for everyone else; phone numbers (the borrower's and their contacts')
are shown to admins, the borrower themself, and collectors and agencies, who must call them;
masked for risk officers and auditors, whose work needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from tenor.store.models import Borrower
from tenor.store.reads import borrower_document


class Role(StrEnum):
    """The role an API key carries."""

    ADMIN = "admin"
    RISK = "risk"
    COLLECTOR = "collector"
    AGENCY = "agency"
    AUDITOR = "auditor"
    BORROWER = "borrower"


class Permission(StrEnum):
    """What an endpoint needs; see the module's table."""

    READ_BORROWERS = "borrowers:read"
    CREATE_BORROWERS = "borrowers:create"
    UPDATE_CONTACTS = "borrowers:contact"
    READ_PRODUCTS = "products:read"
    WRITE_PRODUCTS = "products:write"
    READ_LOANS = "loans:read"
    ORIGINATE_LOANS = "loans:originate"
    POST_REPAYMENTS = "loans:repay"
    ADJUST_LOANS = "loans:adjust"
    REQUEST_RELIEF = "relief:request"
    OFFER_RELIEF = "relief:offer"
    ACCEPT_RELIEF = "relief:accept"
    APPROVE_RELIEF = "relief:approve"
    WRITE_RELIEF_POLICY = "relief:policy"
    WRITE_CREDIT_SCORES = "credit-scores:write"
    READ_AUDIT = "audit:read"
    READ_NOTIFICATIONS = "notifications:read"
    READ_RISK = "risk:read"
    SCORE_RISK = "risk:score"
    WRITE_RISK = "risk:write"
    READ_COLLECTIONS = "collections:read"
    WORK_COLLECTIONS = "collections:work"
    MANAGE_COLLECTIONS = "collections:manage"
    WRITE_STRATEGIES = "collections:strategy"
    READ_COLLECTION_REPORTS = "collections:report"
    READ_LEGAL = "legal:read"
    WRITE_LEGAL = "legal:write"


P = Permission

PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset(Permission),
    Role.RISK: frozenset(
        {
            P.READ_BORROWERS,
            P.READ_PRODUCTS,
            P.WRITE_PRODUCTS,
            P.READ_LOANS,
            P.OFFER_RELIEF,
            P.APPROVE_RELIEF,
            P.WRITE_RELIEF_POLICY,
            P.WRITE_CREDIT_SCORES,
            P.READ_AUDIT,
            P.READ_NOTIFICATIONS,
            P.READ_RISK,
            P.SCORE_RISK,
            P.WRITE_RISK,
            P.READ_COLLECTIONS,
            P.WRITE_STRATEGIES,
            P.READ_COLLECTION_REPORTS,
            P.READ_LEGAL,
        }
    ),
    Role.COLLECTOR: frozenset(
        {
            P.READ_BORROWERS,
            P.UPDATE_CONTACTS,
            P.READ_PRODUCTS,
            P.READ_LOANS,
            P.POST_REPAYMENTS,
            P.REQUEST_RELIEF,
            P.OFFER_RELIEF,
            P.ACCEPT_RELIEF,
            P.READ_AUDIT,
            P.READ_NOTIFICATIONS,
            P.READ_RISK,
            P.READ_COLLECTIONS,
            P.WORK_COLLECTIONS,
            P.READ_LEGAL,
        }
    ),
    Role.AGENCY: frozenset(
        {
            P.READ_BORROWERS,
            P.UPDATE_CONTACTS,
            P.READ_LOANS,
            P.POST_REPAYMENTS,
            P.READ_AUDIT,
            P.READ_COLLECTIONS,
            P.WORK_COLLECTIONS,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            P.READ_BORROWERS,
            P.READ_PRODUCTS,
            P.READ_LOANS,
            P.READ_AUDIT,
            P.READ_NOTIFICATIONS,
            P.READ_RISK,
            P.READ_COLLECTIONS,
            P.READ_COLLECTION_REPORTS,
            P.READ_LEGAL,
        }
    ),
    Role.BORROWER: frozenset(
        {
            P.READ_BORROWERS,
            P.UPDATE_CONTACTS,
            P.READ_LOANS,
            P.REQUEST_RELIEF,
            P.ACCEPT_RELIEF,
            P.READ_AUDIT,
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key's role and scope."""

    key_id: int
    prefix: str
    role: Role
    borrower_id: int | None = None
    agency_id: int | None = None

    @property
    def actor(self) -> str:
        """How the journal names this caller."""
        return f"key:{self.prefix}"

    def may(self, permission: Permission) -> bool:
        """Whether the role holds ``permission``."""
        return permission in PERMISSIONS[self.role]

    @property
    def sees_everything(self) -> bool:
        """Whether every borrower and loan is in scope (all staff roles but agencies); the
        others' scope is :mod:`tenor.api.queries`' to check, from the placements."""
        return self.role not in (Role.BORROWER, Role.AGENCY)


def borrower_view(borrower: Borrower, principal: Principal) -> dict[str, Any]:
    """The borrower's document with personal data masked as ``principal``'s role requires."""
    themself = principal.role is Role.BORROWER and principal.borrower_id == borrower.id
    reveal_identity = principal.role is Role.ADMIN or themself
    reveal_phones = reveal_identity or principal.role in (Role.COLLECTOR, Role.AGENCY)
    return borrower_document(borrower, reveal_identity=reveal_identity, reveal_phones=reveal_phones)
