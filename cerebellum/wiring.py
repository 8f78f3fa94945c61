"""One wiring, two engines: granule-cell addresses sampled once, shared by Brian2 and the mirror.

The granule cells' mossy-fibre connections *are* the SDM neuron addresses (Marr 1969; Kanerva
1988, ch. 9). They are sampled once by :mod:`models.sdm` from an explicit ``torch.Generator``;
the same tensors build the Brian2 mossy-fibre -> granule synapses (through zero-copy numpy views)
and the :class:`models.sdm.NeuronSDM` mirror.

Mossy fibres come in push-pull pairs: fibre ``2 i + b`` is active when address bit ``i`` equals
``b``. A granule cell with canonical address ``x`` (Kanerva 1988) contacts fibre
``2 i + x[i]`` for every ``i``, so a query ``q`` activates ``n - H(q, x)`` of its synapses.
A selected-coordinate cell (Jaeckel 1989) with coordinates ``c`` and values ``v`` contacts only
``2 c[k] + v[k]`` for its ``n_inputs`` dendrites, so it receives ``n_inputs`` active inputs
exactly when the query matches all its selected bits.

This module never imports torch itself (issue 4: torch comes only through ``models``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cerebellum.params import GranuleLayerParams
from models.activation import ActivationRule
from models.sdm import (
    NeuronSDM,
    SelectedCoordinates,
    random_addresses,
    selected_coordinate_addresses,
)

__all__ = ["Wiring", "sample_wiring"]


@dataclass(frozen=True)
class Wiring:
    """The sampled granule-layer wiring.

    Parameters
    ----------
    granule : GranuleLayerParams
        The layer it was sampled for.
    addresses : Tensor of shape (n_neurons, n_dims), uint8, or SelectedCoordinates
        Neuron addresses as produced by :mod:`models.sdm` (CPU tensors).
    """

    granule: GranuleLayerParams
    addresses: Any

    def __post_init__(self) -> None:
        if not isinstance(self.granule, GranuleLayerParams):
            raise TypeError(
                f"granule must be a GranuleLayerParams; got {type(self.granule).__name__}"
            )
        g = self.granule
        if g.activation.selected:
            if not isinstance(self.addresses, SelectedCoordinates):
                raise TypeError(
                    f"addresses must be SelectedCoordinates for activation={g.activation.value!r}"
                )
            shape = tuple(self.addresses.coordinates.shape)
            expected = (g.n_neurons, g.n_inputs)
            if self.addresses.n_dims != g.n_dims:
                raise ValueError(
                    f"addresses.n_dims must be {g.n_dims}; got {self.addresses.n_dims}"
                )
        else:
            if type(self.addresses).__name__ != "Tensor" or not hasattr(self.addresses, "numpy"):
                raise TypeError(
                    f"addresses must be a torch.Tensor for activation={g.activation.value!r}"
                )
            if str(self.addresses.dtype) != "torch.uint8":
                raise TypeError(f"addresses must be uint8; got {self.addresses.dtype}")
            shape = tuple(self.addresses.shape)
            expected = (g.n_neurons, g.n_dims)
        if shape != expected:
            raise ValueError(f"addresses must have shape {expected}; got {shape}")

    def address_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Zero-copy numpy views of the address tensors.

        Returns
        -------
        coordinates : ndarray of shape (n_neurons, n_synapses_per_cell), int64
            The bit index of every mossy-fibre synapse (``0..n-1`` per row for canonical).
        bits : ndarray of shape (n_neurons, n_synapses_per_cell), uint8
            The bit value each synapse listens to (a view of the address tensor).
        """
        if isinstance(self.addresses, SelectedCoordinates):
            return self.addresses.coordinates.numpy(), self.addresses.values.numpy()
        bits = self.addresses.numpy()
        coordinates = np.broadcast_to(np.arange(bits.shape[1], dtype=np.int64), bits.shape)
        return coordinates, bits

    def mossy_granule_synapses(self) -> tuple[np.ndarray, np.ndarray]:
        """Pre- and post-synaptic indices of the mossy-fibre -> granule synapses.

        Returns
        -------
        fibre : ndarray of shape (n_synapses,), int64
            ``2 * coordinate + bit``, in ``[0, 2 n_dims)``.
        granule : ndarray of shape (n_synapses,), int64
            Granule cell index; synapses are ordered by granule cell, then coordinate.
        """
        coordinates, bits = self.address_arrays()
        fibre = (2 * coordinates + bits.astype(np.int64)).ravel()
        granule = np.repeat(np.arange(coordinates.shape[0], dtype=np.int64), coordinates.shape[1])
        return fibre, granule

    def match_counts(self, bits: np.ndarray) -> np.ndarray:
        """Active mossy-fibre synapses of every granule cell for each address (fast path).

        Canonical: ``n - H(q, x_j)`` by the exact identity
        ``q . x + (1 - q) . (1 - x)`` as a float32 matrix product (sums of 0/1 below 2^24 are
        exact). Selected: the number of selected coordinates where ``q`` equals the value.

        Parameters
        ----------
        bits : ndarray of shape (n_rows, n_dims), uint8 {0, 1}

        Returns
        -------
        ndarray of shape (n_rows, n_neurons), float64 (integer-valued)
        """
        coordinates, values = self.address_arrays()
        if isinstance(self.addresses, SelectedCoordinates):
            out = np.empty((bits.shape[0], coordinates.shape[0]))
            for row, query in enumerate(bits):
                out[row] = (query[coordinates] == values).sum(axis=1)
            return out
        q = bits.astype(np.float32)
        x = values.astype(np.float32)
        return (q @ x.T + (1 - q) @ (1 - x).T).astype(np.float64)

    def mirror(self, n_values: int, *, dtype: Any = None) -> NeuronSDM:
        """The :class:`~models.sdm.NeuronSDM` on the same addresses and activation rule.

        Parameters
        ----------
        n_values : int
            Number of value channels (Purkinje cells).
        dtype : torch.dtype, optional
            Value dtype of the mirror (NeuronSDM's default, float64, when None).

        Returns
        -------
        NeuronSDM
        """
        g = self.granule
        options = {} if dtype is None else {"dtype": dtype}
        if g.activation.selected:
            return NeuronSDM(self.addresses, n_values, **options)
        return NeuronSDM(
            self.addresses,
            n_values,
            activation_radius=g.activation_radius,
            top_k=g.top_k,
            **options,
        )


def sample_wiring(granule: GranuleLayerParams, *, generator) -> Wiring:
    """Sample the granule-cell addresses once (canonical, selected-coordinate or hyperplane).

    Parameters
    ----------
    granule : GranuleLayerParams
        Layer size and activation rule (which fixes the wiring: all ``n_dims`` bits for
        ``radius`` and ``top-k``, ``n_inputs`` selected coordinates otherwise).
    generator : torch.Generator
        CPU generator; the only source of randomness (checked by :mod:`models.sdm`).

    Returns
    -------
    Wiring
    """
    if not isinstance(granule, GranuleLayerParams):
        raise TypeError(f"granule must be a GranuleLayerParams; got {type(granule).__name__}")
    if granule.activation.selected:
        addresses = selected_coordinate_addresses(
            granule.n_neurons,
            granule.n_dims,
            granule.n_inputs,
            generator=generator,
            hyperplane=granule.activation is ActivationRule.HYPERPLANE,
        )
    else:
        addresses = random_addresses(granule.n_neurons, granule.n_dims, generator=generator)
    return Wiring(granule=granule, addresses=addresses)
