"""PCA whitening fitted on archived descriptors.

Hand-made descriptors have a few dominant directions shared by every frame (overall layout
of light, typical colours); whitening shrinks them so that similarity is driven by what
distinguishes one video from another. Fitted on the archive, stored with the index.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from reverse_search.embedders.base import l2_normalize
from reverse_search.errors import IndexCorruptError, InvalidFramesError


@dataclass(frozen=True)
class PCAWhitening:
    mean: np.ndarray  # (D,)
    projection: np.ndarray  # (D, d): eigenvectors scaled by regularised 1/sqrt(eigenvalue)

    @property
    def in_dim(self) -> int:
        return int(self.projection.shape[0])

    @property
    def out_dim(self) -> int:
        return int(self.projection.shape[1])

    @classmethod
    def fit(cls, vectors: np.ndarray, out_dim: int, *, shrinkage: float = 0.1) -> PCAWhitening:
        """Fit on (N, D) vectors.

        ``shrinkage`` adds a fraction of the mean eigenvalue before inverting, so that noise
        directions with tiny variance are not blown up to the same weight as real structure.
        """
        if vectors.ndim != 2 or len(vectors) < 2:
            raise InvalidFramesError(f"need at least 2 vectors (N, D) to fit, got {vectors.shape}")
        x = vectors.astype(np.float64)
        mean = x.mean(axis=0)
        centred = x - mean
        cov = centred.T @ centred / (len(x) - 1)
        eigval, eigvec = np.linalg.eigh(cov)
        order = np.argsort(eigval)[::-1]
        keep = min(out_dim, x.shape[1], len(x) - 1)
        eigval = np.clip(eigval[order][:keep], 0.0, None)
        eigvec = eigvec[:, order][:, :keep]
        regulariser = shrinkage * float(eigval.mean()) + 1e-12
        projection = eigvec / np.sqrt(eigval + regulariser)
        return cls(mean.astype(np.float32), projection.astype(np.float32))

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        shape = vectors.shape
        if shape[-1] != self.in_dim:
            raise InvalidFramesError(f"expected vectors of dim {self.in_dim}, got {shape[-1]}")
        flat = vectors.reshape(-1, self.in_dim).astype(np.float32, copy=False)
        out = l2_normalize((flat - self.mean) @ self.projection)
        return out.reshape(*shape[:-1], self.out_dim)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, mean=self.mean, projection=self.projection)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PCAWhitening:
        try:
            with np.load(io.BytesIO(data)) as archive:
                return cls(archive["mean"], archive["projection"])
        except (OSError, KeyError, ValueError) as exc:
            raise IndexCorruptError(f"whitening file is unreadable: {exc}") from exc
