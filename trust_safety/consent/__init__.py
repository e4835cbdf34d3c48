"""Cameo consent ledger: who may put whose likeness in a video, and the full history of it."""
