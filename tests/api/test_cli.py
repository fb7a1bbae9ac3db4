"""``tenor apikey`` and ``tenor serve`` as a person runs them: real processes, real databases."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from tenor.api.app import create_app
from tenor.store.database import Database
from tests.builders import seed_loan

TENOR = str(Path(sys.executable).with_name("tenor"))


def tenor(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run ``tenor ARGUMENTS`` against the database at ``url``."""
    return subprocess.run(
        [TENOR, *arguments],
        env={**os.environ, "TENOR_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_apikey_create_prints_a_key_that_works(db: Database) -> None:
    loan_id = seed_loan(db)
    created = tenor(db.url, "apikey", "create", "--role", "admin", "--name", "ops")
    assert created.returncode == 0, created.stderr
    lines = created.stdout.strip().splitlines()
    key = lines[-1]
    assert key.startswith("tnr_")
    assert " " not in key
    assert all(key not in line for line in lines[:-1])
    with TestClient(create_app(db)) as client:
        answer = client.get(f"/v1/loans/{loan_id}", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200
        borrower_id = answer.json()["borrower_id"]
        own = tenor(
            db.url, "apikey", "create", "--role", "borrower", "--borrower", str(borrower_id)
        )
        assert own.returncode == 0, own.stderr
        mine = {"Authorization": f"Bearer {own.stdout.strip().splitlines()[-1]}"}
        assert client.get(f"/v1/loans/{loan_id}", headers=mine).status_code == 200
        assert client.get(f"/v1/loans/{loan_id + 1}", headers=mine).status_code == 404
    revoked = tenor(db.url, "apikey", "revoke", key)
    assert revoked.returncode == 0, revoked.stderr
    with TestClient(create_app(db)) as client:
        answer = client.get("/v1/loans", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 401


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--role", "root"), "--role must be one of admin, risk, collector"),
        (("--role", "borrower"), "a borrower's key needs the borrower's id"),
        (("--role", "borrower", "--borrower", "99"), "borrower 99 does not exist"),
        (("--role", "borrower", "--borrower", "x"), "--borrower must be a whole number"),
        (("--role", "agency"), "an agency's key needs the agency's id"),
        (("--role", "admin", "--agency", "3"), "only an agency's key names an agency"),
    ],
)
def test_apikey_create_refuses_in_one_line(
    db: Database, arguments: tuple[str, ...], message: str
) -> None:
    refused = tenor(db.url, "apikey", "create", *arguments)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.startswith(f"error: {message}")
    assert refused.stderr.count("\n") == 1


def test_commands_refuse_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    url = f"sqlite:///{path}"
    missing = tenor(url, "apikey", "create", "--role", "admin")
    assert (missing.returncode, missing.stderr) == (
        2,
        f"error: no database at {path}; build the demo book with `tenor demo`, or create an "
        "empty database with `tenor db upgrade`\n",
    )
    assert not path.exists()
    sqlite3.connect(path).close()  # an empty file: a database without Tenor's schema
    for arguments in (("apikey", "create", "--role", "admin"), ("serve", "--port", "8999")):
        refused = tenor(url, *arguments)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr == (
            f"error: the database {url} has no schema; run `tenor db upgrade` first\n"
        )
    unreachable = tenor(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", "apikey", "create", "--role", "admin"
    )
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith("error: cannot open the database postgresql+psycopg://")
    assert unreachable.stderr.count("\n") == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_with_the_created_key(db: Database) -> None:
    seed_loan(db)
    key = tenor(db.url, "apikey", "create", "--role", "auditor").stdout.strip().splitlines()[-1]
    port = _free_port()
    bad_port = tenor(db.url, "serve", "--port", "70000")
    assert (bad_port.returncode, bad_port.stderr) == (
        2,
        "error: --port must be between 1 and 65535, got 70000\n",
    )
    server = subprocess.Popen(
        [TENOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "TENOR_DATABASE_URL": db.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx2.get(f"{base}/openapi.json", timeout=1).raise_for_status()
                break
            except httpx2.HTTPError:
                time.sleep(0.1)
        answer = httpx2.get(
            f"{base}/v1/loans",
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": "serve-1"},
            timeout=10,
        )
        assert answer.status_code == 200
        assert answer.json()["total"] == 1
        assert answer.headers["X-Request-ID"] == "serve-1"
        taken = tenor(db.url, "serve", "--port", str(port))
        assert taken.returncode == 2
        assert taken.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}:")
        written = httpx2.post(
            f"{base}/v1/borrowers",
            headers={"Authorization": f"Bearer {key}"},
            json={"kind": "individual", "name": "x"},
            timeout=10,
        )
        assert (written.status_code, written.json()["code"]) == (403, "forbidden")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "serve-1" and line["status"] == 200 for line in logged)


def test_serve_with_several_workers_answers_on_kept_alive_connections(db: Database) -> None:
    seed_loan(db)
    key = tenor(db.url, "apikey", "create", "--role", "admin").stdout.strip().splitlines()[-1]
    refused = tenor(db.url, "serve", "--workers", "0")
    assert (refused.returncode, refused.stderr) == (
        2,
        "error: --workers must be between 1 and 64, got 0\n",
    )
    port = _free_port()
    server = subprocess.Popen(
        [TENOR, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env={**os.environ, "TENOR_DATABASE_URL": db.url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                httpx2.get(f"{base}/openapi.json", timeout=1).raise_for_status()
                break
            except httpx2.HTTPError:
                time.sleep(0.1)
        with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
            answers = [client.get("/v1/loans", timeout=10) for _ in range(5)]
        assert [(a.status_code, a.json()["total"]) for a in answers] == [(200, 1)] * 5
    finally:
        server.terminate()
        server.wait(timeout=20)
