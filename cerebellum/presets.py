"""Named parameter sets of the spiking cerebellum.

======================  ======  ========  =================  =======  ==========================
preset                  n       r         rule               p        expected active cells
======================  ======  ========  =================  =======  ==========================
``tiny``                16      256       d = 4              0.0384   9.8 (tests, seconds)
``default``             64      10^4      d = 24             0.0300   300 (the comparison job)
``kanerva``             1000    10^5      d = 451            0.00107  107
``biological``          64      10^5      4 selected inputs  0.0625   6250
``biophysical``         64      2 10^4    4 selected inputs  0.0625   1250 (spiking; calibrated)
``biophysical-tiny``    16      2000      4 selected inputs  0.0625   125 (tests)
======================  ======  ========  =================  =======  ==========================

``p`` is the probability that a uniformly random query activates a given granule cell,
``P[Binomial(n, 1/2) <= d]`` for a Hamming ball of radius d and ``2**-n_inputs`` for the
selected-coordinate design; ``r p`` is the expected number of active cells.

Sources and honest hedges:

- The mapping itself (mossy fibres = address, granule cells = hard locations, Golgi cells set
  the threshold, PF -> Purkinje synapses = counters, climbing fibre = teacher) is Marr (1969),
  Albus (1971) and Kanerva (1988, ch. 9).
- ``kanerva``: Kanerva (1988) works through n = 1000 with a million hard locations and radius
  d = 451, which activates about 1/1000 of them. We keep d = 451 -- the same activation
  probability -- at r = 10^5 so the network fits in memory (about 100 active cells).
- ``default``: n = 64 as in Bricken & Pehlevan (2021); r = 10^4 keeps the comparison job under
  a few minutes on two cores; d = 24 gives 3 % active granule cells, inside the 1-5 % sparse
  coding this project targets. Sparse granule-cell coding is the premise of Marr (1969) and
  Albus (1971); the exact percentage is our choice, not a measured value.
- ``biological``: each granule cell has about four dendrites, each receiving one mossy-fibre
  rosette (Eccles, Ito & Szentagothai 1967); Billings et al. (2014) argue that about four
  inputs per granule cell gives sparse, lossless encoding. Jaeckel (1989) formalised this as
  the selected-coordinate SDM: a cell fires iff its few sampled coordinates match. r = 10^5 is
  a small patch of the ~10^10-10^11 human granule cells; 6.25 % activation follows from
  4 random required bits.
- ``tiny``: no biology, sized for fast tests.

- ``biophysical``: the conductance-based spiking circuit (:mod:`cerebellum.circuit.biophysical`,
  :class:`cerebellum.engines.biophysical_run.BiophysicalEngine`) on the anatomical wiring,
  n = 64 as in Bricken & Pehlevan (2021), 4 selected inputs per granule cell (Eccles et al.
  1967; Billings et al. 2014), r = 2 10^4: the largest size whose full comparison (16
  patterns, 7 noise levels x 16 queries, the Golgi calibration) runs in under 5 minutes on 2
  cores (measured 4-6 min, cython, on a shared machine); cython code target;
  :func:`biophysical_dynamics`.
- ``biophysical-tiny``: the same models at n = 16, r = 2000, for tests.

The other presets default to the algorithmic mode (an exact SDM as a Brian2 event network);
:func:`poisson_dynamics` gives the Poisson mode (mossy fibres up to several hundred Hz, e.g.
Rancz et al. 2007 -- hedged: the on-rate is a modelling choice within the reported range).

References
----------
Marr, D. (1969). A theory of cerebellar cortex. J. Physiol. 202, 437-470.
Albus, J. S. (1971). A theory of cerebellar function. Math. Biosci. 10, 25-61.
Eccles, J. C., Ito, M. & Szentagothai, J. (1967). The Cerebellum as a Neuronal Machine.
Kanerva, P. (1988). Sparse Distributed Memory. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
Rancz, E. A. et al. (2007). High-fidelity transmission of sensory information by single
cerebellar mossy fibre boutons. Nature 450, 1245-1248.
Billings, G., Piasini, E., Lorincz, A., Nusser, Z. & Silver, R. A. (2014). Network structure
within the cerebellar input layer enables lossless sparse encoding. Neuron 83, 960-974.
Bricken, T. & Pehlevan, C. (2021). Attention approximates sparse distributed memory. NeurIPS.
"""

from __future__ import annotations

from brian2 import Hz, Quantity, ms

