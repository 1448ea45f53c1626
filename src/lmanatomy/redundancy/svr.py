"""Linear ε-SVR for many targets at once: the problem of ``sklearn.svm.SVR(kernel="linear")``.

Baba & Kano fit one linear SVR per (layer pair, target dimension): 4,096 targets per pair for an
8B model, all regressed on the *same* inputs X. libsvm solves them one by one (~7 s each at
n=800, p=4096). This module solves all targets of a pair together, sharing everything that
depends on X only.

The problem (libsvm's ε-SVR with an unregularised intercept), per target y:

    primal   min_{w,b}  ½‖w‖² + C Σ_i max(0, |y_i − x_iᵀw − b| − ε)
    dual     min_β      ½ βᵀKβ − yᵀβ + ε‖β‖₁   s.t.  −C ≤ β_i ≤ C,  Σ_i β_i = 0

with K = XXᵀ (n × n) and β = α − α*; then w = Xᵀβ. The equality constraint is the dual of the
unregularised intercept. Because Σβ = 0, K can be replaced by the Gram matrix of the centred
inputs, K_c = X_c X_cᵀ, which drops the (huge, useless) direction of the mean.

Solver: ADMM on the dual, split as  f(β) = ½βᵀK_cβ − yᵀβ + [Σβ = 0]  and
g(z) = ε‖z‖₁ + [|z| ≤ C]  with β = z. The β-step is a linear solve with K_c + ρI on the
subspace Σβ = 0; one eigendecomposition of K_c (shared by every target) makes it a single
matrix product for all targets. The z-step is elementwise (soft-threshold, clip). Hidden states
are badly conditioned (eigenvalues of K_c spread over 4–5 decades), which is what makes
first-order methods slow; ADMM's exact β-step is insensitive to that. ADMM's speed depends on the
penalty ρ, and the best ρ differs between targets (it depends on each target's set of free
support vectors), so each target adapts its own ρ by residual balancing, on a coarse grid of ρ
values whose solve matrices are cached.

Convergence is judged on libsvm's own stopping quantity: the maximal violation of the KKT
conditions, m(β) − M(β) (the largest lower bound on the intercept minus the smallest upper bound,
in units of y). libsvm stops at ``tol`` = 1e-3; the default here is ten times tighter. The
intercept is then chosen as libsvm does: the mean over free support vectors, or the midpoint of
the feasible interval when there are none. Targets that do not converge within ``max_iter`` are
reported in ``converged_``, never hidden.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lmanatomy.errors import NumericalError

log = logging.getLogger(__name__)

# Over-relaxation of ADMM (Boyd et al. 2011, §3.4.3): 1.5–1.8 is the usual range.
RELAXATION = 1.6
# ρ lives on the grid 10^(k/RHO_STEPS_PER_DECADE); a target changes ρ when residual balancing asks
# for a change of more than RHO_ADAPT_FACTOR.
RHO_STEPS_PER_DECADE = 4
RHO_ADAPT_FACTOR = 3.0
# Largest change of ρ in one adaptation, and how far beyond the spectrum of K_c it may go.
RHO_MAX_STEP = 100.0
RHO_RANGE_DECADES = 2.0
# First iteration at which targets still running get an exact solve on their active sets
# (repeated at twice the iteration count each time), and how close to convergence a target must
# be for it: KKT violation within POLISH_GATE × tol. Every target left at max_iter is polished.
# Each solve costs O(|F|³) with |F| free support vectors (up to n); on paper-size hidden-state-like
# data ADMM alone converges every target in 350–450 iterations, and polishing from iteration 200
# spent 24 of 106 CPU-s of a full pair (docs/benchmarks.md, "Paper scale"; issue 22 saw 4.6% of
# the attempts accepted). So the polish is kept for the slow tail: targets still running after
# 1,000 iterations.
POLISH_FIRST = 1000
POLISH_GATE = 10.0
# Samples whose residual is within POLISH_BAND × (current KKT violation) of the tube's edge are
# taken as free support vectors when polishing.
POLISH_BAND = 10.0
# Relative size below which an eigenvalue of K_c counts as zero (rank deficiency of X).
RANK_RTOL = 1e-12
# Bytes per block of rows of the ADMM step's and the KKT check's elementwise work: a block of
# each iterate (at paper size 16 rows × 4,096 targets of float64) stays in the core's cache
# across the step's dozen operations, which whole 26 MB iterates do not (measured at paper size: 90
# → 48 ms for the step's elementwise part, one thread). Small problems are one block.
BLOCK_BYTES = 512 << 10

R2_UNDEFINED = "constant target in the evaluation data: R² undefined"


def _as_tensor(name: str, value: Any, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A 2-D finite tensor from an array-like, or a ValueError/NumericalError naming ``name``."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().to(device=device, dtype=dtype)
    else:
        array = np.asarray(value)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
        tensor = torch.as_tensor(array, dtype=dtype, device=device)
    if tensor.ndim == 1 and name.startswith("Y"):
        tensor = tensor[:, None]
    if tensor.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (samples × {'targets' if name.startswith('Y') else 'features'}), "
            f"got shape {tuple(tensor.shape)}"
        )
    if tensor.shape[0] == 0 or tensor.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(tensor.shape)}")
    if not bool(torch.isfinite(tensor).all()):
        bad = int((~torch.isfinite(tensor)).sum())
        raise NumericalError(f"{name} has {bad} NaN/inf values")
    return tensor


def _check_positive(name: str, value: float, allow_zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'≥ 0' if allow_zero else '> 0'} and finite, got {value}")
    return value


def r2_scores(
    y_true: torch.Tensor | np.ndarray, y_pred: torch.Tensor | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """R² per column, and a reason string per column where it is undefined (else "").

    R² = 1 − SS_res / SS_tot is undefined when the column is constant (SS_tot = 0); scikit-learn
    then returns 0 or 1 by convention, which would enter means and maxima as if measured. Here it
    is NaN with the reason beside it.
    """
    yt = torch.as_tensor(y_true, dtype=torch.float64)
    yp = torch.as_tensor(y_pred, dtype=torch.float64, device=yt.device)
    if yt.ndim == 1:
        yt, yp = yt[:, None], yp.reshape(-1, 1)
    if yt.shape != yp.shape:
        raise ValueError(
            f"R²: true values have shape {tuple(yt.shape)} but predictions {tuple(yp.shape)}"
        )
    if yt.shape[0] < 2:
        raise ValueError(f"R² needs at least 2 samples, got {yt.shape[0]}")
    ss_res = ((yt - yp) ** 2).sum(0)
    ss_tot = ((yt - yt.mean(0)) ** 2).sum(0)
    constant = (yt == yt[:1]).all(0)
    r2 = torch.where(
        constant,
        torch.full_like(ss_res, float("nan")),
        1.0 - ss_res / torch.where(constant, 1.0, ss_tot),
    )
    reasons = np.where(constant.cpu().numpy(), R2_UNDEFINED, "")
    return r2.cpu().numpy(), reasons.astype(object)


@dataclass
class _Spectrum:
    """What every target of one X shares: the eigendecomposition of K_c on the subspace Σβ = 0."""

    gram: torch.Tensor  # K_c, n × n
    basis: torch.Tensor  # U: n × (n−1), orthonormal, orthogonal to the ones vector
    eigenvalues: torch.Tensor  # of Uᵀ K_c U, ascending, clipped at 0
    rank: int

    def solve_matrix(self, rho: float) -> torch.Tensor:
        """(K_c + ρI)⁻¹ restricted to Σβ = 0: U diag(1/(λ+ρ)) Uᵀ."""
        return (self.basis / (self.eigenvalues + rho)) @ self.basis.T


def _spectrum(xc: torch.Tensor) -> _Spectrum:
    """Eigendecomposition of the centred Gram matrix in an orthonormal basis of {Σβ = 0}.

    The basis comes from a Householder reflection that maps e_1 to the normalised ones vector;
    its other n−1 columns span the complement. Working there keeps every β-step exactly on the
    constraint, even when X is rank deficient (n > p, duplicated rows, constant features).
    """
    n = xc.shape[0]
    gram = xc @ xc.T
    v = torch.full((n,), 1.0 / math.sqrt(n), dtype=xc.dtype, device=xc.device)
    v[0] -= 1.0
    norm = torch.linalg.vector_norm(v)
    eye = torch.eye(n, dtype=xc.dtype, device=xc.device)
    reflection = eye - 2.0 * torch.outer(v, v) / (norm * norm) if norm > 0 else eye
    q = reflection[:, 1:]
    inner = q.T @ gram @ q
    eigenvalues, vectors = torch.linalg.eigh((inner + inner.T) / 2)
    top = float(eigenvalues[-1]) if eigenvalues.numel() else 0.0
    eigenvalues = eigenvalues.clamp(min=0.0)
    rank = int((eigenvalues > RANK_RTOL * max(top, 0.0)).sum()) if top > 0 else 0
    return _Spectrum(gram=gram, basis=q @ vectors, eigenvalues=eigenvalues, rank=rank)


def _rho_grid_index(rho: torch.Tensor) -> torch.Tensor:
    return torch.round(torch.log10(rho) * RHO_STEPS_PER_DECADE).to(torch.int64)


def _row_blocks(x: torch.Tensor) -> list[slice]:
    """Blocks of rows of ``x`` of about ``BLOCK_BYTES`` each (one block for a small ``x``)."""
    n = x.shape[0]
    per_block = max(1, min(n, BLOCK_BYTES // (max(1, x.shape[1]) * x.element_size())))
    return [slice(start, min(start + per_block, n)) for start in range(0, n, per_block)]


def _intercept_bounds(
    s: torch.Tensor, beta: torch.Tensor, c: float, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The largest lower and smallest upper bound on the intercept per target (see :func:`_kkt`).

    Computed block by block of rows, each block's temporaries staying in cache; a maximum or
    minimum has no rounding, so the result is the same bits as over whole columns.
    """
    inf = torch.tensor(float("inf"), dtype=beta.dtype, device=beta.device)
    lower = torch.full(beta.shape[1:], -math.inf, dtype=beta.dtype, device=beta.device)
    upper = torch.full(beta.shape[1:], math.inf, dtype=beta.dtype, device=beta.device)
    for rows in _row_blocks(beta):
        s_rows, b_rows = s[rows], beta[rows]
        torch.maximum(lower, torch.where(b_rows < c, s_rows - eps, -inf).amax(0), out=lower)
        torch.maximum(lower, torch.where(b_rows < 0, s_rows + eps, -inf).amax(0), out=lower)
        torch.minimum(upper, torch.where(b_rows > 0, s_rows - eps, inf).amin(0), out=upper)
        torch.minimum(upper, torch.where(b_rows > -c, s_rows + eps, inf).amin(0), out=upper)
    return lower, upper


