"""The pipeline with PostgreSQL and Kafka: each worker a consumer-group member on the
generation topic, fed by the outbox relay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.services import Services
from tests.generator.helpers import last, request_and_approve, stream_types
from tests.utils import drain

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

STAGES = ["generator", "output-moderation", "provenance-signing"]


def test_pipeline_over_kafka(
    make_services: Callable[..., Services], kafka_settings: dict[str, Any]
) -> None:
    services = make_services("postgres", **kafka_settings)
    for n in range(3):
        request_and_approve(
            services,
            f"gk-{n}",
            "user-k",
            f"kite number {n}",
            seed=n,
            width=160,
            height=96,
            duration_s=1.0,
            fps=12,
            tier="paid" if n else "free",
        )
    # One stage at a time: each joins its consumer group and catches up before the next.
    for stage in STAGES:
        drain(services, [stage], max_s=120)
    for n in range(3):
        assert stream_types(services, f"gk-{n}")[-2:] == ["AssetSigned", "AssetPublished"]
    assert last(services, "gk-0", "AssetSigned").payload["visible_watermark"] is True
    assert last(services, "gk-1", "AssetSigned").payload["visible_watermark"] is False
