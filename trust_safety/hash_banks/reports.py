"""Reports to the authority in charge: a CyberTipline report for NCMEC, or a generic export
for another hotline; their states are events on ``hotline-<report_id>``.

The CyberTipline payload follows the shape of NCMEC's public reporting API (the ``report``
document of ``/submit``: ``incidentSummary``, ``internetDetails``, ``reporter``,
``personOrUserReported``, ``additionalInfo``; and per file the ``/fileinfo`` fields:
``fileName``, ``originalFileHash``, ``fileViewedByEsp``, ``publiclyAvailable``,
``fileRelevance``, ``details`` of type ``HASH``). The payload is built when the match is
recorded (``HotlineReportPrepared``); a reviewer or the operator's job submits it through a
:class:`ReportClient` (``HotlineReportSubmitted`` or ``HotlineReportSubmissionFailed``) and
records the authority's acknowledgement (``HotlineReportAcknowledged``). The only client
here that talks to a network is :class:`HttpCyberTiplineClient`, built only when the
operator enabled it; tests give their own.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from core.aggregate import execute
from core.errors import ServiceUnavailable
from core.events import Actor, EventPayload, RecordedEvent, stream_id
from trust_safety.hash_banks.errors import (
    ReportClientDisabled,
    ReportState,
    UnknownHotlineReport,
)
from trust_safety.hash_banks.events import (
    HOTLINE,
    HotlineReportAcknowledged,
    HotlineReportPrepared,
    HotlineReportSubmissionFailed,
    HotlineReportSubmitted,
)
from trust_safety.hash_banks.settings import HashBankSettings

CYBERTIPLINE = "cybertipline"
GENERIC = "generic"
# NCMEC's incident type for CSAM (its enumeration's wording).
CSAM_INCIDENT = "Child Pornography (possession, manufacture, and distribution)"


def report_id_for(match_id: str) -> str:
    return hashlib.sha256(f"hotline-report\x1f{match_id}".encode()).hexdigest()[:32]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Incident:
    """What a report carries: the incident, the account, the times, the hashes, the files."""

    match_id: str
    surface: str  # upload | output
    subject_id: str
    account_id: str | None
    occurred_at: datetime
    detected_at: datetime
    media_type: str
    size_bytes: int
    hashes: Sequence[Mapping[str, Any]]
    matches: Sequence[Mapping[str, Any]]
    evidence_id: str | None
    file_name: str


def cybertipline_payload(incident: Incident, settings: HashBankSettings) -> dict[str, Any]:
    service = "uploads (generation inputs)" if incident.surface == "upload" else "generated video"
    file_hashes = [
        {"hashType": h["signal_type"].upper(), "hashValue": h["signal"]}
        for h in incident.hashes
        if h["signal_type"] in ("md5", "sha256")
    ]
    details = [
        {"name": str(h["signal_type"]).upper(), "value": str(h["signal"]), "type": "HASH"}
        for h in incident.hashes
        if h["signal_type"] in ("pdq", "vpdq")
    ]
    banks = sorted({str(m["bank_id"]) for m in incident.matches})
    return {
        "report": {
            "incidentSummary": {
                "incidentType": CSAM_INCIDENT,
                "incidentDateTime": _iso(incident.occurred_at),
                "incidentDateTimeDescription": (
                    f"the {incident.surface} was received; matched by hash at "
                    f"{_iso(incident.detected_at)}"
                ),
            },
            "internetDetails": [
                {
                    "webPageIncident": {
                        "additionalInfo": f"{settings.reporter_company} {service}, "
                        f"{incident.surface} id {incident.subject_id}"
                    }
                }
            ],
            "reporter": {
                "reportingPerson": {"email": settings.reporter_email},
                "companyTemplate": settings.reporter_company,
                "termsOfService": settings.reporter_terms_url,
            },
            "personOrUserReported": {
                "espIdentifier": incident.account_id or "unknown",
                "espService": f"{settings.reporter_company} {service}",
            },
            "additionalInfo": (
                "Detected by hash match against known-CSAM hash lists ("
                + ", ".join(banks)
                + "); the file was not viewed by a person before this report."
            ),
        },
        "files": [
            {
                "fileName": incident.file_name,
                "evidenceId": incident.evidence_id,
                "fileViewedByEsp": False,
                "exifViewedByEsp": False,
                "publiclyAvailable": False,
                "fileRelevance": "Reported",
                "originalFileHash": file_hashes,
                "details": details,
                "additionalInfo": [
                    f"media type {incident.media_type}, {incident.size_bytes} bytes",
                    "matched: "
                    + "; ".join(
                        f"{m['signal_type']} in {m['bank_id']}"
                        + (f" (distance {m['distance']})" if "distance" in m else "")
                        for m in incident.matches
                    ),
                ],
            }
        ],
    }


def generic_payload(incident: Incident, settings: HashBankSettings) -> dict[str, Any]:
    """An export for hotlines without an API (INHOPE members, national hotlines)."""
    return {
        "format": "clearframe-hotline-export/1",
        "reporter": {
            "company": settings.reporter_company,
            "contact": settings.reporter_email,
            "terms": settings.reporter_terms_url,
        },
        "incident": {
            "match_id": incident.match_id,
            "surface": incident.surface,
            "subject_id": incident.subject_id,
            "categories": sorted({str(m["category"]) for m in incident.matches}),
        },
        "account": {"id": incident.account_id},
        "times": {
            "occurred_at": _iso(incident.occurred_at),
            "detected_at": _iso(incident.detected_at),
        },
        "hashes": [dict(h) for h in incident.hashes],
        "matches": [dict(m) for m in incident.matches],
        "files": [
            {
                "name": incident.file_name,
                "evidence_id": incident.evidence_id,
                "media_type": incident.media_type,
                "size_bytes": incident.size_bytes,
            }
        ],
    }


def prepare(
    incident: Incident, settings: HashBankSettings, authority: str
) -> HotlineReportPrepared:
    fmt = CYBERTIPLINE if authority == "ncmec" else GENERIC
    build = cybertipline_payload if fmt == CYBERTIPLINE else generic_payload
    return HotlineReportPrepared(
        report_id=report_id_for(incident.match_id),
        match_id=incident.match_id,
        authority=authority,
        format=fmt,
        payload=build(incident, settings),
    )


# -- the report aggregate ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRecord:
    prepared: HotlineReportPrepared
    state: str  # prepared | submitted | acknowledged
    remote_id: str | None = None
    failures: int = 0


@dataclass(frozen=True)
class MarkSubmitted:
    remote_id: str
    submitted_by: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class MarkFailed:
    error: str


@dataclass(frozen=True)
class MarkAcknowledged:
    acknowledged_by: str
    detail: str


class HotlineReport:
    category = HOTLINE

    def initial(self) -> ReportRecord | None:
        return None

    def evolve(self, state: ReportRecord | None, event: RecordedEvent) -> ReportRecord | None:
        if event.type == HotlineReportPrepared.event_type_name:
            return ReportRecord(event.payload_as(HotlineReportPrepared), "prepared")
        if state is None:
            return None
        if event.type == HotlineReportSubmitted.event_type_name:
            remote = str(event.payload["remote_id"])
            return ReportRecord(state.prepared, "submitted", remote, state.failures)
        if event.type == HotlineReportSubmissionFailed.event_type_name:
            return ReportRecord(state.prepared, state.state, state.remote_id, state.failures + 1)
        if event.type == HotlineReportAcknowledged.event_type_name:
            return ReportRecord(state.prepared, "acknowledged", state.remote_id, state.failures)
        return state

    def decide(
        self, state: ReportRecord | None, command: MarkSubmitted | MarkFailed | MarkAcknowledged
    ) -> list[EventPayload]:
        if state is None:
            raise UnknownHotlineReport("no such hotline report")
        rid = state.prepared.report_id
        if isinstance(command, MarkSubmitted):
            if state.state != "prepared":
                raise ReportState(f"report {rid} was {state.state} already")
            return [
                HotlineReportSubmitted(
                    report_id=rid,
                    remote_id=command.remote_id,
                    submitted_by=command.submitted_by,
                    files=list(command.files),
                )
            ]
        if isinstance(command, MarkFailed):
            return [HotlineReportSubmissionFailed(report_id=rid, error=command.error[:2000])]
        if state.state != "submitted" or state.remote_id is None:
            raise ReportState(
                f"report {rid} is {state.state}: only a submitted one is acknowledged"
            )
        return [
            HotlineReportAcknowledged(
                report_id=rid,
                remote_id=state.remote_id,
                acknowledged_by=command.acknowledged_by,
                detail=command.detail[:2000],
            )
        ]


REPORTS = HotlineReport()


def load_report(store: Any, report_id: str) -> ReportRecord:
    from core.aggregate import load

    state = load(store, REPORTS, report_id).state
    if state is None:
        raise UnknownHotlineReport(f"no hotline report {report_id!r}")
    return state


# -- submitting ------------------------------------------------------------------------------------


class ReportClient(Protocol):
    """Sends a prepared report to its authority; returns the authority's report id."""

    def submit(self, payload: Mapping[str, Any], files: Sequence[tuple[str, bytes]]) -> str: ...


