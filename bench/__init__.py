"""Benchmarks for `make bench`: one name=value line per figure, ratios taken within one run."""
