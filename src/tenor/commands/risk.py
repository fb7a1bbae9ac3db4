"""``tenor risk``, ``tenor price``, ``tenor ews`` and ``tenor report ecl``.

Scorecards (evaluate, train, promote, score, monitor), risk-based pricing, enterprise early
warning (statements in, the watchlist out) and the IFRS 9 expected-credit-loss report. The
model libraries (pandas, scikit-learn, optbinning) load inside the commands, so that the rest
of ``tenor`` starts without them.
"""

# Imports inside the commands are the design (see above).
# ruff: noqa: PLC0415

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from tenor.commands import reports
from tenor.commands.opening import database_errors, open_database

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _fail(message: str) -> NoReturn:
    from tenor.cli import fail

    fail(message)


@contextmanager
def _domain_errors() -> Iterator[None]:
    from tenor.cli import domain_errors

    with domain_errors():
        yield


def _print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _dataset(raw: str) -> Any:
    from tenor.risk.datasets import Dataset

    try:
        return Dataset(raw.strip().lower())
    except ValueError:
        names = ", ".join(item.value for item in Dataset)
        _fail(f"--dataset must be one of {names}, got {raw!r}")


def _month(raw: str) -> str:
    text = raw.strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        _fail(f"--month must be a month YYYY-MM, got {raw!r}")
    return text


def _positive(option: str, raw: str, maximum: int, minimum: int = 1) -> int:
    text = raw.strip()
    if not re.fullmatch(r"\d+", text) or not minimum <= int(text) <= maximum:
        _fail(f"{option} must be a whole number from {minimum} to {maximum}, got {raw!r}")
    return int(text)


# ---------------------------------------------------------------------------------------------
# tenor risk evaluate


