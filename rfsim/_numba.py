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

The serial kernels of the BPTT engine compile without reference counting
(``njit_kernel``), which makes array views free of atomic operations.

Set the environment variable ``RFSIM_NUMBA_CACHE=0`` to disable the on-disk cache
(for example on a read-only installation).

Numba invalidates a cached kernel only when the source file of that kernel changes,
not when a function it calls from another module does. So at import,
``purge_stale_cache`` deletes every cached kernel of the package once any module
that imports this one has changed since the cache was written.
"""

import hashlib
import os
from pathlib import Path

import numba
from numba.core import cgutils, cpu, types
from numba.extending import intrinsic

FASTMATH = frozenset({"reassoc", "nsz", "arcp", "afn"})
"""LLVM fast-math flags used by kernels that may reorder sums (no ``nnan``/``ninf``)."""

FMA = frozenset({"contract"})
"""Only fused multiply-add: IEEE arithmetic otherwise."""

FASTMATH_FMA = FASTMATH | FMA
"""``FASTMATH`` plus fused multiply-add, for sums whose order is free anyway."""

CACHE = os.environ.get("RFSIM_NUMBA_CACHE", "1") != "0"
"""Whether compiled kernels are cached on disk next to their module."""


STAMP_NAME = "numba_sources.stamp"
"""File in the package's ``__pycache__`` that records the fingerprint of its kernel sources."""


def _kernel_sources(package_dir):
    """Return the package's Python files that import this module, in sorted order."""
    return [path for path in sorted(Path(package_dir).rglob("*.py"))
            if "_numba import" in path.read_text(encoding="utf-8", errors="replace")]


def source_fingerprint(package_dir):
    """Return a SHA-256 over the relative path, size and modification time of each kernel source."""
    digest = hashlib.sha256()
    for path in _kernel_sources(package_dir):
        stat = path.stat()
        digest.update(f"{path.relative_to(package_dir)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def purge_stale_cache(package_dir):
    """Delete the cached kernels under ``package_dir`` if its kernel sources changed since the last call.

    The fingerprint of the sources is kept in ``__pycache__/numba_sources.stamp``. Without
    a stamp every cached kernel is deleted once, because its age is unknown.

    Returns
    -------
    int
        Number of ``*.nbi``/``*.nbc`` files deleted.
    """
    package_dir = Path(package_dir)
    stamp = package_dir / "__pycache__" / STAMP_NAME
    fingerprint = source_fingerprint(package_dir)
    if stamp.is_file() and stamp.read_text(encoding="ascii", errors="replace").strip() == fingerprint:
        return 0

    deleted = 0
    for pattern in ("*.nbi", "*.nbc"):
        for path in package_dir.rglob(f"__pycache__/{pattern}"):
            path.unlink(missing_ok=True)
            deleted += 1
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(fingerprint + "\n", encoding="ascii")
    return deleted


if CACHE:
    try:
        purge_stale_cache(Path(__file__).parent)
    except OSError:
        # A read-only installation keeps its sources and caches unchanged.
        pass


@intrinsic
def fetch_add(typingctx, counter, index):
    """Add 1 to the int64 ``counter[index]`` atomically and return its previous value.

    Threads that take work items with it each get a different item, in any order.
    """
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64 and counter.ndim == 1):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, signature.args[0], array, [args[1]])
        return builder.atomic_rmw("add", pointer, context.get_constant(types.int64, 1), "seq_cst")

    return types.int64(counter, types.intp), codegen


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


_HAS_NRT_OPTION = hasattr(cpu.CPUTargetOptions, "_nrt")
"""Whether this Numba accepts the private option ``_nrt`` that ``njit_kernel`` sets."""


def njit_kernel(*args, **kwargs):
    """Compile a serial kernel that allocates nothing, without Numba's reference counting.

    Numba counts the references to an array's memory block with an atomic add and
    subtract when a function creates or passes on a view of the array, and its
    compiler removes only some of these pairs. Two threads that slice the same
    shared array (weights, inputs, outputs) then contend for the cache line of that
    count. A kernel that only reads and writes the arrays it is given needs no
    count, and Numba's option ``_nrt=False`` (a private option of Numba's compiler,
    present in 0.68) turns the counting off. An allocation in such a kernel,
    including a slice assignment from another array, fails to compile. A Numba
    without the option compiles the kernel with counting: slower, same results.
    """
    if _HAS_NRT_OPTION:
        kwargs.setdefault("_nrt", False)
    return njit(*args, **kwargs)


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
