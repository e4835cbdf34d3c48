"""Generated outputs are matched before anything is signed: a clip whose frames a CSAM bank
holds (vPDQ) is blocked with the bank's verdict, kept as evidence, its requester banned and a
report prepared; an unrelated clip passes with its verdicts unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from contracts.ports import BLOB_STORE
from core.events import SYSTEM_ACTOR, Actor
from core.projections import make_runner
from core.services import Services
from tests.generator.helpers import ScriptedSexual
from tests.trust_safety.hash_banks.helpers import ADMIN
from tests.trust_safety.hash_banks.media import clip_frames, hash_file, mp4
from tests.utils import contract_events as ce
from tests.utils import drain
from trust_safety.hash_banks.banks import CreateBank
from trust_safety.hash_banks.exchanges import import_file
from trust_safety.hash_banks.service import create_bank
from trust_safety.hash_banks.signals import hash_video, vpdq_signal
from trust_safety.output.classifiers import SEXUAL
from trust_safety.output.moderation import CategoryRule, OutputPolicy
from trust_safety.output.processor import OutputModeration

POLICY = OutputPolicy(version="hash-test-1", rules={SEXUAL: CategoryRule(0.5, fail_closed=True)})


def render(services: Services, generation_id: str, requester: str, clip: bytes) -> None:
    address = services.port(BLOB_STORE).put_bytes(clip)
    ce.append(
        services,
        ce.generation_requested(generation_id, requester, "a paper boat"),
        actor=Actor(id=requester, role="user"),
    )
    ce.append(services, ce.generation_approved(generation_id, requester, "a paper boat"))
    ce.append(
        services,
        ce.generation_completed(
            generation_id, master_blob=address, bytes=len(clip), width=160, height=128, fps=8
        ),
        actor=SYSTEM_ACTOR,
    )


def test_a_banked_clip_is_blocked_before_signing_and_an_unrelated_one_passes(
    services: Services, tmp_path: Path
) -> None:
    banked = mp4(clip_frames(61, seconds=3))
    create_bank(services, CreateBank("csam-video", "videos", "csam"), ADMIN)
    path = hash_file(tmp_path / "v.txt", [("vpdq", vpdq_signal(hash_video(banked).vpdq))])
    assert import_file(services, "csam-video", path, actor=ADMIN).added == 1

    # the generator's render is a re-encode of the banked clip (other bytes, same frames)
    render(services, "g-known", "maker", mp4(clip_frames(61, seconds=3)[::-1][::-1], fps=8))
    render(services, "g-clean", "maker", mp4(clip_frames(62, seconds=3)))
    moderation = OutputModeration(services, classifiers=[ScriptedSexual(0.0)], policy=POLICY)
    drain(services, ["hash-banks"], built=[make_runner(moderation, services)])

    decided = {e.payload["generation_id"]: e.payload for e in services.store.read_all(
        types=["OutputModerated"])}  # fmt: skip
    known, clean = decided["g-known"], decided["g-clean"]
    assert known["decision"] == "block" and "known_csam" in known["blocked_categories"]
    [verdict] = [v for v in known["verdicts"] if v["category"] == "known_csam"]
    assert verdict["outcome"] == "block" and verdict["subjects"] == ["hashbank:csam-video"]
    assert verdict["matches"][0]["query_match_pct"] >= 80
    assert clean["decision"] == "allow" and "hash-banks" in clean["classifiers"]
    assert all(v["category"] != "known_csam" for v in clean["verdicts"])

    [matched] = services.store.read_all(types=["KnownMediaMatched"])
    assert matched.payload["surface"] == "output" and matched.payload["subject_id"] == "g-known"
    assert matched.payload["outcome"] == "blocked" and matched.payload["account_id"] == "maker"
    kinds = sorted(e.payload["kind"] for e in services.store.read_all(
        types=["EnforcementActionTaken"]))  # fmt: skip
    assert kinds == ["ban_account", "block_output"]  # the output's block and the account's ban
    assert len(services.store.read_all(types=["EvidencePreserved"])) == 1
    assert len(services.store.read_all(types=["HotlineReportPrepared"])) == 1


def test_an_uploaded_clip_matching_a_banked_one_is_refused(
    services: Services, tmp_path: Path
) -> None:
    from tests.trust_safety.hash_banks.helpers import upload

    frames = clip_frames(63, seconds=3)
    create_bank(services, CreateBank("terror-video", "videos", "terrorism"), ADMIN)
    path = hash_file(tmp_path / "t.txt", [("vpdq", vpdq_signal(hash_video(mp4(frames)).vpdq))])
    import_file(services, "terror-video", path, actor=ADMIN)
    from PIL import Image

    # rescaled to half size: other bytes, the same pictures
    smaller = [np.asarray(Image.fromarray(f).resize((80, 64), Image.LANCZOS)) for f in frames]
    refused = upload(services, mp4(smaller), "uploader")
    assert not refused.decision.approved
    assert refused.decision.to_record()["hash_match"]["categories"] == ["terrorism"]
    [matched] = services.store.read_all(types=["KnownMediaMatched"])
    assert matched.payload["media_type"] == "video/mp4" and matched.payload["action_id"] is None
    assert services.store.read_all(types=["HotlineReportPrepared"]) == []  # not CSAM: no report
    clean = upload(services, mp4(clip_frames(64, seconds=3)), "uploader")
    assert clean.decision.approved
