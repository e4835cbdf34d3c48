"""Statements of reasons (DSA Art. 17) in the EU Transparency Database's vocabulary.

Field names and allowed values are the Database's own API keys (``POST /api/v1/statement``), so
an exported statement can be submitted unchanged. The rules are the Database's current ones,
taken from its repository (github.com/digital-services-act/transparency-database, commit
69e80a0b, June 2026): ``app/Http/Requests/StatementStoreRequest.php`` (one statement) and
``app/Services/GroupedSubmissionsService.php`` ``multi_rules`` (``POST /api/v1/statements``),
with the value lists of ``app/Models/Statement.php`` (``STATEMENT_CATEGORIES``, ``KEYWORDS``
and the other enumerations), ``app/Services/EuropeanCountriesService.php`` and
``app/Services/EuropeanLanguagesService.php`` (``ALL_LANGUAGES``). Clearframe adds the rules it
needs to keep statements truthful (end dates after the decision, no notifier identity on
own-initiative decisions, no field silently dropped).

The Database changed its categories and keywords on 2025-02-26 (schema v2, in force for
submissions from 1 July 2025) and refuses the retired values since. Values written before that
(stored events, read models) are read as their successors (``RETIRED_CATEGORIES``,
``RETIRED_KEYWORDS``, ``upgrade_statement``); exports only ever carry current values.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contracts.errors import DuplicatePuid, InvalidStatement


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
    """``Statement::STATEMENT_CATEGORIES`` (app/Models/Statement.php)."""

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE"
    CONSUMER_INFORMATION = "STATEMENT_CATEGORY_CONSUMER_INFORMATION"
    CYBER_VIOLENCE = "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    CYBER_VIOLENCE_AGAINST_WOMEN = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
    DATA_PROTECTION_AND_PRIVACY_VIOLATIONS = (
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS"
    )
    ILLEGAL_OR_HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    INTELLECTUAL_PROPERTY_INFRINGEMENTS = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS = (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"
    )
    NOT_SPECIFIED_NOTICE = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
    OTHER_VIOLATION_TC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    RISK_FOR_PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM"
    UNSAFE_AND_PROHIBITED_PRODUCTS = "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE"

    @classmethod
    def _missing_(cls, value: object) -> Category | None:
        # a value retired on 2025-02-26, read from something written before
        successor = RETIRED_CATEGORIES.get(str(value))
        return cls(successor) if successor else None


class Keyword(StrEnum):
    """``Statement::KEYWORDS`` (app/Models/Statement.php), the ``category_specification``
    values."""

    ADULT_SEXUAL_MATERIAL = "KEYWORD_ADULT_SEXUAL_MATERIAL"
    AGE_SPECIFIC_RESTRICTIONS = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS"
    AGE_SPECIFIC_RESTRICTIONS_MINORS = "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS"
    ANIMAL_HARM = "KEYWORD_ANIMAL_HARM"
    BIOMETRIC_DATA_BREACH = "KEYWORD_BIOMETRIC_DATA_BREACH"
    BULLYING_AGAINST_GIRLS = "KEYWORD_BULLYING_AGAINST_GIRLS"
    CHILD_SEXUAL_ABUSE_MATERIAL = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"
    CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE = "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"
    CONTENT_PROMOTING_EATING_DISORDERS = "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS"
    COORDINATED_HARM = "KEYWORD_COORDINATED_HARM"
    COPYRIGHT_INFRINGEMENT = "KEYWORD_COPYRIGHT_INFRINGEMENT"
    CYBER_BULLYING_INTIMIDATION = "KEYWORD_CYBER_BULLYING_INTIMIDATION"
    CYBER_HARASSMENT = "KEYWORD_CYBER_HARASSMENT"
    CYBER_HARASSMENT_AGAINST_WOMEN = "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN"
    CYBER_INCITEMENT = "KEYWORD_CYBER_INCITEMENT"
    CYBER_STALKING = "KEYWORD_CYBER_STALKING"
    CYBER_STALKING_AGAINST_WOMEN = "KEYWORD_CYBER_STALKING_AGAINST_WOMEN"
    DATA_FALSIFICATION = "KEYWORD_DATA_FALSIFICATION"
    DEFAMATION = "KEYWORD_DEFAMATION"
    DESIGN_INFRINGEMENT = "KEYWORD_DESIGN_INFRINGEMENT"
    DISCRIMINATION = "KEYWORD_DISCRIMINATION"
    FEMALE_GENDERED_DISINFORMATION = "KEYWORD_FEMALE_GENDERED_DISINFORMATION"
    GEOGRAPHIC_INDICATIONS_INFRINGEMENT = "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT"
    GEOGRAPHICAL_REQUIREMENTS = "KEYWORD_GEOGRAPHICAL_REQUIREMENTS"
    GOODS_SERVICES_NOT_PERMITTED = "KEYWORD_GOODS_SERVICES_NOT_PERMITTED"
    GROOMING_SEXUAL_ENTICEMENT_MINORS = "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"
    HATE_SPEECH = "KEYWORD_HATE_SPEECH"
    HIDDEN_ADVERTISEMENT = "KEYWORD_HIDDEN_ADVERTISEMENT"
    HUMAN_EXPLOITATION = "KEYWORD_HUMAN_EXPLOITATION"
    HUMAN_TRAFFICKING = "KEYWORD_HUMAN_TRAFFICKING"
    ILLEGAL_ORGANIZATIONS = "KEYWORD_ILLEGAL_ORGANIZATIONS"
    IMPERSONATION_ACCOUNT_HIJACKING = "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING"
    INAUTHENTIC_ACCOUNTS = "KEYWORD_INAUTHENTIC_ACCOUNTS"
    INAUTHENTIC_LISTINGS = "KEYWORD_INAUTHENTIC_LISTINGS"
    INAUTHENTIC_USER_REVIEWS = "KEYWORD_INAUTHENTIC_USER_REVIEWS"
    INCITEMENT_AGAINST_WOMEN = "KEYWORD_INCITEMENT_AGAINST_WOMEN"
    INCITEMENT_VIOLENCE_HATRED = "KEYWORD_INCITEMENT_VIOLENCE_HATRED"
    INSUFFICIENT_INFORMATION_ON_TRADERS = "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS"
    LANGUAGE_REQUIREMENTS = "KEYWORD_LANGUAGE_REQUIREMENTS"
    MISINFORMATION_DISINFORMATION = "KEYWORD_MISINFORMATION_DISINFORMATION"
    MISLEADING_INFO_CONSUMER_RIGHTS = "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS"
    MISLEADING_INFO_GOODS_SERVICES = "KEYWORD_MISLEADING_INFO_GOODS_SERVICES"
    MISSING_PROCESSING_GROUND = "KEYWORD_MISSING_PROCESSING_GROUND"
    NON_CONSENSUAL_IMAGE_SHARING = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
    NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN = (
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN"
    )
    NON_CONSENSUAL_MATERIAL_DEEPFAKE = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"
    NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN = (
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"
    )
    NONCOMPLIANCE_PRICING = "KEYWORD_NONCOMPLIANCE_PRICING"
    NUDITY = "KEYWORD_NUDITY"
    PATENT_INFRINGEMENT = "KEYWORD_PATENT_INFRINGEMENT"
    PHISHING = "KEYWORD_PHISHING"
    PROHIBITED_PRODUCTS = "KEYWORD_PROHIBITED_PRODUCTS"
    PYRAMID_SCHEMES = "KEYWORD_PYRAMID_SCHEMES"
    RIGHT_TO_BE_FORGOTTEN = "KEYWORD_RIGHT_TO_BE_FORGOTTEN"
    RISK_ENVIRONMENTAL_DAMAGE = "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE"
    RISK_PUBLIC_HEALTH = "KEYWORD_RISK_PUBLIC_HEALTH"
    SELF_MUTILATION = "KEYWORD_SELF_MUTILATION"
    STALKING = "KEYWORD_STALKING"
    SUICIDE = "KEYWORD_SUICIDE"
    TERRORIST_CONTENT = "KEYWORD_TERRORIST_CONTENT"
    TRADE_SECRET_INFRINGEMENT = "KEYWORD_TRADE_SECRET_INFRINGEMENT"
    TRADEMARK_INFRINGEMENT = "KEYWORD_TRADEMARK_INFRINGEMENT"
    TRAFFICKING_WOMEN_GIRLS = "KEYWORD_TRAFFICKING_WOMEN_GIRLS"
    UNLAWFUL_SALE_ANIMALS = "KEYWORD_UNLAWFUL_SALE_ANIMALS"
    UNSAFE_CHALLENGES = "KEYWORD_UNSAFE_CHALLENGES"
    UNSAFE_PRODUCTS = "KEYWORD_UNSAFE_PRODUCTS"
    VIOLATION_EU_LAW = "KEYWORD_VIOLATION_EU_LAW"
    VIOLATION_NATIONAL_LAW = "KEYWORD_VIOLATION_NATIONAL_LAW"
    OTHER = "KEYWORD_OTHER"

    @classmethod
    def _missing_(cls, value: object) -> Keyword | None:
        successor = RETIRED_KEYWORDS.get(str(value))
        return cls(successor) if successor else None


# What the Database retired on 2025-02-26, and what Clearframe reads it as. The renames are the
# Database's own (resources/markdown/api-documentation.md, "Changelog", and
# cypress/fixtures/statements.json "renamed_*"). For the values it deleted outright, the
# successor is the one whose new definition covers the old: the taxonomy of the Implementing
# Regulation on transparency reporting files non-consensual material under cyber violence, and
# adult sexual material and nudity under violations of the provider's terms.
RETIRED_CATEGORIES: dict[str, str] = {
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
}
RETIRED_KEYWORDS: dict[str, str] = {
    "KEYWORD_ONLINE_BULLYING_INTIMIDATION": "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_INSUFFICIENT_INFORMATION_TRADERS": "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_DISINFORMATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE": "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_MISINFORMATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_FOREIGN_INFORMATION_MANIPULATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE": "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_REGULATED_GOODS_SERVICES": "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_DANGEROUS_TOYS": "KEYWORD_UNSAFE_PRODUCTS",
    "KEYWORD_GENDER_BASED_VIOLENCE": "KEYWORD_OTHER",
}
# Sexualised content that is also non-consensual is cyber violence, not a matter of our terms.
_NON_CONSENSUAL_KEYWORDS = frozenset(
    {
        "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    }
)


def upgrade_category(value: str, keywords: Iterable[str] = ()) -> str:
    """The current category for ``value`` (itself when current), given the keywords beside it."""
    if value == "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT" and any(
        k in _NON_CONSENSUAL_KEYWORDS for k in keywords
    ):
        return Category.CYBER_VIOLENCE.value
    return RETIRED_CATEGORIES.get(value, value)


def upgrade_statement(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A statement written before 2025-02-26 with its categories and keywords made current.

    A keyword with no successor of its own (gender-based violence) becomes ``KEYWORD_OTHER``
    with its old name as ``category_specification_other``, so nothing said is lost.
    """
    out = dict(fields)
    keywords = [str(k) for k in out.get("category_specification") or ()]
    if "category" in out and out["category"] is not None:
        out["category"] = upgrade_category(str(out["category"]), keywords)
    if any(str(c) in RETIRED_CATEGORIES for c in out.get("category_addition") or ()):
        additions = [str(c) for c in out["category_addition"]]
        upgraded = {upgrade_category(c, keywords) for c in additions if c in RETIRED_CATEGORIES}
        # a retired addition whose successor is the main category said nothing more
        upgraded.discard(out.get("category"))
        out["category_addition"] = sorted(
            upgraded | {c for c in additions if c not in RETIRED_CATEGORIES}
        )
    if any(k in RETIRED_KEYWORDS for k in keywords):
        out["category_specification"] = sorted({RETIRED_KEYWORDS.get(k, k) for k in keywords})
        if "KEYWORD_GENDER_BASED_VIOLENCE" in keywords and not out.get(
            "category_specification_other"
        ):
            out["category_specification_other"] = "Gender-based violence"
    return out


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

