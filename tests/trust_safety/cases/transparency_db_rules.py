"""The EU Transparency Database's rules for a statement of reasons, written from its PHP source.

Independent of ``contracts.statement_of_reasons`` on purpose: the export is checked
against what the Database itself would do, not against our own reading of it. Source:
github.com/digital-services-act/transparency-database at commit 69e80a0b (June 2026),

- app/Http/Requests/StatementStoreRequest.php, ``rules()`` (``POST /api/v1/statement``);
- app/Services/GroupedSubmissionsService.php, ``multi_rules()`` (``POST /api/v1/statements``,
  the same rules except ``source_identity``, which is only ``max:500|nullable`` there);
- app/Http/Controllers/Api/v1/StatementMultipleAPIController.php (``statements``:
  ``required|array|between:1,100``; puids unique within the platform);
- the value lists: app/Models/Statement.php, app/Services/EuropeanCountriesService.php
  (``EUROPEAN_COUNTRY_CODES``), app/Services/EuropeanLanguagesService.php (``ALL_LANGUAGES``).

Laravel semantics reproduced: ``required`` fails on a missing key, null, "" or []; ``in`` on an
array checks every element; ``max`` on a string counts characters; ``exclude_if``/``exclude_unless``
drop the field without an error (reported here as ``dropped``, since a dropped field is a fact
the Database never records); keys that no rule names are dropped too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlparse

# app/Models/Statement.php
STATEMENT_CATEGORIES = frozenset(
    {
        "STATEMENT_CATEGORY_ANIMAL_WELFARE",
        "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        "STATEMENT_CATEGORY_SELF_HARM",
        "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
        "STATEMENT_CATEGORY_VIOLENCE",
    }
)

KEYWORDS = frozenset(
    {
        "KEYWORD_ADULT_SEXUAL_MATERIAL",
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
        "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
        "KEYWORD_ANIMAL_HARM",
        "KEYWORD_BIOMETRIC_DATA_BREACH",
        "KEYWORD_BULLYING_AGAINST_GIRLS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
        "KEYWORD_COORDINATED_HARM",
        "KEYWORD_COPYRIGHT_INFRINGEMENT",
        "KEYWORD_CYBER_BULLYING_INTIMIDATION",
        "KEYWORD_CYBER_HARASSMENT",
        "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
        "KEYWORD_CYBER_INCITEMENT",
        "KEYWORD_CYBER_STALKING",
        "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
        "KEYWORD_DATA_FALSIFICATION",
        "KEYWORD_DEFAMATION",
        "KEYWORD_DESIGN_INFRINGEMENT",
        "KEYWORD_DISCRIMINATION",
        "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
        "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
        "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
        "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
        "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        "KEYWORD_HATE_SPEECH",
        "KEYWORD_HIDDEN_ADVERTISEMENT",
        "KEYWORD_HUMAN_EXPLOITATION",
        "KEYWORD_HUMAN_TRAFFICKING",
        "KEYWORD_ILLEGAL_ORGANIZATIONS",
        "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
        "KEYWORD_INAUTHENTIC_ACCOUNTS",
        "KEYWORD_INAUTHENTIC_LISTINGS",
        "KEYWORD_INAUTHENTIC_USER_REVIEWS",
        "KEYWORD_INCITEMENT_AGAINST_WOMEN",
        "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
        "KEYWORD_LANGUAGE_REQUIREMENTS",
        "KEYWORD_MISINFORMATION_DISINFORMATION",
        "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
        "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
        "KEYWORD_MISSING_PROCESSING_GROUND",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
        "KEYWORD_NONCOMPLIANCE_PRICING",
        "KEYWORD_NUDITY",
        "KEYWORD_PATENT_INFRINGEMENT",
        "KEYWORD_PHISHING",
        "KEYWORD_PROHIBITED_PRODUCTS",
        "KEYWORD_PYRAMID_SCHEMES",
        "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
        "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
        "KEYWORD_RISK_PUBLIC_HEALTH",
        "KEYWORD_SELF_MUTILATION",
        "KEYWORD_STALKING",
        "KEYWORD_SUICIDE",
        "KEYWORD_TERRORIST_CONTENT",
        "KEYWORD_TRADE_SECRET_INFRINGEMENT",
        "KEYWORD_TRADEMARK_INFRINGEMENT",
        "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
        "KEYWORD_UNLAWFUL_SALE_ANIMALS",
        "KEYWORD_UNSAFE_CHALLENGES",
        "KEYWORD_UNSAFE_PRODUCTS",
        "KEYWORD_VIOLATION_EU_LAW",
        "KEYWORD_VIOLATION_NATIONAL_LAW",
        "KEYWORD_OTHER",
    }
)

DECISION_VISIBILITIES = frozenset(
    [
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_CONTENT_DISABLED",
        "DECISION_VISIBILITY_CONTENT_DEMOTED",
        "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_LABELLED",
        "DECISION_VISIBILITY_OTHER",
    ]
)
DECISION_MONETARIES = frozenset(
    ["DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"]
)
DECISION_PROVISIONS = frozenset(
    [
        "DECISION_PROVISION_PARTIAL_SUSPENSION",
        "DECISION_PROVISION_TOTAL_SUSPENSION",
        "DECISION_PROVISION_PARTIAL_TERMINATION",
        "DECISION_PROVISION_TOTAL_TERMINATION",
    ]
)
DECISION_ACCOUNTS = frozenset(["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"])
ACCOUNT_TYPES = frozenset(["ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"])
DECISION_GROUNDS = frozenset(
    ["DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"]
)
CONTENT_TYPES = frozenset(
    [
        "CONTENT_TYPE_APP",
        "CONTENT_TYPE_AUDIO",
        "CONTENT_TYPE_IMAGE",
        "CONTENT_TYPE_PRODUCT",
        "CONTENT_TYPE_SYNTHETIC_MEDIA",
        "CONTENT_TYPE_TEXT",
        "CONTENT_TYPE_VIDEO",
        "CONTENT_TYPE_OTHER",
    ]
)
SOURCE_TYPES = frozenset(
    [
        "SOURCE_ARTICLE_16",
        "SOURCE_TRUSTED_FLAGGER",
        "SOURCE_TYPE_OTHER_NOTIFICATION",
        "SOURCE_VOLUNTARY",
    ]
)
AUTOMATED_DECISIONS = frozenset(
    ["AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"]
)
AUTOMATED_DETECTIONS = frozenset(["Yes", "No"])
INCOMPATIBLE_CONTENT_ILLEGALS = frozenset(["Yes", "No"])

# app/Services/EuropeanCountriesService.php, EUROPEAN_COUNTRY_CODES
EUROPEAN_COUNTRY_CODES = frozenset(
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

# app/Services/EuropeanLanguagesService.php, the keys of ALL_LANGUAGES
ALL_LANGUAGES = frozenset(
    """
    AA AB AE AF AK AM AN AR AS AV AY AZ BA BE BG BH BI BM BN BO BR BS CA CE CH CO CR CS CU CV
    CY DA DE DV DZ EE EL EN EO ES ET EU FA FF FI FJ FO FR FY GA GD GL GN GU GV HA HE HI HO HR
    HT HU HY HZ IA ID IE IG II IK IO IS IT IU JA JV KA KG KI KJ KK KL KM KN KO KR KS KU KV KW
    KY LA LB LG LI LN LO LT LU LV MG MH MI MK ML MN MR MS MT MY NA NB ND NE NG NL NN NO NR NV
    NY OC OJ OM OR OS PA PI PL PS PT QU RM RN RO RU RW SA SC SD SE SG SI SK SL SM SN SO SQ SR
    SS ST SU SV SW TA TE TG TH TI TK TL TN TO TR TS TT TW TY UG UK UR UZ VE VI VO WA WO XH YI
    YO ZA ZH ZU
    """.split()  # noqa: SIM905
)

PUID = re.compile(r"^[a-zA-Z0-9-_]+$")  # 'regex:/^[a-zA-Z0-9-_]+$/D'
EAN_13 = re.compile(r"^[0-9]{13}$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # 'date_format:Y-m-d'

KNOWN_FIELDS = frozenset(
    {
        "content_id",
        "content_id_ean",
        "decision_visibility",
        "decision_visibility_other",
        "decision_monetary",
        "decision_monetary_other",
        "decision_provision",
        "decision_account",
        "account_type",
        "category_specification",
        "category_specification_other",
        "decision_ground",
        "decision_ground_reference_url",
        "illegal_content_legal_ground",
        "illegal_content_explanation",
        "incompatible_content_ground",
        "incompatible_content_explanation",
        "incompatible_content_illegal",
        "content_type",
        "content_type_other",
        "category",
        "category_addition",
        "territorial_scope",
        "content_language",
        "content_date",
        "application_date",
        "end_date_account_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_visibility_restriction",
        "decision_facts",
        "source_type",
        "source_identity",
        "automated_detection",
        "automated_decision",
        "puid",
    }
)


@dataclass
class Verdict:
    errors: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # accepted, but not recorded

    @property
    def accepted(self) -> bool:
        return not self.errors

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def _in(v: Verdict, name: str, value: Any, allowed: frozenset[str], nullable: bool = False) -> None:
    values = value if isinstance(value, list) else [value]
    for item in values:
        if item is None and nullable:
            continue
        if item not in allowed:
            v.fail(name, f"The selected {name} is invalid ({item!r}).")


def _max(v: Verdict, name: str, value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        v.fail(name, f"The {name} field must not be greater than {limit} characters.")


def _date(v: Verdict, name: str, value: Any, after: str | None, before: str) -> None:
    if not isinstance(value, str) or not DATE.match(value):
        v.fail(name, f"The {name} does not match the format YYYY-MM-DD.")
        return
    try:
        day = date.fromisoformat(value)
    except ValueError:
        v.fail(name, f"The {name} does not match the format YYYY-MM-DD.")
        return
    if after is not None and day < date.fromisoformat(after):
        v.fail(name, f"The {name} field must be a date after or equal to {after}.")
    if day > date.fromisoformat(before):
        v.fail(name, f"The {name} field must be a date before or equal to {before}.")


def _url(value: str) -> bool:
    # An approximation of Laravel's 'url' rule: an absolute URL with a scheme and a host.
    parsed = urlparse(value)
    return bool(parsed.scheme) and bool(parsed.netloc) and " " not in value


def validate_statement(s: Mapping[str, Any], *, multiple: bool = False) -> Verdict:
    """What the Database answers to one statement (``multiple``: inside ``/statements``)."""
    v = Verdict()
    v.dropped = sorted(set(s) - KNOWN_FIELDS)

    def required(name: str) -> bool:
        if _missing(s.get(name)):
            v.fail(name, f"The {name} field is required.")
            return False
        return True

    def exclude(name: str, keep: bool) -> None:
        if not keep and not _missing(s.get(name)):
            v.dropped.append(name)

    # content_id: ['array', 'nullable']; content_id.EAN-13: ['string', 'regex:/^[0-9]{13}$/']
    content_id = s.get("content_id")
    if content_id is not None:
        if not isinstance(content_id, Mapping):
            v.fail("content_id", "The content_id field must be an array.")
        elif "EAN-13" in content_id and not (
            isinstance(content_id["EAN-13"], str) and EAN_13.match(content_id["EAN-13"])
        ):
            v.fail("content_id.EAN-13", "The content_id.EAN-13 field format is invalid.")

    # decision_visibility / _monetary / _provision / _account: required_without_all the others
    decisions = (
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
    )
    if all(_missing(s.get(d)) for d in decisions):
        for d in decisions:
            v.fail(d, f"The {d} field is required when none of the others are present.")
    allowed = {
        "decision_visibility": DECISION_VISIBILITIES,
        "decision_monetary": DECISION_MONETARIES,
        "decision_provision": DECISION_PROVISIONS,
        "decision_account": DECISION_ACCOUNTS,
        "account_type": ACCOUNT_TYPES,
    }
    for name, values in allowed.items():
        if s.get(name) is not None:
            _in(v, name, s[name], values, nullable=True)
    if s.get("decision_visibility") is not None and not isinstance(s["decision_visibility"], list):
        v.fail("decision_visibility", "The decision_visibility field must be an array.")

    visibility = s.get("decision_visibility") or []
    other_visibility = isinstance(visibility, list) and "DECISION_VISIBILITY_OTHER" in visibility
    if other_visibility:
        required("decision_visibility_other")
    exclude("decision_visibility_other", other_visibility)
    _max(v, "decision_visibility_other", s.get("decision_visibility_other"), 500)

    other_monetary = s.get("decision_monetary") == "DECISION_MONETARY_OTHER"
    if other_monetary:
        required("decision_monetary_other")
    exclude("decision_monetary_other", other_monetary)
    _max(v, "decision_monetary_other", s.get("decision_monetary_other"), 500)

    # category_specification: ['array', in:null,KEYWORDS, 'nullable']; _other: ['max:500']
    if s.get("category_specification") is not None:
        if not isinstance(s["category_specification"], list):
            v.fail("category_specification", "The category_specification field must be an array.")
        else:
            _in(v, "category_specification", s["category_specification"], KEYWORDS, True)
    _max(v, "category_specification_other", s.get("category_specification_other"), 500)

    # decision_ground and its conditional fields
    if required("decision_ground"):
        _in(v, "decision_ground", s["decision_ground"], DECISION_GROUNDS)
    illegal = s.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT"
    incompatible = s.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    url = s.get("decision_ground_reference_url")
    if not _missing(url):
        if not isinstance(url, str) or not _url(url):
            v.fail(
                "decision_ground_reference_url",
                "The decision_ground_reference_url field must be a valid URL.",
            )
        _max(v, "decision_ground_reference_url", url, 500)
    for name, when, limit in (
        ("illegal_content_legal_ground", illegal, 500),
        ("illegal_content_explanation", illegal, 2000),
        ("incompatible_content_ground", incompatible, 500),
        ("incompatible_content_explanation", incompatible, 2000),
    ):
        if when:
            required(name)
        exclude(name, when)
        _max(v, name, s.get(name), limit)
    if incompatible and s.get("incompatible_content_illegal") is not None:
        _in(
            v,
            "incompatible_content_illegal",
            s["incompatible_content_illegal"],
            INCOMPATIBLE_CONTENT_ILLEGALS,
        )
    exclude("incompatible_content_illegal", incompatible)

    # content_type: ['array', 'required', in:CONTENT_TYPES]; _other required with OTHER
    if required("content_type"):
        if not isinstance(s["content_type"], list):
            v.fail("content_type", "The content_type field must be an array.")
        else:
            _in(v, "content_type", s["content_type"], CONTENT_TYPES)
    other_type = (
        isinstance(s.get("content_type"), list) and "CONTENT_TYPE_OTHER" in s["content_type"]
    )
    if other_type:
        required("content_type_other")
    exclude("content_type_other", other_type)
    _max(v, "content_type_other", s.get("content_type_other"), 500)

    # category: required, in:STATEMENT_CATEGORIES; category_addition: ['array', in:...]
    if required("category"):
        _in(v, "category", s["category"], STATEMENT_CATEGORIES)
    if s.get("category_addition") is not None:
        if not isinstance(s["category_addition"], list):
            v.fail("category_addition", "The category_addition field must be an array.")
        else:
            _in(v, "category_addition", s["category_addition"], STATEMENT_CATEGORIES)

    # territorial_scope: ['array', 'nullable', in:EUROPEAN_COUNTRY_CODES]
    if s.get("territorial_scope") is not None:
        if not isinstance(s["territorial_scope"], list):
            v.fail("territorial_scope", "The territorial_scope field must be an array.")
        else:
            _in(v, "territorial_scope", s["territorial_scope"], EUROPEAN_COUNTRY_CODES)
    if s.get("content_language") is not None:
        _in(v, "content_language", s["content_language"], ALL_LANGUAGES)

    if required("content_date"):
        _date(v, "content_date", s["content_date"], "2000-01-01", "2038-01-01")
    if required("application_date"):
        _date(v, "application_date", s["application_date"], "2020-01-01", "2038-01-01")
    for name in (
        "end_date_account_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_visibility_restriction",
    ):
        if s.get(name) is not None:
            _date(v, name, s[name], None, "2038-01-01")

    if required("decision_facts"):
        _max(v, "decision_facts", s["decision_facts"], 5000)
    if required("source_type"):
        _in(v, "source_type", s["source_type"], SOURCE_TYPES)
    _max(v, "source_identity", s.get("source_identity"), 500)
    if not multiple:  # Rule::excludeIf(source_type is SOURCE_VOLUNTARY), single endpoint only
        exclude("source_identity", s.get("source_type") != "SOURCE_VOLUNTARY")
    if required("automated_detection"):
        _in(v, "automated_detection", s["automated_detection"], AUTOMATED_DETECTIONS)
    if required("automated_decision"):
        _in(v, "automated_decision", s["automated_decision"], AUTOMATED_DECISIONS)
    if required("puid"):
        puid = s["puid"]
        if not isinstance(puid, str) or not PUID.match(puid):
            v.fail("puid", "The puid format is invalid.")
        _max(v, "puid", puid, 500)
    v.dropped = sorted(set(v.dropped))
    return v


def validate_submission(body: Mapping[str, Any]) -> dict[str, Verdict]:
    """``POST /api/v1/statements``: every statement's verdict, keyed ``statement_<i>``;
    the key ``statements`` when the envelope itself is refused."""
    statements = body.get("statements")
    if not isinstance(statements, list) or not 1 <= len(statements) <= 100:
        bad = Verdict()
        bad.fail("statements", "The statements field must have between 1 and 100 items.")
        return {"statements": bad}
    verdicts = {
        f"statement_{i}": validate_statement(s, multiple=True) for i, s in enumerate(statements)
    }
    seen: set[str] = set()
    for i, s in enumerate(statements):
        puid = s.get("puid")
        if puid in seen:  # PlatformUniqueIdService: a puid is used once per platform
            verdicts[f"statement_{i}"].fail("puid", "The identifier given is not unique.")
        seen.add(puid)
    return verdicts


def refused(verdicts: Iterable[Verdict]) -> list[dict[str, list[str]]]:
    return [v.errors for v in verdicts if not v.accepted]
