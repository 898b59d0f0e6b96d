"""The log-domain Sinkhorn iterations with the row chunks in threads: loops in Python.

:func:`divergences._kernels.sinkhorn.log_block`, ``exact_step`` and ``symmetric_block``
run on one thread, compiled whole. With several row chunks (``n m >= SERIAL_BELOW`` in
:mod:`divergences._entropic_solve`: the online mode, the dense mode's fallback, the
symmetric terms of ``sinkhorn_divergence``) the same iterations run here: the loop in
Python, each pass over the rows by :func:`divergences._kernels.sinkhorn_log.log_row_pass`
(chunks of compiled :func:`~divergences._kernels.sinkhorn_log.log_rows` in Python
threads), the rest by the compiled one-thread kernels. Nothing parallel is compiled: the
``prange`` passes, generated again inside the compiled block loops, cost 4 to 8 s of the
first threaded log-domain call (``sinkhorn_divergence`` of 600 points: 8.3 s; an online
``transport`` of 600 points: 11.6 s; issue 12, cold start). A pass costs an exponential per
entry, a millisecond or more at these sizes, against about 0.1 ms of Python and thread
hand-off per iteration.
"""

from __future__ import annotations

import numpy as np

from ._kernels import sinkhorn as _k
from ._kernels.sinkhorn import _relax, log_translate
from ._kernels.sinkhorn_log import log_row_pass, soft_transform, update_g

__all__ = ["exact_step_threads", "log_block_threads", "symmetric_block_threads"]


def exact_step_threads(geom, a, b, la, lb, f, g, eps, omega, marg, parts, buf, cbuf, bad):
    """:func:`divergences._kernels.sinkhorn.exact_step` with the f-update's row chunks in
    threads (same arguments, same returned errors)."""
    err = log_row_pass(geom, a, f, g, lb, eps, omega, marg[0], parts, buf, cbuf)
    nbad, cerr = update_g(parts, b, lb, g, eps, omega, marg[1], bad)
    if nbad > 0:
        cols = np.flatnonzero(bad)
        soft_transform(geom, f, la, eps, cols, g, True)
        g[cols] *= marg[1]
    return err, cerr


def log_block_threads(geom, a, b, la, lb, f, g, f_old, g_old, eps, marg, parts, buf, cbuf, bad,
                      st, target, unbal, it, stop):
    """:func:`divergences._kernels.sinkhorn.log_block` (same arguments and statuses), the
    loop here around :func:`exact_step_threads`."""
    while it < stop:
        f_old[:] = f
        g_old[:] = g
        rerr, cerr_new = exact_step_threads(geom, a, b, la, lb, f, g, eps, st[_k.OMEGA], marg,
                                            parts, buf, cbuf, bad)
        it += 1
        err = rerr * marg[2] + st[_k.CERR] * marg[3]
        st[_k.ERR] = err
        if err <= target:
            f[:] = f_old
            g[:] = g_old
            return _k.REACHED, it
        if unbal is not None:
            cerr_new = log_translate(a, b, la, lb, f, g, g_old, parts, eps, marg)
        st[_k.CERR] = cerr_new
        _relax(st, err)
    return _k.BLOCK_END, it


def symmetric_block_threads(geom, a, la, f, ft, gl, eps, marg, parts, buf, cbuf, st, target,
                            it, stop):
    """:func:`divergences._kernels.sinkhorn.symmetric_block` (same arguments and statuses;
    ``gl`` unused), the loop here around the threaded pass."""
    while it < stop:
        ft[:] = f
        err = 2.0 * marg[2] * log_row_pass(geom, a, ft, f, la, eps, 1.0, marg[0], parts, buf,
                                           cbuf)
        it += 1
        st[_k.ERR] = err
        if err <= target:
            return _k.REACHED, it
        f += ft
        f *= 0.5
    return _k.BLOCK_END, it
