"""Rendering reminders: Jinja2 templates per locale, amounts and dates formatted by Babel.

Templates live in ``templates/<locale>/<name>.j2``; each has three blocks: ``subject`` (email),
``short`` (SMS and push) and ``email`` (the email's body). zh-CN is the default locale; a
borrower whose locale has no template gets zh-CN.

The daily close renders one message per reminder, hundreds of thousands on a large book, and
almost all of each message is the same from one borrower to the next. So each block is rendered
once per template, channel, locale and opt-out with a marker in place of each fact that varies
(name, loan, installment, amount, due date, days), and kept as a format string; a message is
that string with the facts put in. This is used only for templates whose facts appear as plain
``{{ fact }}`` outputs (nothing tests, filters or computes with them), checked on the
templates' syntax trees and on a probe render; any other template is rendered by Jinja each time.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, TemplateNotFound, nodes
from jinja2.meta import find_referenced_templates

from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money

LOCALES: Final = ("zh-CN", "en")
DEFAULT_LOCALE: Final = "zh-CN"

#: The lender's name and ways to pay, per locale, as borrowers read them.
LENDER: Final = {"zh-CN": "Tenor金融", "en": "Tenor Finance"}
PAY_WAYS: Final = {
    "zh-CN": ("App内“立即还款”", "银行转账至还款专户", "微信或支付宝扫码还款"),
    "en": ("'Pay now' in the app", "bank transfer to your repayment account", "card online"),
}

#: The template variables that change from one reminder to the next, in the order
#: :func:`_facts` gives them.
_FACTS: Final = ("name", "loan_id", "installment", "amount", "due_date", "days")
_MARKER: Final = re.compile("\x00([0-9])\x00")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready for a channel: a subject (email only) and a body."""

    subject: str | None
    body: str


@dataclass(frozen=True, slots=True)
class ReminderFacts:
    """What a reminder tells: who, which loan and installment, how much, when."""

    name: str
    loan_id: int
    installment: int
    amount: Money
    due_date: dt.date
    offset_days: int


