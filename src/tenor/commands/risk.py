"""``tenor risk``, ``tenor price``, ``tenor ews`` and ``tenor report ecl``.

Scorecards (evaluate, train, promote, score, monitor), borrowers' risk profiles, propensity
to pay (evaluate, train, score), risk-based pricing, enterprise early warning (statements in,
covenants, the watchlist and its post-loan tasks out) and the IFRS 9 expected-credit-loss
report. The
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
# tenor risk evaluate-propensity / train-propensity / propensity


StepOption = Annotated[
    str, typer.Option("--step", help="Days between observation dates.", metavar="DAYS")
]
TestShareOption = Annotated[
    str, typer.Option("--test-share", help="The later share of dates held out for testing.")
]


def _share(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        _fail(f"--test-share must be a fraction between 0 and 1, got {raw!r}")
    if not 0.05 <= value <= 0.8:
        _fail(f"--test-share must be from 0.05 to 0.8, got {raw!r}")
    return value


def risk_evaluate_propensity(
    step: StepOption = "7",
    test_share: TestShareOption = "0.3",
    seed: Annotated[str, typer.Option("--seed", help="Seed of LightGBM.")] = "0",
    json_output: JsonOption = False,
) -> None:
    """Propensity to pay within 14 days, trained on the book's earlier dates and tested on
    its later ones: AUC and Brier score of logistic regression and LightGBM, and baselines."""
    from tenor.collect.features import collection_features
    from tenor.risk.propensity import evaluate

    days = _positive("--step", step, 90)
    share = _share(test_share)
    seed_number = _positive("--seed", seed, 2**31 - 1, minimum=0)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.reading() as session:
        report = evaluate(
            session,
            step_days=days,
            test_share=share,
            seed=seed_number,
            extra=collection_features(session),
        )
    db.dispose()
    if json_output:
        _print_json(report)
        return
    split = report["split"]
    typer.echo(
        f"trained on {split['train']['from']} to {split['train']['to']} "
        f"({split['train']['rows']} delinquent loan-days, {split['train']['paid']} paid within "
        f"{report['horizon_days']} days); tested on {split['test']['from']} to "
        f"{split['test']['to']} ({split['test']['rows']}, {split['test']['paid']} paid)"
    )
    for name, item in report["models"].items():
        typer.echo(f"  {name:<14} AUC {item['auc']:.4f}  Brier {item['brier']:.4f}")
    baselines = report["baselines"]
    typer.echo(
        f"  {'base rate':<14} {'':>10}  Brier {baselines['base_rate']['brier']:.4f}"
        f"   (everyone {baselines['base_rate']['rate']:.1%})"
    )
    typer.echo(f"  {'days past due':<14} AUC {baselines['days_past_due']['auc']:.4f}")


def risk_train_propensity(
    algorithm: Annotated[
        str, typer.Option("--algorithm", help="lightgbm or logistic.")
    ] = "lightgbm",
    step: StepOption = "7",
    test_share: TestShareOption = "0.3",
    seed: Annotated[str, typer.Option("--seed", help="Seed of LightGBM.")] = "0",
    by: Annotated[str, typer.Option("--by", help="Who trains it, for the registry.")] = "cli",
    json_output: JsonOption = False,
) -> None:
    """Train the propensity-to-pay model on the book's history and register it (a candidate;
    `tenor risk promote ID --by ...` makes it the one collections queues use)."""
    from tenor.collect.features import collection_features
    from tenor.risk.propensity import ALGORITHMS, train
    from tenor.risk.registry import model_document

    if algorithm not in ALGORITHMS:
        _fail(f"--algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    days = _positive("--step", step, 90)
    share = _share(test_share)
    seed_number = _positive("--seed", seed, 2**31 - 1, minimum=0)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        row = train(
            session,
            actor=by.strip()[:64] or "cli",
            algorithm=algorithm,
            step_days=days,
            test_share=share,
            seed=seed_number,
            extra=collection_features(session),
        )
        document = model_document(row)
    db.dispose()
    if json_output:
        _print_json(document)
        return
    metrics = document["metrics"]
    typer.echo(
        f"model {document['id']}: {document['name']} v{document['version']} ({algorithm}, "
        f"{document['status']}), later-period AUC {metrics['test_auc']:.4f}, "
        f"Brier {metrics['test_brier']:.4f}"
    )


def risk_propensity(
    loans: Annotated[
        list[str] | None,
        typer.Option("--loan", help="A loan to score (repeat it); default: every delinquent one."),
    ] = None,
    limit: Annotated[str, typer.Option("--limit", help="Show the N likeliest to pay.")] = "20",
    json_output: JsonOption = False,
) -> None:
    """Score delinquent loans by the promoted propensity model, likeliest to pay first."""
    from tenor.collect.features import collection_features
    from tenor.risk.propensity import MODEL_NAME, delinquent_loans, score_loans
    from tenor.store.journal import business_date

    ids = [_loan_option(item) for item in loans or []]
    shown = _positive("--limit", limit, 1_000_000)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.reading() as session:
        day = business_date(session)
        scores = score_loans(
            session, ids or delinquent_loans(session), day, extra=collection_features(session)
        )
    db.dispose()
    if scores is None:
        _fail(
            f"no {MODEL_NAME} model is promoted: run `tenor risk train-propensity`, then "
            "`tenor risk promote ID --by NAME`"
        )
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:shown]
    if json_output:
        _print_json(
            {
                "business_date": day.isoformat(),
                "scored": len(scores),
                "loans": [
                    {"loan_id": loan_id, "probability": round(value, 6)}
                    for loan_id, value in ranked
                ],
            }
        )
        return
    typer.echo(f"{len(scores)} delinquent loans scored on {day}; the likeliest to pay:")
    for loan_id, value in ranked:
        typer.echo(f"  loan {loan_id:>8}  {value:6.1%}")


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


def _loan_option(raw: str) -> int:
    return _positive("--loan", raw, 2**63 - 1)


LoanOption = Annotated[str, typer.Option("--loan", help="The loan's id.", show_default=False)]


def ews_covenants_set(
    loan: LoanOption,
    indicator: Annotated[
        str, typer.Option("--indicator", help="dscr, current_ratio, ...", show_default=False)
    ],
    minimum: Annotated[
        str | None, typer.Option("--min", help="The indicator must be at least this.")
    ] = None,
    maximum: Annotated[
        str | None, typer.Option("--max", help="The indicator must be at most this.")
    ] = None,
    headroom: Annotated[
        str | None,
        typer.Option("--headroom", help="Warn within this fraction of the threshold (0.05)."),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who sets it, for the log.")] = "cli",
    json_output: JsonOption = False,
) -> None:
    """Set one covenant of a loan (replacing its covenant on the same indicator).

    Once a loan has a covenant of its own the defaults (DSCR at least 1.20, current ratio at
    least 1.0) no longer apply to it: set every covenant its agreement has.
    """
    from tenor.risk.actions import covenants_document, set_covenant
    from tenor.risk.ews import covenant_from_text

    number = _loan_option(loan)
    with _domain_errors():
        covenant = covenant_from_text(
            indicator, minimum=minimum, maximum=maximum, headroom=headroom
        )
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        set_covenant(session, number, covenant, actor=by.strip()[:64] or "cli")
        document = covenants_document(session, number)
    db.dispose()
    _print_covenants(document, json_output)


def ews_covenants_remove(
    loan: LoanOption,
    indicator: Annotated[
        str, typer.Option("--indicator", help="The covenant's indicator.", show_default=False)
    ],
    by: Annotated[str, typer.Option("--by", help="Who removes it, for the log.")] = "cli",
    json_output: JsonOption = False,
) -> None:
    """Remove a loan's covenant on one indicator (with none left, the defaults apply)."""
    from tenor.risk.actions import covenants_document, remove_covenant

    number = _loan_option(loan)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        remove_covenant(session, number, indicator.strip().lower(), actor=by.strip()[:64] or "cli")
        document = covenants_document(session, number)
    db.dispose()
    _print_covenants(document, json_output)


