"""Hash bank settings, read from ``CLEARFRAME_HASH_BANKS_*`` (docs/hash_banks.md).

The network exchanges (NCMEC hash sharing, StopNCII, ThreatExchange) and the report client
are off until the operator configures them. Their credentials have no default at all: a
fetcher or a client that is enabled without them refuses to start, in every mode, and in
production the report client must also speak HTTPS.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from core.settings import DomainSettings, Settings, secret_weakness

_PREFIX = "CLEARFRAME_HASH_BANKS_"
# US law (18 U.S.C. 2258A(h), as amended by the REPORT Act 2024): a provider keeps what it
# reported for at least one year.
MIN_LEGAL_RETENTION_DAYS = 365
CONTRIBUTION_TARGETS = frozenset({"file", "ncmec", "stopncii", "fb_threatexchange"})


class HashBankSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix=_PREFIX, extra="ignore")

    # PDQ: a bank hash within this Hamming distance (of 256 bits) matches; 31 is the distance
    # PDQ's authors and ThreatExchange call a confident match. Frames under the quality floor
    # are not matched (too flat to say anything).
    pdq_distance: int = Field(default=31, ge=0, le=64)
    pdq_quality: int = Field(default=50, ge=0, le=100)
    # vPDQ: a clip matches a banked clip when this share of its distinct frame hashes is
    # within pdq_distance of one of the banked clip's (and that share of the banked clip's).
    vpdq_query_match_pct: float = Field(default=80.0, gt=0, le=100)
    vpdq_bank_match_pct: float = Field(default=0.0, ge=0, le=100)
    vpdq_seconds_per_hash: float = Field(default=1.0, gt=0, le=10)
    # How long preserved evidence is kept, in days (at least the legal year).
    evidence_retention_days: int = Field(default=400, ge=MIN_LEGAL_RETENTION_DAYS, le=36500)
    # The reporting platform, as it appears in a report.
    reporter_company: str = "Clearframe"
    reporter_email: str = "trust-and-safety@localhost"
    reporter_terms_url: str = "https://localhost/terms"
    # The CyberTipline (or another hotline) client: off unless enabled.
    report_client_enabled: bool = False
    report_client_url: str = ""
    report_client_username: str = ""
    report_client_password: SecretStr | None = None
    report_client_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # Network fetchers, each off unless its credentials are set (threatexchange's formats).
    ncmec_credentials: SecretStr | None = None  # "user:password" of the NCMEC hash API
    ncmec_environment: str = "Exploitative"  # threatexchange's NCMECEnvironment name
    ncmec_bank: str = "ncmec"  # the bank its hashes go to (category csam)
    stopncii_subscription_key: SecretStr | None = None
    stopncii_fetch_function_key: SecretStr | None = None
    stopncii_bank: str = "stopncii"  # category ncii
    threatexchange_token: SecretStr | None = None
    threatexchange_privacy_group: int | None = None
    threatexchange_bank: str = "threatexchange"
    threatexchange_category: str = "terrorism"
    # Contribute confirmed hashes (a reviewer confirms a match) back to an exchange, through
    # threatexchange's report_opinion: "file" (a local hash file, contribute_file), "ncmec",
    # "stopncii" or "fb_threatexchange". Off by default.
    contribute_confirmed: bool = False
    contribute_to: str = ""
    contribute_file: Path | None = None

    @model_validator(mode="after")
    def _complete(self) -> HashBankSettings:
        if self.report_client_enabled and not (
            self.report_client_url
            and self.report_client_username
            and self.report_client_password is not None
            and self.report_client_password.get_secret_value()
        ):
            raise ValueError(
                f"{_PREFIX}REPORT_CLIENT_ENABLED needs {_PREFIX}REPORT_CLIENT_URL, "
                "_USERNAME and _PASSWORD"
            )
        if (self.stopncii_subscription_key is None) != (self.stopncii_fetch_function_key is None):
            raise ValueError(
                f"set both {_PREFIX}STOPNCII_SUBSCRIPTION_KEY and _FETCH_FUNCTION_KEY, or neither"
            )
        if (self.threatexchange_token is None) != (self.threatexchange_privacy_group is None):
            raise ValueError(
                f"set both {_PREFIX}THREATEXCHANGE_TOKEN and _PRIVACY_GROUP, or neither"
            )
        if (
            self.ncmec_credentials is not None
            and ":" not in self.ncmec_credentials.get_secret_value()
        ):
            raise ValueError(f"{_PREFIX}NCMEC_CREDENTIALS is 'user:password'")
        if self.contribute_confirmed and self.contribute_to not in CONTRIBUTION_TARGETS:
            raise ValueError(
                f"{_PREFIX}CONTRIBUTE_TO must be one of {sorted(CONTRIBUTION_TARGETS)} when "
                f"{_PREFIX}CONTRIBUTE_CONFIRMED is set"
            )
        if self.contribute_confirmed and self.contribute_to == "file" and not self.contribute_file:
            raise ValueError(f"{_PREFIX}CONTRIBUTE_TO=file needs {_PREFIX}CONTRIBUTE_FILE")
        return self

    def production_problems(self, settings: Settings) -> list[str]:
        problems: list[str] = []
        if self.report_client_enabled:
            if not self.report_client_url.startswith("https://"):
                problems.append(f"{_PREFIX}REPORT_CLIENT_URL must be https:// in production")
            assert self.report_client_password is not None  # checked by _complete
            weak = secret_weakness(self.report_client_password.get_secret_value())
            if weak:
                problems.append(f"{_PREFIX}REPORT_CLIENT_PASSWORD {weak}")
            if self.reporter_email.endswith("@localhost"):
                problems.append(
                    f"{_PREFIX}REPORTER_EMAIL must be a real contact address in production "
                    "(the hotline writes back to it)"
                )
        return problems
