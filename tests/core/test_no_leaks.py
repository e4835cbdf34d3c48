"""Nothing sensitive in logs or errors.

A realistic run through the app (principals and tokens, a prompt, a report, refused uploads,
a database that fails under a request) with every logger at DEBUG. Neither the logs nor the
error bodies may hold a token, a token hash, a prompt, a report's text, a person's name or a
server path; no body at all may hold a token, a hash or a server path.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.app import create_app
from core.auth import assure_age, create_principal, hash_token, issue_token
from core.db import make_engine
from core.identity import AgeAssuranceSource
from core.services import Services
from tests.utils import TEST_OPERATOR, drain

PROMPT = "a lighthouse keeper named Quillon Vantablack-7 paints the harbour at dusk"
REPORT_TEXT = "Zephyrine Okonkwo-Lindqvist says this clip shows her without consent"
NAME = "Marisol Featherstonehaugh"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_full_run_leaks_nothing(
    services: Services, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    user = create_principal(services.sessions, NAME, ["user"])
    # generating and uploading need an account whose age was assured
    assure_age(services.sessions, user, AgeAssuranceSource.OPERATOR, actor=TEST_OPERATOR)
    investigator = create_principal(services.sessions, "Ivo Investigator", ["investigator"])
    _, user_token = issue_token(services.sessions, services.settings, user, "laptop")
    _, inv_token = issue_token(services.sessions, services.settings, investigator, "desk")
    tokens = [user_token, inv_token]
    secrets = [
        *tokens,
        *(hash_token(services.settings, t) for t in tokens),
        PROMPT,
        REPORT_TEXT,
        NAME,
    ]
    server_paths = [
        tempfile.gettempdir() + "/",
        str(Path(services.settings.data_dir).resolve()),
        str(Path(__file__).resolve().parents[2]),
    ]
    bodies: list[tuple[int, str]] = []

    with TestClient(create_app(services), raise_server_exceptions=False) as client:

        def call(method: str, url: str, token: str, **kw: Any) -> Any:
            headers = {**_bearer(token), **kw.pop("headers", {})}
            response = client.request(method, url, headers=headers, **kw)
            bodies.append((response.status_code, response.text))
            return response

        made = call("POST", "/v1/generations", user_token, json={"prompt": PROMPT})
        assert made.status_code == 202, made.text
        drain(services, ["generation-requests", "prompt-moderation"])
        assert call("GET", f"/v1/generations/{made.json()['generation_id']}", user_token).is_success
        report = {
            "target": {"kind": "account", "id": "acct-1"},
            "category": "spam",
            "explanation": REPORT_TEXT,
            "good_faith": True,
        }
        assert call("POST", "/v1/reports", user_token, json=report).status_code == 201
        # refused uploads: each route that reads media, with a file that is not media
        junk = b"\x00\x01 not a video, not an image " * 64
        assert (
            call(
                "POST", "/v1/uploads", user_token, files={"file": ("a.png", junk, "image/png")}
            ).status_code
            == 415
        )
        for url in ("/v1/reverse-search/searches", "/v1/provenance/verify"):
            refused = call("POST", url, inv_token, files={"file": ("clip.mp4", junk, "video/mp4")})
            assert 400 <= refused.status_code < 500, (url, refused.text)
        refused = call(
            "POST",
            "/v1/c2pa/matches/byContent",
            inv_token,
            content=junk,
            headers={"content-type": "video/mp4"},
        )
        assert 400 <= refused.status_code < 500, refused.text
        # a database that fails under requests: the statements carry a token hash and an
        # event payload with the report's text as bound parameters
        with services.engine.begin() as conn:
            conn.execute(text("ALTER TABLE events RENAME TO events_away"))
        try:
            failed = call("POST", "/v1/reports", user_token, json=report)
            assert failed.status_code >= 500
        finally:
            with services.engine.begin() as conn:
                conn.execute(text("ALTER TABLE events_away RENAME TO events"))
        with services.engine.begin() as conn:
            conn.execute(text("ALTER TABLE api_tokens RENAME TO api_tokens_away"))
        try:
            assert call("GET", "/v1/inbox", user_token).status_code >= 500
        finally:
            with services.engine.begin() as conn:
                conn.execute(text("ALTER TABLE api_tokens_away RENAME TO api_tokens"))

    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "hidden due to hide_parameters" in logs or "unhandled error" in logs  # it did fail
    leaked = [s for s in secrets if s in logs]
    assert leaked == [], f"in the logs: {leaked}"
    errors = "\n".join(body for status, body in bodies if status >= 400)
    leaked = [s for s in secrets + server_paths if s in errors]
    assert leaked == [], f"in error bodies: {leaked}\n{errors}"
    everything = "\n".join(body for _, body in bodies)
    leaked = [s for s in [*tokens, *secrets[2:4], *server_paths] if s in everything]
    assert leaked == [], f"in response bodies: {leaked}"


@pytest.mark.postgres
def test_postgres_errors_lose_the_values_they_quote(pg_database_url: Any) -> None:
    """PostgreSQL's DETAIL line quotes the failing row or key; neither the error nor its
    wrapped original holds it, and bound parameters are hidden."""
    engine = make_engine(pg_database_url())
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE TABLE t (a text NOT NULL UNIQUE, b text NOT NULL)"))
            conn.execute(text("INSERT INTO t VALUES ('cf_secret-token-value', 'x')"))
            for sql in (
                "INSERT INTO t VALUES (:a, 'y')",  # Key (a)=(...) already exists
                "INSERT INTO t VALUES (:a || '-2', NULL)",  # Failing row contains (...)
            ):
                with pytest.raises(DBAPIError) as failed, conn.begin_nested():
                    conn.execute(text(sql), {"a": "cf_secret-token-value"})
                assert "cf_secret-token-value" not in str(failed.value)
                assert "cf_secret-token-value" not in str(failed.value.orig)
                assert "parameters hidden" in str(failed.value)
    finally:
        engine.dispose()


def test_error_details_name_no_server_path() -> None:
    from core.errors import UnsupportedMedia

    detail = (
        f"{tempfile.gettempdir()}/rs-query-x1/query: cannot decode video (Invalid data found "
        f"when processing input: '{tempfile.gettempdir()}/rs-query-x1/query')"
    )
    problem = UnsupportedMedia(detail, where=str(Path.home() / "var" / "blobs")).to_problem()
    assert problem["detail"] == (
        "<file>: cannot decode video (Invalid data found when processing input: '<file>')"
    )
    assert problem["where"] == "<file>"
    # API paths are no server paths
    assert UnsupportedMedia("see /v1/generations/g_1").to_problem()["detail"].endswith("g_1")
