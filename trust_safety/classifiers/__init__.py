"""Reusable classifier wrappers: text embeddings, NSFW detection, face detection.

Prompt moderation, upload moderation and output (frame) moderation share these, so each
wrapper takes plain arrays or strings and returns typed results, with no request context.
"""
