"""Analyses that are not pre-training runs (theory checks, small closed-form models)."""
