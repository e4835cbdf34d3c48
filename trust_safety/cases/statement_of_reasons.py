"""Statements of reasons (DSA Art. 17) in the EU Transparency Database's vocabulary.

Field names and allowed values are the Database's own API keys (``POST /api/v1/statement``), so
an exported statement can be submitted unchanged. The validation mirrors the Database's rules
(conditional "other" and ground fields, EEA territorial scope, date ranges, length limits) and
adds the ones Clearframe needs to keep statements truthful (end dates after the decision, no
notifier identity on own-initiative decisions, no field silently dropped).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trust_safety.cases.errors import DuplicatePuid, InvalidStatement


class DecisionVisibility(StrEnum):
    CONTENT_REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED"
    CONTENT_DISABLED = "DECISION_VISIBILITY_CONTENT_DISABLED"
    CONTENT_DEMOTED = "DECISION_VISIBILITY_CONTENT_DEMOTED"
    CONTENT_AGE_RESTRICTED = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"
    CONTENT_INTERACTION_RESTRICTED = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"
    CONTENT_LABELLED = "DECISION_VISIBILITY_CONTENT_LABELLED"
    OTHER = "DECISION_VISIBILITY_OTHER"


class DecisionMonetary(StrEnum):
    SUSPENSION = "DECISION_MONETARY_SUSPENSION"
    TERMINATION = "DECISION_MONETARY_TERMINATION"
    OTHER = "DECISION_MONETARY_OTHER"


class DecisionProvision(StrEnum):
    PARTIAL_SUSPENSION = "DECISION_PROVISION_PARTIAL_SUSPENSION"
    TOTAL_SUSPENSION = "DECISION_PROVISION_TOTAL_SUSPENSION"
    PARTIAL_TERMINATION = "DECISION_PROVISION_PARTIAL_TERMINATION"
    TOTAL_TERMINATION = "DECISION_PROVISION_TOTAL_TERMINATION"


class DecisionAccount(StrEnum):
    SUSPENDED = "DECISION_ACCOUNT_SUSPENDED"
    TERMINATED = "DECISION_ACCOUNT_TERMINATED"


class AccountType(StrEnum):
    BUSINESS = "ACCOUNT_TYPE_BUSINESS"
    PRIVATE = "ACCOUNT_TYPE_PRIVATE"


class DecisionGround(StrEnum):
    ILLEGAL_CONTENT = "DECISION_GROUND_ILLEGAL_CONTENT"
    INCOMPATIBLE_CONTENT = "DECISION_GROUND_INCOMPATIBLE_CONTENT"


class ContentType(StrEnum):
    APP = "CONTENT_TYPE_APP"
    AUDIO = "CONTENT_TYPE_AUDIO"
    IMAGE = "CONTENT_TYPE_IMAGE"
    PRODUCT = "CONTENT_TYPE_PRODUCT"
    SYNTHETIC_MEDIA = "CONTENT_TYPE_SYNTHETIC_MEDIA"
    TEXT = "CONTENT_TYPE_TEXT"
    VIDEO = "CONTENT_TYPE_VIDEO"
    OTHER = "CONTENT_TYPE_OTHER"


class SourceType(StrEnum):
    ARTICLE_16 = "SOURCE_ARTICLE_16"
    TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER"
    OTHER_NOTIFICATION = "SOURCE_TYPE_OTHER_NOTIFICATION"
    VOLUNTARY = "SOURCE_VOLUNTARY"


class AutomatedDecision(StrEnum):
    FULLY = "AUTOMATED_DECISION_FULLY"
    PARTIALLY = "AUTOMATED_DECISION_PARTIALLY"
    NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED"


class Category(StrEnum):
    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE"
    DATA_PROTECTION_AND_PRIVACY_VIOLATIONS = (
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
    )
    ILLEGAL_OR_HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    INTELLECTUAL_PROPERTY_INFRINGEMENTS = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS = (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"
    )
    NON_CONSENSUAL_BEHAVIOUR = "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"
    PORNOGRAPHY_OR_SEXUALIZED_CONTENT = "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    RISK_FOR_PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM"
    SCOPE_OF_PLATFORM_SERVICE = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"
    UNSAFE_AND_ILLEGAL_PRODUCTS = "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS"
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE"


class Keyword(StrEnum):
    """The Database's ``category_specification`` values that a video service can meet."""

    ADULT_SEXUAL_MATERIAL = "KEYWORD_ADULT_SEXUAL_MATERIAL"
    AGE_SPECIFIC_RESTRICTIONS_MINORS = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"
    BIOMETRIC_DATA_BREACH = "KEYWORD_BIOMETRIC_DATA_BREACH"
    CHILD_SEXUAL_ABUSE_MATERIAL = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"
    COPYRIGHT_INFRINGEMENT = "KEYWORD_COPYRIGHT_INFRINGEMENT"
    DEFAMATION = "KEYWORD_DEFAMATION"
    DISINFORMATION = "KEYWORD_DISINFORMATION"
    HATE_SPEECH = "KEYWORD_HATE_SPEECH"
    IMAGE_BASED_SEXUAL_ABUSE = "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE"
    IMPERSONATION_ACCOUNT_HIJACKING = "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING"
    INCITEMENT_VIOLENCE_HATRED = "KEYWORD_INCITEMENT_VIOLENCE_HATRED"
    MISINFORMATION = "KEYWORD_MISINFORMATION"
    NON_CONSENSUAL_IMAGE_SHARING = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
    NON_CONSENSUAL_ITEMS_DEEPFAKE = "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE"
    NUDITY = "KEYWORD_NUDITY"
    ONLINE_BULLYING_INTIMIDATION = "KEYWORD_ONLINE_BULLYING_INTIMIDATION"
    SELF_MUTILATION = "KEYWORD_SELF_MUTILATION"
    SUICIDE = "KEYWORD_SUICIDE"
    TERRORIST_CONTENT = "KEYWORD_TERRORIST_CONTENT"
    TRADEMARK_INFRINGEMENT = "KEYWORD_TRADEMARK_INFRINGEMENT"
    UNSAFE_CHALLENGES = "KEYWORD_UNSAFE_CHALLENGES"
    OTHER = "KEYWORD_OTHER"