def ews_covenants_list(loan: LoanOption, json_output: JsonOption = False) -> None:
    """The covenants a loan's statements are checked against (its own, or the defaults)."""
    from tenor.risk.actions import covenants_document

    number = _loan_option(loan)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.reading() as session:
        document = covenants_document(session, number)
    db.dispose()
    _print_covenants(document, json_output)


def _print_covenants(document: dict[str, Any], json_output: bool) -> None:
    if json_output:
        _print_json(document)
        return
    source = "its own" if document["source"] == "loan" else "the defaults"
    typer.echo(f"loan {document['loan_id']}: {source}")
    for item in document["covenants"]:
        rule = (
            f"at least {item['minimum']}"
            if item["minimum"] is not None
            else (f"at most {item['maximum']}")
        )
        typer.echo(f"  {item['indicator']:<18} {rule}  (warns within {item['headroom']})")


def ews_tasks(
    state: Annotated[str, typer.Option("--state", help="open, done or all.")] = "open",
    loan: Annotated[str | None, typer.Option("--loan", help="Only this loan's tasks.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh-CN or en.")] = "en",
    json_output: JsonOption = False,
) -> None:
    """Post-loan tasks the watchlist opened for relationship managers, earliest due first."""
    from tenor.risk.actions import tasks

    if state not in ("open", "done", "all"):
        _fail(f"--state must be open, done or all, got {state!r}")
    if lang not in ("zh-CN", "en"):
        _fail(f"--lang must be zh-CN or en, got {lang!r}")
    number = None if loan is None else _loan_option(loan)
    db = open_database()
    with database_errors(db.url), db.reading() as session:
        found = tasks(session, state=None if state == "all" else state, loan_id=number)
    db.dispose()
    if json_output:
        _print_json({"tasks": found})
        return
    for task in found:
        flag = "OVERDUE " if task["overdue"] else ""
        typer.echo(
            f"#{task['id']} {task['state']:<4} due {task['due_date']} {flag}loan {task['loan_id']}"
            f": {task['title'][lang]}"
        )