# EuropeanLanguagesService::ALL_LANGUAGES: the ISO 639-1 codes, upper case.
CONTENT_LANGUAGES: frozenset[str] = frozenset(
    """
    AA AB AE AF AK AM AN AR AS AV AY AZ BA BE BG BH BI BM BN BO BR BS CA CE CH CO CR CS CU CV
    CY DA DE DV DZ EE EL EN EO ES ET EU FA FF FI FJ FO FR FY GA GD GL GN GU GV HA HE HI HO HR
    HT HU HY HZ IA ID IE IG II IK IO IS IT IU JA JV KA KG KI KJ KK KL KM KN KO KR KS KU KV KW
    KY LA LB LG LI LN LO LT LU LV MG MH MI MK ML MN MR MS MT MY NA NB ND NE NG NL NN NO NR NV
    NY OC OJ OM OR OS PA PI PL PS PT QU RM RN RO RU RW SA SC SD SE SG SI SK SL SM SN SO SQ SR
    SS ST SU SV SW TA TE TG TH TI TK TL TN TO TR TS TT TW TY UG UK UR UZ VE VI VO WA WO XH YI
    YO ZA ZH ZU
    """.split()  # noqa: SIM905 - 184 codes, laid out as the Database lists them
)

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

    # StatementStoreRequest: 'required', 'max:500', 'regex:/^[a-zA-Z0-9-_]+$/D'
    puid: str = Field(min_length=1, max_length=500, pattern=r"^[a-zA-Z0-9_-]+$")

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
    content_language: str | None = None  # EuropeanLanguagesService::ALL_LANGUAGES
    # 'content_id' => ['array', 'nullable'], 'content_id.EAN-13' => a 13-digit product code
    content_id: dict[str, str] | None = None
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

    @field_validator("content_language", mode="after")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in CONTENT_LANGUAGES:
            raise ValueError("content_language must be an upper-case ISO 639-1 code")
        return value

    @field_validator("content_id", mode="after")
    @classmethod
    def _ean13(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        if set(value) - {"EAN-13"}:
            raise ValueError("content_id takes only the key 'EAN-13'")
        if "EAN-13" in value and not re.fullmatch(r"[0-9]{13}", value["EAN-13"]):
            raise ValueError("content_id EAN-13 must be 13 digits")
        return value or None

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
        """Validate raw input, raising :class:`InvalidStatement` with every problem found.

        Categories and keywords the Database retired are read as their successors first
        (``upgrade_statement``): a statement stored before 2025-02-26 still parses.
        """
        try:
            return cls.model_validate(upgrade_statement(data))
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
            elif isinstance(value, dict):
                out[name] = dict(sorted(value.items()))
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
