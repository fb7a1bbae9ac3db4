"""Email bounces through real servers: a reminder sent through SmtpEmail to an SMTP server, its
bounce (Postfix's RFC 3464 report, qmail's and Exim's own formats) mailed to Tenor's bounce
listener, which delivers it into a Maildir, and the bounce mailbox read by function and CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import smtplib
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

import tenor as tenor_package
from tenor.actions import apikeys
from tenor.actions.apikeys import create_api_key
from tenor.api.app import create_app
from tenor.cli import app
from tenor.notify.bounce_listener import start_listener
from tenor.notify.bounces import BounceReport, parse_bounce, read_maildir
from tenor.notify.channels import SmtpEmail
from tenor.notify.outbox import dispatch_once
from tenor.notify.tables import Notification, TimingArm
from tenor.store.database import Database
from tenor.store.models import Borrower
from tests.conftest import make_database
from tests.notify.servers import free_port, smtp_server
from tests.notify.test_dispatch import MORNING, enqueue

BOUNCE_DOMAIN = "bounce.tenor.example"
BOUNCE_ADDRESS = f"bounces@{BOUNCE_DOMAIN}"
BORROWER = "zhang.wei@example.cn"


# --- bounces as MTAs write them ---------------------------------------------------------------


def _headers(original: Message) -> str:
    """The returned message's headers, as an MTA quotes them."""
    return "".join(f"{name}: {value}\n" for name, value in original.items())


def postfix_dsn(
    original: Message,
    *,
    recipient: str = BORROWER,
    action: str = "failed",
    status: str = "5.1.1",
    reply: str = "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox",
    quote: bool = True,
) -> bytes:
    """Postfix's report (RFC 3464 multipart/report), as its bounce daemon writes it."""
    words = reply.format(r=recipient)
    subject = (
        "Undelivered Mail Returned to Sender"
        if action == "failed"
        else "Delayed Mail (still being retried)"
    )
    intro = (
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below."
        if action == "failed"
        else "####################################################################\n"
        "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
        "####################################################################\n\n"
        "Your message could not be delivered for more than 4 hour(s).\n"
        "It will be retried until it is 5 day(s) old."
    )
    quoted = (
        "--4F1A2B3C4D.1773280805/mx.example.cn\n"
        "Content-Description: Undelivered Message Headers\n"
        "Content-Type: text/rfc822-headers\n\n"
        f"{_headers(original)}\n"
        if quote
        else ""
    )
    text = f"""Date: Thu, 12 Mar 2026 10:00:05 +0800 (CST)
From: MAILER-DAEMON@mx.example.cn (Mail Delivery System)
Subject: {subject}
To: {BOUNCE_ADDRESS}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F1A2B3C4D.1773280805/mx.example.cn"
Content-Transfer-Encoding: 7bit
Message-Id: <20260312020005.9C1D2E3F4A@mx.example.cn>

This is a MIME-encapsulated message.

--4F1A2B3C4D.1773280805/mx.example.cn
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.cn.

{intro}

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{recipient}>: host mx.example.cn[192.0.2.7] said: {words} (in reply to RCPT TO command)

--4F1A2B3C4D.1773280805/mx.example.cn
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.cn
X-Postfix-Queue-ID: 4F1A2B3C4D
X-Postfix-Sender: rfc822; {BOUNCE_ADDRESS}
Arrival-Date: Thu, 12 Mar 2026 10:00:04 +0800 (CST)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.cn
Diagnostic-Code: smtp; {words}

{quoted}--4F1A2B3C4D.1773280805/mx.example.cn--
"""
    return text.replace("\n", "\r\n").encode()


def qmail_bounce(original: Message, recipient: str = BORROWER) -> bytes:
    """qmail-send's bounce (QSBMF): plain text, the returned message quoted below a line."""
    text = f"""Date: 12 Mar 2026 02:00:06 -0000
From: MAILER-DAEMON@mail.example.cn
To: {BOUNCE_ADDRESS}
Subject: failure notice

Hi. This is the qmail-send program at mail.example.cn.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{recipient}>:
192.0.2.7 does not like recipient.
Remote host said: 550 5.1.1 <{recipient}>: mailbox unavailable
Giving up on 192.0.2.7.

--- Below this line is a copy of the message.

Return-Path: <{BOUNCE_ADDRESS}>
{original.as_string()}
"""
    return text.replace("\n", "\r\n").encode()


