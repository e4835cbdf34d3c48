"""Asset visibility: every reason an asset goes down (or comes back) becomes one pair of
events on its generation stream, ``AssetRemoved`` / ``AssetRestored``, keyed by a ``hold``.

Reasons today: an enforcement action that removes the asset (hold = the action id, lifted by
its reversal) and a cameo owner removing their appearance (hold = ``cameo:<cameo id>``). Read
models (the generator's downloads, the feed, reverse search, the consent ledger) follow these
two events and keep an asset down while any hold remains, so no reader needs to know why.
"""
