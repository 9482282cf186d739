"""Sequence backbones lab: copying (transformers vs SSMs) and arithmetic length generalisation.

Reference analyses of Jelassi et al. 2024 ("Repeat After Me: Transformers are Better than
State Space Models at Copying") and Jelassi et al. 2023 ("Length Generalization in Arithmetic
Transformers"), run on the backbones of :mod:`omnijepa.nn.sequence_backbones` so that the
results speak to the choice of a JEPA encoder backbone.
"""