def exim_bounce(original: Message, recipient: str = BORROWER) -> bytes:
    """Exim's bounce: X-Failed-Recipients and the message copied after a rule."""
    text = f"""From: Mail Delivery System <Mailer-Daemon@mx.example.cn>
To: {BOUNCE_ADDRESS}
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1wXyZq-0003Ab-Cd@mx.example.cn>
X-Failed-Recipients: {recipient}
Auto-Submitted: auto-replied
Date: Thu, 12 Mar 2026 10:00:07 +0800

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {recipient}
    host mx.example.cn [192.0.2.7]
    SMTP error from remote mail server after RCPT TO:<{recipient}>:
    550 5.1.1 User unknown

------ This is a copy of the message, including all the headers. ------

{original.as_string()}
"""
    return text.replace("\n", "\r\n").encode()


def out_of_office(original: Message) -> bytes:
    """A vacation auto-reply: it answers the reminder, but it is no bounce."""
    return (
        f"From: Zhang Wei <{BORROWER}>\r\nTo: {BOUNCE_ADDRESS}\r\n"
        f"Subject: Auto: {original['Subject']}\r\nIn-Reply-To: {original['Message-ID']}\r\n"
        "Auto-Submitted: auto-replied\r\n\r\nI am away until 20 March.\r\n"
    ).encode()


# --- the servers ------------------------------------------------------------------------------


@dataclass
class Rig:
    """A reminder's way out (SMTP server) and its bounce's way back (listener, Maildir)."""

    db: Database
    mail: SmtpEmail
    sent: list[Message]
    return_paths: list[str]
    maildir: Path
    listener_port: int

    def send_reminder(self, recipient: str = BORROWER, *, loan_id: int | None = None) -> int:
        """Enqueue and dispatch one email reminder; its notification id."""
        loan = enqueue(self.db, 1, channel="email", recipient=recipient, loan_id=loan_id)
        assert dispatch_once(self.db, {"email": self.mail}, now=MORNING).outcomes == {"sent": 1}
        with self.db.reading() as session:
            return max(session.scalars(select(Notification.id).where(Notification.loan_id == loan)))

    def send_reminder_refused(self, loan_id: int) -> int:
        """Enqueue one email reminder and dispatch it, which refuses it; its id."""
        enqueue(self.db, 1, channel="email", recipient=BORROWER, loan_id=loan_id)
        assert dispatch_once(self.db, {"email": self.mail}, now=MORNING).outcomes == {"refused": 1}
        with self.db.reading() as session:
            return max(session.scalars(select(Notification.id)))

    def bounce(self, content: bytes, to: str | None = None) -> None:
        """Mail ``content`` to the bounce listener from the null sender, as MTAs send bounces."""
        with smtplib.SMTP("127.0.0.1", self.listener_port, timeout=10) as smtp:
            smtp.sendmail("", [to or BOUNCE_ADDRESS], content)

    def read(self) -> BounceReport:
        return read_maildir(self.db, self.maildir, bounce_address=BOUNCE_ADDRESS, now=MORNING)


def _rig(db: Database, tmp_path: Path, *, verp: bool = True) -> Iterator[Rig]:
    maildir = tmp_path / "bounces"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    port = free_port()
    listener = start_listener(maildir, BOUNCE_DOMAIN, "127.0.0.1", port)
    try:
        with smtp_server(tmp_path) as (mailbox, smtp_port, tls):
            mail = SmtpEmail(
                host="127.0.0.1",
                port=smtp_port,
                sender="reminders@tenor.example",
                username="tenor",
                password="mail-secret",
                tls_context=tls,
                bounce_address=BOUNCE_ADDRESS if verp else None,
            )
            yield Rig(db, mail, mailbox.messages, mailbox.return_paths, maildir, port)
    finally:
        listener.stop()


@pytest.fixture
def rig(db: Database, tmp_path: Path) -> Iterator[Rig]:
    """On SQLite and PostgreSQL."""
    yield from _rig(db, tmp_path)


@pytest.fixture
def sqlite_rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Rig]:
    """SQLite only, for what the storage path does not change."""
    yield from _rig(make_database("sqlite", tmp_path, request), tmp_path)


@pytest.fixture
def plain_rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Rig]:
    """SQLite, and reminders sent without a VERP return path."""
    yield from _rig(make_database("sqlite", tmp_path, request), tmp_path, verp=False)


def notification(db: Database, notification_id: int) -> Notification:
    with db.reading() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        session.expunge(row)
        return row


