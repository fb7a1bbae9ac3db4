"""Structured JSON logs (structlog) that never carry national ID or phone numbers.

One JSON object a line. :func:`redact` runs on every event before it is rendered: values under
keys that name personal data (``national_id``, ``phones``, ``authorization``, ...) are replaced
whole, and every other string (messages, paths, tracebacks, nested values) is scrubbed of
anything shaped like a Chinese resident ID, a phone number or an API key. Scrubbing by shape
as well as by key is what keeps a number out of the logs when it turns up somewhere nobody
planned, such as an exception message that quotes SQL parameters.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Final, TextIO

import structlog

REDACTED: Final = "[REDACTED]"

#: Keys whose whole value is personal data or a secret.
SENSITIVE_KEYS: Final = frozenset(
    {
        "national_id",
        "id_number",
        "registration_number",
        "phone",
        "phones",
        "mobile",
        "telephone",
        "contacts",
        "authorization",
        "api_key",
        "password",
        "secret",
    }
)

#: Keys Tenor itself fills with values that are never personal data.
_TRUSTED_KEYS: Final = frozenset({"timestamp", "level", "request_id", "duration_ms", "status"})

# A Chinese resident ID: 17 digits and a check digit or X (or the old 15 digits).
_NATIONAL_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# Phone numbers: a digit run, optionally with +, spaces, dots, dashes or brackets, holding at
# least nine digits; a date (eight digits) does not reach it, and a run that continues a word
# or follows a dash (the last group of a UUID) is not a phone number.
_PHONE = re.compile(r"(?<![\w+-])\+?\(?\d[\d\s().-]{6,22}\d(?!\w)")
_API_KEY = re.compile(r"tnr_([0-9a-f]{16})_[A-Za-z0-9_-]+")
_MIN_PHONE_DIGITS: Final = 9


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(character.isdigit() for character in text)
    return REDACTED if digits >= _MIN_PHONE_DIGITS else text


def scrub(text: str) -> str:
    """``text`` with ID numbers, phone numbers and API key secrets replaced."""
    text = _API_KEY.sub(rf"tnr_\1_{REDACTED}", text)
    text = _NATIONAL_ID.sub(REDACTED, text)
    return _PHONE.sub(_phone, text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in SENSITIVE_KEYS else _clean(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(repr(value))


def redact(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: personal data out of every key and value of ``event``."""
    for key, value in list(event.items()):
        if key.lower() in SENSITIVE_KEYS:
            event[key] = REDACTED
        elif key not in _TRUSTED_KEYS:
            event[key] = _clean(value)
    return event


def configure_logging(*, file: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send Tenor's logs to ``file`` (standard output by default) as redacted JSON lines."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            # Tracebacks as plain text, without the local variables that could hold loan data;
            # redaction runs after, over the text.
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=file or sys.stdout),
        # Not cached: configure_logging can be called again (tests, `tenor serve`) and every
        # logger must follow the latest configuration.
        cache_logger_on_first_use=False,
    )


def get_logger() -> Any:
    """Tenor's API logger."""
    return structlog.get_logger("tenor.api")
