"""Bureau files from the store, on SQLite and PostgreSQL: each month's Metro 2 record read back
by field position and compared with the journal's month-end state; PBOC-style records;
held-back accounts; disputes; corrections; the migration."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from tenor.actions import loans
from tenor.bureau import records
from tenor.bureau.export import Export, metro2_export, parse_month, pboc_csv, pboc_export
from tenor.bureau.records import BureauInputError
from tenor.bureau.snapshot import load_history
from tenor.bureau.tables import (  # also registers the tables on Base.metadata
    BureauAccount,
    BureauDispute,
)
from tenor.core.bureau import Metro2File, decode_file, metro2_months, whole_units
from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money
from tenor.store.database import Database
from tenor.store.models import Base
from tests.bureau.helpers import set_day, usd_loan

NOW = dt.datetime(2026, 8, 1, 9, 0, tzinfo=dt.UTC)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def export(db: Database, month: str, loan_id: int | None = None) -> tuple[Export, Metro2File]:
    with db.transaction() as session:
        result = metro2_export(session, parse_month(month), NOW, loan_id=loan_id)
    return result, decode_file(result.text)


def test_a_loan_month_by_month_read_back_by_field_position(db: Database) -> None:
    """Pays February, then nothing: 11, 11, 11, 71, 78, 80; the file says what the journal says."""
    loan_id, _ = usd_loan(db)
    set_day(db, dt.date(2026, 2, 15))
    loans.post_repayment(db, loan_id, amount=usd("1053.16"), value_date=dt.date(2026, 2, 15))
    set_day(db, dt.date(2026, 7, 1))
    statuses = []
    for month in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"):
        result, parsed = export(db, month)
        assert result.held_back == []
        (record,) = parsed.records
        base = record.base
        end = parse_month(month)
        with db.reading() as session:
            history = load_history(session, loan_id, end)
        facts = history.months[-1]
        derived = metro2_months(history.months)[-1]
        assert base.account_status == derived.account_status
        assert base.payment_history_profile == derived.payment_history_profile
        assert base.current_balance == whole_units(facts.balance)
        assert base.date_of_account_information == end
        assert base.date_of_first_delinquency == derived.date_of_first_delinquency
        assert base.date_opened == dt.date(2026, 1, 15)
        assert base.highest_credit == 6000
        assert (base.terms_duration, base.terms_frequency) == ("006", "M")
        assert base.consumer.surname == "DOE"
        assert base.consumer.social_security_number == 123456789
        assert base.address.state == "IL"
        assert parsed.trailer.total_base_records == 1
        assert dict(parsed.trailer.status_counts) == {base.account_status: 1}
        statuses.append(base.account_status)
    assert statuses == ["11", "11", "11", "71", "78", "80"]
    assert base.payment_history_profile == "21000" + "B" * 19
    assert base.date_of_first_delinquency == dt.date(2026, 3, 15) + dt.timedelta(days=30)
    assert base.amount_past_due == whole_units(facts.past_due)
    assert base.date_of_last_payment == dt.date(2026, 2, 15)


def test_charge_off_then_paid_in_full_after_it(db: Database) -> None:
    loan_id, _ = usd_loan(db, principal="1200", term=3)
    set_day(db, dt.date(2026, 8, 10))
    loans.write_off(db, loan_id, value_date=dt.date(2026, 8, 10))
    _, parsed = export(db, "2026-07")
    assert parsed.records[0].base.account_status == "83"
    set_day(db, dt.date(2026, 9, 1))
    _, parsed = export(db, "2026-08")
    base = parsed.records[0].base
    assert base.account_status == "97"
    assert base.original_charge_off_amount > 0
    assert base.date_closed == dt.date(2026, 8, 10)
    with db.reading() as session:
        written_off = load_history(session, loan_id, parse_month("2026-08")).months[-1].balance
    set_day(db, dt.date(2026, 9, 20))
    loans.recover(db, loan_id, amount=written_off, value_date=dt.date(2026, 9, 20))
    set_day(db, dt.date(2026, 10, 1))
    _, parsed = export(db, "2026-09")
    base = parsed.records[0].base
    assert (base.account_status, base.current_balance) == ("64", 0)
    assert base.payment_history_profile == "L5432100" + "B" * 16
    set_day(db, dt.date(2026, 11, 1))
    result, parsed = export(db, "2026-10")
    assert parsed.records == ()
    assert result.not_reported == 1


def test_accounts_that_cannot_be_reported_are_held_back_with_reasons(db: Database) -> None:
    good, _ = usd_loan(db)
    nameless, _ = usd_loan(db, identity=False)
    yuan, _ = usd_loan(db, currency="CNY")
    set_day(db, dt.date(2026, 3, 1))
    result, parsed = export(db, "2026-02")
    assert [r.base.consumer_account_number for r in parsed.records] == [str(good)]
    held = {h.loan_id: h.reasons for h in result.held_back}
    assert set(held) == {nameless, yuan}
    assert "no Metro 2 identification" in held[nameless][0]
    assert any("the loan is in CNY" in reason for reason in held[yuan])
    assert parsed.trailer.block_count == 3


def test_dispute_codes_xb_then_xh_or_xc(db: Database) -> None:
    loan_id, _ = usd_loan(db)
    set_day(db, dt.date(2026, 5, 1))
    with db.transaction() as session:
        records.open_dispute(session, loan_id, dt.date(2026, 2, 10))
    codes = [
        export(db, m)[1].records[0].base.compliance_condition_code
        for m in ("2026-01", "2026-02", "2026-03")
    ]
    assert codes == ["", "XB", "XB"]
    with db.transaction() as session:
        records.resolve_dispute(session, loan_id, dt.date(2026, 4, 2), consumer_disagrees=False)
        with pytest.raises(BureauInputError, match="no open dispute"):
            records.resolve_dispute(session, loan_id, dt.date(2026, 4, 3), consumer_disagrees=True)
    assert export(db, "2026-04")[1].records[0].base.compliance_condition_code == "XH"
    assert export(db, "2026-03")[1].records[0].base.compliance_condition_code == "XB"


def test_a_correction_re_reports_a_past_month_as_the_journal_says_now(db: Database) -> None:
    loan_id, _ = usd_loan(db)
    set_day(db, dt.date(2026, 5, 1))
    _, before = export(db, "2026-03")
    assert before.records[0].base.account_status == "71"
    # A payment of 15 February, found late, is posted with its own value date.
    loans.post_repayment(db, loan_id, amount=usd("1053.16"), value_date=dt.date(2026, 2, 15))
    _, corrected = export(db, "2026-03", loan_id=loan_id)
    base = corrected.records[0].base
    assert (base.account_status, base.correction_indicator) == ("11", 1)
    assert base.date_of_first_delinquency is None
    with db.transaction() as session:
        deleted = metro2_export(
            session, parse_month("2026-03"), NOW, loan_id=loan_id, delete_as="DA"
        )
        records.delete_account(session, loan_id, "DA", "2026-03")
    assert decode_file(deleted.text).records[0].base.account_status == "DA"
    result, parsed = export(db, "2026-04")
    assert parsed.records == ()
    assert result.not_reported == 1
    with db.transaction() as session, pytest.raises(BureauInputError, match="nothing to report"):
        metro2_export(session, parse_month("2025-12"), NOW, loan_id=loan_id)


def test_special_comment_and_collections_from_recorded_data(db: Database) -> None:
    loan_id, _ = usd_loan(db)
    set_day(db, dt.date(2026, 6, 1))
    with db.transaction() as session:
        records.add_comment(session, loan_id, "deferred", dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        records.assign_to_collections(session, loan_id, dt.date(2026, 5, 10))
        records.set_original_creditor(session, loan_id, "First Bank", 2)
    comments = [
        export(db, m)[1].records[0].base.special_comment for m in ("2026-02", "2026-03", "2026-04")
    ]
    assert comments == ["", "CP", ""]
    _, parsed = export(db, "2026-05")
    record = parsed.records[0]
    assert record.base.account_status == "93"
    assert record.k1 is not None
    assert record.k1.original_creditor_name == "FIRST BANK"
    assert parsed.trailer.total_k1_segments == 1
    with db.transaction() as session, pytest.raises(BureauInputError, match="unknown kind"):
        records.add_comment(session, loan_id, "forgiven", dt.date(2026, 3, 1), None)


def test_pboc_records_json_and_csv(db: Database) -> None:
    loan_id, _ = usd_loan(db, currency="CNY")
    set_day(db, dt.date(2026, 2, 15))
    loans.post_repayment(
        db, loan_id, amount=Money.of("1053.16", "CNY"), value_date=dt.date(2026, 2, 15)
    )
    set_day(db, dt.date(2026, 5, 1))
    with db.transaction() as session:
        result = pboc_export(session, parse_month("2026-04"))
        as_csv = pboc_export(session, parse_month("2026-04"), as_csv=True)
    document = json.loads(result.text)
    (record,) = document["records"]
    assert document["month"] == "2026-04"
    assert record["history_24"] == "/" * 20 + "*N12"
    assert record["status_character"] == "2"
    assert record["account_status"] == "逾期"
    assert (record["loan_class"], record["loan_class_zh"]) == (2, "关注")
    assert record["days_past_due"] == 47
    header, row = as_csv.text.splitlines()
    assert header.split(",")[0] == "loan_id"
    assert row.split(",")[0] == str(loan_id)
    assert pboc_csv([]) == header + "\n"


def test_bad_input_changes_nothing(db: Database) -> None:
    loan_id, _ = usd_loan(db)
    set_day(db, dt.date(2026, 3, 15))
    with pytest.raises(InvalidArgumentError, match="YYYY-MM"):
        parse_month("2026-13")
    with db.transaction() as session, pytest.raises(BureauInputError, match="has not ended"):
        metro2_export(session, parse_month("2026-03"), NOW)
    with db.transaction() as session, pytest.raises(BureauInputError, match="Latin letters"):
        records.set_consumer(
            session,
            1,
            records.ConsumerInput(
                surname="张",
                first_name="伟",
                first_line_address="x",
                city="x",
                state="IL",
                postal_code="62701",
                social_security_number="123456789",
            ),
        )
    with db.transaction() as session:
        records.open_dispute(session, loan_id, dt.date(2026, 3, 1))
    with db.transaction() as session, pytest.raises(BureauInputError, match="already has"):
        records.open_dispute(session, loan_id, dt.date(2026, 3, 2))
    with db.reading() as session:
        assert session.get(BureauAccount, loan_id) is None
        assert len(session.scalars(select(BureauDispute)).all()) == 1


def test_the_migration_matches_the_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if "bureau" in repr(d)] == []
