"""Rendering reminders: Jinja2 templates per locale, amounts and dates formatted by Babel.

Templates live in ``templates/<locale>/<name>.j2``; each has three blocks: ``subject`` (email),
``short`` (SMS and push) and ``email`` (the email's body). zh-CN is the default locale; a
borrower whose locale has no template gets zh-CN.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Final

from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

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
    return Environment(
        loader=PackageLoader("tenor.notify", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def babel_locale(locale: str) -> str:
    """Babel's name of a Tenor locale: ``zh-CN`` -> ``zh_CN``."""
    return locale.replace("-", "_")


def render(
    template: str, channel: str, locale: str, facts: ReminderFacts, *, opt_out: bool = False
) -> Rendered:
    """The reminder ``template`` for ``channel`` in ``locale`` (zh-CN when it has none).

    ``opt_out`` adds the opt-out line a profile requires for texts and emails.
    """
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    try:
        compiled = _environment().get_template(f"{locale}/{template}.j2")
    except TemplateNotFound:
        raise InvalidArgumentError(f"no reminder template {template!r} for {locale}") from None
    where = babel_locale(locale)
    context = compiled.new_context(
        {
            "name": facts.name,
            "loan_id": facts.loan_id,
            "installment": facts.installment,
            "amount": format_currency(facts.amount.amount, facts.amount.currency, locale=where),
            "due_date": format_date(facts.due_date, format="long", locale=where),
            "days": abs(facts.offset_days),
            "pay_ways": PAY_WAYS[locale],
            "lender": LENDER[locale],
            "opt_out": opt_out,
        }
    )

    def block(name: str) -> str:
        return "".join(compiled.blocks[name](context)).strip()

    if channel == "email":
        return Rendered(subject=block("subject"), body=block("email"))
    return Rendered(subject=None, body=block("short"))
