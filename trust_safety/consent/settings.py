"""Enrolment policy, read from ``CLEARFRAME_ENROLMENT_*`` (docs/consent_and_optout.md).

The defaults were measured on the photos in tests/data/faces (see ``min_pose_range``) and
chosen against what the age model is known to get wrong (see ``age_margin``).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from core.settings import DomainSettings
from trust_safety.classifiers.face_model import MATCH_DISTANCE


class EnrolmentSettings(DomainSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARFRAME_ENROLMENT_", extra="ignore")

    # Who counts as an adult, and the margin the age estimate must clear on top of it: the
    # median estimate over the capture's frames must reach adult_age + age_margin, and no
    # frame may be estimated under adult_age. The age model's error is several years and it
    # overestimates teenagers (a 12-year-old was estimated at 25), hence 10 years: an
    # estimate must reach 28. Adults who look younger are refused by the enrolment's own
    # check and are enrolled once an age-assurance provider has attested their age.
    adult_age: int = Field(default=18, ge=13, le=120)
    age_margin: float = Field(default=10.0, ge=0, le=50)
    # The widest change of head pose (yaw or pitch ratio, trust_safety/classifiers/faces.py)
    # across the frames must reach this. Measured on tests/data/faces: one photo moved,
    # scaled (0.8-1.2) and rotated (up to 15 degrees) in its plane spans at most 0.045 (the
    # landmarks' own jitter); two photos of one person at different moments span 0.07-0.18;
    # a head turned 30 degrees moves yaw by about 0.3.
    min_pose_range: float = Field(default=0.06, gt=0, le=2)
    # Every frame's face must lie within this of the frames' medoid (one person throughout).
    max_identity_distance: float = Field(default=MATCH_DISTANCE, gt=0, le=2)
    # Image frames accepted per capture, and frames sampled from a selfie video.
    min_frames: int = Field(default=3, ge=2, le=32)
    max_frames: int = Field(default=12, ge=2, le=32)
    video_frames: int = Field(default=8, ge=2, le=32)
    max_video_seconds: float = Field(default=15.0, gt=0, le=60)
    max_capture_bytes: int = Field(default=32 << 20, ge=1024)
    # How many embeddings the template keeps, chosen to spread across the poses seen.
    template_size: int = Field(default=5, ge=1, le=32)
