"""Typed errors of the cameo consent domain, each with a stable machine code."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed


class InvalidCameoInput(ValidationFailed):
    code = "consent.invalid_input"


class CameoNotFound(NotFound):
    code = "consent.cameo_not_found"


class CameoAlreadyRegistered(Conflict):
    code = "consent.cameo_already_registered"


class CameoHandleTaken(Conflict):
    code = "consent.handle_taken"


class NotCameoOwner(Forbidden):
    """Only the person in the cameo may change who can use it."""

    code = "consent.not_cameo_owner"


class CameoAlreadyRetired(Conflict):
    code = "consent.cameo_retired"


class GranteeNotFound(NotFound):
    """Consent can be granted only to an account that exists."""

    code = "consent.grantee_not_found"


class AppearanceNotFound(NotFound):
    code = "consent.appearance_not_found"


class NotLivenessProvider(Forbidden):
    """A liveness verdict comes from a liveness provider, never from the cameo's owner."""

    code = "consent.owner_cannot_record_liveness"


# Enrolment from the capture: each refusal says what was seen and what to do about it.


class EnrolmentCaptureInvalid(ValidationFailed):
    code = "enrolment_capture_invalid"


class EnrolmentCaptureTooLarge(PayloadTooLarge):
    code = "enrolment_capture_too_large"


class EnrolmentNoFace(ValidationFailed):
    code = "enrolment_no_face"


class EnrolmentSeveralFaces(ValidationFailed):
    code = "enrolment_several_faces"


class EnrolmentIdentityMismatch(ValidationFailed):
    code = "enrolment_identity_mismatch"


class EnrolmentStillCapture(ValidationFailed):
    code = "enrolment_still_capture"


class EnrolmentUnderAge(ValidationFailed):
    code = "enrolment_under_age"
