"""The console's migration matches its tables, and every message has its Chinese."""

from __future__ import annotations

import re
from importlib.resources import files

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tenor.store.database import Database
from tenor.store.models import Base
from tenor.web import tables
from tenor.web.i18n import ZH_CN, translate
from tenor.web.pages import BORROWER_PAGES, STAFF_PAGES, TEMPLATES

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