def _kkt_violation(
    gram: torch.Tensor, yc: torch.Tensor, beta: torch.Tensor, c: float, eps: float
) -> torch.Tensor:
    """libsvm's KKT violation m − M per target (see :func:`_kkt`), without the intercept."""
    lower, upper = _intercept_bounds(yc - gram @ beta, beta, c, eps)
    return (lower - upper).clamp(min=0.0)


def _kkt(gram: torch.Tensor, yc: torch.Tensor, beta: torch.Tensor, c: float, eps: float):
    """libsvm's KKT quantities per target: violation m − M and the intercept it would choose.

    With s = y − K_cβ (the residual without intercept), each sample bounds the intercept b:
    α_i < C (β_i < C) gives b ≥ s_i − ε, α*_i > 0 (β_i < 0) gives b ≥ s_i + ε, α_i > 0 (β_i > 0)
    gives b ≤ s_i − ε, α*_i < C (β_i > −C) gives b ≤ s_i + ε. At the optimum the largest lower
    bound m does not exceed the smallest upper bound M; libsvm stops when m − M ≤ tol. The
    measure presumes a feasible β (|β| ≤ C, Σβ = 0), which callers guarantee.
    """
    s = yc - gram @ beta
    lower, upper = _intercept_bounds(s, beta, c, eps)
    violation = (lower - upper).clamp(min=0.0)
    free = (beta != 0) & (beta.abs() < c)
    n_free = free.sum(0)
    free_mean = torch.where(free, s - eps * torch.sign(beta), 0.0).sum(0) / n_free.clamp(min=1)
    # The midpoint needs finite bounds: with every β at one bound a side can be ±inf.
    mid = torch.where(
        torch.isfinite(lower) & torch.isfinite(upper),
        (lower + upper) / 2,
        torch.where(torch.isfinite(lower), lower, torch.where(torch.isfinite(upper), upper, 0.0)),
    )
    intercept = torch.where(n_free > 0, free_mean, mid)
    return violation, intercept