def arm_failures(db: Database, notification_id: int) -> int:
    row = notification(db, notification_id)
    with db.reading() as session:
        arm = session.get(TimingArm, (row.borrower_id, "email", row.hour))
        return 0 if arm is None else arm.failures


def filed(maildir: Path) -> dict[str, str]:
    """How many messages are left in new/, and the flags of those in cur/ ("-": none)."""
    flags = sorted(path.name.partition(":2,")[2] or "-" for path in maildir.glob("cur/*"))
    return {"new": str(len(list(maildir.glob("new/*")))), "cur": ",".join(flags)}


# --- tests ------------------------------------------------------------------------------------


def test_a_postfix_dsn_fails_the_reminder_and_counts_against_its_arm_once(rig: Rig) -> None:
    notification_id = rig.send_reminder()
    (reminder,) = rig.sent
    assert rig.return_paths == [f"bounces+{notification_id}@{BOUNCE_DOMAIN}"]
    assert notification(rig.db, notification_id).provider_id == reminder["Message-ID"]
    rig.bounce(postfix_dsn(reminder), to=rig.return_paths[0])

    report = rig.read()
    assert report.as_dict() == {
        "read": 1, "matched": 1, "bounced": 1, "delayed": 0,
        "unmatched": 0, "not_a_bounce": 0, "unreadable": 0,
    }  # fmt: skip
    row = notification(rig.db, notification_id)
    assert (row.state, row.rule, row.rewarded) == ("failed", "bounced", False)
    assert row.last_error == (
        f"bounced: 5.1.1 smtp; 550 5.1.1 <{BORROWER}>: Recipient address rejected: "
        "User unknown in virtual mailbox"
    )
    assert arm_failures(rig.db, notification_id) == 1
    assert filed(rig.maildir) == {"new": "0", "cur": "S"}

    # Read again: nothing is new. The same DSN delivered twice (the MTA retried, or a run died
    # after applying it and before filing it) changes nothing.
    assert rig.read().read == 0
    (copy,) = rig.maildir.glob("cur/*")
    shutil.copy(copy, rig.maildir / "new" / "1773280900.M1P1.redelivered")
    assert rig.read().bounced == 1
    again = notification(rig.db, notification_id)
    assert (again.state, again.last_error, again.updated_at) == (
        "failed",
        row.last_error,
        row.updated_at,
    )
    assert arm_failures(rig.db, notification_id) == 1


def test_a_bounce_that_quotes_nothing_matches_by_its_verp_address(rig: Rig) -> None:
    notification_id = rig.send_reminder()
    (reminder,) = rig.sent
    rig.bounce(postfix_dsn(reminder, quote=False), to=rig.return_paths[0])
    assert rig.read().bounced == 1
    assert notification(rig.db, notification_id).state == "failed"
    # Without the bounce address configured, nothing in it names the reminder.
    other = notification_id + 1000
    rig.bounce(postfix_dsn(reminder, quote=False), to=f"bounces+{other}@{BOUNCE_DOMAIN}")
    report = read_maildir(rig.db, rig.maildir, now=MORNING)
    assert (report.bounced, report.unmatched) == (0, 1)


@pytest.mark.parametrize(
    ("make", "diagnostic"),
    [
        (qmail_bounce, f"Remote host said: 550 5.1.1 <{BORROWER}>: mailbox unavailable"),
        (exim_bounce, "550 5.1.1 User unknown"),
    ],
    ids=["qmail", "exim"],
)
def test_qmail_and_exim_bounces_without_verp_match_by_the_quoted_message_id(
    plain_rig: Rig, make: Callable[[Message], bytes], diagnostic: str
) -> None:
    rig = plain_rig
    notification_id = rig.send_reminder()
    (reminder,) = rig.sent
    assert rig.return_paths == ["reminders@tenor.example"]
    rig.bounce(make(reminder))
    assert rig.read().bounced == 1
    row = notification(rig.db, notification_id)
    assert (row.state, row.last_error) == ("failed", f"bounced: {diagnostic}")
    assert arm_failures(rig.db, notification_id) == 1


