"""Benchmarks that print figures; run all with ``make bench`` or one with ``python -m bench NAME``."""
