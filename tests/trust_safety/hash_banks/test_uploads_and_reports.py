"""A known-CSAM upload end to end, on SQLite and PostgreSQL: refused, kept as encrypted
evidence, the account banned with a statement of reasons, a CyberTipline report prepared,
submitted through the operator's client (a fake: nothing leaves the process) and
acknowledged; previews blurred and greyscale until a reviewer unblurs one, audited."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from contracts.enforcement import ActionKind
from core.app import create_app
from core.events import stream_id
from core.services import Services
from tests.trust_safety.hash_banks.helpers import banked_bank, upload
from tests.trust_safety.hash_banks.media import encoded, scene
from tests.utils import drain, make_principal
from trust_safety.hash_banks.errors import EvidenceGone
from trust_safety.hash_banks.evidence import evidence_dir, open_evidence, purge_expired
from trust_safety.hash_banks.service import REPORT_CLIENT
from trust_safety.uploads.service import uploads_dir


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, make_services: Callable[..., Services]) -> Services:
    return make_services(request.param)


class FakeClient:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[dict[str, Any], list[tuple[str, bytes]]]] = []
        self.fail = fail

    def submit(self, payload: Any, files: Any) -> str:
        if self.fail:
            raise ConnectionError("hotline unreachable")
        self.sent.append((payload, list(files)))
        return "CT-12345"


def types(services: Services, sid: str) -> list[str]:
    return [e.type for e in services.store.read_stream(sid)]


def test_a_known_csam_upload_is_refused_preserved_banned_and_reported(
    services: Services, tmp_path: Path
) -> None:
    banked_bank(services, tmp_path, "csam-test", "csam", [11, 12])
    user, _ = make_principal(services, "user", name="Uploader")
    original = scene(11)
    # a re-encoded copy of a banked picture: a different file, the same PDQ neighbourhood
    copy = encoded(original, "JPEG", quality=70)
    received = upload(services, copy, user)
    decision = received.decision
    assert not decision.approved and decision.reason is not None
    assert decision.reason.value == "known_media"
    record = decision.to_record()["hash_match"]
    assert record["matched"] and record["categories"] == ["csam"]
    assert record["banks_checked"] == ["csam-test"]
    assert any(m["signal_type"] == "pdq" and m["distance"] <= 31 for m in record["matches"])
    assert not uploads_dir(services).exists() or not any(uploads_dir(services).iterdir())

    [matched] = services.store.read_all(types=["KnownMediaMatched"])
    m = matched.payload
    assert (
        m["outcome"] == "refused"
        and m["account_id"] == user
        and m["subject_id"] == received.upload_id
    )
    [moderated] = services.store.read_all(types=["UploadModerated"])
    assert moderated.payload["approved"] is False and moderated.payload["blob"] is None

    # evidence: encrypted on disk, its key sealed in the store, opens to the very bytes
    [ev_file] = list(evidence_dir(services).iterdir())
    on_disk = ev_file.read_bytes()
    assert copy not in on_disk and on_disk[:3] != b"\xff\xd8\xff"
    # the data key is sealed in the stored row: the database alone opens nothing
    from sqlalchemy import select

    from core.store import StoredEvent

    with services.engine.connect() as conn:
        raw = conn.execute(
            select(StoredEvent.payload).where(StoredEvent.type == "EvidencePreserved")
        ).scalar_one()
    assert isinstance(raw["data_key"], dict) and "$sealed" in raw["data_key"]
    record_ev, plain = open_evidence(services, m["evidence_id"])
    assert plain == copy and (record_ev.retain_until - record_ev.preserved_at).days >= 365

    # the ban: an account action with its statement of reasons, and the notice
    [taken] = services.store.read_all(types=["EnforcementActionTaken"])
    t = taken.payload
    assert t["kind"] == ActionKind.BAN_ACCOUNT.value and t["affected_user_id"] == user
    assert t["action_id"] == m["action_id"]
    assert t["statement"]["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert t["statement"]["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL" in t["statement"]["category_specification"]
    assert "UserNotified" in types(services, stream_id("inbox", user))

    # the report: CyberTipline-shaped, with the incident, account, times, hashes and file
    [prepared] = services.store.read_all(types=["HotlineReportPrepared"])
    report = prepared.payload["payload"]
    assert prepared.payload["authority"] == "ncmec" and prepared.payload["format"] == "cybertipline"
    summary = report["report"]["incidentSummary"]
    assert summary["incidentType"].startswith("Child Pornography")
    assert report["report"]["personOrUserReported"]["espIdentifier"] == user
    [file_info] = report["files"]
    assert {"hashType": "SHA256", "hashValue": m["sha256"]} in file_info["originalFileHash"]
    assert file_info["evidenceId"] == m["evidence_id"] and file_info["fileViewedByEsp"] is False
    assert any(d["name"] == "PDQ" and d["type"] == "HASH" for d in file_info["details"])

    # an unrelated picture passes, and is recorded as checked
    clean = upload(services, encoded(scene(99), "JPEG"), user)
    assert clean.decision.approved
    assert clean.decision.to_record()["hash_match"]["matched"] is False
    assert len(services.store.read_all(types=["KnownMediaMatched"])) == 1


def test_reviewers_see_it_blurred_unblur_one_audited_and_reports_move_through_their_states(
    services: Services, tmp_path: Path
) -> None:
    banked_bank(services, tmp_path, "csam-test", "csam", [21])
    user, user_h = make_principal(services, "user", name="Uploader")
    _, reviewer_h = make_principal(services, "reviewer", name="Reviewer")
    _, admin_h = make_principal(services, "admin", name="Admin")
    received = upload(services, encoded(scene(21), "JPEG", quality=80), user)
    fake = FakeClient()
    services.override(REPORT_CLIENT, fake)
    drain(services, ["hash-banks"])
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        [match] = client.get("/v1/hash-matches", headers=reviewer_h).json()["matches"]
        assert match["subject_id"] == received.upload_id and match["outcome"] == "refused"
        mid = match["match_id"]
        assert client.get("/v1/hash-matches", headers=user_h).status_code == 403
        assert client.get(f"/v1/hash-matches/{mid}/preview", headers=user_h).status_code == 403

        blurred = client.get(f"/v1/hash-matches/{mid}/preview", headers=reviewer_h).json()
        assert blurred["blurred"] and blurred["greyscale"]
        image = Image.open(io.BytesIO(base64.b64decode(blurred["image_base64"])))
        assert image.mode == "L"
        grey = np.asarray(image, np.float32)
        assert np.abs(np.diff(grey, axis=1)).mean() < 2.0  # no edge survives the blur

        assert not services.store.read_all(types=["MatchedMediaUnblurred"])
        bad = client.post(f"/v1/hash-matches/{mid}/unblur", headers=reviewer_h, json={})
        assert bad.status_code == 422  # a reason is required
        clear = client.post(
            f"/v1/hash-matches/{mid}/unblur", headers=reviewer_h, json={"reason": "confirm match"}
        ).json()
        sharp = np.asarray(Image.open(io.BytesIO(base64.b64decode(clear["image_base64"]))))
        assert not clear["blurred"] and sharp.ndim == 3
        assert np.abs(np.diff(sharp.astype(np.float32), axis=1)).mean() > 2.0
        [audit] = services.store.read_all(types=["MatchedMediaUnblurred"])
        assert audit.payload["match_id"] == mid and audit.payload["reason"] == "confirm match"
        assert client.get("/v1/hash-matches/nope", headers=reviewer_h).status_code == 404

        rid = match["report_id"]
        assert client.get(f"/v1/hotline-reports/{rid}", headers=reviewer_h).status_code == 403
        early = client.post(f"/v1/hotline-reports/{rid}/acknowledge", headers=admin_h, json={})
        assert early.status_code == 409  # only a submitted report is acknowledged
        sent = client.post(f"/v1/hotline-reports/{rid}/submit", headers=admin_h)
        assert sent.status_code == 200, sent.text
        assert sent.json()["state"] == "submitted" and sent.json()["remote_id"] == "CT-12345"
        [(payload, files)] = fake.sent
        assert payload["report"]["personOrUserReported"]["espIdentifier"] == user
        assert len(files) == 1 and files[0][1][:3] == b"\xff\xd8\xff"  # the preserved file
        again = client.post(f"/v1/hotline-reports/{rid}/submit", headers=admin_h)
        assert again.status_code == 409
        acked = client.post(
            f"/v1/hotline-reports/{rid}/acknowledge", headers=admin_h, json={"detail": "ok"}
        )
        assert acked.json()["state"] == "acknowledged"
        assert types(services, stream_id("hotline", rid)) == [
            "HotlineReportPrepared",
            "HotlineReportSubmitted",
            "HotlineReportAcknowledged",
        ]


def test_a_failed_submission_is_recorded_and_without_a_client_nothing_is_sent(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    services = make_services("sqlite")
    banked_bank(services, tmp_path, "csam-test", "csam", [31])
    user, _ = make_principal(services, "user")
    _, admin_h = make_principal(services, "admin")
    upload(services, encoded(scene(31)), user)
    [prepared] = services.store.read_all(types=["HotlineReportPrepared"])
    rid = prepared.payload["report_id"]
    # a second match of the banned account cites its ban instead of banning it again
    drain(services, ["cases-actions"])
    upload(services, encoded(scene(31), "JPEG"), user)
    [ban] = services.store.read_all(types=["EnforcementActionTaken"])
    matches = services.store.read_all(types=["KnownMediaMatched"])
    assert [m.payload["action_id"] for m in matches] == [ban.payload["action_id"]] * 2
    assert len(services.store.read_all(types=["HotlineReportPrepared"])) == 2
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        disabled = client.post(f"/v1/hotline-reports/{rid}/submit", headers=admin_h)
        assert disabled.status_code == 503 and disabled.json()["code"] == "report_client_disabled"
        services.override(REPORT_CLIENT, FakeClient(fail=True))
        failed = client.post(f"/v1/hotline-reports/{rid}/submit", headers=admin_h)
        assert failed.status_code == 503 and failed.json()["code"] == "hotline_submission_failed"
    assert types(services, stream_id("hotline", rid)) == [
        "HotlineReportPrepared",
        "HotlineReportSubmissionFailed",
    ]


def test_evidence_outlives_the_users_erasure_and_is_shredded_when_retention_ends(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    from datetime import timedelta

    from core.events import utcnow
    from core.privacy import erase_personal_data
    from tests.utils import TEST_OPERATOR

    services = make_services("sqlite")
    banked_bank(services, tmp_path, "csam-test", "csam", [41])
    user, _ = make_principal(services, "user")
    data = encoded(scene(41))
    upload(services, data, user)
    [preserved] = services.store.read_all(types=["EvidencePreserved"])
    evidence_id = preserved.payload["evidence_id"]
    erase_personal_data(services, user, TEST_OPERATOR, settle_s=0.1)
    assert open_evidence(services, evidence_id)[1] == data  # the law's hold outlives erasure
    drain(services, ["hash-banks"])
    assert purge_expired(services, TEST_OPERATOR, now=utcnow()) == []  # not due yet
    later = utcnow() + timedelta(days=401)
    assert purge_expired(services, TEST_OPERATOR, now=later) == [evidence_id]
    assert not any(evidence_dir(services).iterdir())
    with pytest.raises(EvidenceGone):
        open_evidence(services, evidence_id)
    # the sealed data key itself now reads as erased, in every later read
    again = services.store.read_stream(stream_id("evidence", evidence_id))[0]
    assert again.payload["data_key"] == "[erased]"
