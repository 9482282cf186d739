"""Evaluation: frozen-feature probes, kNN, collapse diagnostics, plots."""
