"""All Numba settings of rfsim, in one place.

Every kernel module imports its decorators from here, so the JIT options are set once.

``fastmath`` is enabled without the ``nnan`` and ``ninf`` flags: divergence
detection and the NaN checks during training compare values with NaN and inf,
and those comparisons are folded away when the compiler may assume finite math.
``contract`` (fused multiply-add) is left out as well, because the parity tests
against the authors' PyTorch implementation compare results bit for bit where the
order of floating-point operations is the same. One kernel adds it on purpose:
``rfsim.network.kernels_common.recurrent_adjoint`` (a reordered matrix product
in the backward sweep, tested against autograd to 1e-9), with ``FASTMATH_FMA``
below. The exponential of ``rfsim.surrogate`` writes its fused multiply-adds
explicitly instead, because it is inlined into kernels compiled without
``contract``.

Set the environment variable ``RFSIM_NUMBA_CACHE=0`` to disable the on-disk cache
(for example on a read-only installation).
"""

import os

import numba

FASTMATH = frozenset({"reassoc", "nsz", "arcp", "afn"})
"""LLVM fast-math flags used by kernels that may reorder sums (no ``nnan``/``ninf``)."""

FMA = frozenset({"contract"})
"""Only fused multiply-add: IEEE arithmetic otherwise."""

FASTMATH_FMA = FASTMATH | FMA
"""``FASTMATH`` plus fused multiply-add, for sums whose order is free anyway."""

CACHE = os.environ.get("RFSIM_NUMBA_CACHE", "1") != "0"
"""Whether compiled kernels are cached on disk next to their module."""


def _as_set(kwargs):
    """Give Numba the fast-math flags as the plain set it requires."""
    if isinstance(kwargs.get("fastmath"), frozenset):
        kwargs["fastmath"] = set(kwargs["fastmath"])
    return kwargs


def njit(*args, **kwargs):
    """Compile a serial kernel with rfsim's settings (IEEE arithmetic unless ``fastmath`` is given, cached)."""
    _as_set(kwargs)
    kwargs.setdefault("cache", CACHE)
    kwargs.setdefault("nogil", True)
    return numba.njit(*args, **kwargs)


def njit_parallel(*args, **kwargs):
    """Compile a kernel whose ``numba.prange`` loops run on all threads."""
    kwargs.setdefault("cache", CACHE)
    kwargs.setdefault("nogil", True)
    kwargs.setdefault("parallel", True)
    return numba.njit(*args, **_as_set(kwargs))


def njit_fast(*args, **kwargs):
    """Compile a kernel that may reorder floating-point sums (``FASTMATH`` flags)."""
    kwargs.setdefault("cache", CACHE)
    kwargs.setdefault("nogil", True)
    kwargs.setdefault("fastmath", FASTMATH)
    return numba.njit(*args, **_as_set(kwargs))


prange = numba.prange