from cerebellum.params import (
    CellModels,
    CircuitParams,
    DeviceParams,
    DynamicsParams,
    GranuleLayerParams,
)
from models.activation import ActivationRule
from models.validation import check_choice

__all__ = ["PRESET_NAMES", "biophysical_dynamics", "poisson_dynamics", "preset"]

PRESET_NAMES = ("tiny", "default", "kanerva", "biological", "biophysical", "biophysical-tiny")

#: Circuit dynamics a run may ask for, and the old name of one.
MODES = ("algorithmic", "poisson", "biophysical")
MODE_ALIASES = {"deterministic": "algorithmic"}

#: The biophysical presets, and the one each general preset stands for in the biophysical mode.
BIOPHYSICAL_PRESETS = ("biophysical", "biophysical-tiny")
BIOPHYSICAL_COUNTERPARTS = {"default": "biophysical", "tiny": "biophysical-tiny"}


def biophysical_dynamics(
    presentation: Quantity | None = None,
    *,
    gap: Quantity | None = None,
    dt: Quantity | None = None,
    mf_rate_on: Quantity | None = None,
    mf_rate_off: Quantity | None = None,
) -> DynamicsParams:
    """Continuous-time dynamics of the biophysical circuit.

    Parameters
    ----------
    presentation : Quantity (time), optional
        Mossy-fibre input per presentation (default 60 ms: our choice, long enough for the
        climbing-fibre burst at 50 ms to follow tens of ms of parallel-fibre activity and for
        ~3-6 simple spikes per Purkinje cell in a read).
    gap : Quantity (time), optional
        Background after each presentation (default 40 ms: our choice, a compromise between
        decay -- 40 ms is ~1.3 granule-cell NMDA decay constants, so some residue carries over
        and is part of what is measured -- and run time).
    dt : Quantity (time), optional
        Time step (default 0.1 ms, the largest the mode allows).
    mf_rate_on, mf_rate_off : Quantity (frequency), optional
        Active / background mossy-fibre rates (default 150 Hz / 5 Hz: tens to hundreds of Hz
        when driven, a few Hz at rest -- Rancz et al. 2007; Arenz et al. 2008; the exact values
        are our choice).

    Returns
    -------
    DynamicsParams
    """
    return DynamicsParams(
        mode="biophysical",
        dt=0.1 * ms if dt is None else dt,
        presentation=60.0 * ms if presentation is None else presentation,
        gap=40.0 * ms if gap is None else gap,
        mf_rate_on=150.0 * Hz if mf_rate_on is None else mf_rate_on,
        mf_rate_off=5.0 * Hz if mf_rate_off is None else mf_rate_off,
    )


def poisson_dynamics(
    presentation: Quantity | None = None,
    *,
    dt: Quantity | None = None,
    mf_rate_on: Quantity | None = None,
    mf_rate_off: Quantity | None = None,
) -> DynamicsParams:
    """Poisson-mode dynamics: mossy fibres fire Bernoulli(rate * dt) spikes per step.

    Parameters
    ----------
    presentation : Quantity (time), optional
        Input window per presentation (default 20 ms).
    dt : Quantity (time), optional
        Time step (default 1 ms).
    mf_rate_on, mf_rate_off : Quantity (frequency), optional
        Rates of active / inactive fibres (default 500 Hz / 5 Hz).

    Returns
    -------
    DynamicsParams
    """
    return DynamicsParams(
        mode="poisson",
        dt=1.0 * ms if dt is None else dt,
        presentation=20.0 * ms if presentation is None else presentation,
        mf_rate_on=500.0 * Hz if mf_rate_on is None else mf_rate_on,
        mf_rate_off=5.0 * Hz if mf_rate_off is None else mf_rate_off,
    )


