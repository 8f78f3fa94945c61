r"""Query perturbation and iterative autoassociative recall.

Noisy queries
    ``flip_bits`` flips **exactly** ``k`` distinct, uniformly chosen bits of each binary row, so the
    query lies at Hamming distance exactly ``k`` from its pattern (Kanerva 1988 uses such
    queries to measure the critical distance). ``perturb_to_cosine`` returns, for each real vector
    :math:`v`, the unit vector

    .. math:: u = c\,\hat v + \sqrt{1 - c^2}\;\hat r_\perp, \qquad
              \hat r_\perp = \frac{r - (r\cdot\hat v)\hat v}{\lVert r - (r\cdot\hat v)\hat v\rVert},

    with :math:`r \sim \mathcal N(0, I)` (one Gram-Schmidt step), so :math:`\cos(u, v) = c`
    exactly (to float64 round-off) and :math:`u` is uniform on the set of unit vectors at that
    cosine.

Recall
    ``recall`` iterates :math:`\xi_{t+1} = \mathrm{read}(\xi_t)` (Kanerva 1988;
    Bricken & Pehlevan 2021), thresholding each read at 1/2 for binary memories
    (:math:`\xi_{t+1,i} = [\mathrm{read}(\xi_t)_i > 1/2]`, so an exact 1/2 reads as 0), until a
    query's change :math:`\max_i |\xi_{t+1,i} - \xi_{t,i}|` is at most ``tol`` (a fixed point
    for binary states when ``tol < 1``) or ``max_steps`` reads were made. A converged query is
    frozen: its later trajectory entries repeat its final state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.memory import ReadableMemory
from models.validation import (
    as_tensor,
    check_binary,
    check_bool,
    check_finite,
    check_generator,
    check_int,
    check_matrix,
    check_real,
    check_rng,
)

__all__ = ["RecallResult", "bits_wrong", "flip_bits", "perturb_to_cosine", "recall"]


def _generator_for(tensor_input: bool, generator: object):
    """A torch.Generator for tensor input, a numpy Generator for array input."""
    if tensor_input:
        return check_generator(generator, "generator")
    return check_rng(generator, "generator")


def _uniform(shape: tuple[int, ...], generator, device: torch.device | None) -> torch.Tensor:
    """Uniform [0, 1) float64 draws from either generator kind, as a tensor on ``device``."""
    if isinstance(generator, np.random.Generator):
        return torch.from_numpy(generator.random(shape))
    draws = torch.rand(shape, generator=generator, dtype=torch.float64, device=generator.device)
    return draws.to(device)


def _normal(shape: tuple[int, ...], generator, device: torch.device | None) -> torch.Tensor:
    """Standard normal float64 draws from either generator kind, as a tensor on ``device``."""
    if isinstance(generator, np.random.Generator):
        return torch.from_numpy(generator.standard_normal(shape))
    draws = torch.randn(shape, generator=generator, dtype=torch.float64, device=generator.device)
    return draws.to(device)


def _per_row(value, name: str, n_rows: int, device) -> torch.Tensor:
    """Broadcast a scalar or a length-``n_rows`` vector to a tensor of shape (n_rows,)."""
    if isinstance(value, np.ndarray | torch.Tensor):
        tensor = torch.as_tensor(value).to(device)
        if tensor.ndim == 0:
            tensor = tensor.expand(n_rows)
        if tensor.shape != (n_rows,):
            raise ValueError(
                f"{name} must be a scalar or have shape ({n_rows},); got {tuple(tensor.shape)}"
            )
        return tensor
    # A scalar: a real number (not a bool), kept as given so that an int fills an int tensor.
    check_real(value, name, finite=False)
    return torch.full((n_rows,), value, device=device)


def flip_bits(patterns, n_flips, *, generator):
    """Flip exactly ``n_flips`` distinct, uniformly chosen bits in every row.

    Parameters
    ----------
    patterns : Tensor or ndarray of shape (n_patterns, n_dims), values in {0, 1}
        Binary patterns (any dtype holding only 0 and 1).
    n_flips : int or array of int of shape (n_patterns,)
        Number of bits to flip per row, each in ``[0, n_dims]``.
    generator : torch.Generator or numpy.random.Generator
        Source of randomness: a ``torch.Generator`` for tensor input, a numpy ``Generator`` for
        array input.

    Returns
    -------
    Tensor or ndarray of shape (n_patterns, n_dims), dtype uint8
        Same container type (and device) as ``patterns``; row ``i`` is at Hamming distance
        exactly ``n_flips[i]`` from ``patterns[i]``, the flipped positions being a uniformly
        random ``n_flips[i]``-subset.
    """
    tensor_input = isinstance(patterns, torch.Tensor)
    _generator_for(tensor_input, generator)
    bits = check_binary(patterns, "patterns")
    n_rows, n_dims = bits.shape
    counts = _per_row(n_flips, "n_flips", n_rows, bits.device)
    if counts.dtype == torch.bool or counts.is_complex():
        raise TypeError(f"n_flips must be integers; got dtype {counts.dtype}")
    if counts.is_floating_point() and not bool(torch.all(counts == torch.round(counts))):
        raise TypeError(f"n_flips must be integers; got non-integral values {counts.tolist()}")
    counts = counts.to(torch.int64)
    if n_rows and (int(counts.min()) < 0 or int(counts.max()) > n_dims):
        raise ValueError(
            f"n_flips must be in [0, n_dims]; got range [{int(counts.min())}, "
            f"{int(counts.max())}] for n_dims={n_dims}"
        )
    # A uniformly random permutation per row (argsort of i.i.d. uniforms); the first n_flips[i]
    # positions of row i's permutation are flipped.
    permutation = torch.argsort(_uniform((n_rows, n_dims), generator, bits.device), dim=1)
    chosen = torch.arange(n_dims, device=bits.device)[None, :] < counts[:, None]
    flip = torch.zeros_like(chosen).scatter_(1, permutation, chosen)
    flipped = bits ^ flip.to(torch.uint8)
    return flipped if tensor_input else flipped.numpy()


def perturb_to_cosine(vectors, cosine, *, generator):
    """Random unit vectors at an exact cosine to each input vector.

    Parameters
    ----------
    vectors : Tensor or ndarray of shape (n_vectors, n_dims), floating dtype
        Non-zero real vectors, ``n_dims >= 2``. Binary patterns must be mapped to a real code
        first (e.g. ``2 * x - 1``), so integer dtypes are rejected.
    cosine : float or array of float of shape (n_vectors,)
        Target cosine per row, in [-1, 1].
    generator : torch.Generator or numpy.random.Generator
        ``torch.Generator`` for tensor input, numpy ``Generator`` for array input.

    Returns
    -------
    Tensor or ndarray of shape (n_vectors, n_dims)
        Unit vectors ``u`` with ``cos(u, vectors[i]) == cosine[i]`` to float64 round-off
        (about 1e-15; the output has the input's floating dtype, so float32 input is rounded to
        about 1e-7), uniformly distributed on that set.
    """
    tensor_input = isinstance(vectors, torch.Tensor)
    _generator_for(tensor_input, generator)
    matrix = check_matrix(vectors, "vectors")
    if not matrix.is_floating_point():
        raise TypeError(
            f"vectors must have a floating dtype (map binary patterns to +-1 first); "
            f"got {matrix.dtype}"
        )
    check_finite(matrix, "vectors")
    n_rows, n_dims = matrix.shape
    if n_dims < 2:
        raise ValueError(f"vectors must have n_dims >= 2; got n_dims={n_dims}")
    targets = _per_row(cosine, "cosine", n_rows, matrix.device).to(torch.float64)
    if not bool(torch.all(torch.isfinite(targets))) or bool(torch.any(targets.abs() > 1)):
        raise ValueError(f"cosine must be in [-1, 1]; got {targets.cpu().numpy()}")
    work = matrix.to(torch.float64)
    norms = torch.linalg.vector_norm(work, dim=1, keepdim=True)
    if bool(torch.any(norms == 0)):
        raise ValueError(
            f"vectors must be non-zero; got {int((norms == 0).sum())} zero row(s) "
            "(a cosine to a zero vector is undefined)"
        )
    unit = work / norms
    orthogonal = torch.zeros_like(unit)
    pending = torch.ones(n_rows, dtype=torch.bool, device=unit.device)
    while bool(pending.any()):
        # Gram-Schmidt: the component of a Gaussian direction orthogonal to the input. The
        # orthogonal part of r has a chi distribution with n_dims - 1 >= 1 degrees of freedom, so
        # a tiny norm (which would lose precision) has probability ~1e-6 and is redrawn.
        rows = torch.nonzero(pending).flatten()
        direction = _normal((rows.numel(), n_dims), generator, unit.device)
        direction = direction - (direction * unit[rows]).sum(1, keepdim=True) * unit[rows]
        # A second pass removes the round-off left by the first (classical re-orthogonalisation).
        direction = direction - (direction * unit[rows]).sum(1, keepdim=True) * unit[rows]
        length = torch.linalg.vector_norm(direction, dim=1, keepdim=True)
        good = (length > 1e-6).flatten()
        orthogonal[rows[good]] = direction[good] / length[good]
        pending[rows[good]] = False
    sine = torch.sqrt(torch.clamp(1.0 - targets**2, min=0.0))
    result = targets[:, None] * unit + sine[:, None] * orthogonal
    result = result.to(matrix.dtype)
    return result if tensor_input else result.numpy()


def bits_wrong(states, targets):
    """Number of entries that differ from the target along the last axis (Hamming distance).

    Parameters
    ----------
    states : Tensor or ndarray of shape (..., n_dims)
        Recalled states, e.g. ``RecallResult.final`` or a whole ``trajectory``.
    targets : Tensor or ndarray of shape (..., n_dims)
        Target patterns; broadcast against ``states`` (so a trajectory of shape
        ``(n_steps + 1, n_queries, n_dims)`` can be compared to ``(n_queries, n_dims)`` targets).

    Returns
    -------
    Tensor or ndarray of int64, shape (...)
        Count of positions with ``states != targets``; a tensor when ``states`` is a tensor.
    """
    tensor_input = isinstance(states, torch.Tensor)
    left = torch.as_tensor(states) if tensor_input else torch.from_numpy(np.asarray(states))
    right = torch.as_tensor(targets, device=left.device)
    if left.ndim == 0 or right.ndim == 0:
        raise ValueError(
            f"states and targets must have at least one axis; got shapes "
            f"{tuple(left.shape)} and {tuple(right.shape)}"
        )
    try:
        shape = torch.broadcast_shapes(left.shape, right.shape)
    except RuntimeError:
        raise ValueError(
            f"states and targets must have broadcastable shapes; got {tuple(left.shape)} and "
            f"{tuple(right.shape)}"
        ) from None
    if left.shape[-1] != right.shape[-1]:
        raise ValueError(
            f"states and targets must have the same n_dims (last axis); got "
            f"{left.shape[-1]} and {right.shape[-1]}"
        )
    counts = (left.expand(shape) != right.expand(shape)).sum(dim=-1, dtype=torch.int64)
    return counts if tensor_input else counts.numpy()


@dataclass(frozen=True)
class RecallResult:
    """Outcome of :func:`recall`.

    Attributes
    ----------
    trajectory : Tensor of shape (n_steps_run + 1, n_queries, n_dims)
        ``trajectory[0]`` is the query, ``trajectory[t]`` the state after ``t`` reads; a query
        that converged earlier repeats its final state. ``n_steps_run = max(n_steps)``.
    converged : Tensor of bool, shape (n_queries,)
        Whether the change fell to ``tol`` or below within ``max_steps`` reads.
    n_steps : Tensor of int64, shape (n_queries,)
        Reads made for each query: the step ``t`` at which its change was first ``<= tol``, or
        ``max_steps`` if it never converged.
    final : Tensor of shape (n_queries, n_dims)
        Final state of each query, ``trajectory[-1]``.
    """

    trajectory: torch.Tensor
    converged: torch.Tensor
    n_steps: torch.Tensor
    final: torch.Tensor


def _read_as_tensor(memory: ReadableMemory, queries: torch.Tensor) -> torch.Tensor:
    """``memory.read(queries)`` as a tensor; a numpy result is moved to the queries' device."""
    output = memory.read(queries)
    if isinstance(output, np.ndarray):
        return as_tensor(output, "memory.read(queries)", device=queries.device)
    if not isinstance(output, torch.Tensor):
        raise TypeError(
            f"memory.read must return a torch.Tensor or numpy.ndarray; got {type(output).__name__}"
        )
    return output


