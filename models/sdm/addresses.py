"""Neuron addresses of an SDM: where the hard locations sit (Kanerva 1988; Jaeckel 1989).

Two designs, both sampled from an explicit ``torch.Generator`` so that the Brian2 circuit and
the torch mirror share one wiring:

* :func:`random_addresses` -- Kanerva's uniform random binary addresses
  :math:`x_a^j \\in \\{0,1\\}^n`, activated by a Hamming radius or by top-k;
* :func:`selected_coordinate_addresses` -- Jaeckel's selected-coordinate design
  (:class:`SelectedCoordinates`): neuron ``j`` samples ``K`` coordinates and fires when the
  query matches the bits it requires there (all 1 in the *hyperplane* design).

References
----------
Kanerva, P. (1988). *Sparse Distributed Memory*. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.activation import ActivationRule
from models.validation import (
    check_binary,
    check_bool,
    check_device,
    check_generator,
    check_int,
    check_matrix,
)

__all__ = ["SelectedCoordinates", "random_addresses", "selected_coordinate_addresses"]

# Working-set budget (number of elements) of one chunk of the coordinate sampler.
_SAMPLE_CHUNK_ELEMENTS = 1 << 23


@dataclass(frozen=True)
class SelectedCoordinates:
    """Selected-coordinate neuron addresses (Jaeckel 1989).

    Neuron ``j`` fires for a query ``xi`` when ``xi[coordinates[j, i]] == values[j, i]`` for
    every ``i``.

    Parameters
    ----------
    coordinates : Tensor of shape (n_neurons, n_inputs), int64
        The sampled coordinates of each neuron, distinct and sorted ascending per row.
    values : Tensor of shape (n_neurons, n_inputs), uint8
        The bit each coordinate must take (all 1 in the hyperplane design).
    n_dims : int
        Address length ``n``.
    hyperplane : bool
        Jaeckel's hyperplane design: every required bit is 1 (checked), and the activation
        rule is :attr:`ActivationRule.HYPERPLANE <models.activation.ActivationRule.HYPERPLANE>`
        rather than ``SELECTED_COORDINATE``.
    """

    coordinates: torch.Tensor
    values: torch.Tensor
    n_dims: int
    hyperplane: bool = False

    def __post_init__(self) -> None:
        n_dims = check_int(self.n_dims, "n_dims", low=1)
        object.__setattr__(self, "n_dims", n_dims)
        object.__setattr__(self, "hyperplane", check_bool(self.hyperplane, "hyperplane"))
        coordinates = check_matrix(self.coordinates, "coordinates", cols_name="n_inputs")
        if coordinates.dtype != torch.int64:
            if coordinates.is_floating_point() or coordinates.dtype == torch.bool:
                raise TypeError(f"coordinates must be an integer tensor; got {coordinates.dtype}")
            coordinates = coordinates.to(torch.int64)
        values = check_binary(self.values, "values")
        if values.shape != coordinates.shape:
            raise ValueError(
                "values must have the shape of coordinates "
                f"{tuple(coordinates.shape)}; got {tuple(values.shape)}"
            )
        if self.hyperplane and values.numel() and int(values.min()) != 1:
            raise ValueError(
                "values must all be 1 for hyperplane=True (Jaeckel's hyperplane design); "
                f"got {int((values == 0).sum())} zero entries"
            )
        if coordinates.numel():
            low, high = int(coordinates.min()), int(coordinates.max())
            if low < 0 or high >= n_dims:
                raise ValueError(
                    f"coordinates must be in [0, {n_dims - 1}] for n_dims={n_dims}; "
                    f"got range [{low}, {high}]"
                )
            if coordinates.shape[1] > 1 and bool((coordinates.diff(dim=1) <= 0).any()):
                raise ValueError("coordinates must be distinct and sorted ascending in each row")
        object.__setattr__(self, "coordinates", coordinates)
        object.__setattr__(self, "values", values.to(coordinates.device))

    @property
    def n_neurons(self) -> int:
        """Number of neurons ``r``."""
        return int(self.coordinates.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of sampled coordinates per neuron (granule-cell fan-in)."""
        return int(self.coordinates.shape[1])

    def to(self, device: torch.device | str) -> SelectedCoordinates:
        """Return a copy on ``device``.

        Parameters
        ----------
        device : torch.device or str

        Returns
        -------
        SelectedCoordinates

        Raises
        ------
        RuntimeError
            If ``device`` is a CUDA device and CUDA is not available
            (:func:`models.validation.check_device`).
        """
        device = check_device(device)
        return SelectedCoordinates(
            self.coordinates.to(device), self.values.to(device), self.n_dims, self.hyperplane
        )

    @property
    def rule(self) -> ActivationRule:
        """``HYPERPLANE`` if :attr:`hyperplane`, else ``SELECTED_COORDINATE``."""
        return ActivationRule.HYPERPLANE if self.hyperplane else ActivationRule.SELECTED_COORDINATE


