"""PyTorch mirror of Sparse Distributed Memory and the attention it approximates.

This package never imports Brian2 (see ``tests/test_layering.py``): a machine-learning user
can use the exact SDM theory, the SDM memories and attention on their own.

===============================  ===================================================================
module                           contents
===============================  ===================================================================
:mod:`models.theory`             exact circle intersections, beta fits, optimal radii, capacity
:mod:`models.soft_activation`    activation curves f(h) and the generalised intersection
                                 r E[f(h_q) f(h_p)] of neurons that fire with a probability
:mod:`models.sdm`                neuron addresses, the functional core, :class:`NeuronSDM`,
                                 :class:`PatternSDM`
:mod:`models.attention`          :class:`AttentionMemory`, :class:`ContinuousSDM`,
                                 :class:`HopfieldMemory`
:mod:`models.memory`             the :class:`Memory` interface and the :class:`ReadableMemory`
                                 protocol
:mod:`models.recall`             noisy queries (:func:`flip_bits`, :func:`perturb_to_cosine`) and
                                 iterative recall (``models.recall.recall``)
:mod:`models.metrics`            agreement metrics between two engines
:mod:`models.fitting`            beta estimated from measured weights or counts
:mod:`models.reference`          published reference values
:mod:`models.activation`         :class:`ActivationRule`, the vocabulary of activation rules
:mod:`models.validation`         the argument checks shared with :mod:`cerebellum`
===============================  ===================================================================

The names in ``__all__`` are importable from here (``from models import NeuronSDM``); they are
loaded on first use, so ``import models`` stays cheap and :mod:`models.theory` alone never
imports torch. The recall loop itself is ``models.recall.recall``: ``models.recall`` is the
module, not shadowed by its function.
"""

from __future__ import annotations

import importlib

# Public name -> the module that defines it.
_EXPORTS = {
    # theory
    "BetaFit": "models.theory",
    "activation_probability": "models.theory",
    "circle_intersection": "models.theory",
    "cosine_to_hamming": "models.theory",
    "critical_distance": "models.theory",
    "fit_beta": "models.theory",
    "hamming_to_cosine": "models.theory",
    "log_cap_intersection": "models.theory",
    "log_circle_intersection": "models.theory",
    "nearest_radius": "models.theory",
    "optimal_radius": "models.theory",
    # soft activation
    "ActivationCurve": "models.soft_activation",
    "bernoulli_count_curve": "models.soft_activation",
    "curve_activation_probability": "models.soft_activation",
    "curve_intersection": "models.soft_activation",
    "estimate_activation_curve": "models.soft_activation",
    "log_curve_intersection": "models.soft_activation",
    "radius_for_probability": "models.theory",
    # memories
    "ActivationRule": "models.activation",
    "Memory": "models.memory",
    "ReadableMemory": "models.memory",
    "NeuronSDM": "models.sdm",
    "PatternSDM": "models.sdm",
    "SelectedCoordinates": "models.sdm",
    "hamming_distances": "models.sdm",
    "random_addresses": "models.sdm",
    "selected_coordinate_addresses": "models.sdm",
    "AttentionMemory": "models.attention",
    "ContinuousSDM": "models.attention",
    "HopfieldMemory": "models.attention",
    # recall, fitting, reference values
    "RecallResult": "models.recall",
    "bits_wrong": "models.recall",
    "flip_bits": "models.recall",
    "perturb_to_cosine": "models.recall",
    "BetaEstimate": "models.fitting",
    "estimate_beta": "models.fitting",
    "CountBetaEstimate": "models.fitting",
    "estimate_beta_counts": "models.fitting",
    "learned_qknorm_betas": "models.reference",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
