"""The feed and the cases domain read the provenance domain's real events correctly.

The consumers only know these events by type name and payload; this test appends the real
declared payloads so that a renamed or dropped field shows up here, not in production.
"""

from __future__ import annotations

from typing import Any

from contracts.generation import AssetPublished, AssetSigned
from core.events import SYSTEM_ACTOR, stream_id
from core.services import Services
from feed import queries
from tests.utils import drain
from trust_safety.cases.models import AssetFactsRow


def signed_and_published(generation_id: str, requester: str, parents: list[str]) -> list[Any]:
    asset_id = f"asset-{generation_id}"
    return [
        AssetSigned(
            generation_id=generation_id,
            asset_id=asset_id,
            requester_id=requester,
            tier="paid",
            blob_address="a" * 64,
            bytes=1000,
            manifest_id="urn:c2pa:1",
            download_blob_address="a" * 64,
            download_manifest_id="urn:c2pa:1",
            visible_watermark=False,
            watermark_serial="0123456789abcdef",
            watermark_payload="0123456789abcdef",
            soft_binding_alg="clearframe.dwt",
            signer="CN=test",
            development_signer=True,
            duration_s=2.0,
            width=64,
            height=64,
            fps=8.0,
            remix_parents=parents,
        ),
        AssetPublished(
            generation_id=generation_id,
            asset_id=asset_id,
            download_blob_address="a" * 64,
            tier="paid",
        ),
    ]


def test_real_signing_events_feed_the_feed_and_the_owner_lookup(services: Services) -> None:
    for gen, parents in (("g1", []), ("g2", ["g1"]), ("g3", ["g2", "g1"])):
        services.store.append(
            stream_id("provenance", gen),
            signed_and_published(gen, "alice", parents),
            expected_version=None,
            actor=SYSTEM_ACTOR,
        )
    drain(services, ["feed", "cases-assets"])
    from core.events import utcnow

    with services.sessions() as s:
        recent = queries.recent(s, utcnow())
        assert [e.asset_id for e in recent] == ["asset-g3", "asset-g2", "asset-g1"]
        assert {e.owner_id for e in recent} == {"alice"}
        lineage = queries.lineage(s, "asset-g3", utcnow())
        assert [n.asset_id for n in lineage.parents] == ["asset-g2", "asset-g1"]
        assert lineage.depth == 2
        assert s.get(AssetFactsRow, "asset-g2").owner_id == "alice"  # type: ignore[union-attr]