@functools.cache
def _environment() -> Environment:
    # Plain text, not HTML: nothing to escape; a missing variable is an error, not a blank.
    # Templates ship with the package: no need to look at their files' times on every use.
    return Environment(
        loader=PackageLoader("tenor.notify", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        auto_reload=False,
    )


def babel_locale(locale: str) -> str:
    """Babel's name of a Tenor locale: ``zh-CN`` -> ``zh_CN``."""
    return locale.replace("-", "_")


@functools.cache
def _babel(locale: str) -> Locale:
    return Locale.parse(babel_locale(locale))


@functools.lru_cache(maxsize=65_536)
def _amount(amount: Money, locale: str) -> str:
    return format_currency(amount.amount, amount.currency, locale=_babel(locale))


@functools.lru_cache(maxsize=4_096)
def _date(day: dt.date, locale: str) -> str:
    return format_date(day, format="long", locale=_babel(locale))


def _facts(facts: ReminderFacts, locale: str) -> dict[str, Any]:
    """The varying facts as the template gets them, in :data:`_FACTS` order."""
    return {
        "name": facts.name,
        "loan_id": facts.loan_id,
        "installment": facts.installment,
        "amount": _amount(facts.amount, locale),
        "due_date": _date(facts.due_date, locale),
        "days": abs(facts.offset_days),
    }


#: Facts for the probe render that checks a layout against Jinja: braces, as a format string
#: would misread them, and numbers of every width.
_PROBE: Final = {
    "name": "Probe {0} }{",
    "loan_id": 987654321,
    "installment": 17,
    "amount": "¥1,234.56",
    "due_date": "2031年1月2日",
    "days": 45,
}


@functools.cache
def _template(locale: str, template: str) -> Template:
    try:
        return _environment().get_template(f"{locale}/{template}.j2")
    except TemplateNotFound:
        raise InvalidArgumentError(f"no reminder template {template!r} for {locale}") from None


def _blocks(channel: str) -> tuple[str | None, str]:
    """The blocks a channel's message is made of: (subject's, body's)."""
    return ("subject", "email") if channel == "email" else (None, "short")


def _jinja(
    compiled: Template, locale: str, facts: dict[str, Any], opt_out: bool, block: str
) -> str:
    """One block as Jinja renders it, before it is stripped."""
    context = compiled.new_context(
        {**facts, "pay_ways": PAY_WAYS[locale], "lender": LENDER[locale], "opt_out": opt_out}
    )
    return "".join(compiled.blocks[block](context))


def _sources(name: str, seen: set[str]) -> Iterator[nodes.Template]:
    """The syntax trees of template ``name`` and of every template it extends or imports."""
    if name in seen:
        return
    seen.add(name)
    environment = _environment()
    assert environment.loader is not None
    source, _, _ = environment.loader.get_source(environment, name)
    tree = environment.parse(source)
    yield tree
    for referenced in find_referenced_templates(tree):
        if referenced is None:
            raise LookupError("a template referenced by a computed name")
        yield from _sources(referenced, seen)


def _plain_facts(locale: str, template: str) -> bool:
    """Whether every fact in the template (and what it extends or imports) is printed as it is.

    Nothing may compare, filter or compute with a fact, nor filter or re-escape a block of
    output: then the marker render says everything the template can print.
    """
    try:
        trees = list(_sources(f"{locale}/{template}.j2", set()))
    except (LookupError, TemplateNotFound):
        return False
    for tree in trees:
        if any(tree.find_all((nodes.FilterBlock, nodes.EvalContextModifier))):
            return False
        printed = {
            id(child)
            for output in tree.find_all(nodes.Output)
            for child in output.nodes
            if isinstance(child, nodes.Name)
        }
        if any(
            name.name in _FACTS and id(name) not in printed for name in tree.find_all(nodes.Name)
        ):
            return False
    return True


def _format_string(compiled: Template, locale: str, opt_out: bool, block: str) -> str | None:
    """A block as a format string, the facts as positional fields in :data:`_FACTS` order;
    None when the probe render shows that it does not say what Jinja says."""
    markers = {fact: f"\x00{index}\x00" for index, fact in enumerate(_FACTS)}
    pieces = _MARKER.split(_jinja(compiled, locale, markers, opt_out, block))
    texts, slots = pieces[0::2], pieces[1::2]
    if any("\x00" in text for text in texts):
        return None
    layout = _escape(texts[0]) + "".join(
        f"{{{slot}}}{_escape(text)}" for slot, text in zip(slots, texts[1:], strict=True)
    )
    probe = [str(_PROBE[fact]) for fact in _FACTS]
    if layout.format(*probe) != _jinja(compiled, locale, _PROBE, opt_out, block):
        return None
    return layout


@functools.cache
def _layout(
    locale: str, template: str, channel: str, opt_out: bool
) -> tuple[str | None, str] | None:
    """The format strings of a message's subject (None: it has none) and body; None when the
    template's facts are not plain (then Jinja renders every message)."""
    compiled = _template(locale, template)
    if not _plain_facts(locale, template):
        return None
    subject_block, body_block = _blocks(channel)
    body = _format_string(compiled, locale, opt_out, body_block)
    if body is None:
        return None
    if subject_block is None:
        return None, body
    subject = _format_string(compiled, locale, opt_out, subject_block)
    return None if subject is None else (subject, body)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def render(
    template: str, channel: str, locale: str, facts: ReminderFacts, *, opt_out: bool = False
) -> Rendered:
    """The reminder ``template`` for ``channel`` in ``locale`` (zh-CN when it has none).

    ``opt_out`` adds the opt-out line a profile requires for texts and emails.
    """
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    values = _facts(facts, locale)
    layout = _layout(locale, template, channel, opt_out)
    if layout is not None:
        # Jinja prints a value as str() does.
        printed = [str(value) for value in values.values()]
        subject, body = layout
        return Rendered(
            subject=None if subject is None else subject.format(*printed).strip(),
            body=body.format(*printed).strip(),
        )
    compiled = _template(locale, template)
    subject_block, body_block = _blocks(channel)
    return Rendered(
        subject=None
        if subject_block is None
        else _jinja(compiled, locale, values, opt_out, subject_block).strip(),
        body=_jinja(compiled, locale, values, opt_out, body_block).strip(),
    )
