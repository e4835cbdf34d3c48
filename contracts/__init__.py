"""Published contracts: the event classes and enums that cross a domain.

A domain emits these classes and other domains decode them; nothing else passes between
domains except the typed ports of ``contracts.ports``. Schema versions and upcasters live
with the contract, so a producer's change is a change here, and the consumers' tests (which
build foreign events only from these classes) fail with it. Events a domain keeps to itself
stay in that domain's ``events.py``.

Modules, one per area others follow:
- ``generation``: the request and its moderation (``generation-<id>``, the gate), the render
  (``render-<id>``, the generator), output moderation (``output-<id>``) and signing
  (``provenance-<id>``): one writing domain per stream.
- ``assets``: an asset's holds and its visibility, decided once by the assets domain.
- ``enforcement``: action kinds, target kinds, actions and their reversals.
- ``consent``: what the consent ledger publishes for others (cameo appearances removed).
- ``feed``: the follow graph others read (the consent ledger's mutual follows).
- ``statement_of_reasons``: the DSA statement every enforcement action carries.
- ``ports``: the synchronous needs across domains (pick-up policy, watermarker, fingerprint
  search, blob store, follow graph), each a typed port wired at start-up.
"""

# Importing any contract registers them all: a process that reads one category can decode
# every published event type, whichever domains it loaded.
from contracts import assets, consent, enforcement, feed, generation  # noqa: E402, F401
