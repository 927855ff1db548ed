"""One BLAS thread for the event layer's NumPy work (the model's forward pass, the window's scan).

Its products are small (a lede, a window of a few thousand rows), and OpenBLAS's threads spin-wait for
a core on a busy machine: on two shared cores a lede took 400 ms instead of 30 and a window's cosines
10 ms instead of 2 (docs/benchmarks.md, "what the event layer costs"). A replica runs one model call at
a time anyway; more replicas, not more threads, use more cores.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from typing import Any

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> Any:
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[Any]:
    """A context in which BLAS (OpenBLAS, MKL) and OpenMP (PyTorch's threads, for a sentence-transformers
    model) run on one thread; it costs some microseconds."""
    limited: AbstractContextManager[Any] = _controller().limit(limits=1)
    return limited
