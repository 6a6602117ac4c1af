"""Speed benchmarks (``make bench`` / ``python -m benchmarks``); results go to docs/benchmarks.md."""
