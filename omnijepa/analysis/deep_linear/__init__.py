"""Deep linear JEPA vs MAE: per-mode ODEs, critical times and gradient-descent checks.

Reference analysis of Littwin et al. (NeurIPS 2024), "How JEPA Avoids Noisy Features".
Time is the gradient-flow time with unit learning rate on every layer (t = step * lr),
so the per-mode ODEs carry the explicit factor L and compare directly with GD runs.
"""
