"""Distance matrices on a Dask cluster (imported only when ``pairwise`` gets dask input)."""

from ._pairwise import dask_pairwise

__all__ = ["dask_pairwise"]
