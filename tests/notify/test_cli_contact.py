"""``tenor contact check``: the CLI contract other tools depend on.

The first test runs the installed command as a tool runs it; the others run the same Typer app
in process, which is the same code without a process start each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenor.cli import app

TENOR = Path(sys.executable).parent / "tenor"

EVENING = [
    "contact", "check", "--profile", "us-regf", "--channel", "call",
    "--at", "2026-03-02T20:30:00", "--timezone", "America/New_York", "--debt", "L1", "--json",
]  # fmt: skip


def installed(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TENOR), *args], capture_output=True, text=True, check=False, timeout=60
    )


def tenor(*args: str) -> subprocess.CompletedProcess[str]:
    result = CliRunner().invoke(app, list(args), prog_name="tenor")
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def test_allowed_and_refused_both_exit_zero_with_json(tmp_path: Path) -> None:
    allowed = installed(*EVENING)
    assert (allowed.returncode, json.loads(allowed.stdout)) == (0, {"allowed": True})
    history = tmp_path / "history.json"
    history.write_text(
        json.dumps(
            [
                {
                    "at": "2026-03-01T10:00:00-05:00",
                    "channel": "call",
                    "debt": "L1",
                    "connected": True,
                    "conversation": True,
                    "contact": "debtor",
                }
            ]
        )
    )
    refused = installed(*EVENING, "--history", str(history))
    assert refused.returncode == 0, refused.stderr
    assert json.loads(refused.stdout) == {
        "allowed": False,
        "rule": "after_conversation",
        "reason": "a telephone conversation about this debt on 2026-03-01; no call for 7 days "
        "counting that day",
        # Day 7 is 7 March; 8 March is after the clocks went forward in New York.
        "next_allowed_at": "2026-03-08T08:00:00-04:00",
    }


def test_third_party_and_quiet_hours_under_the_chinese_profiles() -> None:
    nifa = tenor(
        "contact", "check", "--profile", "cn-nifa-2024", "--channel", "call",
        "--at", "2026-03-02T10:00:00+08:00", "--third-party", "--json",
    )  # fmt: skip
    assert json.loads(nifa.stdout)["rule"] == "third_party"
    late = tenor(
        "contact", "check", "--profile", "cn-cba-2026", "--channel", "sms",
        "--at", "2026-03-02T22:00:00", "--timezone", "Asia/Shanghai", "--json",
    )  # fmt: skip
    assert json.loads(late.stdout)["next_allowed_at"] == "2026-03-03T08:00:00+08:00"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--profile", "eu-gdpr"), "unknown contact profile 'eu-gdpr'"),
        (("--channel", "fax"), "--channel must be one of call, sms, email, push, visit"),
        (("--at", "tomorrow"), "--at must be an ISO 8601 date-time"),
        (("--at", "2026-03-08T02:30:00"), "does not exist in America/New_York"),
        (("--timezone", "Mars/Olympus"), "--timezone must be an IANA time zone"),
        (("--history", "/nonexistent/history.json"), "--history cannot read"),
    ],
)
def test_bad_input_exits_two_with_one_line(change: tuple[str, str], message: str) -> None:
    args = list(EVENING)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args.extend(change)
    result = tenor(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_a_history_entry_that_does_not_validate_is_named(tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps([{"at": "2026-03-01T10:00:00", "channel": "call"}]))
    result = tenor(*EVENING, "--history", str(history))
    assert result.returncode == 2
    assert "--history entry 1: at needs a UTC offset" in result.stderr
    history.write_text(json.dumps([{"at": "2026-03-01T10:00:00Z", "channel": "fax"}]))
    assert "--history entry 1: channel" in tenor(*EVENING, "--history", str(history)).stderr
