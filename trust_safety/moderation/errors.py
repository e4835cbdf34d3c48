"""Typed moderation errors; each carries a stable machine code for the API edge."""

from __future__ import annotations

from core.errors import ClearframeError, Conflict, InternalError, ValidationFailed


class ModerationError(ClearframeError):
    code = "moderation_error"


class UnknownCategory(ValidationFailed):
    code = "unknown_category"


class InvalidPrompt(ValidationFailed):
    code = "invalid_prompt"


class InvalidModerationData(InternalError, ModerationError):
    """A blocklist, exemplar, figure or policy file is malformed; raised at load, not later."""

    code = "invalid_moderation_data"
    title = "Invalid moderation data"


class InvalidBlocklistEdit(ValidationFailed):
    code = "invalid_blocklist_edit"


class StaleListVersion(Conflict):
    """An admin edited a list version that someone else already changed."""

    code = "stale_list_version"


class InvalidPolicy(ValidationFailed):
    code = "invalid_policy"


class DuplicateStage(ValidationFailed):
    code = "duplicate_stage"
