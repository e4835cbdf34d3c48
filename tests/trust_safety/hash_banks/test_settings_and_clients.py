"""Operator settings (secrets have no defaults; production refuses an insecure client), the
CyberTipline HTTP client against an in-process transport (nothing is sent anywhere), and
confirmed hashes contributed back to an exchange only when the operator opted in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from core.services import Services
from core.settings import Environment, Settings
from tests.trust_safety.hash_banks.helpers import banked_bank, upload
from tests.trust_safety.hash_banks.media import encoded, scene
from tests.utils import make_principal
from trust_safety.hash_banks.exchanges import configured_exchanges
from trust_safety.hash_banks.reports import HttpCyberTiplineClient, ReportSubmissionError
from trust_safety.hash_banks.settings import HashBankSettings

STRONG = "Zq8vN1xKp3Rt7Wm2Lc9Hs4Bd6Fg0Jy5Ue"


def test_settings_refuse_half_configured_clients_and_short_retention() -> None:
    assert HashBankSettings().report_client_enabled is False
    assert configured_exchanges(HashBankSettings()) == []
    with pytest.raises(ValidationError, match="REPORT_CLIENT_URL"):
        HashBankSettings(report_client_enabled=True)
    with pytest.raises(ValidationError):
        HashBankSettings(evidence_retention_days=30)  # the law asks for a year at least
    with pytest.raises(ValidationError, match="STOPNCII"):
        HashBankSettings(stopncii_subscription_key="k")
    with pytest.raises(ValidationError, match="user:password"):
        HashBankSettings(ncmec_credentials="no-colon")
    with pytest.raises(ValidationError, match="CONTRIBUTE_TO"):
        HashBankSettings(contribute_confirmed=True)
    both = HashBankSettings(
        ncmec_credentials="esp:secret",
        threatexchange_token="123|abc",
        threatexchange_privacy_group=42,
    )
    assert [(e.name, e.bank_id, e.category) for e in configured_exchanges(both)] == [
        ("ncmec", "ncmec", "csam"),
        ("fb_threatexchange", "threatexchange", "terrorism"),
    ]


def test_production_refuses_an_insecure_report_client_only_when_it_is_enabled() -> None:
    prod = Settings(env=Environment.production)
    assert HashBankSettings().production_problems(prod) == []
    insecure = HashBankSettings(
        report_client_enabled=True,
        report_client_url="http://hotline.example",
        report_client_username="esp",
        report_client_password="password123",
    )
    problems = " ".join(insecure.production_problems(prod))
    assert "https://" in problems and "PASSWORD" in problems and "REPORTER_EMAIL" in problems
    good = HashBankSettings(
        report_client_enabled=True,
        report_client_url="https://hotline.invalid/ispws",
        report_client_username="esp",
        report_client_password=STRONG,
        reporter_email="safety@clearframe.invalid",
    )
    assert good.production_problems(prod) == []


def test_the_cybertipline_client_speaks_the_reporting_api() -> None:
    seen: list[tuple[str, bytes]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.content))
        body = {
            "/ispws/submit": "<reportResponse><responseCode>0</responseCode><reportId>777</reportId></reportResponse>",
            "/ispws/upload": "<reportResponse><responseCode>0</responseCode><fileId>f-1</fileId></reportResponse>",
        }.get(request.url.path, "<reportResponse><responseCode>0</responseCode></reportResponse>")
        assert request.headers["authorization"].startswith("Basic ")
        return httpx.Response(200, text=body)

    client = HttpCyberTiplineClient(
        "https://hotline.invalid/ispws", "esp", STRONG, transport=httpx.MockTransport(answer)
    )
    payload = {
        "report": {
            "incidentSummary": {"incidentType": "x", "incidentDateTime": "2026-01-01T00:00:00Z"},
            "reporter": {"reportingPerson": {"email": "a@b.invalid"}},
        },
        "files": [{"fileName": "u.jpg", "evidenceId": "e1", "fileViewedByEsp": False}],
    }
    assert client.submit(payload, [("u.jpg", b"bytes")]) == "777"
    assert [p for p, _ in seen] == [
        "/ispws/submit",
        "/ispws/upload",
        "/ispws/fileinfo",
        "/ispws/finish",
    ]
    report = ET.fromstring(seen[0][1])
    assert report.tag == "report" and report.findtext("incidentSummary/incidentType") == "x"
    info = ET.fromstring(seen[2][1])
    assert info.findtext("reportId") == "777" and info.findtext("fileId") == "f-1"
    assert info.findtext("fileViewedByEsp") == "false" and info.find("evidenceId") is None

    refusing = HttpCyberTiplineClient(
        "https://hotline.invalid/ispws",
        "esp",
        STRONG,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(
                200,
                text="<r><responseCode>4100</responseCode><responseDescription>bad</responseDescription></r>",
            )
        ),
    )
    with pytest.raises(ReportSubmissionError, match="4100"):
        refusing.submit(payload, [])


def test_confirmed_hashes_go_back_to_the_exchange_only_when_the_operator_opted_in(
    client: Any, services: Services, tmp_path: Path
) -> None:
    banked_bank(services, tmp_path, "ncii-test", "ncii", [71, 72])
    user, _ = make_principal(services, "user")
    _, reviewer = make_principal(services, "reviewer")
    upload(services, encoded(scene(71), "JPEG", quality=75), user)
    from tests.utils import drain

    drain(services, ["hash-banks"])
    [match] = client.get("/v1/hash-matches", headers=reviewer).json()["matches"]
    assert match["outcome"] == "refused" and match["report_id"] is None  # NCII: no NCMEC report
    assert match["action_id"] is None  # and no ban: only CSAM ends an account
    mid = match["match_id"]
    off = client.post(f"/v1/hash-matches/{mid}/confirm", headers=reviewer, json={"note": "seen"})
    assert off.json() == {"match_id": mid, "confirmed": True, "contributions": []}

    shared = tmp_path / "shared" / "contributed.txt"
    services.settings = services.settings.with_section(
        HashBankSettings(contribute_confirmed=True, contribute_to="file", contribute_file=shared)
    )
    on = client.post(f"/v1/hash-matches/{mid}/confirm", headers=reviewer, json={})
    assert on.json()["contributions"] == ["contributed"] * 3  # md5, sha256, pdq of the file
    lines = shared.read_text().split()
    assert lines[0::2] == ["md5", "sha256", "pdq"]
    again = client.post(f"/v1/hash-matches/{mid}/confirm", headers=reviewer, json={})
    assert again.json()["contributions"] == []  # each hash goes back once
    kinds = [
        e.type for e in services.store.read_all(types=["KnownMediaConfirmed", "HashContributed"])
    ]
    assert kinds == ["KnownMediaConfirmed", "HashContributed", "HashContributed", "HashContributed"]
