"""The feed: Recent, Featured, Following and remix lineage, projected from events."""
