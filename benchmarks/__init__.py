"""Benchmarks of divergences against POT and SciPy; run ``python -m benchmarks``."""
