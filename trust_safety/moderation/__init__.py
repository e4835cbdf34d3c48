"""Prompt moderation: normalisation against evasion, pluggable stages, a versioned policy.

Entry point: :func:`trust_safety.moderation.pipeline.build_default_pipeline`.
"""
