"""Redundancy between hidden layers by linear SVR (Baba & Kano 2025).

How predictable is layer n+1 from layer n? For each layer pair and each target dimension, a
linear ε-SVR is fitted on the EOS-token hidden states; R² on held-out sentences measures it.
"""

from lmanatomy.redundancy.svr import BatchedLinearSVR, fit_linear_svr, r2_scores

__all__ = ["BatchedLinearSVR", "fit_linear_svr", "r2_scores"]