def _make_feasible(z: torch.Tensor, c: float) -> torch.Tensor:
    """z with Σz = 0 restored by spreading the deficit over its free entries (then clipped).

    ADMM's z satisfies the box and the ε-prox exactly but Σz = 0 only in the limit; the KKT test
    is a certificate only for a feasible point. As ADMM converges the correction vanishes.
    """
    free = (z != 0) & (z.abs() < c)
    deficit = -z.sum(0) / free.sum(0).clamp(min=1)
    return torch.where(free, z + deficit, z).clamp(-c, c)


def _equality_ok(beta: torch.Tensor, c: float) -> torch.Tensor:
    """Σβ = 0 up to rounding (a few thousand ulps of the largest possible sum, n·C)."""
    limit = 1e3 * beta.shape[0] * c * torch.finfo(beta.dtype).eps
    return beta.sum(0).abs() <= limit


def _active_sets(
    gram: torch.Tensor,
    yc: torch.Tensor,
    beta: torch.Tensor,
    c: float,
    eps: float,
    band: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Guess the optimal active sets from the residuals of a near-optimal feasible β.

    Returns (free mask, fixed values): a sample whose residual r_i = y_i − f(x_i) lies within
    ``band`` of the tube's edge (|r_i| = ε) is a free support vector; outside the tube it sits at
    ±C, inside at 0. Residuals identify the sets better than β itself: w (hence r) is unique,
    while β is not when n > p (many duals give the same w), and ADMM wanders along that face.
    """
    violation, intercept = _kkt(gram, yc, beta, c, eps)
    r = yc - gram @ beta - intercept
    edge = (r.abs() - eps).abs() <= band
    fixed = torch.where(r > eps, c, torch.where(r < -eps, -c, 0.0)).to(beta.dtype)
    free_sign = torch.sign(r)
    return edge, torch.where(edge, free_sign, fixed)


def _polish(
    gram: torch.Tensor,
    yc: torch.Tensor,
    free: torch.Tensor,
    values: torch.Tensor,
    c: float,
    eps: float,
    max_bytes: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact solution for given active sets (OSQP's "solution polishing").

    ``free`` marks the free support vectors; ``values`` holds their sign (±1) and the fixed β of
    every other sample (0 or ±C). The free ones lie exactly on the tube's edge:
    K_FF β_F + b = y_F − ε sign_F − K_F,fixed β_fixed and Σβ = 0, a saddle-point system of size
    |F| + 1 per target, solved batched (padded to the largest |F| of a chunk). Returns β and, per
    target, whether the system was solvable and its solution kept the signs and bounds; the caller
    still checks the KKT conditions before accepting it.
    """
    n, targets = values.shape
    fixed = torch.where(free, 0.0, values)
    rhs_full = yc - eps * torch.where(free, values, 0.0) - gram @ fixed
    beta = fixed.clone()
    ok = torch.zeros(targets, dtype=torch.bool, device=values.device)
    counts = free.sum(0)
    order = torch.argsort(counts)  # chunks of similar |F| waste little padding
    start = 0
    while start < targets:
        m = int(counts[order[start]])
        size = max(1, min(targets - start, max_bytes // (8 * (m + 1) ** 2 + 1)))
        cols = order[start : start + size]
        m = int(counts[cols].max())
        start += size
        sub_free, sub_fixed = free[:, cols], fixed[:, cols]
        if m == 0:
            ok[cols] = _equality_ok(sub_fixed, c)
            continue
        rows = torch.argsort((~sub_free).to(torch.int8), dim=0, stable=True)[:m]  # m × k
        valid = torch.gather(sub_free, 0, rows).T  # k × m
        idx = rows.T
        k = len(cols)
        system = torch.zeros(k, m + 1, m + 1, dtype=values.dtype, device=values.device)
        pair_valid = valid[:, :, None] & valid[:, None, :]
        system[:, :m, :m] = torch.where(pair_valid, gram[idx[:, :, None], idx[:, None, :]], 0.0)
        system[:, :m, :m] += torch.diag_embed((~valid).to(values.dtype))
        system[:, :m, m] = valid.to(values.dtype)
        system[:, m, :m] = valid.to(values.dtype)
        rhs = torch.zeros(k, m + 1, dtype=values.dtype, device=values.device)
        rhs[:, :m] = torch.where(valid, torch.gather(rhs_full[:, cols], 0, rows).T, 0.0)
        rhs[:, m] = -sub_fixed.sum(0)
        solution, info = torch.linalg.solve_ex(system, rhs)
        solved = solution[:, :m]
        signs = torch.gather(values[:, cols], 0, rows).T
        consistent = ((solved * signs >= 0) & (solved.abs() <= c)) | ~valid
        good = (info == 0) & torch.isfinite(solved).all(1) & consistent.all(1)
        sub_beta = sub_fixed.clone()
        sub_beta.scatter_(0, rows, torch.where(valid.T, solved.T, torch.gather(sub_fixed, 0, rows)))
        beta[:, cols] = sub_beta
        ok[cols] = good
    return beta, ok


def _max_abs(x: torch.Tensor) -> torch.Tensor:
    """max_i |x_i| per column (exact: a maximum has no rounding)."""
    return x.abs().amax(0)


@dataclass
class _Residuals:
    """Per target, the maxima residual balancing needs:
    max|β − z|, max|β|, max|z|, max|z − z_prev|, max|u|."""

    primal: torch.Tensor
    beta: torch.Tensor
    z: torch.Tensor
    dual: torch.Tensor
    u: torch.Tensor

    def select(self, keep: torch.Tensor) -> _Residuals:
        return _Residuals(*(getattr(self, f)[keep] for f in ("primal", "beta", "z", "dual", "u")))


def _fold_max(into: torch.Tensor, block: torch.Tensor) -> None:
    """into = max(into, column maxima of ``block``): exact
    in any block order (a maximum has no rounding)."""
    torch.maximum(into, block.amax(0), out=into)


@dataclass
class _Workspace:
    """Reused buffers for the ADMM steps of one set of running targets.

    At paper size (n = 800, 4,096 targets) each iterate is 26 MB of float64; the step's dozen
    elementwise operations, each writing a fresh array, cost more than its matrix product
    (issue 22: fresh arrays of that size pay page faults). The step runs the same operations, in
    the same order, on each block of rows (``BLOCK_BYTES`` each; an elementwise operation gives
    the same bits whatever the block), with the block's temporaries
    in small reused buffers: bit-identical iterates at about half
    the memory traffic. Only the matrix product sees whole iterates.
    """

    rhs: torch.Tensor
    product: torch.Tensor
    spare: torch.Tensor  # receives the next z; the caller's old z buffer becomes the next spare
    block: tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # (rows per block) × targets temporaries

    @classmethod
    def like(cls, y: torch.Tensor) -> _Workspace:
        rows = _row_blocks(y)[0].stop
        block = tuple(y.new_empty((rows, y.shape[1])) for _ in range(3))
        return cls(torch.empty_like(y), torch.empty_like(y), torch.empty_like(y), block)

    def step(
        self,
        y: torch.Tensor,
        z: torch.Tensor,
        u: torch.Tensor,
        rho: torch.Tensor,
        solves: list[tuple[torch.Tensor, torch.Tensor]],
        eps: float,
        c: float,
    ) -> tuple[torch.Tensor, torch.Tensor, _Residuals]:
        """One over-relaxed ADMM iteration; updates ``u`` in
        place and returns (β, the new z, residual maxima).

        β = (K_c+ρI)⁻¹(y + ρ(z − u)) on Σβ = 0, β̂ = Rβ + (1−R)z, z' = clip(soft(β̂ + u, ε/ρ), ±C),
        u' = u + β̂ − z'. ``solves`` lists each group's
        solve matrix and columns (targets sharing ρ).
        """
        rhs, b, z_next = self.rhs, self.product, self.spare
        blocks = _row_blocks(y)
        for rows in blocks:
            torch.sub(z[rows], u[rows], out=rhs[rows]).mul_(rho).add_(y[rows])
        if len(solves) == 1:
            torch.mm(solves[0][0], rhs, out=b)
        else:
            for (
                matrix,
                cols,
            ) in solves:  # index_select/index_copy_: advanced indexing is slower here
                b.index_copy_(1, cols, matrix @ rhs.index_select(1, cols))
        # soft(v, t) = sign(v)·max(|v| − t, 0) = v − clip(v, ±t): the same roundings (v ∓ t) in
        # two passes instead of five; only the sign of a zero can differ, and a signed zero never
        # changes a nonzero value downstream (sums, products, absolute values, clips).
        threshold = eps / rho
        maxima = _Residuals(
            *(torch.zeros_like(rho) for _ in range(5))
        )  # maxima of absolute values: ≥ +0
        for rows in blocks:
            k = rows.stop - rows.start
            b_hat, tmp, tmp2 = (buffer[:k] for buffer in self.block)
            b_rows, z_rows, u_rows, z_next_rows = b[rows], z[rows], u[rows], z_next[rows]
            torch.mul(b_rows, RELAXATION, out=b_hat).add_(
                torch.mul(z_rows, 1.0 - RELAXATION, out=tmp)
            )
            v = torch.add(b_hat, u_rows, out=tmp)
            torch.sub(v, torch.clamp(v, -threshold, threshold, out=tmp2), out=z_next_rows).clamp_(
                -c, c
            )
            u_rows.add_(b_hat).sub_(z_next_rows)
            _fold_max(maxima.primal, torch.sub(b_rows, z_next_rows, out=tmp).abs_())
            _fold_max(maxima.beta, torch.abs(b_rows, out=tmp))
            _fold_max(maxima.z, torch.abs(z_next_rows, out=tmp))
            _fold_max(maxima.dual, torch.sub(z_next_rows, z_rows, out=tmp).abs_())
            _fold_max(maxima.u, torch.abs(u_rows, out=tmp))
        self.spare = (
            z  # the caller keeps this z only as z_prev, which it drops before the next step
        )
        return b, z_next, maxima


def _epsilon_median(y: torch.Tensor, eps: float) -> torch.Tensor:
    """argmin_b Σ_i max(0, |y_i − b| − ε) per column (midpoint of the minimising interval).

    The SVR of a constant X (w = 0): its derivative in b rises by one at each of the 2n points
    y_i ± ε, from −n to +n, so the minimisers lie between the n-th and (n+1)-th of them.
    """
    n = y.shape[0]
    points = torch.sort(torch.cat([y - eps, y + eps], 0), dim=0).values
    return (points[n - 1] + points[n]) / 2


class BatchedLinearSVR:
    """Linear ε-SVR (libsvm's problem) fitted to every column of Y at once, sharing X.

    Parameters follow ``sklearn.svm.SVR(kernel="linear")``: ``C``, ``epsilon``, ``tol`` (the
    same KKT-violation measure libsvm stops on; default 1e-4, ten times tighter than libsvm's).
    ``standardize=True`` scales features to zero mean and unit variance on the training data first
    (like ``make_pipeline(StandardScaler(), SVR(...))``); ``coef_`` then refers to the
    standardised features. Computation is in ``dtype`` (float64 by default, on CPU and GPU alike:
    the duals of badly conditioned problems need it) on ``device``.

    After ``fit``: ``coef_`` (targets × features), ``intercept_`` (targets), ``dual_coef_``
    (samples × targets, β = α − α*), ``n_iter_``, ``kkt_violation_``, ``duality_gap_`` (relative),
    ``converged_`` (all per target), ``rank_`` of the centred X, ``n_support_`` per target.
    """

    def __init__(
        self,
        C: float = 1.0,
        epsilon: float = 0.1,
        standardize: bool = False,
        tol: float = 1e-4,
        max_iter: int = 20000,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
        check_every: int = 10,
        polish_bytes: int = 256 << 20,
        polish_first: int = POLISH_FIRST,
        polish_gate: float = POLISH_GATE,
        progress: Any = None,
    ):
        self.C = _check_positive("C", C)
        self.epsilon = _check_positive("epsilon", epsilon, allow_zero=True)
        self.tol = _check_positive("tol", tol)
        if int(max_iter) < 1 or int(check_every) < 1:
            raise ValueError(f"max_iter and check_every must be ≥ 1, got {max_iter}, {check_every}")
        self.max_iter = int(max_iter)
        self.check_every = int(check_every)
        self.polish_bytes = int(polish_bytes)
        if int(polish_first) < 1:
            raise ValueError(f"polish_first must be ≥ 1, got {polish_first}")
        self.polish_first = int(polish_first)
        if not float(polish_gate) > 0:  # math.inf: polish every running target on schedule
            raise ValueError(f"polish_gate must be > 0, got {polish_gate}")
        self.polish_gate = float(polish_gate)
        self.standardize = bool(standardize)
        self.device = torch.device(device)
        if dtype not in (torch.float64, torch.float32):
            raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
        self.dtype = dtype
        self.progress = progress

    # -- fitting -------------------------------------------------------------------------------

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.feature_mean_) / self.feature_scale_ if self.standardize else x

    def fit(self, X: Any, Y: Any) -> BatchedLinearSVR:
        """Fit every column of ``Y`` (n × targets, or n) on ``X`` (n × features)."""
        x = _as_tensor("X", X, self.dtype, self.device)
        y = _as_tensor("Y", Y, self.dtype, self.device)
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"X has {x.shape[0]} samples but Y has {y.shape[0]}")
        if x.shape[0] < 2:
            raise ValueError(f"an SVR needs at least 2 training samples, got {x.shape[0]}")
        self.n_features_in_ = x.shape[1]
        if self.standardize:
            self.feature_mean_ = x.mean(0)
            scale = x.std(0, unbiased=False)
            self.feature_scale_ = torch.where(scale > 0, scale, torch.ones_like(scale))
        x = self._transform(x)
        x_mean, y_mean = x.mean(0), y.mean(0)
        # Constant columns centre to exact zeros (not
        # rounding noise), so that a constant X has rank 0.
        xc = torch.where((x == x[:1]).all(0), 0.0, x - x_mean)
        yc = y - y_mean
        spectrum = _spectrum(xc)
        self.rank_ = spectrum.rank
        if spectrum.rank == 0:
            beta, n_iter = torch.zeros_like(yc), torch.zeros(y.shape[1], dtype=torch.int64)
            polished = torch.zeros(y.shape[1], dtype=torch.bool)
            violation = torch.zeros(y.shape[1], dtype=yc.dtype, device=yc.device)
            b = _epsilon_median(yc, self.epsilon)
            log.warning("X is constant over the training samples: every target gets w = 0")
        else:
            beta, n_iter, polished = self._admm(spectrum, yc)
            violation, b = _kkt(spectrum.gram, yc, beta, self.C, self.epsilon)
        w = xc.T @ beta  # features × targets
        self.dual_coef_ = beta
        self.coef_ = w.T.contiguous()
        self.intercept_ = b + y_mean - x_mean @ w
        self.n_iter_ = n_iter.cpu().numpy()
        self.polished_ = polished.cpu().numpy()
        self.kkt_violation_ = violation.cpu().numpy()
        self.converged_ = (self.kkt_violation_ <= self.tol) & _equality_ok(
            beta, self.C
        ).cpu().numpy()
        self.duality_gap_ = self._relative_gap(spectrum.gram, xc, yc, beta, b).cpu().numpy()
        self.n_support_ = (beta != 0).sum(0).cpu().numpy()
        self.equality_residual_ = beta.sum(0).abs().cpu().numpy()
        if not self.converged_.all():
            log.warning(
                "%d of %d targets did not reach KKT violation %.1e in %d iterations (worst %.3g)",
                int((~self.converged_).sum()),
                len(self.converged_),
                self.tol,
                self.max_iter,
                float(self.kkt_violation_.max()),
            )
        return self

    def _relative_gap(self, gram, xc, yc, beta, b) -> torch.Tensor:
        """(primal − dual) / max(1, |primal|) per target:
        a second, scale-free convergence witness."""
        w = xc.T @ beta
        residual = yc - xc @ w - b
        primal = 0.5 * (w * w).sum(0) + self.C * (residual.abs() - self.epsilon).clamp(min=0).sum(0)
        dual = -(
            0.5 * (beta * (gram @ beta)).sum(0)
            - (yc * beta).sum(0)
            + self.epsilon * beta.abs().sum(0)
        )
        return (primal - dual) / primal.abs().clamp(min=1.0)

    def _polish_targets(
        self, gram: torch.Tensor, y: torch.Tensor, beta: torch.Tensor, violation: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact solves on the active sets guessed from β; returns them and which ones to accept.

        A polished β is accepted only when it is itself certified: KKT violation ≤ tol.
        """
        c, eps = self.C, self.epsilon
        band = (POLISH_BAND * violation).clamp(min=self.tol)[None, :]
        free, values = _active_sets(gram, y, beta, c, eps, band)
        exact, solvable = _polish(gram, y, free, values, c, eps, self.polish_bytes)
        exact_violation = _kkt_violation(gram, y, exact, c, eps)
        return exact, solvable & (exact_violation <= self.tol)

    def _admm(
        self, spectrum: _Spectrum, yc: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-target ADMM with adaptive ρ and polishing.

        Targets that do not converge within ``max_iter`` get the best feasible iterate seen (lowest
        KKT violation among the checked ones), not the last. Returns β (n × targets), iterations
        per target and whether each target's β came from a polish (an exact solve on its active
        sets) rather than from the ADMM iterate itself.
        """
        n, targets = yc.shape
        c, eps = self.C, self.epsilon
        lam = spectrum.eigenvalues
        positive = lam[lam > RANK_RTOL * lam[-1]]
        # Start at the geometric mean of the non-zero spectrum: the best fixed ρ for a strongly
        # convex QP (Ghadimi et al. 2015) is the geometric mean of its extreme eigenvalues.
        rho0 = float(positive.log().mean().exp())
        start = int(round(math.log10(rho0) * RHO_STEPS_PER_DECADE))
        # ρ stays within RHO_RANGE_DECADES of the non-zero spectrum; beyond it ADMM only slows down.
        level_range = (
            int(
                math.floor(
                    (math.log10(float(positive[0])) - RHO_RANGE_DECADES) * RHO_STEPS_PER_DECADE
                )
            ),
            int(
                math.ceil(
                    (math.log10(float(positive[-1])) + RHO_RANGE_DECADES) * RHO_STEPS_PER_DECADE
                )
            ),
        )
        cache: dict[int, torch.Tensor] = {}

        def solve_matrix(level: int) -> torch.Tensor:
            if level not in cache:
                cache[level] = spectrum.solve_matrix(10.0 ** (level / RHO_STEPS_PER_DECADE))
            return cache[level]

        beta_out = torch.zeros_like(yc)
        iters_out = torch.full((targets,), self.max_iter, dtype=torch.int64)
        polished_out = torch.zeros(targets, dtype=torch.bool)
        active = torch.arange(targets, device=yc.device)
        y = yc
        z = torch.zeros_like(y)
        u = torch.zeros_like(y)
        level = torch.full((targets,), start, dtype=torch.int64, device=yc.device)
        next_polish = self.polish_first
        best = torch.zeros_like(y)
        best_violation = torch.full((targets,), math.inf, dtype=y.dtype, device=y.device)
        groups: list[tuple[int, torch.Tensor]] | None = None
        bar = (
            self.progress(total=targets, desc="targets converged", leave=False)
            if self.progress
            else None
        )
        work = _Workspace.like(y)
        y_size = _max_abs(y)
        for it in range(1, self.max_iter + 1):
            rho = 10.0 ** (level.to(y.dtype) / RHO_STEPS_PER_DECADE)
            if groups is None:  # targets sharing a ρ share one matrix product
                groups = [
                    (lv, torch.nonzero(level == lv).squeeze(1))
                    for lv in torch.unique(level).tolist()
                ]
            _, z, maxima = work.step(
                y, z, u, rho, [(solve_matrix(lv), cols) for lv, cols in groups], eps, c
            )
            if it % self.check_every and it != self.max_iter:
                continue
            candidate = _make_feasible(z, c)
            violation = _kkt_violation(spectrum.gram, y, candidate, c, eps)
            feasible = _equality_ok(candidate, c)
            done = (violation <= self.tol) & feasible
            polished = torch.zeros_like(done)
            if it >= next_polish or it == self.max_iter:
                if it >= next_polish:
                    next_polish *= 2
                # Polish only the targets close to convergence (or all of them at the end): far
                # from it the guessed active sets are wrong, and each solve costs O(|F|³).
                gate = (
                    torch.full_like(violation, math.inf)
                    if it == self.max_iter
                    else self.polish_gate * self.tol
                )
                todo = torch.nonzero(~done & (violation <= gate)).squeeze(1)
                if todo.numel():
                    exact, accept = self._polish_targets(
                        spectrum.gram, y[:, todo], candidate[:, todo], violation[todo]
                    )
                    candidate[:, todo[accept]] = exact[:, accept]
                    polished[todo[accept]] = True
                    done = done | polished
            # The best feasible iterate seen so far: ADMM's KKT violation is not monotone, and at
            # max_iter the last iterate can be worse than an earlier one.
            better = feasible & ~polished & (violation < best_violation)
            best_violation = torch.where(better, violation, best_violation)
            best = torch.where(better[None, :], candidate, best)
            if it == self.max_iter:
                keep_best = ~done & torch.isfinite(best_violation)
                candidate = torch.where(keep_best[None, :], best, candidate)
                done = torch.ones_like(done)
            if bool(done.any()):
                idx = active[done]
                beta_out[:, idx] = candidate[:, done]
                iters_out[idx.cpu()] = it
                polished_out[idx.cpu()] = polished[done].cpu()
                keep = ~done
                groups = None
                active, y, z, u, level, rho = (
                    active[keep],
                    y[:, keep],
                    z[:, keep],
                    u[:, keep],
                    level[keep],
                    rho[keep],
                )
                maxima = maxima.select(keep)
                best, best_violation, y_size = best[:, keep], best_violation[keep], y_size[keep]
                work = _Workspace.like(y)
                if bar is not None:
                    bar.update(int(done.sum()))
            if active.numel() == 0:
                break
            # Residual balancing (Boyd et al. §3.4.1, normalised as in OSQP): raise ρ when the
            # primal residual β − z dominates, lower it when the dual residual ρ(z − z_prev) does.
            # A residual that is exactly zero (z stuck at 0 inside the ε band, say) says only which
            # way to go, so it moves ρ by the largest allowed step.
            # max|ρu| = ρ·max|u| exactly (ρ > 0, rounding is monotone), so no ρu is formed.
            primal = maxima.primal / torch.maximum(maxima.beta, maxima.z)
            dual = rho * maxima.dual / torch.maximum(y_size, rho * maxima.u)
            primal, dual = torch.nan_to_num(primal, nan=0.0), torch.nan_to_num(dual, nan=0.0)
            ratio = torch.sqrt(primal / dual).clamp(1.0 / RHO_MAX_STEP, RHO_MAX_STEP)
            ratio = torch.where((primal == 0) & (dual == 0), torch.ones_like(ratio), ratio)
            change = (ratio > RHO_ADAPT_FACTOR) | (ratio < 1.0 / RHO_ADAPT_FACTOR)
            if bool(change.any()):
                new_level = torch.where(
                    change, _rho_grid_index(rho * ratio).clamp(*level_range), level
                )
                new_rho = 10.0 ** (new_level.to(y.dtype) / RHO_STEPS_PER_DECADE)
                u = u * (rho / new_rho)  # u is the scaled dual variable λ/ρ
                level = new_level
                groups = None
        if bar is not None:
            bar.close()
        return beta_out, iters_out, polished_out

    # -- using the fit -------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("this BatchedLinearSVR is not fitted yet; call fit(X, Y) first")

    def predict(self, X: Any) -> torch.Tensor:
        """Predictions (samples × targets)."""
        self._check_fitted()
        x = _as_tensor("X", X, self.dtype, self.device)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features but the model was fitted on {self.n_features_in_}"
            )
        return self._transform(x) @ self.coef_.T + self.intercept_

    def r2(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        """R² per target on (X, Y), and per target the reason where it is undefined (NaN)."""
        y = _as_tensor("Y", Y, self.dtype, self.device)
        if y.shape[1] != self.coef_.shape[0]:
            raise ValueError(
                f"Y has {y.shape[1]} targets but the model was fitted on {self.coef_.shape[0]}"
            )
        prediction = self.predict(X)
        if prediction.shape[0] != y.shape[0]:
            raise ValueError(f"X has {prediction.shape[0]} samples but Y has {y.shape[0]}")
        return r2_scores(y, prediction)

    def score(self, X: Any, Y: Any) -> float:
        """Mean R² over the targets where it is defined (scikit-learn's ``score`` convention)."""
        values, _ = self.r2(X, Y)
        return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def fit_linear_svr(
    X: Any,
    Y: Any,
    C: float = 1.0,
    epsilon: float = 0.1,
    standardize: bool = False,
    tol: float = 1e-4,
    max_iter: int = 20000,
    device: str | torch.device = "cpu",
    **kwargs: Any,
) -> BatchedLinearSVR:
    """Fit ``BatchedLinearSVR`` to every column of Y on X; see the class for the parameters."""
    return BatchedLinearSVR(
        C=C,
        epsilon=epsilon,
        standardize=standardize,
        tol=tol,
        max_iter=max_iter,
        device=device,
        **kwargs,
    ).fit(X, Y)
