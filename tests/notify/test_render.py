"""Rendering: the format strings kept per template say exactly what Jinja says, and a template
that does more with a fact than print it is rendered by Jinja every time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from jinja2 import DictLoader, Environment, StrictUndefined

from tenor.core.money import Money
from tenor.notify import render as rendering
from tenor.notify.render import ReminderFacts, Rendered, render

TEMPLATES = ("upcoming", "due_today", "overdue", "collection_notice", "demand_letter")
CHANNELS = ("sms", "push", "email", "voice")
FACTS = (
    ReminderFacts("张伟", 7, 2, Money(1_034_56, "CNY"), dt.date(2026, 3, 15), -3),
    # Braces a format string would misread, and spaces a block's strip() must keep inside.
    ReminderFacts(" {0} O'Brien }{ ", 987_654_321, 12, Money(5, "USD"), dt.date(2031, 12, 1), 45),
    ReminderFacts("", 1, 1, Money(-250_00, "JPY"), dt.date(2027, 2, 1), 0),
)


def by_jinja(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Rendered]:
    """render() with the format strings turned off: Jinja renders every message."""

    def rendered(*args: object, **kwargs: object) -> Rendered:
        with monkeypatch.context() as patch:
            patch.setattr(rendering, "_layout", lambda *_: None)
            return render(*args, **kwargs)  # type: ignore[arg-type]

    return rendered


def test_every_shipped_template_is_kept_as_format_strings_that_say_what_jinja_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jinja = by_jinja(monkeypatch)
    for template in TEMPLATES:
        for locale in ("zh-CN", "en", "fr"):
            for channel in CHANNELS:
                for opt_out in (False, True):
                    if locale != "fr":
                        assert rendering._layout(locale, template, channel, opt_out) is not None
                    for facts in FACTS:
                        assert render(template, channel, locale, facts, opt_out=opt_out) == jinja(
                            template, channel, locale, facts, opt_out=opt_out
                        )


@pytest.fixture
def templates(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], None]]:
    """Render from the given template sources instead of the shipped ones."""

    def use(sources: dict[str, str]) -> None:
        environment = Environment(
            loader=DictLoader(sources), autoescape=False, undefined=StrictUndefined
        )
        monkeypatch.setattr(rendering, "_environment", lambda: environment)
        rendering._template.cache_clear()
        rendering._layout.cache_clear()

    yield use
    rendering._template.cache_clear()
    rendering._layout.cache_clear()


@pytest.mark.parametrize(
    "short",
    [
        "{% if days == 1 %}a day{% else %}{{ days }} days{% endif %} late",
        "{{ days }} days late, {{ name | upper }}",
        "{% filter upper %}{{ name }}{% endfilter %}: {{ days }} days late",
        "{% set late = days %}{{ late }} days late",
        '{% import "en/_macros.j2" as m with context %}{{ m.late() }}',
    ],
)
def test_a_template_that_does_more_with_a_fact_than_print_it_is_rendered_by_jinja(
    templates: Callable[[dict[str, str]], None], short: str
) -> None:
    templates(
        {
            "en/late.j2": "{% block short %}" + short + "{% endblock %}",
            "en/_macros.j2": "{% macro late() %}{{ days + 0 }} days late{% endmacro %}",
        }
    )
    assert rendering._layout("en", "late", "sms", False) is None
    one, many = (
        render("late", "sms", "en", ReminderFacts("Bo", 1, 1, Money(1, "CNY"), dt.date.min, days))
        for days in (1, 5)
    )
    assert "5 days late" in many.body
    assert ("a day" in one.body) == ("a day" in short)


def test_a_plain_template_is_kept_as_a_format_string(
    templates: Callable[[dict[str, str]], None],
) -> None:
    templates({"en/late.j2": "{% block short %}  {{ name }} is {{ days }} days late{% endblock %}"})
    assert rendering._layout("en", "late", "sms", False) == (None, "  {0} is {5} days late")
    facts = ReminderFacts(" Bo ", 1, 1, Money(1, "CNY"), dt.date.min, -4)
    assert render("late", "sms", "en", facts).body == "Bo  is 4 days late"