YesNo = Literal["Yes", "No"]

# EU member states plus Iceland, Liechtenstein and Norway: the Database accepts the EEA.
EEA_COUNTRY_CODES: frozenset[str] = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
EU_COUNTRY_CODES: frozenset[str] = EEA_COUNTRY_CODES - {"IS", "LI", "NO"}

EARLIEST_CONTENT_DATE = date(2000, 1, 1)
EARLIEST_APPLICATION_DATE = date(2020, 1, 1)
LATEST_DATE = date(2038, 1, 1)

# The Database's multi-statement endpoint takes between 1 and 100 statements per call.
MAX_STATEMENTS_PER_SUBMISSION = 100


def _short_text() -> Any:
    return Field(default=None, max_length=500)


class StatementOfReasons(BaseModel):
    """One statement of reasons, exactly the fields the Transparency Database accepts."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    puid: str = Field(min_length=1, max_length=500, pattern=r"^\S+$")

    decision_visibility: tuple[DecisionVisibility, ...] = ()
    decision_visibility_other: str | None = _short_text()
    decision_monetary: DecisionMonetary | None = None
    decision_monetary_other: str | None = _short_text()
    decision_provision: DecisionProvision | None = None
    decision_account: DecisionAccount | None = None
    account_type: AccountType | None = None

    decision_ground: DecisionGround
    decision_ground_reference_url: str | None = _short_text()
    illegal_content_legal_ground: str | None = _short_text()
    illegal_content_explanation: str | None = Field(default=None, max_length=2000)
    incompatible_content_ground: str | None = _short_text()
    incompatible_content_explanation: str | None = Field(default=None, max_length=2000)
    incompatible_content_illegal: YesNo | None = None

    content_type: tuple[ContentType, ...] = Field(min_length=1)
    content_type_other: str | None = _short_text()
    content_language: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    content_date: date

    category: Category
    category_addition: tuple[Category, ...] = ()
    category_specification: tuple[Keyword, ...] = ()
    category_specification_other: str | None = _short_text()

    territorial_scope: tuple[str, ...] = ()
    application_date: date
    end_date_account_restriction: date | None = None
    end_date_monetary_restriction: date | None = None
    end_date_service_restriction: date | None = None
    end_date_visibility_restriction: date | None = None

    decision_facts: str = Field(min_length=1, max_length=5000)
    source_type: SourceType
    source_identity: str | None = _short_text()
    automated_detection: bool
    automated_decision: AutomatedDecision

    @field_validator(
        "decision_visibility",
        "content_type",
        "category_addition",
        "category_specification",
        "territorial_scope",
        mode="after",
    )
    @classmethod
    def _sorted_unique(cls, values: tuple[Any, ...]) -> tuple[Any, ...]:
        # The Database stores these as sorted sets; normalising here keeps exports byte-stable.
        return tuple(sorted(set(values)))

    @field_validator("territorial_scope", mode="after")
    @classmethod
    def _eea_only(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(values) - EEA_COUNTRY_CODES)
        if unknown:
            raise ValueError(f"territorial_scope holds non-EEA country codes: {unknown}")
        return values

    @field_validator("decision_ground_reference_url", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parsed = urlparse(value)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise ValueError("decision_ground_reference_url must be an absolute http(s) URL")
        return value

    @model_validator(mode="after")
    def _database_rules(self) -> StatementOfReasons:
        problems: list[str] = []
        if not (
            self.decision_visibility
            or self.decision_monetary
            or self.decision_provision
            or self.decision_account
        ):
            problems.append(
                "at least one of decision_visibility, decision_monetary, decision_provision or "
                "decision_account is required"
            )
        problems += _conditional(
            "decision_visibility_other",
            self.decision_visibility_other,
            DecisionVisibility.OTHER in self.decision_visibility,
            "decision_visibility contains DECISION_VISIBILITY_OTHER",
        )
        problems += _conditional(
            "decision_monetary_other",
            self.decision_monetary_other,
            self.decision_monetary is DecisionMonetary.OTHER,
            "decision_monetary is DECISION_MONETARY_OTHER",
        )
        problems += _conditional(
            "content_type_other",
            self.content_type_other,
            ContentType.OTHER in self.content_type,
            "content_type contains CONTENT_TYPE_OTHER",
        )
        if self.category_specification_other and Keyword.OTHER not in self.category_specification:
            problems.append(
                "category_specification_other is only allowed when category_specification "
                "contains KEYWORD_OTHER"
            )
        illegal = self.decision_ground is DecisionGround.ILLEGAL_CONTENT
        for name in ("illegal_content_legal_ground", "illegal_content_explanation"):
            problems += _conditional(
                name, getattr(self, name), illegal, "decision_ground is illegal content"
            )
        for name in ("incompatible_content_ground", "incompatible_content_explanation"):
            problems += _conditional(
                name, getattr(self, name), not illegal, "decision_ground is incompatible content"
            )
        if illegal and self.incompatible_content_illegal is not None:
            problems.append(
                "incompatible_content_illegal is only allowed when decision_ground is "
                "incompatible content"
            )
        if self.category in self.category_addition:
            problems.append("category_addition must not repeat the main category")
        if self.source_type is SourceType.VOLUNTARY and self.source_identity:
            problems.append("source_identity must be empty for own-initiative decisions")
        if not EARLIEST_CONTENT_DATE <= self.content_date <= LATEST_DATE:
            problems.append(f"content_date must lie in [{EARLIEST_CONTENT_DATE}, {LATEST_DATE}]")
        if not EARLIEST_APPLICATION_DATE <= self.application_date <= LATEST_DATE:
            problems.append(
                f"application_date must lie in [{EARLIEST_APPLICATION_DATE}, {LATEST_DATE}]"
            )
        if self.application_date < self.content_date:
            problems.append("application_date must not precede content_date")
        for name, restriction_present in (
            ("end_date_account_restriction", self.decision_account is not None),
            ("end_date_monetary_restriction", self.decision_monetary is not None),
            ("end_date_service_restriction", self.decision_provision is not None),
            ("end_date_visibility_restriction", bool(self.decision_visibility)),
        ):
            end: date | None = getattr(self, name)
            if end is None:
                continue
            if not restriction_present:
                problems.append(f"{name} is set but the statement has no such restriction")
            if end < self.application_date or end > LATEST_DATE:
                problems.append(f"{name} must lie in [application_date, {LATEST_DATE}]")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> StatementOfReasons:
        """Validate raw input, raising :class:`InvalidStatement` with every problem found."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]) or "statement", "msg": err["msg"]}
                for err in exc.errors()
            ]
            raise InvalidStatement(
                "statement of reasons rejected: "
                + "; ".join(f"{e['field']}: {e['msg']}" for e in errors),
                errors=errors,
            ) from None

    def to_transparency_db(self) -> dict[str, Any]:
        """The statement as the Database's API expects it: keys, ``Yes``/``No``, ISO dates.

        Fields that are unset are omitted rather than sent as null, so the payload of a given
        statement is always the same bytes.
        """
        out: dict[str, Any] = {}
        for name, value in self:
            if value is None or value == ():
                continue
            if name == "automated_detection":
                out[name] = "Yes" if value else "No"
            elif isinstance(value, date):
                out[name] = value.isoformat()
            elif isinstance(value, tuple):
                out[name] = [str(v) for v in value]
            else:
                out[name] = str(value)
        return out

    def fingerprint(self) -> str:
        """A content hash: equal statements under one puid are the same submission."""
        canonical = json.dumps(self.to_transparency_db(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _conditional(name: str, value: str | None, required: bool, condition: str) -> list[str]:
    if required and not value:
        return [f"{name} is required when {condition}"]
    if not required and value:
        return [f"{name} is only allowed when {condition}"]
    return []


def dedupe_by_puid(statements: Iterable[StatementOfReasons]) -> list[StatementOfReasons]:
    """Keep one statement per puid, in first-seen order.

    Exporting twice, or exporting a redelivered event, must not produce two records; a puid
    reused for a different statement is a bug the Database would reject, so it fails loudly.
    """
    seen: dict[str, StatementOfReasons] = {}
    for statement in statements:
        existing = seen.get(statement.puid)
        if existing is None:
            seen[statement.puid] = statement
        elif existing.fingerprint() != statement.fingerprint():
            raise DuplicatePuid(
                f"puid {statement.puid!r} is already used by a different statement",
                puid=statement.puid,
            )
    return list(seen.values())


def export_submissions(
    statements: Iterable[StatementOfReasons], *, batch_size: int = MAX_STATEMENTS_PER_SUBMISSION
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Bodies for the Database's ``POST /api/v1/statements``: ``{"statements": [...]}``."""
    if not 1 <= batch_size <= MAX_STATEMENTS_PER_SUBMISSION:
        raise InvalidStatement(
            f"batch_size must be between 1 and {MAX_STATEMENTS_PER_SUBMISSION}",
            batch_size=batch_size,
        )
    unique = dedupe_by_puid(statements)
    for start in range(0, len(unique), batch_size):
        yield {"statements": [s.to_transparency_db() for s in unique[start : start + batch_size]]}
