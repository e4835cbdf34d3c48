"""Every action an event: principals, roles, tokens and admin list edits are recorded on their
own streams, in the same transaction as the tables they change, and shown by `history`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.auth import (
    AgeAssuranceRequired,
    ApiToken,
    PrincipalRow,
    SelfAttestation,
    assure_age,
    authenticate,
    change_roles,
    create_principal,
    hash_token,
    issue_token,
    revoke_token,
)
from core.cli import main
from core.errors import ConcurrencyConflict, NotFound, Unauthenticated, ValidationFailed
from core.events import Actor
from core.identity import AgeAssuranceSource, PrincipalCreated, principal_stream
from core.services import Services
from core.store import StoredEvent
from tests.utils import make_principal

OPERATOR = Actor(id="cli:ops", role="operator")


def types(services: Services, principal_id: str) -> list[str]:
    return [e.type for e in services.store.read_stream(principal_stream(principal_id))]


def test_principal_role_and_token_changes_are_events(services: Services) -> None:
    pid = create_principal(services.sessions, "Ivy Example", ["user"], actor=OPERATOR)
    token_id, token = issue_token(
        services.sessions, services.settings, pid, "laptop", actor=OPERATOR
    )
    assert change_roles(services.sessions, pid, ["user", "reviewer"], actor=OPERATOR) is True
    assert change_roles(services.sessions, pid, ["reviewer", "user"], actor=OPERATOR) is False
    revoke_token(services.sessions, token_id, actor=OPERATOR)
    revoke_token(services.sessions, token_id, actor=OPERATOR)  # already revoked: no event

    events = services.store.read_stream(principal_stream(pid))
    assert [e.type for e in events] == [
        "PrincipalCreated",
        "TokenIssued",
        "RoleChanged",
        "TokenRevoked",
    ]
    assert {e.actor for e in events} == {OPERATOR}
    created, issued, changed, revoked = (e.payload for e in events)
    assert created == {"principal_id": pid, "name": "Ivy Example", "roles": ["user"]}
    full_hash = hash_token(services.settings, token)
    assert issued == {
        "principal_id": pid,
        "token_id": str(token_id),
        "hash_prefix": full_hash[:8],
        "label": "laptop",
    }
    assert changed == {
        "principal_id": pid,
        "roles": ["reviewer", "user"],
        "previous_roles": ["user"],
    }
    assert revoked == {"principal_id": pid, "token_id": str(token_id)}
    # Neither the token nor its full hash is anywhere in the log.
    with services.sessions() as s:
        raw = json.dumps([r.payload for r in s.scalars(select(StoredEvent))])
    assert token not in raw and full_hash not in raw and token.removeprefix("cf_") not in raw
    # The tables moved with the events.
    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(services.sessions, services.settings, token)
    with services.sessions() as s:
        assert sorted(s.get(PrincipalRow, pid).roles) == ["reviewer", "user"]  # type: ignore[union-attr]


def test_table_and_event_are_written_in_one_transaction(services: Services) -> None:
    # The identity stream of "p_taken" already exists: the PrincipalCreated append conflicts,
    # and the principal row is not written either.
    services.store.append(
        principal_stream("p_taken"),
        [PrincipalCreated(principal_id="p_taken", name="Someone", roles=["user"])],
        expected_version=0,
        actor=OPERATOR,
    )
    with pytest.raises(ConcurrencyConflict):
        create_principal(services.sessions, "Other", ["user"], "p_taken")
    with services.sessions() as s:
        assert s.get(PrincipalRow, "p_taken") is None
    with pytest.raises(NotFound):
        issue_token(services.sessions, services.settings, "p_taken")
    with services.sessions() as s:
        assert s.scalars(select(ApiToken)).all() == []
    assert types(services, "p_taken") == ["PrincipalCreated"]


def test_age_assurance_is_an_event_written_with_the_principal_row(services: Services) -> None:
    pid = create_principal(services.sessions, "Ivy Example", ["user"], actor=OPERATOR)
    _, token = issue_token(services.sessions, services.settings, pid, "laptop", actor=OPERATOR)
    unassured = authenticate(services.sessions, services.settings, token)
    with pytest.raises(AgeAssuranceRequired) as refused:
        unassured.require_age_assured()
    assert refused.value.status == 403 and refused.value.code == "age_assurance_required"
    assert "age-assurance provider" in refused.value.detail
    # nobody assures their own age, and a missing principal is not assured into existence
    with pytest.raises(SelfAttestation):
        assure_age(
            services.sessions, pid, AgeAssuranceSource.PROVIDER, actor=Actor(id=pid, role="user")
        )
    with pytest.raises(NotFound):
        assure_age(services.sessions, "p_nobody", AgeAssuranceSource.OPERATOR, actor=OPERATOR)
    assert types(services, pid) == ["PrincipalCreated", "TokenIssued"]
    provider = Actor(id="idv-vendor", role="age_assurance_provider")
    assert assure_age(
        services.sessions, pid, AgeAssuranceSource.PROVIDER, actor=provider, reference="chk-1"
    )
    assert not assure_age(services.sessions, pid, AgeAssuranceSource.OPERATOR, actor=OPERATOR)
    events = services.store.read_stream(principal_stream(pid))
    assert [e.type for e in events][-1] == "AgeAssured" and len(events) == 3
    assert events[-1].actor == provider
    assert events[-1].payload == {
        "principal_id": pid,
        "source": "provider",
        "reference": "chk-1",
        "evidence": None,
    }
    with services.sessions() as s:
        row = s.get(PrincipalRow, pid)
        assert row is not None and row.age_assurance_source == "provider"
        assert row.age_assured_at is not None
    authenticate(services.sessions, services.settings, token).require_age_assured()


def test_an_operator_assures_an_age_from_the_cli(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "principal", "create", "--name", "Ivy", "--role", "user")
    pid = json.loads(out)["principal_id"]
    code, out, _ = run(capsys, "principal", "assure-age", pid, "--ref", "TICKET-7")
    assert code == 0 and json.loads(out) == {"principal_id": pid, "recorded": True}
    code, out, _ = run(capsys, "principal", "assure-age", pid, "--ref", "TICKET-7")
    assert code == 0 and json.loads(out)["recorded"] is False
    code, out, _ = run(capsys, "history", "principal", pid, "--json")
    assured = [json.loads(line) for line in out.splitlines()][-1]
    assert assured["type"] == "AgeAssured" and assured["payload"]["source"] == "operator"
    assert assured["payload"]["reference"] == "TICKET-7"
    assert assured["actor"]["role"] == "operator"
    code, _, err = run(capsys, "principal", "assure-age", "p_nobody", "--ref", "T")
    assert code == 2 and "no principal p_nobody" in err


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "semi;colon", ""])
def test_principal_ids_must_name_a_stream(services: Services, bad: str) -> None:
    with pytest.raises(ValidationFailed):
        create_principal(services.sessions, "Someone", ["user"], bad or " ")


def test_admin_list_edits_are_events_with_their_admin(services: Services, client: Any) -> None:
    admin_id, admin = make_principal(services, "admin", name="List admin")
    added = client.post(
        "/v1/moderation/blocklist/illegal_activity/terms", headers=admin, json={"term": "zorblax"}
    )
    assert added.status_code == 201, added.text
    removed = client.delete(
        "/v1/moderation/blocklist/illegal_activity/terms/zorblax", headers=admin
    )
    assert removed.status_code == 200, removed.text
    edits = services.store.read_stream("modlist-blocklist")
    assert [e.type for e in edits] == ["BlocklistTermAdded", "BlocklistTermRemoved"]
    assert {e.actor.id for e in edits} == {admin_id}


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARFRAME_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CLEARFRAME_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLEARFRAME_KAFKA_BOOTSTRAP", raising=False)
    assert main(["migrate"]) == 0
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_history_shows_what_was_done_to_a_principal(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "principal", "create", "--name", "Ivy", "--role", "user", "--with-token"
    )
    assert code == 0
    created = json.loads(out)
    pid, token_id = created["principal_id"], created["token_id"]
    assert run(capsys, "principal", "roles", pid, "--role", "investigator")[0] == 0
    assert run(capsys, "token", "revoke", token_id)[0] == 0

    code, out, _ = run(capsys, "history", "principal", pid)
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[4] for line in lines] == [
        "PrincipalCreated",
        "TokenIssued",
        "RoleChanged",
        "TokenRevoked",
    ]
    assert all(" by cli:" in line and "(operator)" in line for line in lines)
    assert created["token"] not in out

    code, out, _ = run(capsys, "history", "--type", "TokenRevoked", "--json")
    assert code == 0
    [revoked] = [json.loads(line) for line in out.splitlines()]
    assert revoked["payload"] == {"principal_id": pid, "token_id": token_id}
    assert revoked["stream_id"] == f"principal-{pid}"

    code, out, _ = run(capsys, "history", "stream", f"principal-{pid}", "--type", "RoleChanged")
    assert code == 0 and len(out.splitlines()) == 1

    code, out, _ = run(capsys, "erase", pid, "--ref", "TICKET-42", "--settle-s", "0")
    assert code == 0 and json.loads(out)["keys_erased"] == 1
    code, out, _ = run(capsys, "history", "principal", pid, "--json")
    first, *_, last = [json.loads(line) for line in out.splitlines()]
    assert first["payload"]["name"] == "[erased]"
    assert last["type"] == "PersonalDataErased" and last["payload"]["request_ref"] == "TICKET-42"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["history"], "say what to show"),
        (["history", "principal"], "needs an id"),
        (["history", "principal", "p_nobody"], "no recorded stream principal-p_nobody"),
        (["history", "principal", "bad id!"], "is not '<category>-<key>'"),
        (["history", "stream", "nocategory"], "is not '<category>-<key>'"),
        (["history", "--type", "TokenRevokd"], "did you mean TokenRevoked"),
        (["history", "--type", "TokenRevoked"], "no recorded events of type TokenRevoked"),
        (["history", "--type", "TokenRevoked", "--limit", "0"], "--limit"),
        (["history", "somewhere"], "invalid choice"),
        (["principal", "roles", "p_nobody", "--role", "user"], "no principal p_nobody"),
        (["principal", "roles", "p_nobody", "--role", "emperor"], "unknown role"),
        (["erase", "p_nobody"], "no principal p_nobody"),
        (["erase", "p_nobody", "--settle-s", "-1"], "--settle-s"),
    ],
)
def test_history_and_erase_refuse_bad_input_with_a_message(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err, err


def test_history_on_a_database_never_migrated_says_what_to_run(tmp_path: Path) -> None:
    env = {**os.environ, "CLEARFRAME_DATA_DIR": str(tmp_path / "fresh")}
    env.pop("CLEARFRAME_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "history", "--type", "TokenRevoked"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "clearframe migrate" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
