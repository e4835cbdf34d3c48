"""Banks through the API and the CLI: admins only, clear 4xx for bad input, every import,
addition and removal an event, and the read model a replay of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.events import stream_id
from core.services import Services
from tests.trust_safety.hash_banks.media import encoded, scene
from tests.utils import drain, make_principal
from trust_safety.hash_banks.signals import hash_image

PDQ_A = hash_image(encoded(scene(51))).pdq[0]  # type: ignore[index]
PDQ_B = hash_image(encoded(scene(52))).pdq[0]  # type: ignore[index]


def bank_events(services: Services, bank_id: str) -> list[Any]:
    return services.store.read_stream(stream_id("hashbank", bank_id))


def test_banks_are_created_and_filled_by_admins_with_clear_errors(
    client: Any, services: Services
) -> None:
    _, admin = make_principal(services, "admin")
    _, reviewer = make_principal(services, "reviewer")
    _, user = make_principal(services, "user")
    body = {"bank_id": "ncii-local", "name": "Local NCII", "category": "ncii"}
    assert client.post("/v1/hash-banks", headers=reviewer, json=body).status_code == 403
    assert client.post("/v1/hash-banks", headers=user, json=body).status_code == 403
    made = client.post("/v1/hash-banks", headers=admin, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["category"] == "ncii" and made.json()["action"] == "block"
    again = client.post("/v1/hash-banks", headers=admin, json=body)
    assert again.status_code == 409 and again.json()["code"] == "hash_bank_exists"
    for bad in [
        {**body, "bank_id": "Bad Id"},
        {**body, "bank_id": "x2", "category": "NOT A CATEGORY"},
        {**body, "bank_id": "x3", "extra": 1},
    ]:
        assert client.post("/v1/hash-banks", headers=admin, json=bad).status_code == 422
    csam_flag = {"bank_id": "x4", "name": "x", "category": "csam", "action": "flag"}
    refused = client.post("/v1/hash-banks", headers=admin, json=csam_flag)
    assert refused.status_code == 422 and "always blocks" in refused.json()["detail"]
    custom = {"bank_id": "scam-art", "name": "Scam art", "category": "scam_art", "action": "flag"}
    assert client.post("/v1/hash-banks", headers=admin, json=custom).status_code == 201

    add = client.post(
        "/v1/hash-banks/ncii-local/hashes",
        headers=admin,
        json={"entries": [{"signal_type": "pdq", "signal": PDQ_A.upper()}]},
    )
    assert add.json() == {"bank_id": "ncii-local", "changed": 1}
    dup = client.post(
        "/v1/hash-banks/ncii-local/hashes",
        headers=admin,
        json={"entries": [{"signal_type": "pdq", "signal": PDQ_A}]},
    )
    assert dup.json()["changed"] == 0  # held already: nothing appended
    bad = client.post(
        "/v1/hash-banks/ncii-local/hashes",
        headers=admin,
        json={"entries": [{"signal_type": "pdq", "signal": "xyz"}]},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_hash"
    missing = client.post(
        "/v1/hash-banks/nope/hashes",
        headers=admin,
        json={"entries": [{"signal_type": "pdq", "signal": PDQ_A}]},
    )
    assert missing.status_code == 404
    assert client.get("/v1/hash-banks/ncii-local/hashes", headers=reviewer).status_code == 403
    off = client.post("/v1/hash-banks/ncii-local/settings", headers=admin, json={"enabled": False})
    assert off.json()["enabled"] is False
    removed = client.post(
        "/v1/hash-banks/ncii-local/hashes/remove",
        headers=admin,
        json={"entries": [{"signal_type": "pdq", "signal": PDQ_A}], "reason": "false positive"},
    )
    assert removed.json()["changed"] == 1
    assert [e.type for e in bank_events(services, "ncii-local")] == [
        "HashBankCreated",
        "BankHashesAdded",
        "HashBankUpdated",
        "BankHashesRemoved",
    ]
    assert client.get("/v1/hash-banks/ncii-local", headers=reviewer).json()["hash_count"] == 0


def test_a_hash_file_imports_through_threatexchange_and_a_new_version_replaces_it(
    client: Any, services: Services, tmp_path: Path
) -> None:
    _, admin = make_principal(services, "admin")
    client.post(
        "/v1/hash-banks",
        headers=admin,
        json={"bank_id": "terror-local", "name": "TCAP", "category": "terrorism"},
    )
    md5 = hash_image(encoded(scene(53))).md5
    first = f"pdq {PDQ_A}\npdq {PDQ_B}\nvideo_md5 {md5}\npdq not-a-hash\n\n"
    r = client.post(
        "/v1/hash-banks/terror-local/imports",
        headers=admin,
        files={"file": ("hashes.txt", first.encode(), "text/plain")},
    )
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in ("added", "removed", "unchanged", "invalid")} == {
        "added": 3,
        "removed": 0,
        "unchanged": 0,
        "invalid": 1,
    }
    # the next version of the list drops one hash and adds a bare-hash line
    second = f"pdq {PDQ_A}\nvideo_md5 {md5}\n"
    r = client.post(
        "/v1/hash-banks/terror-local/imports",
        headers=admin,
        files={"file": ("hashes.txt", second.encode(), "text/plain")},
    )
    assert (r.json()["added"], r.json()["removed"], r.json()["unchanged"]) == (0, 1, 2)
    bare = client.post(
        "/v1/hash-banks/terror-local/imports",
        headers=admin,
        files={"file": ("bare.txt", f"{PDQ_B}\n".encode(), "text/plain")},
        data={"signal_type": "pdq"},
    )
    assert bare.json()["added"] == 1
    unknown = client.post(
        "/v1/hash-banks/terror-local/imports",
        headers=admin,
        files={"file": ("bare.txt", b"00\n", "text/plain")},
        data={"signal_type": "photodna"},
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_hash_file"
    binary = client.post(
        "/v1/hash-banks/terror-local/imports",
        headers=admin,
        files={"file": ("x.bin", b"\xff\xfe\x00\x81", "application/octet-stream")},
    )
    assert binary.status_code == 422
    kinds = [e.type for e in bank_events(services, "terror-local")]
    assert kinds.count("BankImportCompleted") == 3
    drain(services, ["hash-banks"])
    listed = client.get("/v1/hash-banks/terror-local/hashes", headers=admin).json()
    assert listed["total"] == 3
    assert {(h["signal_type"], h["signal"]) for h in listed["hashes"]} == {
        ("pdq", PDQ_A),
        ("pdq", PDQ_B),
        ("video_md5", md5),
    }


def test_the_projection_rebuilt_by_replay_equals_the_live_one(
    client: Any, services: Services, tmp_path: Path
) -> None:
    from core.replay import replay_check
    from tests.trust_safety.hash_banks.helpers import banked_bank, upload
    from trust_safety.hash_banks.projection import HashBankProjection

    banked_bank(services, tmp_path, "csam-test", "csam", [54])
    user, _ = make_principal(services, "user")
    upload(services, encoded(scene(54)), user)
    drain(services, ["hash-banks"])
    report = replay_check(
        services, {"hash-banks": lambda s: HashBankProjection()}, progress=False, out=lambda _: None
    )
    assert report == [] and report.checks["hash-banks"].state == "identical", report


def test_the_cli_creates_imports_and_hashes(
    services: Services, tmp_path: Path, capsys: Any
) -> None:
    from core.cli import main

    settings_env = {
        "CLEARFRAME_DATABASE_URL": services.settings.effective_database_url,
        "CLEARFRAME_DATA_DIR": str(services.settings.data_dir),
    }
    import os

    old = {k: os.environ.get(k) for k in settings_env}
    os.environ.update(settings_env)
    try:
        image = tmp_path / "harmless.png"
        image.write_bytes(encoded(scene(55)))
        assert main(["hash-banks", "hash", str(image)]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert [ln.split(" ")[0] for ln in lines] == ["md5", "sha256", "pdq", "pdq", "pdq", "pdq"]
        hashes = tmp_path / "hashes.txt"
        hashes.write_text("\n".join(lines) + "\n")
        assert main(["hash-banks", "create", "cli-bank", "--category", "csam"]) == 0
        assert main(["hash-banks", "import", "cli-bank", str(hashes)]) == 0
        out = capsys.readouterr().out.strip().splitlines()[-1]
        assert '"added": 6' in out
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