def test_a_delay_is_noted_and_the_later_failure_fails_the_reminder(sqlite_rig: Rig) -> None:
    rig = sqlite_rig
    notification_id = rig.send_reminder()
    (reminder,) = rig.sent
    delayed = postfix_dsn(
        reminder,
        action="delayed",
        status="4.4.1",
        reply="connect to mx.example.cn[192.0.2.7]:25: Connection timed out",
    )
    rig.bounce(delayed, to=rig.return_paths[0])
    assert (rig.read().delayed, rig.read().read) == (1, 0)
    row = notification(rig.db, notification_id)
    assert row.state == "sent"
    assert row.last_error == (
        "delayed: 4.4.1 smtp; connect to mx.example.cn[192.0.2.7]:25: Connection timed out"
    )
    assert arm_failures(rig.db, notification_id) == 0
    rig.bounce(postfix_dsn(reminder), to=rig.return_paths[0])
    assert rig.read().bounced == 1
    assert notification(rig.db, notification_id).state == "failed"
    assert arm_failures(rig.db, notification_id) == 1
    assert filed(rig.maildir) == {"new": "0", "cur": "S,S"}


def test_unmatched_other_and_corrupt_messages_are_kept_and_do_not_stop_the_run(
    sqlite_rig: Rig,
) -> None:
    rig = sqlite_rig
    notification_id = rig.send_reminder()
    (reminder,) = rig.sent
    stranger = Message()
    stranger["Message-ID"] = "<20260301.abc@elsewhere.example>"
    rig.bounce(postfix_dsn(stranger, recipient="nobody@elsewhere.example"))
    # A bounce that returns our reminder but reports another address (a forward) is a person's.
    rig.bounce(postfix_dsn(reminder, recipient="forwarded@elsewhere.example"))
    rig.bounce(out_of_office(reminder), to=rig.return_paths[0])
    rig.bounce(b"\x00\x01\x02 not mail at all \xff\xfe\r\n")
    (rig.maildir / "new" / "1773281000.M2P2.truncated").write_bytes(b"Fro")
    rig.bounce(postfix_dsn(reminder), to=rig.return_paths[0])

    report = rig.read()
    assert report.as_dict() == {
        "read": 6, "matched": 1, "bounced": 1, "delayed": 0,
        "unmatched": 2, "not_a_bounce": 1, "unreadable": 2,
    }  # fmt: skip
    assert notification(rig.db, notification_id).state == "failed"
    # Nothing deleted: unmatched and unreadable flagged for a person, the auto-reply unseen.
    assert filed(rig.maildir) == {"new": "0", "cur": "-,F,F,F,F,S"}
    assert rig.read().read == 0


def test_parse_tells_permanent_from_temporary_and_reads_no_bounce_into_a_reply() -> None:
    reminder = Message()
    reminder["Message-ID"] = "<1.2.reminder@tenor.example>"
    failed = parse_bounce(postfix_dsn(reminder))
    delayed = parse_bounce(postfix_dsn(reminder, action="delayed", status="4.2.2"))
    assert failed is not None
    assert delayed is not None
    assert (failed.permanent, failed.temporary) == (frozenset({BORROWER}), frozenset())
    assert (delayed.permanent, delayed.temporary) == (frozenset(), frozenset({BORROWER}))
    assert failed.message_ids == ("<1.2.reminder@tenor.example>",)
    assert parse_bounce(out_of_office(reminder)) is None


def tenor(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), prog_name="tenor")
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_reads_the_mailbox_and_refuses_a_missing_one_in_one_line(
    sqlite_rig: Rig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rig = sqlite_rig
    monkeypatch.setenv("TENOR_DATABASE_URL", rig.db.url)
    monkeypatch.setenv("TENOR_SMTP_BOUNCE_ADDRESS", BOUNCE_ADDRESS)
    notification_id = rig.send_reminder()
    (reminder,) = rig.sent
    rig.bounce(postfix_dsn(reminder, quote=False), to=rig.return_paths[0])
    rig.bounce(out_of_office(reminder), to=rig.return_paths[0])
    code, out, _ = tenor("notify", "bounces", "--maildir", str(rig.maildir), "--json")
    assert code == 0
    assert json.loads(out) == {
        "read": 2, "matched": 1, "bounced": 1, "delayed": 0,
        "unmatched": 0, "not_a_bounce": 1, "unreadable": 0,
    }  # fmt: skip
    assert notification(rig.db, notification_id).state == "failed"
    rig.bounce(postfix_dsn(reminder), to=rig.return_paths[0])
    code, out, _ = tenor("notify", "bounces", "--maildir", str(rig.maildir))
    assert code == 0
    assert "Not a bounce" in out
    (row,) = [line for line in out.splitlines() if line.strip("│ ").startswith("1")]
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "1", "1", "1", "0", "0", "0", "0"
    ]  # fmt: skip

    missing = tmp_path / "nowhere"
    for args, message in [
        (["--maildir", str(missing)], f"--maildir {missing} does not exist"),
        (["--maildir", str(tmp_path)], "is not a Maildir: it has no new, cur, tmp folder"),
        (
            ["--maildir", str(rig.maildir), "--bounce-address", "bounces+1@x.example"],
            "the bounce address must look like bounces@bounce.example",
        ),
    ]:
        code, out, err = tenor("notify", "bounces", *args)
        assert (code, out) == (2, "")
        assert message in err
        assert len(err.strip().splitlines()) == 1


