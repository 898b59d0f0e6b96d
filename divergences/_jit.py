"""The one numba policy of the package.

Every compiled function in :mod:`divergences._kernels` is declared with :func:`kernel`,
so the choices below hold everywhere:

* ``cache=True``: a second process loads the machine code from ``__pycache__`` instead
  of compiling again. Nothing is compiled at import time (no eager signatures): the first
  call in the first process compiles, later processes read the cache. The cache is
  never a reason to fail: with no writable cache directory the kernels compile in every
  process, and a cache file that cannot be read (truncated, overwritten, another format)
  is a miss, compiled again and rewritten; either way one :class:`CacheWarning` at most
  per process (see :class:`_TolerantCache`).
* ``error_model="numpy"``: a division by zero gives ``inf``/``nan`` as in NumPy instead of
  raising; kernels handle those cases explicitly.
* ``fastmath`` is restricted to :data:`FASTMATH`, flags that keep IEEE ``inf`` and ``nan``
  semantics (no ``nnan``, no ``ninf``): KL returns ``+inf`` on purpose and log-domain
  Sinkhorn relies on ``-inf``. ``reassoc`` lets LLVM vectorise reductions.
* ``nogil=True``: kernels can run in threads.
* ``parallel=True`` only where it pays, per kernel; :func:`serial_twin` compiles the same
  Python function without it so tests can check both give the same answer. Independent
  work (pairs, row blocks) runs instead as a serial kernel over ranges in Python threads
  (:mod:`divergences._thread_ranges`): nothing parallel to compile. Such a kernel passes
  its array arguments through :func:`divergences._kernels.borrow.borrowed` before its hot
  loop, so that views and calls are not reference-counted (as in a ``prange`` body).
* indices are int64 (numba's default integer on 64-bit platforms).
* ``inline=True`` only for the few scalar helpers that must vectorise inside callers' loops
  (each call site compiles the body again; see :func:`kernel`), and for a body with one
  compiled call site (it is then typed once either way, and no layer of its own is
  generated again inside its caller).
* no wrapper that nothing calls: no kernel gets the C-callable wrapper of first-class
  function values (``no_cfunc_wrapper``), and a kernel called only by other kernels
  (``@kernel(inner=True)``, e.g. the pricing of the network simplex) gets no Python
  wrapper either: each wrapper is more code for LLVM to optimise at every first call
  (issue 12: a first ``compare`` 0.5 s faster). Called from Python, such a kernel raises
  :class:`TypeError` (:class:`_Inner`) instead of jumping to a wrapper that is not there.
* a choice between implementations is a choice between kernels (in Python, or a kernel
  passed by a compiled caller), not a run-time flag: numba compiles both branches of an
  ``if`` on a flag (it prunes a branch only for an argument that is ``None``). A kernel
  passed from Python as an argument is not found in the cache by the next process
  (``tests/test_compile_signatures.py`` checks that a second process compiles nothing).
"""

import hashlib
import pickle
import warnings

import numba
import numba.core.registry
from numba.core.caching import FunctionCache, IndexDataCacheFile

from . import _threads
from ._warnings import CacheWarning

__all__ = ["FASTMATH", "CacheWarning", "kernel", "serial_twin"]

#: fastmath flags that keep inf/nan semantics.
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})


def _options(parallel):
    return dict(
        cache=True,
        nogil=True,
        error_model="numpy",
        fastmath=set(FASTMATH),
        parallel=parallel,
        no_cfunc_wrapper=True,  # no kernel is a first-class function value
    )


_warned = False


