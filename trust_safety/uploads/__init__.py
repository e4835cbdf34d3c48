"""Uploads used as generation inputs: sniffing, limits, decoding, NSFW and face checks."""
