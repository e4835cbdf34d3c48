"""Notices (DSA Art. 16): what a report must contain, and how severe its category is.

A report names the exact asset or account, a category, an explanation and the reporter's
good-faith statement (Art. 16(2)(d)). Reports from trusted flaggers (Art. 22) are a role of the
reporter, recorded on the report so triage can give them priority.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contracts.enforcement import TargetKind
from contracts.statement_of_reasons import Category
from trust_safety.cases.errors import InvalidReport


class ReportCategory(StrEnum):
    CHILD_SAFETY = "child_safety"
    NON_CONSENSUAL_INTIMATE_IMAGERY = "non_consensual_intimate_imagery"
    LIKENESS_WITHOUT_CONSENT = "likeness_without_consent"
    TERRORISM_OR_VIOLENT_EXTREMISM = "terrorism_or_violent_extremism"
    SELF_HARM = "self_harm"
    VIOLENCE = "violence"
    HATE_SPEECH = "hate_speech"
    HARASSMENT = "harassment"
    SEXUAL_CONTENT = "sexual_content"
    ELECTION_INTEGRITY = "election_integrity"
    DECEPTIVE_SYNTHETIC_MEDIA = "deceptive_synthetic_media"
    PRIVACY = "privacy"
    INTELLECTUAL_PROPERTY = "intellectual_property"
    SCAM_OR_FRAUD = "scam_or_fraud"
    SPAM = "spam"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class CategoryProfile:
    statement_category: Category
    severity: int  # 0..100; sets the base of the triage priority


# Severity reflects irreversibility of harm to a person: imagery of minors and intimate imagery
# without consent spread and cannot be taken back, spam can wait.
CATEGORY_PROFILES: Mapping[ReportCategory, CategoryProfile] = {
    ReportCategory.CHILD_SAFETY: CategoryProfile(Category.PROTECTION_OF_MINORS, 100),
    ReportCategory.NON_CONSENSUAL_INTIMATE_IMAGERY: CategoryProfile(Category.CYBER_VIOLENCE, 95),
    ReportCategory.TERRORISM_OR_VIOLENT_EXTREMISM: CategoryProfile(
        Category.RISK_FOR_PUBLIC_SECURITY, 90
    ),
    ReportCategory.SELF_HARM: CategoryProfile(Category.SELF_HARM, 85),
    # a likeness used without consent in a generated video is a non-consensual deepfake
    ReportCategory.LIKENESS_WITHOUT_CONSENT: CategoryProfile(Category.CYBER_VIOLENCE, 80),
    ReportCategory.VIOLENCE: CategoryProfile(Category.VIOLENCE, 70),
    ReportCategory.HATE_SPEECH: CategoryProfile(Category.ILLEGAL_OR_HARMFUL_SPEECH, 70),
    ReportCategory.ELECTION_INTEGRITY: CategoryProfile(
        Category.NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS, 65
    ),
    ReportCategory.HARASSMENT: CategoryProfile(Category.CYBER_VIOLENCE, 60),
    # adult sexual material and nudity are matters of our terms in the Database's taxonomy
    ReportCategory.SEXUAL_CONTENT: CategoryProfile(Category.OTHER_VIOLATION_TC, 55),
    ReportCategory.DECEPTIVE_SYNTHETIC_MEDIA: CategoryProfile(
        Category.NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS, 50
    ),
    ReportCategory.PRIVACY: CategoryProfile(Category.DATA_PROTECTION_AND_PRIVACY_VIOLATIONS, 50),
    ReportCategory.SCAM_OR_FRAUD: CategoryProfile(Category.SCAMS_AND_FRAUD, 45),
    ReportCategory.INTELLECTUAL_PROPERTY: CategoryProfile(
        Category.INTELLECTUAL_PROPERTY_INFRINGEMENTS, 40
    ),
    ReportCategory.OTHER: CategoryProfile(Category.OTHER_VIOLATION_TC, 20),
    ReportCategory.SPAM: CategoryProfile(Category.OTHER_VIOLATION_TC, 10),
}

MIN_EXPLANATION_CHARS = 10
MAX_EXPLANATION_CHARS = 5000


class ReportTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: TargetKind
    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-]+$")

    @property
    def key(self) -> str:
        """One open case per target: reports on the same asset gather into it."""
        return f"{self.kind.value}:{self.id}"


class ReportSubmission(BaseModel):
    """What a signed-in person sends to report an asset or account."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    target: ReportTarget
    category: ReportCategory
    explanation: str = Field(min_length=MIN_EXPLANATION_CHARS, max_length=MAX_EXPLANATION_CHARS)
    good_faith: bool
    # Where in the video the problem is, so the reviewer lands on the exact frames.
    at_seconds: float | None = Field(default=None, ge=0, le=24 * 3600)
    legal_ground: str | None = Field(default=None, max_length=500)
    reporter_name: str | None = Field(default=None, max_length=200)
    reporter_email: str | None = Field(default=None, max_length=320)

    @field_validator("good_faith")
    @classmethod
    def _good_faith_confirmed(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "the reporter must confirm the report is accurate and made in good faith"
            )
        return value

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ReportSubmission:
        try:
            submission = cls.model_validate(dict(data))
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]) or "report", "msg": err["msg"]}
                for err in exc.errors()
            ]
            raise InvalidReport(
                "report rejected: " + "; ".join(f"{e['field']}: {e['msg']}" for e in errors),
                errors=errors,
            ) from None
        if submission.at_seconds is not None and submission.target.kind is not TargetKind.ASSET:
            raise InvalidReport(
                "report rejected: at_seconds only applies to asset reports",
                errors=[{"field": "at_seconds", "msg": "only for asset targets"}],
            )
        return submission

    @property
    def profile(self) -> CategoryProfile:
        return CATEGORY_PROFILES[self.category]
