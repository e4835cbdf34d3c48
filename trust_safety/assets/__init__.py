"""Asset visibility, decided once: every reason an asset goes down or comes back is a hold on
its generation's asset stream (``asset-<generation_id>``), and each change is published as
``contracts.assets.AssetVisibilityChanged`` with the holds still in force. Readers (the
generator's downloads, the feed, reverse search, provenance, the consent ledger) copy that
state, so none of them needs to know why an asset is down or count holds itself.
"""
