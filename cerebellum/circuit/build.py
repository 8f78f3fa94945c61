"""Compose the populations into one network: :func:`build_circuit` and :class:`Circuit`.

``cpp_standalone`` projects are compiled once per network structure. Unless
``DeviceParams.build_directory`` names a folder, a project lives in a persistent build cache,
one folder per :func:`structure_key` (a hash of the parameters, the channel counts, the
compiler flags and the Brian2 version -- what changes the generated code) under
:func:`standalone_cache_root` (``$CEREBELLAR_SDM_STANDALONE_CACHE``, else
``$XDG_CACHE_HOME/cerebellar-sdm/standalone``, else ``~/.cache/cerebellar-sdm/standalone``).
Brian2 rewrites a generated file only when its text changes and ``make`` recompiles only what
was rewritten, so a second run of the same structure compiles nothing: everything that differs
between runs (the wiring, the patterns and queries in the ``TimedArray`` s, the initial values)
reaches the binary as data files (``static_arrays/``), and so does the random seed (read from a
static array by a line of ``main``, instead of the literal that ``brian2.seed`` would write into
``main.cpp``). A process holds an exclusive lock on the folder it builds in; a second process
with the same key takes the next free slot (``<key>-1``, ...), so concurrent runs never share a
folder. The data of a run (``results/``, ``static_arrays/``) is removed when its folder is next
claimed (and by :class:`~cerebellum.engines.algorithmic_run.AlgorithmicEngine` right after it
has read the results); delete the cache folder to reclaim the compiled projects.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # POSIX; without it (Windows) build folders are not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

import brian2
import numpy as np
from brian2 import Network, prefs

from cerebellum.circuit.base import (
    BuildContext,
    Population,
    WindowTiming,
    builder_for,
    window_timing,
)
from cerebellum.params import POPULATIONS, CircuitParams
from cerebellum.wiring import Wiring
from models.validation import check_int, check_rng

__all__ = [
    "CACHE_ENV",
    "Circuit",
    "build_circuit",
    "claim_standalone_directory",
    "release_standalone_directory",
    "standalone_cache_at",
    "standalone_cache_root",
    "structure_key",
]

#: Environment variable naming the ``cpp_standalone`` build cache folder.
CACHE_ENV = "CEREBELLAR_SDM_STANDALONE_CACHE"

#: Slots per key: concurrent processes building the same structure.
_MAX_SLOTS = 64

#: The lock (an open file descriptor) on the build folder this process holds, if any.
_held_lock: int | None = None


@dataclass
class Circuit:
    """A built (not yet run) cerebellar network and the handles the protocol needs.

    Attributes
    ----------
    params : CircuitParams
    wiring : Wiring
    n_values : int
        Value channels (Purkinje cells read out as the SDM read).
    n_pattern_channels : int
        Extra one-hot Purkinje channels whose input gives each pattern's intersection count.
    timing : WindowTiming
    network : brian2.Network
    groups : dict of str to Brian2 objects
        ``mossy``, ``granule``, ``golgi``, ``mli``, ``purkinje``, ``dcn`` and the synapses
        ``mossy_granule``, ``granule_golgi``, ``granule_mli``, ``granule_purkinje``,
        ``purkinje_dcn`` (no ``mossy`` / ``mossy_granule`` on the injected fast path).
    monitors : dict of str to Brian2 monitors
        ``granule_spikes`` and window-end ``EventMonitor`` s of ``purkinje``, ``dcn``,
        ``mli``, ``golgi``.

    Every group and synapse resolves its constants in its own Brian2 ``namespace`` (given by
    its builder); a run's input arrays are the run namespace (:meth:`run`).
    """

    params: CircuitParams
    wiring: Wiring
    n_values: int
    n_pattern_channels: int
    timing: WindowTiming
    network: Network
    groups: dict[str, Any]
    monitors: dict[str, Any]

    @property
    def n_channels(self) -> int:
        """Purkinje cells: ``n_values + n_pattern_channels``."""
        return self.n_values + self.n_pattern_channels

    @property
    def window_duration(self) -> brian2.Quantity:
        """Duration of one presentation window, ``K dt``."""
        return self.timing.n_steps * self.params.dynamics.dt

    @property
    def standalone(self) -> bool:
        """True when built for ``cpp_standalone``."""
        return self.params.device.device == "cpp_standalone"

    def run(self, duration: brian2.Quantity, *, inputs: dict[str, Any], **options: Any) -> None:
        """Simulate ``duration`` with this run's inputs.

        Parameters
        ----------
        duration : Quantity (time)
        inputs : dict of str to TimedArray
            The run's input arrays by the name the equations use (``mf_pattern``,
            ``granule_drive``, ``cf_value``, ``plasticity_gate``); engines build them, the
            circuit places them.
        **options
            Passed to ``Network.run`` (e.g. Brian2's ``report`` callback).

        Notes
        -----
        The inputs are the run namespace: Brian2 resolves a name that is not a variable in the
        group's own namespace, then in the run namespace (``Group._resolve_external``), so
        every group (and a monitor or synapse reading a subexpression) finds them there, while
        the groups' constants stay in their own namespaces. Giving the run namespace
        explicitly also keeps Brian2 from looking into the caller's local variables.
        """
        self.network.run(duration, namespace=dict(inputs), **options)


def standalone_cache_root() -> Path:
    """The folder of the ``cpp_standalone`` build cache (see the module docstring).

    Returns
    -------
    Path
        ``$CEREBELLAR_SDM_STANDALONE_CACHE``, else ``$XDG_CACHE_HOME/cerebellar-sdm/standalone``,
        else ``~/.cache/cerebellar-sdm/standalone``.
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cerebellar-sdm" / "standalone"


@contextlib.contextmanager
def standalone_cache_at(folder: str | os.PathLike) -> Iterator[Path]:
    """Use ``folder`` as the ``cpp_standalone`` build cache for the block.

    Sets :data:`CACHE_ENV` in ``os.environ`` (so processes started inside the block, e.g.
    Dask workers, inherit it) and restores its previous value, or its absence, afterwards.

    Yields
    ------
    Path
        ``folder``.
    """
    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    try:
        yield Path(folder)
    finally:
        if previous is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = previous


def structure_key(
    params: CircuitParams, *, n_values: int, n_pattern_channels: int, extra: Any = None
) -> str:
    """Hash of what changes a ``cpp_standalone`` project's generated code or its compilation.

    The parameters (all but ``name`` and ``device.build_directory``: they fix the equations,
    the group and synapse counts, the constants and ``dt``), the channel counts, ``extra``
    (JSON-able, e.g. the windows of each run, which fix the run durations and the
    ``TimedArray`` shapes), the compiler flags, the interpreter prefix (its include paths)
    and the Brian2 version. Seeds, wiring and data are not in it: they reach the binary as
    data files. A key that missed
    something would still give correct results (Brian2 rewrites changed files and ``make``
    recompiles them), only slower ones.

    Returns
    -------
    str
        24 hexadecimal digits.
    """
    structure = params.to_dict()
    del structure["name"]
    structure["device"] = {k: v for k, v in structure["device"].items() if k != "build_directory"}
    payload = {
        "params": structure,
        "n_values": int(n_values),
        "n_pattern_channels": int(n_pattern_channels),
        "extra": extra,
        "compile_args": list(prefs.codegen.cpp.extra_compile_args_gcc),
        "prefix": sys.prefix,
        "brian2": brian2.__version__,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def release_standalone_directory() -> None:
    """Release this process's lock on its ``cpp_standalone`` build folder (if it holds one)."""
    global _held_lock
    if _held_lock is not None:
        os.close(_held_lock)
        _held_lock = None


def claim_standalone_directory(key: str) -> Path:
    """Lock and return the first free build folder of ``key`` in the cache.

    Releases the folder this process held before. The run data left there by an earlier run
    (``results/``, ``static_arrays/``) is removed; the code, objects and binary are kept.

    Parameters
    ----------
    key : str
        From :func:`structure_key`.

    Returns
    -------
    Path
        ``<cache>/<key>``, or ``<cache>/<key>-<slot>`` while other processes hold the first.
    """
    global _held_lock
    release_standalone_directory()
    root = standalone_cache_root()
    for slot in range(_MAX_SLOTS):
        directory = root / (key if slot == 0 else f"{key}-{slot}")
        directory.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            break
        fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # The last slot waits for its holder rather than failing.
            blocking = slot == _MAX_SLOTS - 1
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _held_lock = fd
        break
    for data in ("results", "static_arrays"):
        shutil.rmtree(directory / data, ignore_errors=True)
    return directory


def _select_device(params: CircuitParams, n_values: int, n_pattern_channels: int, runs) -> None:
    dev = params.device
    if dev.device == "cpp_standalone":
        if dev.fast_compile:
            prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O0", "-std=c++11"]
        if dev.build_directory:
            directory = Path(dev.build_directory)
            directory.mkdir(parents=True, exist_ok=True)
        else:
            key = structure_key(
                params, n_values=n_values, n_pattern_channels=n_pattern_channels, extra=runs
            )
            directory = claim_standalone_directory(key)
        brian2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
        # With build_on_run=False Brian2 keeps ``directory`` for an automatic build only;
        # callers build with ``device.build(directory=device.project_dir)``.
        brian2.get_device().project_dir = str(directory)
    else:
        brian2.set_device("runtime")
        prefs.codegen.target = dev.codegen_target
    brian2.defaultclock.dt = params.dynamics.dt


def _seed(params: CircuitParams, seed: int) -> None:
    """Seed Brian2's random numbers -- the only ``brian2.seed`` of the project.

    With ``cpp_standalone`` the seed goes into a static array (a data file) that a line of
    ``main`` hands to every generator, ``seed(value + i)`` for thread ``i`` exactly as
    ``brian2.seed`` would, so the same seed gives the same numbers and a new seed recompiles
    nothing.
    """
    if params.device.device != "cpp_standalone":
        brian2.seed(seed)
        return
    device = brian2.get_device()
    name = device.static_array("cerebellum_seed", np.array([seed], dtype=np.int64))
    n_threads = prefs.devices.cpp_standalone.openmp_threads or 1
    device.insert_code(
        "main",
        f"for (int _i=0; _i<{n_threads}; _i++)\n"
        f"    brian::_random_generators[_i].seed(brian::{name}[0] + _i);",
    )


def _build_populations(builders: dict, ctx: BuildContext) -> tuple[dict, dict]:
    """Call each population's builder in order; its groups then synapses, and the monitors."""
    groups: dict[str, Any] = {}
    synapses: dict[str, Any] = {}
    monitors: dict[str, Any] = {}
    for population, builder in builders.items():
        built = builder(getattr(ctx.params.cells, population), ctx)
        if not isinstance(built, Population):
            raise TypeError(
                f"the {population} builder must return a Population; got {type(built).__name__}"
            )
        ctx.populations[population] = built
        groups.update(built.groups)
        synapses.update(built.synapses)
        monitors.update(built.monitors)
    return groups | synapses, monitors


def build_circuit(
    params: CircuitParams,
    wiring: Wiring,
    *,
    n_values: int,
    n_pattern_channels: int = 0,
    rng: np.random.Generator,
    runs: Any = None,
) -> Circuit:
    """Build the network of :mod:`cerebellum.circuit` (no run).

    Selects the Brian2 device (``params.device``; for ``cpp_standalone`` the project folder,
    the build cache of the module docstring unless ``build_directory`` is given), seeds
    Brian2's random number generator from ``rng`` -- the only call of ``brian2.seed`` in the
    project -- and calls, for each
    population in :data:`cerebellum.params.POPULATIONS` order, the builder registered for its
    cell model (``params.cells``).

    Parameters
    ----------
    params : CircuitParams
    wiring : Wiring
        Must have been sampled for ``params.granule``.
    n_values : int
        Value channels, >= 1.
    n_pattern_channels : int
        One-hot pattern channels (>= the number of patterns to be written, or 0 for none).
    rng : numpy.random.Generator
        Source of the Brian2 seed (Poisson spikes).
    runs : JSON-able, optional
        With ``cpp_standalone``, a description of the runs that will be queued (e.g. the
        windows of each; :class:`~cerebellum.engines.algorithmic_run.AlgorithmicEngine` passes
        them), added to the :func:`structure_key` of the build cache so structures with
        different run layouts keep separate compiled projects. Ignored at runtime.

    Returns
    -------
    Circuit
    """
    if not isinstance(params, CircuitParams):
        raise TypeError(f"params must be a CircuitParams; got {type(params).__name__}")
    if not isinstance(wiring, Wiring):
        raise TypeError(f"wiring must be a Wiring; got {type(wiring).__name__}")
    if wiring.granule != params.granule:
        raise ValueError("wiring.granule must equal params.granule (sample it for these params)")
    n_values = check_int(n_values, "n_values", low=1)
    n_pattern_channels = check_int(n_pattern_channels, "n_pattern_channels", low=0)
    check_rng(rng)
    builders = {
        population: builder_for(population, getattr(params.cells, population))
        for population in POPULATIONS
    }

    _select_device(params, n_values, n_pattern_channels, runs)
    _seed(params, int(rng.integers(0, 2**31 - 1)))

    timing = window_timing(params)
    ctx = BuildContext(
        params=params,
        wiring=wiring,
        timing=timing,
        n_values=n_values,
        n_channels=n_values + n_pattern_channels,
        # A child of the run's seed sequence: spawning draws nothing from ``rng``.
        connectivity=rng.bit_generator.seed_seq.spawn(1)[0],
    )
    groups, monitors = _build_populations(builders, ctx)
    network = Network(*groups.values(), *monitors.values())
    return Circuit(
        params=params,
        wiring=wiring,
        n_values=n_values,
        n_pattern_channels=n_pattern_channels,
        timing=timing,
        network=network,
        groups=groups,
        monitors=monitors,
    )