def risk_evaluate(
    dataset: Annotated[
        str, typer.Option("--dataset", help="german-credit or credit-data.", show_default=False)
    ],
    repeats: Annotated[
        str, typer.Option("--repeats", help="Repeats of stratified 5-fold CV.")
    ] = "3",
    seed: Annotated[str, typer.Option("--seed", help="Seed of the folds and models.")] = "0",
    json_output: JsonOption = False,
) -> None:
    """Cross-validate Tenor's scorecard against four other models on the same folds.

    Prints AUC, Gini, KS, Brier score and calibration slope and intercept of each model: tenor,
    logistic, optbinning, toad, hgb (and the LightGBM challenger). toad comes with the
    risk-compare extra.
    """
    chosen = _dataset(dataset)
    times = _positive("--repeats", repeats, 20)
    seed_number = _positive("--seed", seed, 2**31 - 1, minimum=0)
    from tenor.risk.datasets import load
    from tenor.risk.evaluate import COMPARE_EXTRA, MissingExtraError, evaluate

    try:
        import toad  # noqa: F401
    except ImportError:
        _fail(
            f"the comparison needs toad: install the {COMPARE_EXTRA} extra "
            f"(pip install 'tenor[{COMPARE_EXTRA}]'; ./run installs it)"
        )
    frame, outcome = load(chosen)
    from tenor.commands.book import _progress

    with _progress(f"{chosen.value}: folds") as bar:
        task = bar.add_task(f"{chosen.value}: folds", total=5 * times, note="")
        try:
            report = evaluate(
                frame,
                outcome,
                repeats=times,
                seed=seed_number,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        except MissingExtraError as error:
            _fail(str(error))
    report["dataset"] = chosen.value
    if json_output:
        _print_json(report)
        return
    _print_evaluation(report)


def _print_evaluation(report: dict[str, Any]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{report['dataset']}: {report['rows']} applicants, bad rate "
        f"{report['bad_rate']:.1%}, {report['repeats']} x {report['folds']}-fold CV "
        f"(seed {report['seed']})",
        box=box.SIMPLE,
    )
    for heading in ("model", "AUC", "±", "Gini", "KS", "Brier", "cal. slope", "cal. intercept"):
        table.add_column(heading, justify="left" if heading == "model" else "right")
    for name, item in report["models"].items():
        table.add_row(
            name,
            f"{item['auc']:.4f}",
            f"{item['auc_std']:.4f}",
            f"{item['gini']:.4f}",
            f"{item['ks']:.4f}",
            f"{item['brier']:.4f}",
            f"{item['calibration_slope']:.3f}",
            f"{item['calibration_intercept']:.3f}",
        )
    Console(highlight=False).print(table)


# ---------------------------------------------------------------------------------------------
# tenor risk train / promote / models / score / monitor


def risk_train(
    dataset: Annotated[
        str, typer.Option("--dataset", help="german-credit or credit-data.", show_default=False)
    ],
    by: Annotated[str, typer.Option("--by", help="Who trains it, for the registry.")] = "cli",
    json_output: JsonOption = False,
) -> None:
    """Fit the scorecard on a data set and register it as a candidate (a new version)."""
    from tenor.risk.registry import model_document, train

    chosen = _dataset(dataset)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        document = model_document(train(session, chosen, actor=by.strip()[:64] or "cli"))
    db.dispose()
    if json_output:
        _print_json(document)
        return
    typer.echo(
        f"model {document['id']}: {document['name']} v{document['version']} "
        f"({document['status']}), training AUC {document['metrics']['training_auc']:.4f}, "
        f"data sha256 {document['data_sha256'][:12]}"
    )


def risk_promote(
    model_id: Annotated[str, typer.Argument(help="The model's id.", metavar="ID")],
    by: Annotated[str, typer.Option("--by", help="Who promotes it.", show_default=False)],
    json_output: JsonOption = False,
) -> None:
    """Make a registered model its name's champion (the previous one is retired)."""
    from tenor.risk.registry import model_document, promote

    number = _positive("ID", model_id, 2**63 - 1)
    who = by.strip()
    if not who:
        _fail("--by must name who promotes the model")
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        row = promote(session, number, actor=who[:64], now=dt.datetime.now(dt.UTC))
        document = model_document(row)
    db.dispose()
    if json_output:
        _print_json(document)
        return
    typer.echo(f"model {document['id']} is now the champion of {document['name']}")


def risk_models(json_output: JsonOption = False) -> None:
    """List the registered models."""
    from sqlalchemy import select

    from tenor.risk.registry import model_document
    from tenor.risk.tables import RiskModel

    db = open_database()
    with database_errors(db.url), db.reading() as session:
        documents = [
            model_document(row) for row in session.scalars(select(RiskModel).order_by(RiskModel.id))
        ]
    db.dispose()
    if json_output:
        _print_json({"models": documents})
        return
    for item in documents:
        typer.echo(
            f"{item['id']:>4}  {item['name']} v{item['version']}  {item['status']:<9}  "
            f"AUC(train) {item['metrics']['training_auc']:.4f}  "
            f"promoted by {item['promoted_by'] or '-'}"
        )


def risk_score(
    file: Annotated[Path, typer.Argument(help="CSV of applicants, with a 'subject' column.")],
    model: Annotated[str, typer.Option("--model", help="The model's name.", show_default=False)],
    month: Annotated[str, typer.Option("--month", help="YYYY-MM the scores belong to.")],
    json_output: JsonOption = False,
) -> None:
    """Score applicants by the champion and record the scores for stability monitoring."""
    import pandas as pd

    from tenor.risk.registry import champion, record_scores

    chosen = _month(month)
    if not file.is_file():
        _fail(f"no file at {file}")
    try:
        frame = pd.read_csv(file)
    except (ValueError, UnicodeDecodeError) as error:
        _fail(f"{file.name} is not a CSV file: {error}")
    if "subject" not in frame.columns:
        _fail(f"{file.name} needs a 'subject' column naming each applicant")
    subjects = frame.pop("subject").astype(str).tolist()
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        row, card = champion(session, model.strip())
        try:
            scored = record_scores(session, row, card, frame, month=chosen, subjects=subjects)
        except ValueError as error:
            _fail(str(error))
    db.dispose()
    documents = [
        {"subject": subject, "score": int(score), "probability": round(float(probability), 6)}
        for subject, score, probability in zip(
            subjects, scored["score"], scored["probability"], strict=True
        )
    ]
    if json_output:
        _print_json({"model": model, "month": chosen, "scores": documents})
        return
    typer.echo(f"{len(documents)} applicants scored by {model} for {chosen}")


def risk_monitor(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM.", show_default=False)],
    model: Annotated[str, typer.Option("--model", help="The model's name.")] = "pd-credit-data",
    json_output: JsonOption = False,
) -> None:
    """Population stability (PSI) of the champion's scores and characteristics in a month."""
    from tenor.risk.registry import monitor

    chosen = _month(month)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.reading() as session:
        report = monitor(session, model.strip(), chosen)
    db.dispose()
    if json_output:
        _print_json(report)
        return
    flag = "ALERT" if report["score"]["alert"] else "stable"
    typer.echo(f"{model} {chosen}: {report['count']} scores, PSI {report['score']['psi']} {flag}")
    for name, item in report["characteristics"].items():
        typer.echo(f"  {name:<24} PSI {item['psi']:.4f}{'  ALERT' if item['alert'] else ''}")


# ---------------------------------------------------------------------------------------------
# tenor price


def price_command(
    score: Annotated[
        str, typer.Option("--score", help="The borrower's score.", show_default=False)
    ],
    term: Annotated[str, typer.Option("--term", help="Months.", show_default=False)],
    amount: Annotated[str, typer.Option("--amount", help="In major units.", show_default=False)],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code.")] = "CNY",
    json_output: JsonOption = False,
) -> None:
    """Price a loan by risk: funding + expected loss + operating cost + capital + margin."""
    from tenor.cli import parse_amount, parse_count, parse_currency
    from tenor.risk.pricing import price

    with _domain_errors():
        code = parse_currency("--currency", currency)
        result = price(
            score=parse_count("--score", score),
            term_months=parse_count("--term", term),
            amount=parse_amount("--amount", amount, code),
        )
    document = result.document()
    if json_output:
        _print_json(document)
        return
    typer.echo(
        f"score {document['score']}: PD {document['probability_of_default']}, "
        f"{document['amount']} {document['currency']} over {document['term_months']} months"
    )
    for name, value in document["components"].items():
        typer.echo(f"  {name.replace('_', ' '):<16} {float(value) * 100:7.2f}%")
    typer.echo(f"  {'rate':<16} {float(document['rate']) * 100:7.2f}%")


# ---------------------------------------------------------------------------------------------
# tenor ews


def ews_ingest(
    file: Annotated[Path, typer.Argument(help="Statements: .json, .csv or .xlsx.")],
    borrower: Annotated[str, typer.Option("--borrower", help="The enterprise's id.")],
    json_output: JsonOption = False,
) -> None:
    """Ingest an enterprise's financial statements and run the early-warning rules."""
    from tenor.risk.actions import ingest_statements
    from tenor.risk.statements import read_statements

    number = _positive("--borrower", borrower, 2**63 - 1)
    if not file.is_file():
        _fail(f"no file at {file}")
    with _domain_errors():
        statements = read_statements(file)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        result = ingest_statements(session, number, statements, source=file.name)
        document = result.document()
    db.dispose()
    if json_output:
        _print_json(document)
        return
    typer.echo(
        f"borrower {number}: {len(document['periods'])} statements, "
        f"{len(document['signals'])} signals, "
        f"{document['watchlist_opened']} watchlist entries opened"
    )
    for signal in document["signals"]:
        typer.echo(f"  {signal['period_end']} {signal['severity']:<8} {signal['detail']}")


def ews_watchlist(
    json_output: JsonOption = False,
    lang: Annotated[str, typer.Option("--lang", help="zh-CN or en, for the tasks.")] = "en",
) -> None:
    """The open watchlist: breaches first, each with its task for the relationship manager."""
    from tenor.risk.actions import watchlist

    if lang not in ("zh-CN", "en"):
        _fail(f"--lang must be zh-CN or en, got {lang!r}")
    db = open_database()
    with database_errors(db.url), db.reading() as session:
        entries = watchlist(session)
    db.dispose()
    if json_output:
        _print_json({"entries": entries})
        return
    for entry in entries:
        typer.echo(
            f"{entry['period_end']} borrower {entry['borrower_id']} loan {entry['loan_id']} "
            f"{entry['severity']}: {entry['task'][lang]}"
        )


# ---------------------------------------------------------------------------------------------
# tenor report ecl


def report_ecl(json_output: JsonOption = False) -> None:
    """IFRS 9 expected credit loss of the open book by stage and segment."""
    from tenor.risk.reports import ecl_report

    db = open_database()
    with database_errors(db.url), db.reading() as session:
        report = ecl_report(session)
    db.dispose()
    if json_output:
        _print_json(report)
        return
    for line in report["lines"]:
        typer.echo(
            f"stage {line['stage']} {line['segment']:<10} {line['loans']:>6} loans  "
            f"exposure {line['exposure']:>18} {line['currency']}  ECL {line['ecl']:>16}  "
            f"coverage {float(line['coverage']):.2%}"
        )


# ---------------------------------------------------------------------------------------------
# Registration


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    risk = typer.Typer(
        name="risk",
        help="PD scorecards: evaluate, train, promote, score, monitor.",
        no_args_is_help=True,
    )
    risk.command("evaluate")(risk_evaluate)
    risk.command("train")(risk_train)
    risk.command("promote")(risk_promote)
    risk.command("models")(risk_models)
    risk.command("score")(risk_score)
    risk.command("monitor")(risk_monitor)
    app.add_typer(risk)
    app.command("price")(price_command)
    ews = typer.Typer(
        name="ews",
        help="Enterprise early warning: statements and the watchlist.",
        no_args_is_help=True,
    )
    ews.command("ingest")(ews_ingest)
    ews.command("watchlist")(ews_watchlist)
    app.add_typer(ews)
    reports.report.command("ecl")(report_ecl)
