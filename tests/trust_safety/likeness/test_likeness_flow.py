"""The whole likeness chain on real faces, through the API and the real workers:

enrol a cameo from a capture -> a friend uploads a photo of that face (the upload check
matches it to the cameo) -> image-to-video generation (the procedural backend places the
photo in the clip) -> output moderation finds the face and matches it -> the owner sees the
video in their likeness view -> the owner removes it, and it is no longer downloadable.

And the refusal: once the owner revokes the friend's consent, a video of the same upload
that does not name the cameo is blocked as ``likeness``, and the owner sees the attempt.
"""

from __future__ import annotations

import base64
from typing import Any

from core.services import Services
from tests.trust_safety.likeness.clips import jpeg
from tests.utils import drain, make_principal
from tests.utils.enrolment import register_cameo

WORKERS = [
    "prompt-moderation",
    "generation-requests",
    "generator",
    "output-moderation",
    "provenance-signing",
    "provenance-assets",
    "generation-jobs",
    "consent-ledger",
    "asset-directory",
    "asset-visibility",
    "likeness-matches",
]


def _generate(client: Any, headers: dict[str, str], upload_id: str, cameo_ids: list[str]) -> str:
    response = client.post(
        "/v1/generations",
        headers=headers,
        json={
            "kind": "image_to_video",
            "prompt": "a friend waving on a sunny beach",
            "upload_id": upload_id,
            "cameo_ids": cameo_ids,
            "resolution": "360p",
            "aspect_ratio": "1:1",
            "duration_s": 2.0,
            "fps": 8,
            "seed": 11,
        },
    )
    assert response.status_code == 202, response.text
    return str(response.json()["generation_id"])


def test_upload_generation_match_owners_view_and_removal(services: Services, client: Any) -> None:
    owner, owner_h = make_principal(services, "user")
    friend, friend_h = make_principal(services, "user")
    cameo = register_cameo(client, owner_h, "kit.h", audience="approved_people", person="kit")
    granted = client.post(
        f"/v1/cameos/{cameo}/grants", headers=owner_h, json={"grantee_id": friend}
    )
    assert granted.status_code == 201, granted.text
    drain(services, ["consent-ledger"])

    # The friend uploads a photo of the owner for a video that names the cameo.
    upload = client.post(
        "/v1/uploads",
        headers=friend_h,
        files={"file": ("kit.jpg", jpeg("kit_harington_2.jpg"), "image/jpeg")},
        data={"cameo_ids": [cameo]},
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["outcome"] == "approved", upload.json()
    upload_id = upload.json()["upload_id"]

    named = _generate(client, friend_h, upload_id, [cameo])
    drain(services, WORKERS)
    job = client.get(f"/v1/generations/{named}/job", headers=friend_h).json()
    assert job["status"] == "published", job
    download = client.get(f"/v1/generations/{named}/download", headers=friend_h)
    assert download.status_code == 200

    view = client.get(f"/v1/cameos/{cameo}/likeness", headers=owner_h)
    assert view.status_code == 200, view.text
    (video,) = view.json()["videos"]
    assert video["generation_id"] == named and video["creator_id"] == friend
    assert video["named"] and video["detected"] and video["status"] == "published"
    assert video["consented"] and video["consent_reason"] == "named_and_allowed"
    # The photo is on screen for the whole clip: one range over its two seconds.
    assert video["time_ranges"] == [{"start_s": 0.0, "end_s": 2.0}]
    assert video["best_distance"] < 0.5
    thumbnail = client.get(video["thumbnail_url"], headers=owner_h)
    assert thumbnail.status_code == 200
    data_url = thumbnail.json()["data_url"]
    assert base64.b64decode(data_url.split(",", 1)[1])[:2] == b"\xff\xd8"  # a JPEG
    assert client.get(video["thumbnail_url"], headers=friend_h).status_code == 404

    # The owner takes it down: the same hold as any cameo removal.
    removed = client.post(
        f"/v1/cameos/{cameo}/likeness/{named}/remove", headers=owner_h, json={"reason": "no"}
    )
    assert removed.status_code == 202, removed.text
    drain(services, WORKERS)
    gone = client.get(f"/v1/generations/{named}/download", headers=friend_h)
    assert gone.status_code == 409 and gone.json()["reason"] == "removed"
    (video,) = client.get(f"/v1/cameos/{cameo}/likeness", headers=owner_h).json()["videos"]
    assert video["status"] == "removed" and video["removed_by_you"]

    # Consent revoked: the same upload in a video that leaves the cameo out is refused.
    revoked = client.delete(f"/v1/cameos/{cameo}/grants/{friend}", headers=owner_h)
    assert revoked.status_code == 200, revoked.text
    unnamed = _generate(client, friend_h, upload_id, [])
    drain(services, WORKERS)
    job = client.get(f"/v1/generations/{unnamed}/job", headers=friend_h).json()
    assert job["status"] == "blocked" and job["blocked_categories"] == ["likeness"], job
    assert client.get(f"/v1/generations/{unnamed}/download", headers=friend_h).status_code == 409
    body = client.get(f"/v1/cameos/{cameo}/likeness", headers=owner_h).json()
    videos = {v["generation_id"]: v for v in body["videos"]}
    assert videos[unnamed]["status"] == "blocked" and not videos[unnamed]["named"]
    assert body["refused_attempts"] == [
        {
            "generation_id": unnamed,
            "requester_id": friend,
            "stage": "output",
            "reason": "not_named",
            "at": body["refused_attempts"][0]["at"],
        }
    ]
