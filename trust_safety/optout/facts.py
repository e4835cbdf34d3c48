"""The facts the opt-out registry is folded from (payloads of the optout stream's events)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from core.events import EventPayload, PersonalData, event_type
from trust_safety.optout.territories import UnknownTerritory, normalise_territories

MAX_TERMS_PER_LIST = 200
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Scope(StrEnum):
    """Where the opt-out is enforced."""

    PROMPTS = "prompts"  # refuse generation requests whose prompt names the work
    OUTPUTS = "outputs"  # refuse or remove outputs that look like the reference media
    TRAINING = "training"  # exclude matching assets from training data exports


class MediaKind(StrEnum):
    IMAGE = "image"
    CLIP = "clip"


def _clean_term(value: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValueError("terms must not be blank")
    if len(cleaned) > 120:
        raise ValueError("a term is at most 120 characters")
    return cleaned


Term = Annotated[str, AfterValidator(_clean_term)]


class BlobRef(BaseModel):
    """A reference image or clip, stored in the blob store and named by its content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    uri: str = Field(min_length=1, max_length=1024)
    sha256: str
    media_type: str
    kind: MediaKind

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        value = value.lower()
        if not _SHA256.match(value):
            raise ValueError("sha256 must be 64 hexadecimal characters")
        return value

    @field_validator("media_type")
    @classmethod
    def _media_type(cls, value: str) -> str:
        value = value.lower()
        if not (value.startswith("image/") or value.startswith("video/")):
            raise ValueError("reference media must be an image/* or video/* type")
        return value


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for v in values:
        seen.setdefault(v.casefold(), v)
    return list(seen.values())


class Brand(BaseModel):
    """A brand kept off generated objects. A prompt naming it is not refused: the object is
    described generically instead ("a Fizzco can" -> "a cola can"), and the rewrite recorded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Term
    aliases: list[Term] = Field(default_factory=list, max_length=20)
    # Words that read in the brand's place: "cola", "smartphone", "sports car".
    generic: Term = Field(max_length=80)

    @field_validator("aliases")
    @classmethod
    def _dedupe_aliases(cls, values: list[str]) -> list[str]:
        return _unique(values)

    def all_names(self) -> list[str]:
        return _unique([self.name, *self.aliases])


class OptOutTerms(BaseModel):
    """What a rights holder wants kept out, as they describe it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    works: list[Term] = Field(default_factory=list, max_length=MAX_TERMS_PER_LIST)
    characters: list[Term] = Field(default_factory=list, max_length=MAX_TERMS_PER_LIST)
    aliases: list[Term] = Field(default_factory=list, max_length=MAX_TERMS_PER_LIST)
    misspellings: list[Term] = Field(default_factory=list, max_length=MAX_TERMS_PER_LIST)
    # Short descriptions of the work or character ("a yellow electric mouse creature"): the
    # semantic matcher compares prompts with them to catch paraphrase that names nothing.
    descriptions: list[Annotated[str, Field(min_length=8, max_length=300)]] = Field(
        default_factory=list, max_length=50
    )

    # Brands of objects (not works or characters): rewritten generically, never refused.
    brands: list[Brand] = Field(default_factory=list, max_length=MAX_TERMS_PER_LIST)

    @field_validator("works", "characters", "aliases", "misspellings", "descriptions")
    @classmethod
    def _dedupe(cls, values: list[str]) -> list[str]:
        return _unique(values)

    @model_validator(mode="after")
    def _generic_names_no_brand(self) -> OptOutTerms:
        for brand in self.brands:
            generic = f" {' '.join(brand.generic.casefold().split())} "
            for name in brand.all_names():
                if f" {name.casefold()} " in generic:
                    raise ValueError(
                        f"the generic description of {brand.name!r} must not name the brand"
                    )
        return self

    def names(self) -> list[str]:
        """Every name the opt-out protects, misspellings excluded."""
        return _unique([*self.works, *self.characters, *self.aliases])


def _territories(values: list[str]) -> list[str]:
    try:
        return sorted(normalise_territories(values))
    except UnknownTerritory as exc:
        raise ValueError(str(exc)) from None


Territories = Annotated[list[str], AfterValidator(_territories)]


OPTOUT = "optout"


class _Fact(EventPayload):
    """Frozen, closed payload (from EventPayload); declared as event types below."""


@event_type("OptOutFiled", category=OPTOUT)
class OptOutFiled(_Fact):
    personal_data: ClassVar[PersonalData | None] = PersonalData(
        subject="rights_holder_id", fields=("rights_holder_name",)
    )

    optout_id: str = Field(min_length=1, max_length=64)
    rights_holder_id: str = Field(min_length=1, max_length=128)
    rights_holder_name: str = Field(min_length=1, max_length=200)
    terms: OptOutTerms
    reference_media: list[BlobRef] = Field(default_factory=list, max_length=100)
    scopes: list[Scope] = Field(min_length=1)
    territories: Territories

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, values: list[Scope]) -> list[Scope]:
        return sorted(set(values))


@event_type("OptOutAmended", category=OPTOUT)
class OptOutAmended(_Fact):
    """Replaces the fields it carries; ``None`` leaves a field as it was."""

    optout_id: str
    terms: OptOutTerms | None = None
    reference_media: list[BlobRef] | None = Field(default=None, max_length=100)
    scopes: list[Scope] | None = Field(default=None, min_length=1)
    territories: Territories | None = None

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, values: list[Scope] | None) -> list[Scope] | None:
        return None if values is None else sorted(set(values))


@event_type("OptOutWithdrawn", category=OPTOUT)
class OptOutWithdrawn(_Fact):
    optout_id: str
    reason: str = Field(default="", max_length=500)


OptOutFact = OptOutFiled | OptOutAmended | OptOutWithdrawn
