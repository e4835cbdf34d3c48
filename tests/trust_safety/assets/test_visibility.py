"""Every reason an asset goes down or comes back becomes a hold on its asset stream, and every
read model copies the visibility the asset-visibility processor publishes (issue 12)."""

from __future__ import annotations

from typing import Any

from contracts.assets import AssetVisibilityChanged
from core.events import Actor
from core.modules import all_projections
from core.replay import replay_check
from core.services import Services
from feed import queries
from feed.models import FeedAssetRow
from generator.models import GenerationJobRow
from provenance.models import ProvAsset
from reverse_search.models import GenerationRecord
from reverse_search.service import InvestigatorSearch
from tests.utils import contract_events as ce
from tests.utils import drain, enrolment, make_principal
from trust_safety.consent.models import CameoAppearanceRow

REVIEWER = Actor(id="rev-1", role="reviewer")
GEN, ASSET = "g-visibility", "a-visibility"


def publish(services: Services, owner: str = "maker", cameo_ids: list[str] | None = None) -> None:
    """A request, its approval, the signed asset and its publication, as the pipeline writes
    them (the consent ledger learns from the approval which cameos appear)."""
    ce.append(
        services,
        ce.generation_requested(GEN, owner, cameo_ids=cameo_ids or []),
        ce.generation_approved(GEN, owner, cameo_ids=cameo_ids or []),
        ce.asset_signed(GEN, ASSET, owner),
        ce.asset_published(GEN, ASSET),
    )


def register_cameo(client: Any, services: Services) -> str:
    _, headers = make_principal(services, "user", name="cameo owner")
    return enrolment.register_cameo(client, headers, "owner", audience="everyone")


def removal() -> Any:
    return ce.action_taken("act-1", "remove_asset", ASSET, generation_id=GEN)


def visibility_events(services: Services) -> list[AssetVisibilityChanged]:
    return [
        e.payload_as(AssetVisibilityChanged) for e in services.store.read_stream(f"asset-{GEN}")
    ]


def everywhere(services: Services, cameo_id: str | None = None) -> dict[str, Any]:
    """What each read model says about the asset."""
    with services.read_sessions() as s:
        job = s.get(GenerationJobRow, GEN)
        feed = s.get(FeedAssetRow, ASSET)
        prov = s.get(ProvAsset, ASSET)
        record = s.get(GenerationRecord, GEN)
        assert job is not None and feed is not None and prov is not None and record is not None
        assert feed.published_at is not None
        seen: dict[str, Any] = {
            "generator": job.removed,
            "feed": feed.removed,
            "feed_recent": ASSET not in {e.asset_id for e in queries.recent(s, feed.published_at)},
            "provenance": prov.removed,
            "reverse_search": record.visibility == "removed",
            "public_lookup": not InvestigatorSearch(services).manifests_by_watermark(ce.SERIAL),
        }
        if cameo_id is not None:
            appearance = s.get(CameoAppearanceRow, (cameo_id, GEN))
            assert appearance is not None
            seen["consent_ledger"] = appearance.status == "removed"
    return seen


def all_removed(seen: dict[str, Any]) -> bool:
    return all(seen.values())


def none_removed(seen: dict[str, Any]) -> bool:
    return not any(seen.values())


def no_replay_differences(services: Services) -> None:
    # The made-up blob address cannot be fingerprinted, which replay-check counts: an
    # unreadable blob is a difference, never just a warning.
    report = replay_check(services, all_projections(), progress=False, out=lambda _m: None)
    assert [(d.projection, d.table) for d in report] == [("reverse-search-indexer", "blobs")]


def test_a_restored_asset_is_restored_in_every_read_model(services: Services, client: Any) -> None:
    cameo = register_cameo(client, services)
    publish(services, cameo_ids=[cameo])
    drain(services)
    assert none_removed(everywhere(services, cameo))

    action = removal()
    ce.append(services, action, actor=REVIEWER)
    drain(services)
    assert all_removed(everywhere(services, cameo))
    assert [e.change for e in visibility_events(services)] == ["placed"]

    # A successful appeal reverses the removal: every read model shows the video again,
    # the consent ledger's appearance included.
    ce.append(services, ce.reversed_(action), actor=REVIEWER)
    drain(services)
    assert none_removed(everywhere(services, cameo))
    with services.read_sessions() as s:
        appearance = s.get(CameoAppearanceRow, (cameo, GEN))
        assert appearance is not None and appearance.status == "published"
    no_replay_differences(services)


def test_two_holds_need_two_lifts_everywhere(services: Services, client: Any) -> None:
    cameo = register_cameo(client, services)
    publish(services, cameo_ids=[cameo])
    action = removal()
    ce.append(services, action, actor=REVIEWER)
    ce.append(services, ce.appearance_removed(cameo, GEN))
    drain(services)
    assert all_removed(everywhere(services, cameo))

    # The appeal lifts the enforcement hold; the cameo owner's removal still holds.
    ce.append(services, ce.reversed_(action), actor=REVIEWER)
    drain(services)
    assert all_removed(everywhere(services, cameo))
    last = visibility_events(services)[-1]
    assert last.change == "lifted" and [h.key for h in last.holds] == [f"cameo:{cameo}"]
    # ... and the requester still cannot download it.
    with services.read_sessions() as s:
        job = s.get(GenerationJobRow, GEN)
        assert job is not None and job.visibility == "removed"
    no_replay_differences(services)


def test_a_draft_removed_before_signing_stays_removed_once_signed(services: Services) -> None:
    """The cameo owner removes a draft: the visibility names no asset yet; readers keyed by
    asset apply it when the asset is signed, in whichever order they hear the two streams."""
    ce.append(services, ce.appearance_removed("cam-early", GEN))
    drain(services, ["asset-visibility"])
    assert visibility_events(services)[-1].asset_id is None
    publish(services)
    drain(services)
    assert all_removed(everywhere(services))
    no_replay_differences(services)


def test_labels_do_not_remove(services: Services) -> None:
    publish(services)
    ce.append(
        services,
        ce.action_taken(
            "act-1", "label_asset", ASSET, generation_id=GEN, label_text="Synthetic media"
        ),
        actor=REVIEWER,
    )
    drain(services)
    assert none_removed(everywhere(services))
    with services.read_sessions() as s:
        feed = s.get(FeedAssetRow, ASSET)
        assert feed is not None and feed.labels == ["Synthetic media"]
    assert visibility_events(services)[-1].visibility == "labelled"
