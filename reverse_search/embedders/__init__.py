"""Frame embedders: one interface, a weight-free descriptor and an open_clip encoder."""

from reverse_search.embedders.base import FrameEmbedder, l2_normalize
from reverse_search.embedders.descriptor import DescriptorConfig, VisualDescriptor
from reverse_search.embedders.whitening import PCAWhitening

__all__ = [
    "DescriptorConfig",
    "FrameEmbedder",
    "PCAWhitening",
    "VisualDescriptor",
    "l2_normalize",
]
