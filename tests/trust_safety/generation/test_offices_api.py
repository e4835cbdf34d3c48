"""Office titles at the gate: the live table, admins' edits through events, consent."""

from __future__ import annotations

from typing import Any

from tests.trust_safety.generation.gate_calls import GATE, events, request
from tests.utils import drain
from tests.utils.enrolment import register_cameo
from trust_safety.moderation.offices import load_default_offices

SHIPPED_OFFICES = load_default_offices().version


def outcome(services: Any, generation_id: str) -> Any:
    return events(services, generation_id)[-1]


def decision(services: Any, generation_id: str) -> dict[str, Any]:
    [moderated] = [e for e in events(services, generation_id) if e.type == "PromptModerated"]
    return dict(moderated.payload["prompt_decision"])


def figures_by_title(record: dict[str, Any]) -> dict[str, str]:
    return {
        e["ref"]: e["detail"]
        for e in record["evidence"]
        if e["kind"] == "public_figure" and e["category"] == "public_figures"
    }


def test_a_title_is_refused_like_the_name_and_an_admin_edit_moves_the_holder(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    _, admin = people["admin"]
    gid = request(client, ada, prompt="the Pope giving a speech in a nightclub")
    drain(services, GATE)
    refused = outcome(services, gid)
    assert refused.type == "GenerationRefused"
    assert refused.payload["reason_category"] == "public_figures"
    record = decision(services, gid)
    assert figures_by_title(record) == {"pf-pope-leo": "by title: pope (holder since 2025-05-08)"}
    assert record["data_versions"]["public_offices"] == str(SHIPPED_OFFICES)

    listed = client.put(
        "/v1/moderation/public-figures/pf-jane-quasar",
        headers=admin,
        json={"name": "Jane Quasarine"},
    )
    assert listed.status_code == 200, listed.text
    moved = client.put(
        "/v1/moderation/public-offices/pope/holder",
        headers=admin,
        json={"figure_id": "pf-jane-quasar", "start": "2026-01-01"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"version": SHIPPED_OFFICES + 1}
    gid = request(client, ada, prompt="the Pope giving a speech in a nightclub")
    drain(services, GATE)
    record = decision(services, gid)
    assert figures_by_title(record) == {
        "pf-jane-quasar": "by title: pope (holder since 2026-01-01)"
    }
    assert record["data_versions"]["public_offices"] == str(SHIPPED_OFFICES + 1)

    # a new title, then its removal, each an event the next decision sees
    added = client.post(
        "/v1/moderation/public-offices/pope/titles",
        headers=admin,
        json={"language": "nl", "title": "de paus", "expected_version": SHIPPED_OFFICES + 1},
    )
    assert added.status_code == 201, added.text
    gid = request(client, ada, prompt="de paus op een feest")
    drain(services, GATE)
    assert outcome(services, gid).payload.get("reason_category") == "public_figures"
    removed = client.delete("/v1/moderation/public-offices/pope/titles/nl/de paus", headers=admin)
    assert removed.status_code == 200 and removed.json() == {"version": SHIPPED_OFFICES + 3}
    gid = request(client, ada, prompt="de paus op een feest")
    drain(services, GATE)
    assert "pf-jane-quasar" not in figures_by_title(decision(services, gid))

    kinds = [e.type for e in services.store.read_stream("modlist-public_figures")]
    assert kinds == [
        "PublicFigureListed",
        "OfficeHolderSet",
        "OfficeTitleAdded",
        "OfficeTitleRemoved",
    ]
    lists = client.get("/v1/moderation/lists", headers=admin).json()
    assert lists["public_offices"]["version"] == SHIPPED_OFFICES + 3
    [pope] = [o for o in lists["public_offices"]["offices"] if o["id"] == "pope"]
    assert pope["holders"][-1] == {"figure_id": "pf-jane-quasar", "from": "2026-01-01", "to": None}
    assert pope["holders"][0]["to"] == "2026-01-01"


def test_generic_titles_pass(client: Any, services: Any, people: Any) -> None:
    _, ada = people["ada"]
    ids = [
        request(client, ada, prompt=prompt)
        for prompt in ("a king in a fairy tale", "a chess king on a marble board")
    ]
    drain(services, GATE)
    for gid in ids:
        assert outcome(services, gid).type == "GenerationApproved"
        assert figures_by_title(decision(services, gid)) == {}


def test_consent_for_the_holders_cameo_clears_the_title(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    _, bo = people["bo"]
    _, admin = people["admin"]
    # Ada is the figure here: her verified cameo is linked to the Pope's figure id.
    cameo_id = register_cameo(client, ada, "leo")
    linked = client.post(
        f"/v1/cameos/{cameo_id}/public-figure",
        headers=admin,
        json={"public_figure_id": "pf-pope-leo"},
    )
    assert linked.status_code in (200, 201), linked.text
    drain(services)
    own = request(client, ada, prompt="the pope feeding ducks")
    other = request(client, bo, prompt="the pope feeding ducks")
    drain(services, GATE)
    approved = outcome(services, own)
    assert approved.type == "GenerationApproved", approved.payload
    assert approved.payload["cameo_ids"] == [cameo_id]
    assert outcome(services, other).payload["reason_category"] == "public_figures"


def test_only_admins_edit_offices_and_bad_input_is_4xx(
    client: Any, services: Any, people: Any
) -> None:
    _, ada = people["ada"]
    _, rev = people["rev"]
    _, admin = people["admin"]
    holder = {"figure_id": "pf-tom-hanks", "start": "2026-01-01"}
    title = {"language": "nl", "title": "de paus"}
    for headers in (ada, rev):
        assert (
            client.put("/v1/moderation/public-offices/pope/holder", headers=headers, json=holder)
        ).status_code == 403
        assert (
            client.post("/v1/moderation/public-offices/pope/titles", headers=headers, json=title)
        ).status_code == 403
        assert (
            client.delete("/v1/moderation/public-offices/pope/titles/en/pontiff", headers=headers)
        ).status_code == 403
    assert client.put("/v1/moderation/public-offices/pope/holder", json=holder).status_code == 401

    def put_holder(office: str, body: dict[str, Any]) -> Any:
        return client.put(
            f"/v1/moderation/public-offices/{office}/holder", headers=admin, json=body
        )

    def add_title(body: dict[str, Any]) -> Any:
        return client.post("/v1/moderation/public-offices/pope/titles", headers=admin, json=body)

    unknown = put_holder("pharaoh", holder)
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_office"
    assert put_holder("Bad Office", holder).status_code == 422
    nobody = put_holder("pope", {"figure_id": "pf-nobody-at-all", "start": "2026-01-01"})
    assert nobody.status_code == 422 and "pf-nobody-at-all" in nobody.json()["detail"]
    assert (
        put_holder("pope", {"figure_id": "pf-tom-hanks", "start": "2026-13-40"}).status_code == 422
    )
    assert put_holder("pope", {"figure_id": "pf-tom-hanks"}).status_code == 422
    assert put_holder("pope", {**holder, "extra": 1}).status_code == 422
    assert put_holder("pope", {**holder, "figure_id": "x" * 200}).status_code == 422
    assert add_title({"language": "nl", "title": "x" * 81}).status_code == 422
    assert add_title({"language": "dutch", "title": "de paus"}).status_code == 422
    assert add_title({"language": "en", "title": "king"}).status_code == 422  # designates no one
    assert add_title({"language": "en", "title": "pontiff"}).status_code == 422  # already there
    assert add_title({"language": "en", "title": "!!"}).status_code == 422
    stale = add_title({**title, "expected_version": SHIPPED_OFFICES + 7})
    assert stale.status_code == 409
    missing = client.delete("/v1/moderation/public-offices/pope/titles/en/antipope", headers=admin)
    assert missing.status_code == 422
    assert (
        client.delete("/v1/moderation/public-offices/nope/titles/en/pontiff", headers=admin)
    ).status_code == 404
    assert services.store.read_stream("modlist-public_figures") == []
