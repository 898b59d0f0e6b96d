"""numba kernels, and the thin Python functions that run them over ranges in threads; no
validation here, inputs are trusted float64/int64 arrays."""
