"""Parameters of the spiking cerebellum: frozen keyword-only dataclasses with Brian2 units.

One dataclass per concern (docs/design.md section 3):

- :class:`GranuleLayerParams` -- the SDM proper: ``n_dims`` (Kanerva's address length n),
  ``n_neurons`` (Kanerva's number of hard locations r = granule cells) and the ``activation``
  rule (:class:`models.activation.ActivationRule`): a Hamming ball of radius d set by a fixed
  Golgi threshold, the top k cells admitted by Golgi feedback, or Jaeckel's selected-coordinate
  (or hyperplane) design with ``n_inputs`` dendrites per granule cell.
- :class:`DynamicsParams` -- time step, presentation window and mossy-fibre rates.
- :class:`PlasticityParams` -- the parallel-fibre -> Purkinje bipolar counter
  (weight ``w = w0 + dw * (c - 2 s)`` after ``c`` writes whose values sum to ``s``).
- :class:`OutputParams` -- Purkinje and deep-nuclear rate read-out.
- :class:`DeviceParams` -- Brian2 device (runtime or ``cpp_standalone``) and code target.
- :class:`CellModels` -- which neuron model each population uses (one
  :class:`CellModelParams` subclass per model, chosen by its type; see
  :mod:`cerebellum.circuit` for how to add one).
- :class:`CircuitParams` -- all of the above plus a name; round-trips through JSON.

The classes live in four modules, all importable from here: :mod:`cerebellum.params.base`
(unit-declared fields, their JSON codec, :class:`CellModelParams`),
:mod:`cerebellum.params.sections` (granule layer, dynamics, plasticity, output, device),
:mod:`cerebellum.params.cells` (the cell-model registry, the algorithmic models,
:class:`CellModels`) and :mod:`cerebellum.params.circuit` (:class:`CircuitParams`).

Units are declared once per field with :func:`quantity_field` (``dt: Quantity =
quantity_field(0.1 * ms, unit=second, low=0, low_open=True)``). Every such field is checked
against the *dimension* of its unit (:func:`models.validation.check_quantity`): a wrong unit
raises ``TypeError`` and an impossible value ``ValueError``, both naming the field, the expected
dimension and the value given. Counts and flags are normalised on construction (``n_dims=64.0``
or ``np.int64(64)`` is stored as the ``int`` 64).

In JSON a Quantity is its SI value next to its SI unit,
``{"value": 0.0001, "unit": "second"}``, the unit written as ``repr(get_unit(dimension))``
(``"volt"``, ``"siemens"``, ``"farad"``, ``"amp"``, ``"second"``, ``"hertz"``,
``"siemens / (metre ** 2)"``) and read back with Brian2's own unit parser
(:func:`brian2.equations.equations.dimensions_and_type_from_string`); the dimension read must
match the field's, and ``Quantity(value, dim=dimension)`` restores the value exactly.
"""

from __future__ import annotations

from cerebellum.params.base import (
    CellModelParams,
    check_unit_fields,
    quantity_field,
    unit_name,
)
from cerebellum.params.base import _set as _set  # cerebellum.biophysical_params
from cerebellum.params.cells import (
    POPULATIONS,
    BipolarClimbingParams,
    BisectionGolgiParams,
    CellModels,
    CounterGranuleParams,
    LinearRateDCNParams,
    LinearRatePurkinjeParams,
    PushPullMossyParams,
    WriteCountMLIParams,
    register_cell_params,
    registered_cell_params,
)
from cerebellum.params.circuit import CircuitParams
from cerebellum.params.sections import (
    DYNAMICS_MODES,
    DeviceParams,
    DynamicsParams,
    GranuleLayerParams,
    OutputParams,
    PlasticityParams,
)

__all__ = [
    "POPULATIONS",
    "BipolarClimbingParams",
    "BisectionGolgiParams",
    "CellModelParams",
    "CellModels",
    "CircuitParams",
    "CounterGranuleParams",
    "DYNAMICS_MODES",
    "DeviceParams",
    "DynamicsParams",
    "GranuleLayerParams",
    "LinearRateDCNParams",
    "LinearRatePurkinjeParams",
    "OutputParams",
    "PlasticityParams",
    "PushPullMossyParams",
    "WriteCountMLIParams",
    "check_unit_fields",
    "quantity_field",
    "register_cell_params",
    "registered_cell_params",
    "unit_name",
]
