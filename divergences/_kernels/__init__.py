"""numba kernels only: no validation here, inputs are trusted float64/int64 arrays."""
