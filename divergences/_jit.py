"""The one numba policy of the package.

Every compiled function in :mod:`divergences._kernels` is declared with :func:`kernel`,
so the choices below hold everywhere:

* ``cache=True``: a second process loads the machine code from ``__pycache__`` instead
  of compiling again. Nothing is compiled at import time (no eager signatures): the first
  call in the first process compiles, later processes read the cache.
* ``error_model="numpy"``: a division by zero gives ``inf``/``nan`` as in NumPy instead of
  raising; kernels handle those cases explicitly.
* ``fastmath`` is restricted to :data:`FASTMATH`, flags that keep IEEE ``inf`` and ``nan``
  semantics (no ``nnan``, no ``ninf``): KL returns ``+inf`` on purpose and log-domain
  Sinkhorn relies on ``-inf``. ``reassoc`` lets LLVM vectorise reductions.
* ``nogil=True``: kernels can run in threads.
* ``parallel=True`` only where it pays, per kernel; :func:`serial_twin` compiles the same
  Python function without it so tests can check both give the same answer.
* indices are int64 (numba's default integer on 64-bit platforms).
* ``inline=True`` for the few scalar helpers that must vectorise inside callers' loops.
"""

import numba

from . import _threads

__all__ = ["FASTMATH", "kernel", "serial_twin"]

#: fastmath flags that keep inf/nan semantics.
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})


def _options(parallel):
    return dict(
        cache=True,
        nogil=True,
        error_model="numpy",
        fastmath=set(FASTMATH),
        parallel=parallel,
    )


def kernel(fn=None, *, parallel=False, inline=False):
    """Compile ``fn`` with the package policy: ``@kernel`` or ``@kernel(parallel=True)``.

    ``inline=True`` is for small scalar bodies called in hot loops (e.g.
    :func:`divergences._kernels.fastexp.exp_inline`): numba inlines them into the caller's
    IR, so LLVM can vectorise the caller's loop (a call to another compiled function is
    opaque to it and blocks vectorisation).
    """

    def wrap(f):
        return numba.njit(**_options(parallel), inline="always" if inline else "never")(f)

    return wrap if fn is None else wrap(fn)


def serial_twin(dispatcher):
    """The same kernel compiled with ``parallel=False`` (``prange`` runs as ``range``); for tests.

    Not cached: numba's cache key does not include the ``parallel`` flag, so a cached twin
    would share (and overwrite) the cache entry of the parallel kernel.
    """
    return numba.njit(**dict(_options(False), cache=False))(dispatcher.py_func)


_threads.prefer_tbb()
_threads.warn_in_forked_child()
