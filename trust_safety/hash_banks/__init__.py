"""Known harmful media matched by hash: banks, exchanges, matching, evidence and reports.

The shape follows hasher-matcher-actioner: banks of PDQ / vPDQ / MD5 / SHA-256 hashes filled
from exchanges through the ``threatexchange`` library, every upload and every generated
output hashed and matched before anyone sees it, and what a match leads to (refusal, evidence,
a ban, a report) recorded as events. See docs/hash_banks.md.
"""
