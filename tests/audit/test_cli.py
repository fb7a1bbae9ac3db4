"""``tenor audit`` as a person runs it: keys, tree heads, verify, receipts checked offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenor.audit.keys import load_signer, public_pem
from tenor.cli import app
from tenor.store.database import Database
from tests.audit.conftest import small_book

runner = CliRunner()


def tenor(*arguments: str) -> tuple[int, str, str]:
    """Run ``tenor ARGUMENTS`` in process: exit status, stdout, stderr."""
    result = runner.invoke(app, list(arguments))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def book_url(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("TENOR_DATABASE_URL", db.url)
    return db


def test_sign_verify_and_a_receipt_checked_with_no_database(
    book_url: Database, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, paid = small_book(book_url)
    status, out, err = tenor("audit", "sign", "--json")
    assert status == 0, err
    assert json.loads(out)["tree_size"] == 5
    status, out, err = tenor("audit", "verify")
    assert (status, err) == (0, "")
    assert out.strip().endswith("1 signed tree heads: holds")
    receipt = tmp_path / "receipt.json"
    status, out, err = tenor("audit", "receipt", "--loan", str(first))
    assert status == 0, err
    assert json.loads(out)["event"]["event_id"] == paid[2]
    status, out, err = tenor("audit", "receipt", paid[0], "--out", str(receipt))
    assert status == 0, err
    public = tmp_path / "tenor-audit.pub"
    status, out, err = tenor("audit", "public-key")
    public.write_text(out)
    assert out == public_pem(load_signer(key_file).public_key)
    # Offline: no database anywhere, no signing key.
    monkeypatch.setenv("TENOR_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nowhere")
    monkeypatch.delenv("TENOR_AUDIT_KEY")
    status, out, err = tenor("audit", "verify-receipt", str(receipt), "--public-key", str(public))
    assert status == 0, err
    english, chinese = out.strip().splitlines()
    assert english.startswith("Verified: repayment-received of 100.00 CNY on loan")
    assert chinese.startswith("已验证")
    forged = json.loads(receipt.read_text())
    forged["event"]["payload"]["amount"]["amount"] = "1000.00"
    receipt.write_text(json.dumps(forged))
    status, out, err = tenor(
        "audit", "verify-receipt", str(receipt), "--public-key", str(public), "--json"
    )
    assert status == 1
    assert json.loads(out) == {
        "ok": False,
        "reason": "the event is not the leaf: it was changed after the receipt was made",
    }


def test_verify_exits_1_and_names_the_edited_event(book_url: Database, key_file: Path) -> None:
    first, _, paid = small_book(book_url)
    assert tenor("audit", "sign")[0] == 0
    with book_url.engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE journal SET actor = 'someone' WHERE event_id = '{paid[2]}'"
        )
    status, out, _ = tenor("audit", "verify", "--json")
    assert status == 1
    report = json.loads(out)
    assert not report["ok"]
    assert report["findings"][0] | {"message": ""} == {
        "kind": "edited",
        "loan_id": first,
        "sequence": 4,
        "event_id": paid[2],
        "leaf_index": 4,
        "message": "",
    }
    assert report["findings"][1]["kind"] == "tree-head"


def test_bad_input_is_one_line_and_exit_2(
    book_url: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_book(book_url)
    monkeypatch.setenv("TENOR_AUDIT_KEY", str(tmp_path / "missing.pem"))
    status, _, err = tenor("audit", "sign")
    assert status == 2
    assert err.startswith("error: no audit signing key at")
    assert len(err.strip().splitlines()) == 1
    status, _, err = tenor("audit", "receipt")
    assert (status, err.strip()) == (2, "error: give either EVENT or --loan ID")
    status, _, err = tenor("audit", "receipt", "no-such-event")
    assert (status, err.strip()) == (2, "error: event no-such-event does not exist")
    status, _, err = tenor("audit", "receipt", "not json", "--out", "x")
    assert status == 2
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    status, _, err = tenor("audit", "verify-receipt", str(garbage), "--public-key", str(garbage))
    assert (status, err.strip()) == (2, f"error: the receipt {garbage} is not JSON")
    receipt = tmp_path / "receipt.json"
    receipt.write_text("{}")
    status, _, err = tenor("audit", "verify-receipt", str(receipt), "--public-key", str(garbage))
    assert (status, err.strip()) == (2, f"error: --public-key {garbage} is not a PEM public key")
    key = tmp_path / "key.pem"
    assert tenor("audit", "keygen", "--key", str(key))[0] == 0
    assert key.stat().st_mode & 0o777 == 0o600
    assert repr(load_signer(key)).startswith("Signer(fingerprint=")
    assert key.read_text() not in repr(load_signer(key))
    status, _, err = tenor("audit", "keygen", "--key", str(key))
    assert (status, err.strip()) == (2, f"error: {key} already exists; it is not overwritten")


def test_a_receipt_waits_for_a_signed_tree_head(book_url: Database) -> None:
    _, _, paid = small_book(book_url)
    status, _, err = tenor("audit", "receipt", paid[0])
    assert status == 2
    assert "is not yet under a signed tree head" in err
