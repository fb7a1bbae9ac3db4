"""The console's migration matches its tables, and every message has its Chinese."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import get_args

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tenor.actions.relief import CHANNELS
from tenor.api.routes.notify import State as NotificationState
from tenor.core.collection import ActionKind, Arm, LegalStage, OutcomeCode, Preservation
from tenor.core.restructure import Option
from tenor.notify.tables import SIGN_IN_CODE
from tenor.store.codec import EVENT_KINDS
from tenor.store.database import Database
from tenor.store.models import Base
from tenor.web import tables
from tenor.web.i18n import ZH_CN, translate
from tenor.web.pages import BORROWER_PAGES, STAFF_PAGES, TEMPLATES
from tenor.web.routes import approvals, collect, relief

#: Every rule that refuses a notification: the contact rules' and the outbox's own.
CONTACT_RULES = (
    "opt_out",
    "third_party",
    "quiet_hours",
    "after_conversation",
    "call_frequency",
    "connected_calls_per_day",
    "unanswered_calls_per_day",
    "no_address",
    "no_borrower",
    "paid",
)

#: What collections write in the fields the pages label: action states, why a case closed,
#: paused, or left an agency, promise statuses, flags, legal costs and events, and the
#: conditions the contact rules attach to an allowed contact.
COLLECTION_LABELS = (
    *(
        f"action-state:{state}"
        for state in ("task", "done", "sent", "held", "refused", "recommended", "skipped")
    ),
    "action-state:cancelled",
    *(f"closed:{reason}" for reason in ("cured", "paid", "written_off")),
    *(
        f"paused:{reason}"
        for reason in ("promise_to_pay", "dispute", "hardship", "deceased", "bankruptcy", "agency")
    ),
    *(f"promise:{status}" for status in ("pending", "kept", "broken", "replaced")),
    *(
        f"recall:{reason}"
        for reason in (
            "period_end",
            "on_request",
            "dispute",
            "hardship",
            "deceased",
            "bankruptcy",
            "written_off",
            "cured",
            "paid",
        )
    ),
    *(
        f"flag:{flag}"
        for flag in (
            "first_payment_default",
            "broken_promise",
            "hardship",
            "deceased",
            "bankruptcy",
        )
    ),
    *(f"cost:{kind}" for kind in ("court", "lawyer", "enforcement", "other")),
    *(f"legal-event:{kind}" for kind in ("cost", "document")),
    *(f"condition:{c}" for c in ("opt_out_notice", "location_only", "no_debt_disclosure")),
    *("case:open", "case:closed", "channel:call", "channel:visit", "source:heuristic"),
    *("rate:roll", "rate:cure", "rate:recovery", "Estimate", "95% interval"),
)

WEB_TABLES = (
    tables.StaffUser.__tablename__,
    tables.WebSession.__tablename__,
    tables.SignInCode.__tablename__,
)


def test_the_migration_builds_exactly_the_web_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: kind != "table" or name in WEB_TABLES,
                "include_object": lambda _object, name, kind, _reflected, _other: (
                    kind != "table" or name in WEB_TABLES
                ),
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _messages() -> set[str]:
    """Every literal message the templates pass to _()."""
    found: set[str] = set()
    for template in files("tenor.web").joinpath("templates").iterdir():
        source = template.read_text(encoding="utf-8")
        # The i18n extension adds extract_translations to the environment at run time.
        extract = TEMPLATES.extract_translations  # type: ignore[attr-defined]
        for _line, _function, message in extract(source):
            # A call with placeholders, _("Loan %(id)s", id=...), comes as (message, None).
            text = message[0] if isinstance(message, tuple) else message
            if isinstance(text, str):
                found.add(text)
    return found


def test_every_message_of_every_template_has_its_chinese() -> None:
    messages = _messages()
    assert "Sign in" in messages  # the extraction sees the templates at all
    navigation = {page.label for page in (*STAFF_PAGES, *BORROWER_PAGES)}
    missing = sorted(message for message in messages | navigation if message not in ZH_CN)
    assert missing == []


def test_translations_keep_their_placeholders() -> None:
    for english, chinese in ZH_CN.items():
        placeholders = sorted(re.findall(r"%\(\w+\)s", english))
        assert sorted(re.findall(r"%\(\w+\)s", chinese)) == placeholders, english


def test_domain_labels_read_in_both_languages() -> None:
    assert translate("zh-CN", "status:written-off") == "已核销"
    assert translate("en", "status:written-off") == "written off"
    assert translate("en", "role:risk") == "risk officer"
    assert translate("en", "Loan %(id)s", id=7) == "Loan 7"
    assert translate("zh-CN", "Loan %(id)s", id=7) == "贷款 7"


def test_every_label_the_pages_build_has_its_chinese() -> None:
    """Labels made from data (an option, an event, an outbox state...) and the routes' own
    messages, which the template check cannot see."""
    keys = [
        *(f"option:{option.value}" for option in Option),
        *(f"help:{option.value}" for option in Option),
        *(f"event:{kind}" for kind in EVENT_KINDS.values()),
        *(f"state:{state}" for state in get_args(NotificationState)),
        *(f"message:{kind}" for kind in ("reminder", SIGN_IN_CODE)),
        *(f"rule:{rule}" for rule in CONTACT_RULES),
        *(f"offer:{status}" for status in ("open", "accepted", "applied", "superseded", "expired")),
        *(f"request:{status}" for status in ("open", "offered", "accepted", "applied", "declined")),
        *(f"through:{channel}" for channel in CHANNELS),
        *("severity:breach", "severity:warning", "roll:paid-off", "roll:written-off"),
        *approvals.REFUSALS.values(),
        *relief.REFUSALS.values(),
        *(f"outcome:{code.value}" for code in OutcomeCode),
        *(f"action:{kind.value}" for kind in ActionKind),
        *(f"arm:{arm.value}" for arm in Arm),
        *(f"legal:{stage.value}" for stage in LegalStage),
        *(f"preservation:{state.value}" for state in Preservation),
        *COLLECTION_LABELS,
        *collect.REFUSALS.values(),
        *collect.PROMISE_ERRORS.values(),
    ]
    assert [key for key in keys if key not in ZH_CN] == []


def test_english_reads_labels_as_words_and_help_as_sentences() -> None:
    assert translate("en", "option:arrears-plan") == "installment plan for the arrears"
    assert translate("en", "option:term-extension") == "term extension"
    assert translate("en", "help:deferral") == "Pause the next payments and pay them later."
    assert translate("en", "rule:quiet_hours") == "quiet hours"
    assert translate("zh-CN", "rule:quiet_hours") == "休息时间"
    # A label Chinese does not have yet reads as English words, never as its key.
    assert translate("zh-CN", "state:some-new-state") == "some new state"
    assert translate("en", "outcome:no_answer") == "no answer"
    assert translate("en", "outcome:right_party_contact") == "right-party contact"
    assert translate("zh-CN", "outcome:promise_to_pay") == "承诺还款"
