"""Every removal reason becomes AssetRemoved/AssetRestored holds that every read model follows."""

from __future__ import annotations

from core.events import Actor
from core.modules import all_projections
from core.replay import replay_check
from core.services import Services
from feed.models import FeedAssetRow
from generator.models import GenerationJobRow
from provenance.events import AssetPublished, AssetSigned
from reverse_search.models import AssetRecord
from tests.utils import drain
from trust_safety.cases.events import EnforcementActionTaken, EnforcementReversed
from trust_safety.consent.facts import CameoAppearanceRemoved

REVIEWER = Actor(id="rev-1", role="reviewer")
OWNER = Actor(id="cameo-owner", role="user")
GEN, ASSET = "g-visibility", "a-visibility"


def publish(services: Services) -> None:
    services.store.append(
        f"generation-{GEN}",
        [
            AssetSigned(
                generation_id=GEN,
                asset_id=ASSET,
                requester_id="maker",
                tier="paid",
                blob_address="b" * 64,
                bytes=10,
                manifest_id="urn:m",
                download_blob_address="b" * 64,
                download_manifest_id="urn:m",
                visible_watermark=False,
                watermark_serial="00000000000000aa",
                watermark_payload="00000000000000aa",
                soft_binding_alg="clearframe.wm.v1",
                signer="dev",
                development_signer=True,
                duration_s=4.0,
                width=320,
                height=180,
                fps=12.0,
            ),
            AssetPublished(
                generation_id=GEN, asset_id=ASSET, download_blob_address="b" * 64, tier="paid"
            ),
        ],
        expected_version=None,
        actor=Actor(id="system", role="system"),
    )


def action(kind: str = "remove_asset") -> EnforcementActionTaken:
    return EnforcementActionTaken(
        action_id="act-1",
        puid="puid-1",
        kind=kind,
        target_kind="asset",
        target_id=ASSET,
        affected_user_id="maker",
        statement_category="STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        ground="terms",
        automated_detection=False,
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        source_type="SOURCE_TRUSTED_FLAGGER",
        decided_by="rev-1",
        statement={},
        label_text="Synthetic media" if kind == "label_asset" else None,
    )


def state(services: Services) -> tuple[bool, dict[str, str], bool]:
    with services.read_sessions() as s:
        job = s.get(GenerationJobRow, GEN)
        feed = s.get(FeedAssetRow, ASSET)
        assert job is not None and feed is not None
        return job.removed, dict(job.removal_holds), feed.removed


def search_holds(services: Services) -> set[str]:
    with services.read_sessions() as s:
        record = s.get(AssetRecord, ASSET)
        assert record is not None
        return set(record.holds)


def generation_types(services: Services) -> list[str]:
    return [e.type for e in services.store.read_stream(f"generation-{GEN}")]


def test_holds_from_enforcement_and_cameo_removal(services: Services) -> None:
    publish(services)
    drain(services)
    assert state(services) == (False, {}, False)

    services.store.append("enforcement-act-1", [action()], expected_version=0, actor=REVIEWER)
    drain(services)
    removed, holds, feed_removed = state(services)
    assert removed and set(holds) == {"act-1"} and feed_removed
    assert generation_types(services)[-1] == "AssetRemoved"

    services.store.append(
        "consent-cam-1",
        [CameoAppearanceRemoved(cameo_id="cam-1", generation_id=GEN)],
        expected_version=None,
        actor=OWNER,
    )
    drain(services)
    assert set(state(services)[1]) == {"act-1", "cameo:cam-1"}
    assert search_holds(services) == {"act-1", "cameo:cam-1"}  # reverse search agrees

    # A successful appeal lifts the enforcement hold; the owner's removal still holds.
    services.store.append(
        "enforcement-act-1",
        [
            EnforcementReversed(
                action_id="act-1",
                kind="remove_asset",
                target_kind="asset",
                target_id=ASSET,
                affected_user_id="maker",
                reason="appeal upheld",
                reversed_by="rev-2",
            )
        ],
        expected_version=1,
        actor=REVIEWER,
    )
    drain(services)
    removed, holds, feed_removed = state(services)
    assert removed and set(holds) == {"cameo:cam-1"} and feed_removed
    assert search_holds(services) == {"cameo:cam-1"}
    assert generation_types(services).count("AssetRestored") == 1
    # Every read model equals its replay. The made-up blob address cannot be fingerprinted,
    # which replay-check counts: an unreadable blob is a difference, never just a warning.
    report = replay_check(services, all_projections(), progress=False, out=lambda _m: None)
    assert [(d.projection, d.table, d.count) for d in report] == [
        ("reverse-search-indexer", "blobs", 1)
    ]


def test_labels_do_not_remove(services: Services) -> None:
    publish(services)
    services.store.append(
        "enforcement-act-1", [action("label_asset")], expected_version=0, actor=REVIEWER
    )
    drain(services)
    assert state(services)[:2] == (False, {})
    assert "AssetRemoved" not in generation_types(services)