def recall(
    memory: ReadableMemory,
    queries: torch.Tensor,
    *,
    max_steps: int = 100,
    tol: float = 0.0,
    binarize: bool | None = None,
) -> RecallResult:
    """Iterate ``query <- memory.read(query)`` to a fixed point (autoassociative recall).

    Parameters
    ----------
    memory : ReadableMemory
        An autoassociative memory: any object with a ``read(queries)`` method (a
        :class:`~models.memory.Memory`, or e.g. the Brian2 circuit's read-out) returning a
        tensor or a numpy array of shape ``(n_queries, n_dims)``. A tensor result may lie on
        another device (the recall follows it there); a numpy result is moved to the queries'
        device.
    queries : Tensor of shape (n_queries, n_dims)
        Starting states: binary {0, 1} (uint8 or bool) or real.
    max_steps : int, optional
        Largest number of reads per query (>= 1); default 100.
    tol : float, optional
        A query has converged when ``max_i |x_{t,i} - x_{t-1,i}| <= tol`` (>= 0); default 0, a
        fixed point.
    binarize : bool, optional
        Threshold every read at 1/2 (``read > 0.5`` -> 1, else 0) and keep the state as uint8.
        Default: true for uint8/bool queries, false for floating queries.

    Returns
    -------
    RecallResult
        Trajectory, per-query convergence flag and number of reads, final state, on the device
        of the memory's read-out.
    """
    if not callable(getattr(memory, "read", None)):
        raise TypeError(
            "memory must have a read(queries) method (a models.memory.ReadableMemory); got "
            f"{type(memory).__name__}"
        )
    states = check_matrix(queries, "queries")
    check_finite(states, "queries")
    max_steps = check_int(max_steps, "max_steps", low=1)
    tol = check_real(tol, "tol", low=0.0)
    if binarize is None:
        binarize = states.dtype in (torch.uint8, torch.bool)
    binarize = check_bool(binarize, "binarize")
    if binarize:
        states = check_binary(states, "queries")
    n_queries, n_dims = states.shape

    active = torch.ones(n_queries, dtype=torch.bool, device=states.device)
    n_steps = torch.full((n_queries,), max_steps, dtype=torch.int64, device=states.device)
    trajectory = [states]
    current = states
    for step in range(1, max_steps + 1):
        if not bool(active.any()):
            break
        rows = torch.nonzero(active).flatten()
        output = _read_as_tensor(memory, current[rows])
        if output.shape != (rows.numel(), n_dims):
            raise ValueError(
                f"memory must be autoassociative: read returned shape {tuple(output.shape)} for "
                f"queries of shape {(rows.numel(), n_dims)}"
            )
        if step == 1 and output.device != current.device:
            # The memory reads on its own device: follow it there.
            current, rows = current.to(output.device), rows.to(output.device)
            active, n_steps = active.to(output.device), n_steps.to(output.device)
            trajectory[0] = current
        if binarize:
            output = (output > 0.5).to(torch.uint8)
        elif step == 1:
            trajectory[0] = trajectory[0].to(output.dtype)
            current = current.to(output.dtype)
        change = (output.to(torch.float64) - current[rows].to(torch.float64)).abs().amax(dim=1)
        following = current.clone()
        following[rows] = output
        done = rows[change <= tol]
        n_steps[done] = step
        active[done] = False
        trajectory.append(following)
        current = following
    path = torch.stack(trajectory)
    return RecallResult(trajectory=path, converged=~active, n_steps=n_steps, final=path[-1].clone())
