"""Reproducible benchmarks (run as `python -m bench.<name>`): each prints its measurements
side by side in one run. Never imported by the gateway, never asserts a speed."""
