"""Tokenizers: a raw sample becomes tokens with coordinates."""