def random_addresses(n_neurons: int, n_dims: int, *, generator: torch.Generator) -> torch.Tensor:
    """Sample uniform random binary neuron addresses (Kanerva 1988).

    Parameters
    ----------
    n_neurons : int
        Number of neurons ``r``.
    n_dims : int
        Address length ``n``.
    generator : torch.Generator
        Source of randomness; the result lies on its device.

    Returns
    -------
    Tensor of shape (n_neurons, n_dims), uint8
        Independent fair bits.
    """
    n_neurons = check_int(n_neurons, "n_neurons", low=0)
    n_dims = check_int(n_dims, "n_dims", low=1)
    generator = check_generator(generator)
    return torch.randint(
        0, 2, (n_neurons, n_dims), dtype=torch.uint8, generator=generator, device=generator.device
    )


def selected_coordinate_addresses(
    n_neurons: int,
    n_dims: int,
    n_inputs: int,
    *,
    generator: torch.Generator,
    hyperplane: bool = False,
) -> SelectedCoordinates:
    """Sample selected-coordinate neuron addresses (Jaeckel 1989).

    Each neuron samples ``n_inputs`` distinct coordinates uniformly and, for each, a uniform
    random bit it must match (or bit 1 for all of them in the *hyperplane* design). A neuron
    fires with probability ``2**-n_inputs`` for a uniform random query.

    Parameters
    ----------
    n_neurons : int
        Number of neurons ``r``.
    n_dims : int
        Address length ``n``.
    n_inputs : int
        Coordinates per neuron, in ``[1, n_dims]`` (about 4 for a cerebellar granule cell).
    generator : torch.Generator
        Source of randomness; the result lies on its device.
    hyperplane : bool
        If true every selected coordinate must be 1 (the result has ``hyperplane=True``).

    Returns
    -------
    SelectedCoordinates
    """
    n_neurons = check_int(n_neurons, "n_neurons", low=0)
    n_dims = check_int(n_dims, "n_dims", low=1)
    n_inputs = check_int(n_inputs, "n_inputs", low=1, high=n_dims, context=f"for n_dims={n_dims}")
    generator = check_generator(generator)
    hyperplane = check_bool(hyperplane, "hyperplane")
    device = generator.device
    chunk = max(1, _SAMPLE_CHUNK_ELEMENTS // n_dims)
    parts = []
    for start in range(0, n_neurons, chunk):
        rows = min(chunk, n_neurons - start)
        keys = torch.rand((rows, n_dims), generator=generator, device=device)
        parts.append(keys.topk(n_inputs, dim=1).indices.sort(dim=1).values)
    coordinates = (
        torch.cat(parts) if parts else torch.empty((0, n_inputs), dtype=torch.int64, device=device)
    )
    if hyperplane:
        values = torch.ones((n_neurons, n_inputs), dtype=torch.uint8, device=device)
    else:
        values = torch.randint(
            0, 2, (n_neurons, n_inputs), dtype=torch.uint8, generator=generator, device=device
        )
    return SelectedCoordinates(coordinates, values, n_dims, hyperplane=hyperplane)
