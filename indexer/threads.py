"""BLAS threads: one for the numeric work of a query, the cores for a batch.

numpy's BLAS (OpenBLAS) splits even one query's product over all its threads,
and the product waits for the slowest of them: on a machine whose cores are
busy with other programs, a thread waits for a core, and warm hybrid search
took 10× as long as on a quiet machine. A query's work is too small to share;
a batch of passages to embed is not, and keeps every core (the embedders set
their thread count per call).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

_controller = None


def one_blas_thread() -> AbstractContextManager:
    """A context in which numpy's BLAS runs on one thread (BLAS thread counts are the whole process's)."""
    return blas_threads(1)


def blas_threads(count: int) -> AbstractContextManager:
    """A context in which numpy's BLAS runs on `count` threads."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()  # finds the loaded BLAS libraries: once
    return _controller.limit(limits=count, user_api="blas")
