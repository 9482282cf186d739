"""Modality-blind building blocks: transformer blocks, positional encodings, predictors."""