def test_the_listener_takes_only_the_bounce_domain(sqlite_rig: Rig) -> None:
    with (
        smtplib.SMTP("127.0.0.1", sqlite_rig.listener_port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        smtp.sendmail("spam@example.net", ["victim@example.org"], b"Subject: relay?\r\n\r\nx\r\n")
    assert refused.value.recipients["victim@example.org"][0] == 550
    assert filed(sqlite_rig.maildir) == {"new": "0", "cur": ""}


def test_an_address_that_bounced_twice_is_no_longer_used_until_it_changes(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(apikeys, "_HASHER", cheap)
    first = rig.send_reminder()
    loan_id = notification(rig.db, first).loan_id
    assert loan_id is not None
    second = rig.send_reminder(loan_id=loan_id)
    borrower_id = notification(rig.db, first).borrower_id
    rig.bounce(postfix_dsn(rig.sent[0]), to=rig.return_paths[0])
    rig.read()
    # One hard bounce is not yet enough (a heuristic may misread, a full mailbox may empty).
    assert borrower(rig.db, borrower_id).email_invalid_since is None
    rig.bounce(exim_bounce(rig.sent[1]), to=rig.return_paths[1])
    rig.read()
    dead_since = borrower(rig.db, borrower_id).email_invalid_since
    assert dead_since is not None
    assert {notification(rig.db, n).state for n in (first, second)} == {"failed"}

    # A reminder written before the address died is refused at sending, and not sent.
    third = rig.send_reminder_refused(loan_id)
    assert (notification(rig.db, third).state, notification(rig.db, third).rule) == (
        "refused",
        "email_invalid",
    )
    assert len(rig.sent) == 2

    with TestClient(create_app(rig.db)) as client:
        with rig.db.transaction() as session:
            _, key = create_api_key(session, "admin")
        headers = {"Authorization": f"Bearer {key}"}
        document = client.get(f"/v1/borrowers/{borrower_id}", headers=headers).json()
        assert document["email_invalid_since"] is not None
        schema = client.get("/openapi.json").json()["components"]["schemas"]["BorrowerOut"]
        assert "bounced" in schema["properties"]["email_invalid_since"]["description"]
        changed = client.patch(
            f"/v1/borrowers/{borrower_id}/contact-preferences",
            json={"email": "zhang.wei@mail.example.com"},
            headers=headers,
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["email_invalid_since"] is None


def borrower(db: Database, borrower_id: int) -> Borrower:
    with db.reading() as session:
        row = session.get(Borrower, borrower_id)
        assert row is not None
        session.expunge(row)
        return row


def test_the_bounce_listener_command_serves_until_interrupted(tmp_path: Path) -> None:
    maildir = tmp_path / "bounces"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    port = free_port()
    # The worktree's sources, whatever the interpreter's own path says.
    environment = {**os.environ, "PYTHONPATH": str(Path(tenor_package.__file__).parents[1])}
    command = [sys.executable, "-c", "from tenor.cli import main; main()", "notify",
               "bounce-listener", "--maildir", str(maildir), "--domain", BOUNCE_DOMAIN,
               "--port", str(port)]  # fmt: skip
    listener = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
    try:
        assert listener.stdout is not None
        assert f"taking mail for {BOUNCE_DOMAIN} on 127.0.0.1:{port}" in listener.stdout.readline()
        reminder = Message()
        reminder["Message-ID"] = "<1.2.reminder@tenor.example>"
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail("", [BOUNCE_ADDRESS], postfix_dsn(reminder))
        (stored,) = maildir.glob("new/*")
        assert stored.read_bytes().startswith(
            f"Return-Path: <>\r\nDelivered-To: {BOUNCE_ADDRESS}\r\n".encode()
        )
    finally:
        listener.send_signal(signal.SIGINT)
        assert listener.wait(timeout=10) == 0
        if listener.stdout is not None:
            listener.stdout.close()
