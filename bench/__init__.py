"""Reproducible benchmarks, each printing its measurements side by side in one run:
`python -m bench` (the harness: every path to the database, interleaved rounds, results in
bench/results/; see bench/__main__.py) and `python -m bench.<name>` for single ones
(bench.classify). Never imported by the gateway, never asserts a speed."""