class ReportSubmissionError(ServiceUnavailable):
    """The authority's API refused or did not answer; the report stays prepared."""

    code = "hotline_submission_failed"


def report_xml(report: Mapping[str, Any], root: str = "report") -> bytes:
    """A document as XML, the form the CyberTipline's ``/submit`` and ``/fileinfo`` take."""
    element = ET.Element(root)
    for key, value in report.items():
        _xml_put(element, key, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


class HttpCyberTiplineClient:
    """The CyberTipline reporting API over HTTPS (basic auth): ``/submit`` the report, then per
    file ``/upload`` and ``/fileinfo``, then ``/finish``. Retries network failures."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout_s: float = 30.0,
        transport: Any = None,
    ) -> None:
        import httpx

        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=(username, password),
            timeout=timeout_s,
            transport=transport,
        )

    def _post(self, path: str, **kwargs: Any) -> ET.Element:
        import httpx
        from tenacity import (
            Retrying,
            retry_if_exception_type,
            stop_after_attempt,
            wait_exponential,
        )

        for attempt in Retrying(
            retry=retry_if_exception_type(httpx.TransportError),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.5, max=5),
            reraise=True,
        ):
            with attempt:
                response = self.client.post(path, **kwargs)
        if response.status_code >= 400:
            raise ReportSubmissionError(f"{path}: HTTP {response.status_code}")
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise ReportSubmissionError(f"{path}: unreadable answer ({exc})") from None
        code = root.findtext("responseCode")
        if code not in (None, "0"):
            raise ReportSubmissionError(
                f"{path}: response code {code} {root.findtext('responseDescription') or ''}"
            )
        return root

    def submit(self, payload: Mapping[str, Any], files: Sequence[tuple[str, bytes]]) -> str:
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        root = self._post("/submit", content=report_xml(payload["report"]), headers=headers)
        remote = root.findtext("reportId")
        if not remote:
            raise ReportSubmissionError("/submit: no reportId in the answer")
        for (name, data), info in zip(files, payload.get("files", []), strict=False):
            uploaded = self._post("/upload", data={"id": remote}, files={"file": (name, data)})
            file_id = uploaded.findtext("fileId") or ""
            details = {
                "reportId": remote,
                "fileId": file_id,
                **{k: v for k, v in info.items() if k != "evidenceId"},
            }
            self._post("/fileinfo", content=report_xml(details, "fileDetails"), headers=headers)
        self._post("/finish", data={"id": remote})
        return remote


def _xml_put(parent: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        node = ET.SubElement(parent, name)
        for k, v in value.items():
            _xml_put(node, k, v)
    elif isinstance(value, list | tuple):
        for item in value:
            _xml_put(parent, name, item)
    elif value is not None:
        ET.SubElement(parent, name).text = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )


def configured_client(settings: HashBankSettings) -> ReportClient:
    if not settings.report_client_enabled:
        raise ReportClientDisabled(
            "no report client is configured (CLEARFRAME_HASH_BANKS_REPORT_CLIENT_ENABLED); "
            "export the report and file it by hand"
        )
    assert settings.report_client_password is not None  # settings require it
    return HttpCyberTiplineClient(
        settings.report_client_url,
        settings.report_client_username,
        settings.report_client_password.get_secret_value(),
        timeout_s=settings.report_client_timeout_s,
    )


def submit_report(
    services: Any, report_id: str, actor: Actor, client: ReportClient
) -> ReportRecord:
    """Send the report with its preserved files; the outcome is an event either way."""
    from trust_safety.hash_banks.evidence import open_evidence

    record = load_report(services.store, report_id)
    if record.state != "prepared":
        raise ReportState(f"report {report_id} was {record.state} already")
    files: list[tuple[str, bytes]] = []
    names: list[str] = []
    for info in record.prepared.payload.get("files", []):
        evidence_id = info.get("evidenceId") or info.get("evidence_id")
        if evidence_id:
            _, data = open_evidence(services, str(evidence_id))
            name = str(info.get("fileName") or info.get("name") or evidence_id)
            files.append((name, data))
            names.append(name)
    try:
        remote = client.submit(record.prepared.payload, files)
    except Exception as exc:  # recorded as a failed attempt; the report stays prepared
        execute(
            services.store,
            REPORTS,
            report_id,
            MarkFailed(f"{type(exc).__name__}: {exc}"),
            actor=actor,
        )
        raise ReportSubmissionError(f"submitting report {report_id} failed: {exc}") from None
    execute(
        services.store,
        REPORTS,
        report_id,
        MarkSubmitted(remote, actor.id, tuple(names)),
        actor=actor,
    )
    return load_report(services.store, report_id)


def acknowledge_report(services: Any, report_id: str, actor: Actor, detail: str) -> ReportRecord:
    execute(
        services.store,
        REPORTS,
        report_id,
        MarkAcknowledged(actor.id, detail),
        actor=actor,
    )
    return load_report(services.store, report_id)


def stream_of(report_id: str) -> str:
    return stream_id(HOTLINE, report_id)
