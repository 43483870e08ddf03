"""Benchmarks: each module prints a table of figures that README.md quotes."""