def preset(name: str, *, dynamics: DynamicsParams | None = None) -> CircuitParams:
    """Return a named preset.

    Parameters
    ----------
    name : {"tiny", "default", "kanerva", "biological"}
        See the module table for n, r, the activation rule and the activation fraction.
    dynamics : DynamicsParams, optional
        Replaces the algorithmic default dynamics (e.g. :func:`poisson_dynamics`).

    Returns
    -------
    CircuitParams
    """
    if name == "tiny":
        granule = GranuleLayerParams(n_dims=16, n_neurons=256, activation_radius=4)
    elif name == "default":
        granule = GranuleLayerParams(n_dims=64, n_neurons=10_000, activation_radius=24)
    elif name == "kanerva":
        granule = GranuleLayerParams(n_dims=1000, n_neurons=100_000, activation_radius=451)
    elif name in ("biophysical", "biophysical-tiny"):
        import cerebellum.circuit.biophysical  # noqa: F401  (registers the cell models' builders)
        from cerebellum.biophysical_params import biophysical_cells

        n_neurons = 20_000 if name == "biophysical" else 2_000
        granule = GranuleLayerParams(
            n_dims=64 if name == "biophysical" else 16,
            n_neurons=n_neurons,
            activation=ActivationRule.SELECTED_COORDINATE,
            n_inputs=4,
        )
        return CircuitParams(
            name=name,
            granule=granule,
            dynamics=biophysical_dynamics() if dynamics is None else dynamics,
            device=DeviceParams(codegen_target="cython"),
            cells=CellModels(**biophysical_cells()),
        )
    elif name == "biological":
        granule = GranuleLayerParams(
            n_dims=64,
            n_neurons=100_000,
            activation=ActivationRule.SELECTED_COORDINATE,
            n_inputs=4,
        )
    else:
        raise ValueError(f"name must be one of {PRESET_NAMES}; got {name!r}")
    if dynamics is None:
        dynamics = DynamicsParams()
    elif not isinstance(dynamics, DynamicsParams):
        raise TypeError(f"dynamics must be a DynamicsParams; got {type(dynamics).__name__}")
    return CircuitParams(name=name, granule=granule, dynamics=dynamics)


def preset_and_mode(name: str, mode: str | None) -> tuple[str, str]:
    """The preset and dynamics mode a run uses when it asks for ``name`` and ``mode``.

    ``mode=None`` takes the preset's own (``biophysical`` for the biophysical presets,
    ``algorithmic`` otherwise); ``deterministic`` is the old name of ``algorithmic``. In the
    biophysical mode ``default`` and ``tiny`` stand for ``biophysical`` and
    ``biophysical-tiny``; the other algorithmic presets have no biophysical counterpart.

    Parameters
    ----------
    name : str
        One of :data:`PRESET_NAMES`.
    mode : str or None
        One of :data:`MODES` or :data:`MODE_ALIASES`.

    Returns
    -------
    (str, str)
        The preset and the mode.
    """
    name = check_choice(name, "preset", PRESET_NAMES)
    biophysical_preset = name in BIOPHYSICAL_PRESETS
    if mode is None:
        mode = "biophysical" if biophysical_preset else "algorithmic"
    mode = check_choice(mode, "mode", (*MODES, *MODE_ALIASES))
    mode = MODE_ALIASES.get(mode, mode)
    if mode == "biophysical" and not biophysical_preset:
        if name not in BIOPHYSICAL_COUNTERPARTS:
            raise ValueError(
                f"mode 'biophysical' runs the presets {BIOPHYSICAL_PRESETS} (or 'default' / "
                f"'tiny', which stand for them); got preset {name!r}"
            )
        name = BIOPHYSICAL_COUNTERPARTS[name]
    elif mode != "biophysical" and biophysical_preset:
        raise ValueError(
            f"preset {name!r} is the biophysical circuit and runs with mode "
            f"'biophysical'; got mode {mode!r}"
        )
    return name, mode


def check_mode_device(mode: str, device: str) -> None:
    """Refuse a Brian2 device a mode cannot run on (the biophysical mode needs runtime)."""
    if mode == "biophysical" and device != "runtime":
        raise ValueError(
            "device must be 'runtime' with mode 'biophysical': the Golgi calibration adapts "
            "the inhibition between runs, which cpp_standalone cannot (benchmarks/"
            f"bench_circuit.py --biophysical times cpp_standalone at a calibrated scale); "
            f"got device {device!r}"
        )


def check_mode_activation(mode: str, activation: ActivationRule) -> None:
    """Refuse a granule wiring a mode cannot build."""
    if mode == "biophysical" and activation not in (
        ActivationRule.SELECTED_COORDINATE,
        ActivationRule.RADIUS,
    ):
        raise ValueError(
            "mode 'biophysical' wires granule cells to n_inputs selected coordinates (the "
            "anatomical default) or to all n bits (activation 'radius', canonical SDM wiring); "
            f"got activation {activation.value!r}"
        )


def mode_dynamics(mode: str, dynamics: DynamicsParams) -> DynamicsParams:
    """The dynamics of ``mode`` for a preset whose own are ``dynamics``."""
    return poisson_dynamics() if mode == "poisson" else dynamics