def ews_task_done(
    task_id: Annotated[str, typer.Argument(help="The task's id.", metavar="ID")],
    by: Annotated[str, typer.Option("--by", help="Who did the review.", show_default=False)],
    note: Annotated[str | None, typer.Option("--note", help="What the review found.")] = None,
    resolve: Annotated[
        bool,
        typer.Option("--resolve", help="Also close the watchlist entry (lifts its stage move)."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Complete a post-loan task."""
    from tenor.risk.actions import complete_task

    number = _positive("ID", task_id, 2**63 - 1)
    who = by.strip()
    if not who:
        _fail("--by must name who did the review")
    if note is not None and len(note) > 500:
        _fail("--note must be at most 500 characters")
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        document = complete_task(
            session,
            number,
            actor=who[:64],
            now=dt.datetime.now(dt.UTC),
            note=note,
            resolve=resolve,
        )
    db.dispose()
    if json_output:
        _print_json(document)
        return
    resolved = " and its watchlist entry closed" if resolve else ""
    typer.echo(f"task {number} done by {who}{resolved}")


# ---------------------------------------------------------------------------------------------
# tenor risk profile


BorrowerOption = Annotated[
    str, typer.Option("--borrower", help="The borrower's id.", show_default=False)
]


def risk_profile_set(
    file: Annotated[Path, typer.Argument(help="JSON object: characteristic -> value.")],
    borrower: BorrowerOption,
    dataset: Annotated[
        str, typer.Option("--dataset", help="The shape of the profile.")
    ] = "credit-data",
    by: Annotated[str, typer.Option("--by", help="Who records it.")] = "cli",
    json_output: JsonOption = False,
) -> None:
    """Record a borrower's application characteristics, which the champion scorecard reads."""
    from tenor.risk.actions import profile_document, record_profile

    number = _positive("--borrower", borrower, 2**63 - 1)
    chosen = _dataset(dataset)
    if not file.is_file():
        _fail(f"no file at {file}")
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        _fail(f"{file.name} is not JSON: {error}")
    if not isinstance(document, dict):
        _fail(f"{file.name} must hold one JSON object of characteristics")
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.transaction() as session:
        row = record_profile(
            session,
            number,
            dataset=chosen.value,
            characteristics=document,
            actor=by.strip()[:64] or "cli",
        )
        recorded = profile_document(row)
    db.dispose()
    if json_output:
        _print_json(recorded)
        return
    typer.echo(
        f"borrower {number}: profile {recorded['id']} ({chosen.value}, "
        f"{len(recorded['characteristics'])} characteristics)"
    )


def risk_profile_show(borrower: BorrowerOption, json_output: JsonOption = False) -> None:
    """A borrower's profile in force and, when its PD model has a champion, the score."""
    from tenor.risk.actions import latest_profile, profile_document
    from tenor.risk.close import applicant_frame
    from tenor.risk.registry import champion, score_frame
    from tenor.store.journal import NotFoundError

    number = _positive("--borrower", borrower, 2**63 - 1)
    db = open_database()
    with database_errors(db.url), _domain_errors(), db.reading() as session:
        row = latest_profile(session, number)
        document: dict[str, Any] = {"profile": profile_document(row), "score": None}
        try:
            model, card = champion(session, f"pd-{row.dataset}")
        except NotFoundError:
            model = None
        if model is not None:
            scored = score_frame(card, applicant_frame([row.characteristics], card.inputs))
            document["score"] = {
                "model": model.name,
                "version": model.version,
                "score": int(scored["score"].iat[0]),
                "probability": round(float(scored["probability"].iat[0]), 6),
                "reasons": scored["reasons"].iat[0],
            }
    db.dispose()
    if json_output:
        _print_json(document)
        return
    for name, value in document["profile"]["characteristics"].items():
        typer.echo(f"  {name:<12} {value}")
    score = document["score"]
    if score is None:
        typer.echo(f"no champion of pd-{document['profile']['dataset']}: not scored")
        return
    typer.echo(
        f"score {score['score']} (PD {score['probability']:.2%}) by {score['model']} "
        f"v{score['version']}; reasons: {'; '.join(score['reasons']) or '-'}"
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
        help="PD scorecards (evaluate, train, promote, score, monitor), borrowers' profiles, "
        "and propensity to pay.",
        no_args_is_help=True,
    )
    risk.command("evaluate")(risk_evaluate)
    risk.command("train")(risk_train)
    risk.command("promote")(risk_promote)
    risk.command("models")(risk_models)
    risk.command("score")(risk_score)
    risk.command("monitor")(risk_monitor)
    risk.command("evaluate-propensity")(risk_evaluate_propensity)
    risk.command("train-propensity")(risk_train_propensity)
    risk.command("propensity")(risk_propensity)
    profile = typer.Typer(
        name="profile",
        help="Borrowers' application characteristics, which the champion scores.",
        no_args_is_help=True,
    )
    profile.command("set")(risk_profile_set)
    profile.command("show")(risk_profile_show)
    risk.add_typer(profile)
    app.add_typer(risk)
    app.command("price")(price_command)
    ews = typer.Typer(
        name="ews",
        help="Enterprise early warning: statements, covenants, the watchlist and its tasks.",
        no_args_is_help=True,
    )
    ews.command("ingest")(ews_ingest)
    ews.command("watchlist")(ews_watchlist)
    ews.command("tasks")(ews_tasks)
    ews.command("task-done")(ews_task_done)
    covenants = typer.Typer(
        name="covenants", help="Loans' financial covenants.", no_args_is_help=True
    )
    covenants.command("set")(ews_covenants_set)
    covenants.command("list")(ews_covenants_list)
    covenants.command("remove")(ews_covenants_remove)
    ews.add_typer(covenants)
    app.add_typer(ews)
    reports.report.command("ecl")(report_ecl)
