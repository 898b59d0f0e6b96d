"""Arrays without reference counting, for the hot loops of serial kernels.

A numba array carries a pointer to its memory record (``meminfo``). Every view taken
(``A[i]``) and every array passed to another compiled function that is not inlined is
counted in and out of that record with atomic instructions (``lock inc``/``lock dec``,
some 20 cycles each). In a loop that calls a helper on rows of a matrix, e.g. one pair of
histograms per call, that counting cost more than the arithmetic: the pairwise TV of
1000 x 500 rows of 256 bins took 420 ms in a serial kernel against 160 ms for the same
body in a ``prange`` loop, whose arrays numba builds without a memory record.

:func:`borrowed` gives a kernel the same arrays: the data, shape and strides of its
argument with a null ``meminfo`` (and no parent object), so views and calls count nothing
(numba skips a null record). The caller must keep the original alive while the borrowed
array is used, and a borrowed array must never leave the kernel (returned or stored in a
container that outlives it): kernels borrow their own arguments, which the calling Python
frame holds, and use them only inside the call.
"""

from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["borrowed"]


@intrinsic
def borrowed(typingctx, arr):
    """``arr`` (any numba array type) without its memory record: the same data, shape,
    strides and type; its views and the calls it is passed to do no reference counting."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        src = context.make_array(signature.args[0])(context, builder, value=args[0])
        out = context.make_array(signature.return_type)(context, builder)
        for field in ("data", "shape", "strides", "nitems", "itemsize"):
            setattr(out, field, getattr(src, field))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()

    return arr(arr), codegen