def _cache_warning(message):
    """Warn once per process, whatever the number of kernels concerned."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(message, CacheWarning, stacklevel=3)


class _CorruptCacheFile(Exception):
    """A cache data file whose checksum does not match its content."""


class _CheckedCacheFile(IndexDataCacheFile):
    """numba's index and data files, each data file (``.nbc``) with a checksum.

    A data file holds ``_MAGIC``, then the SHA-256 of its cache key (signature, CPU,
    bytecode hash), its name and the pickled payload, then the payload. A damaged file
    that still unpickles (a changed byte in the machine code) or a file written for
    another key (a damaged index, or two processes saving at once) would otherwise run
    wrong code; here it is a miss. A file without ``_MAGIC`` (written by plain numba, e.g.
    before this format) is a miss without a warning, as numba treats an index of another
    version. numba compiles under one global lock, so the key of the current
    ``save``/``load`` can be kept on the instance.
    """

    _MAGIC = b"divergences-nbc-1\n"

    def _digest(self, name, payload):
        tag = f"{self._key}\0{name}\0".encode()
        return hashlib.sha256(tag + payload).digest()

    def save(self, key, data):
        self._key = key
        super().save(key, data)

    def load(self, key):
        self._key = key
        return super().load(key)

    def _save_data(self, name, data):
        payload = self._dump(data)
        with self._open_for_write(self._data_path(name)) as f:
            f.write(self._MAGIC + self._digest(name, payload) + payload)

    def _load_data(self, name):
        with open(self._data_path(name), "rb") as f:  # OSError: a miss, in numba's load
            blob = f.read()
        if not blob.startswith(self._MAGIC):  # another format (plain numba): a quiet miss
            return None
        start = len(self._MAGIC) + 32
        digest, payload = blob[len(self._MAGIC):start], blob[start:]
        if self._digest(name, payload) != digest:
            raise _CorruptCacheFile(f"{self._data_path(name)}: checksum mismatch")
        return pickle.loads(payload)


class _TolerantCache(FunctionCache):
    """numba's per-function disk cache, where a cache that fails is a cache miss.

    numba (0.68) raises from ``load_overload`` whatever unpickling a damaged ``.nbi`` or
    ``.nbc`` file raises (``UnpicklingError``, ``EOFError``, ...), and from
    ``save_overload`` when the index cannot be read or the directory was made read-only,
    so every call of the kernel fails until the files are deleted. Here a failed load
    returns ``None`` (numba then compiles), and a failed save resets the index and tries
    once more, so the next process finds a sound cache again.

    Installed by :func:`kernel` as the dispatcher's ``_cache`` (what numba's own
    ``Dispatcher.enable_caching`` does with ``FunctionCache``); ``tests/test_numba_cache.py``
    checks every kernel has it, so a numba release that renames the hook fails there.
    """

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file = _CheckedCacheFile(
            cache_path=self._cache_path,
            filename_base=self._impl.filename_base,
            source_stamp=self._impl.locator.get_source_stamp(),
        )

    def _failed(self, action, exc):
        _cache_warning(
            f"divergences: could not {action} the numba cache of {self._py_func.__qualname__} "
            f"in {self._cache_path} ({type(exc).__name__}: {exc}); compiled instead")

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as exc:  # any damage: a miss, numba compiles
            self._failed("read", exc)
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except Exception:
            try:
                self._cache_file.flush()  # a damaged index: start a new one
                super().save_overload(sig, data)
            except Exception as exc:
                self._failed("write", exc)


def _with_cache(dispatcher):
    """Give ``dispatcher`` a :class:`_TolerantCache`, or none when no directory is writable.

    numba raises ``RuntimeError("cannot cache function ...: no locator available")`` when
    NUMBA_CACHE_DIR, the package's ``__pycache__`` and the user cache directory are all
    unwritable; that would make ``import divergences`` fail.
    """
    try:
        dispatcher._cache = _TolerantCache(dispatcher.py_func)
    except Exception as exc:
        _cache_warning(
            f"divergences: no writable numba cache directory ({exc}); the kernels are "
            "compiled in every process (set NUMBA_CACHE_DIR to a writable directory)")
    return dispatcher


class _Inner(numba.core.registry.CPUDispatcher):
    """The dispatcher of a kernel compiled without a Python wrapper (``inner=True``).

    Its compiled versions are kept for typing and linking its compiled callers
    (``overloads``), but not entered in the table that Python calls are matched against:
    a call from Python falls back to :meth:`_compile_for_args`, which raises, where
    numba's own dispatcher would call the missing wrapper (a segmentation fault).
    """

    def add_overload(self, cres):
        self.overloads[tuple(cres.signature.args)] = cres

    def _compile_for_args(self, *args, **kws):
        raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} is "
                        "compiled for compiled callers only (kernel(inner=True)); call "
                        "it from a kernel, or compile a callable copy with serial_twin")


def kernel(fn=None, *, parallel=False, inline=False, inner=False):
    """Compile ``fn`` with the package policy: ``@kernel`` or ``@kernel(parallel=True)``.

    ``inline=True`` is for small scalar bodies called in hot loops (e.g.
    :func:`divergences._kernels.fastexp.exp_inline`): numba inlines them into the caller's
    IR, so LLVM can vectorise the caller's loop (a call to another compiled function is
    opaque to it and blocks vectorisation). It costs compile time at every call site:
    numba types and lowers the inlined body again there. A helper called at several sites,
    or only in scalar fallback branches (e.g. :func:`divergences._kernels.kljs.log_ratio`),
    is a plain kernel: compiled once, and LLVM still inlines it where it pays (issue 12:
    ``chi2`` and ``renyi`` first calls 0.6 s faster, warm speed unchanged). A body called
    at one compiled site only (e.g. :func:`divergences._kernels.sinkhorn.finish_iteration`
    in the one-thread block loop) can be inlined too: typed once either way, and its code
    is not generated a second time inside the caller.

    ``inner=True`` is for a kernel that only other kernels call: it is compiled without
    the wrapper that converts Python arguments (see :class:`_Inner`).
    """

    def wrap(f):
        options = dict(_options(parallel), inline="always" if inline else "never")
        del options["cache"]  # the cache: _with_cache
        if inner:
            options.update(nopython=True, no_cpython_wrapper=True)
            return _with_cache(_Inner(f, targetoptions=options))
        return _with_cache(numba.njit(**options)(f))

    return wrap if fn is None else wrap(fn)


def serial_twin(dispatcher):
    """The same kernel compiled with ``parallel=False`` (``prange`` runs as ``range``); for tests.

    Not cached: numba's cache key does not include the ``parallel`` flag, so a cached twin
    would share (and overwrite) the cache entry of the parallel kernel.
    """
    return numba.njit(**dict(_options(False), cache=False))(dispatcher.py_func)


_threads.prefer_tbb()
_threads.warn_in_forked_child()
