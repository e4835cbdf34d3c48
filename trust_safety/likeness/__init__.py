"""Likeness by face: public figures' reference galleries, the face index over cameo templates
and galleries, and the owner's view of where their face appears."""
