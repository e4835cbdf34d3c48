"""Output moderation: classify sampled frames of a generated video and decide by policy.

Upload moderation may reuse these classifiers; they take RGB uint8 frames and know nothing
of requests or events.
"""
