"""The LLM filter's settings, read from ``CLEARFRAME_LLM_FILTER_*`` (docs/moderation.md).

Light to import: every process reads and checks this section at start-up. ``kind`` empty (the
default) means no filter: referred prompts are decided as without one (an unsupported
language refused, a borderline approval kept).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from core.settings import DomainSettings, Settings

_PREFIX = "CLEARFRAME_LLM_FILTER_"


class PromptFilterSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix=_PREFIX, extra="ignore")

    kind: Literal["", "openai", "local"] = ""
    # openai: the endpoint's base URL (``{url}/chat/completions`` is posted to), the model name
    # and the bearer token (a secret: never printed, logged or put in an event).
    url: str = ""
    model: str = ""
    api_key: SecretStr | None = None
    # local: a causal LM saved with ``save_pretrained`` (tokenizer beside it), and its device.
    model_dir: Path | None = None
    device: str = "cpu"
    # How long a review may take before it is abandoned and the request refused.
    timeout_s: float = Field(default=20.0, gt=0, le=120)

    @model_validator(mode="after")
    def _parameters_fit_the_kind(self) -> PromptFilterSettings:
        # Messages name variables, never values: the URL may carry credentials.
        problems: list[str] = []
        if self.kind == "openai":
            if not self.url:
                problems.append(f"{_PREFIX}URL must be set with {_PREFIX}KIND=openai")
            else:
                parts = urlsplit(self.url)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    problems.append(f"{_PREFIX}URL must be an http(s) URL with a host")
                elif parts.query or parts.fragment:
                    problems.append(f"{_PREFIX}URL must be a base URL, without query or fragment")
            if not self.model.strip():
                problems.append(f"{_PREFIX}MODEL must be set with {_PREFIX}KIND=openai")
        elif self.kind == "local":
            if self.model_dir is None:
                problems.append(f"{_PREFIX}MODEL_DIR must be set with {_PREFIX}KIND=local")
            elif not self.model_dir.is_dir():
                problems.append(f"{_PREFIX}MODEL_DIR is not a directory")
            elif not (self.model_dir / "config.json").is_file():
                problems.append(
                    f"{_PREFIX}MODEL_DIR holds no config.json (a save_pretrained directory)"
                )
        elif self.url or self.model or self.model_dir is not None or self.api_key is not None:
            problems.append(
                f"{_PREFIX}KIND is empty, so no filter runs, but its parameters are set; "
                f"set {_PREFIX}KIND=openai or local, or unset them"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def configured(self) -> bool:
        return self.kind != ""

    def production_problems(self, settings: Settings) -> list[str]:
        if self.kind == "openai" and (
            self.api_key is None or not self.api_key.get_secret_value().strip()
        ):
            return [
                f"{_PREFIX}API_KEY must be set in production with {_PREFIX}KIND=openai "
                "(requesters' prompts go only to an endpoint that asks who is calling)"
            ]
        return []
