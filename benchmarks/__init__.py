"""Benchmarks for fieldwatch; see docs/benchmarks.md (run them all with scripts/bench.sh)."""
