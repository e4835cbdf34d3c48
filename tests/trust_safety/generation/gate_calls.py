"""Calls the gate's end-to-end tests make: request a generation, read its stream."""

from __future__ import annotations

from typing import Any

from core.events import stream_id

GATE = ["prompt-moderation", "generation-requests"]


def request(client: Any, headers: dict[str, str], **body: Any) -> str:
    response = client.post("/v1/generations", headers=headers, json=body)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "requested"
    return str(response.json()["generation_id"])


def events(services: Any, generation_id: str) -> list[Any]:
    return list(services.store.read_stream(stream_id("generation", generation_id)))
