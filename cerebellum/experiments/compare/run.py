"""Stages 2 and 3 of the compare job: the wiring, patterns and queries; the engines' run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from cerebellum.engines import CircuitRun, Schedule, engine_for
from cerebellum.engines.readout import Readout
from cerebellum.experiments.compare.config import BETA_METHODS, Progress, ResolvedConfig, _silent
from cerebellum.wiring import Wiring, sample_wiring
from models.attention import AttentionMemory
from models.memory import Memory
from models.recall import flip_bits
from models.sdm import PatternSDM, random_addresses

__all__ = [
    "EngineOutputs",
    "N_BACKGROUND",
    "N_REST",
    "Wired",
    "mirror_memories",
    "run_engines",
    "wire",
]


# --------------------------------------------------------------------------- wiring and queries


@dataclass(frozen=True, kw_only=True)
class Wired:
    """Stage 2: what both engines are given.

    Attributes
    ----------
    wiring : Wiring
        The granule-cell addresses, shared by the circuit and NeuronSDM.
    patterns : Tensor of shape (n_patterns, n_dims), uint8
        Stored addresses.
    values : Tensor of shape (n_patterns, n_dims), float64
        Stored values (the patterns themselves: autoassociative).
    queries : Tensor of shape (n_queries_total, n_dims), uint8
        Noisy copies of stored patterns, noise levels in order.
    targets : Tensor of shape (n_queries_total,), int64
        The pattern each query was made from.
    noise : ndarray of int, shape (n_queries_total,)
        Bits flipped in each query.
    """

    wiring: Wiring
    patterns: torch.Tensor
    values: torch.Tensor
    queries: torch.Tensor
    targets: torch.Tensor
    noise: np.ndarray


def wire(resolved: ResolvedConfig) -> Wired:
    """Stage 2: sample the wiring, the patterns and the noisy queries.

    Parameters
    ----------
    resolved : ResolvedConfig

    Returns
    -------
    Wired
    """
    g, gens = resolved.granule, resolved.generators
    wiring = sample_wiring(g, generator=gens.wiring)
    patterns = random_addresses(resolved.config.n_patterns, g.n_dims, generator=gens.patterns)
    queries, targets, noise = _noise_queries(
        patterns, resolved.noise_levels, resolved.config.n_queries, gens.queries
    )
    return Wired(
        wiring=wiring,
        patterns=patterns,
        values=patterns.double(),
        queries=queries,
        targets=targets,
        noise=noise.numpy(),
    )


def _noise_queries(patterns, levels, n_queries, generator):
    """Queries at exactly ``level`` flipped bits from randomly chosen stored patterns."""
    m = patterns.shape[0]
    targets, queries, noise = [], [], []
    for level in levels:
        index = torch.randint(m, (n_queries,), generator=generator)
        queries.append(flip_bits(patterns[index], int(level), generator=generator))
        targets.append(index)
        noise.append(torch.full((n_queries,), int(level)))
    return torch.cat(queries), torch.cat(targets), torch.cat(noise)


# --------------------------------------------------------------------------- engines


@dataclass(frozen=True, kw_only=True)
class EngineOutputs:
    """Stage 3: what the circuit's engine and the mirror returned (no Brian2 object).

    Attributes
    ----------
    run : CircuitRun
        The circuit's engine run (:mod:`cerebellum.engines`): readouts, recall, spikes,
        rates, weights, epochs, figures' arrays.
    engine : type of Engine
        The engine class that made it (its :meth:`~cerebellum.engines.base.Engine.summarise`
        adds the engine's own measurements).
    memories : dict of str to Memory
        The mirror's engines, written (:func:`mirror_memories`).
    weights, outputs : dict of str to ndarray
        Per engine, ``circuit`` first: pattern weights (n_queries_total, n_patterns) and reads
        (n_queries_total, n_dims), float64.
    """

    run: CircuitRun
    engine: type
    memories: dict[str, Memory]
    weights: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]

    @property
    def readout(self) -> Readout:
        """The circuit's read of every query."""
        return self.run.readouts[0]

    @property
    def engines(self) -> list[str]:
        """Engine names in order, ``circuit`` first."""
        return list(self.weights)


#: Presentations before the writes: spontaneous activity, and rests that keep one write's
#: parallel-fibre spikes out of the next write's LTD window (engines without spontaneous state
#: skip them).
N_BACKGROUND = 4
N_REST = 3


def run_engines(
    resolved: ResolvedConfig,
    wired: Wired,
    *,
    progress: Progress | None = None,
    nwb: bool = False,
    report=None,
) -> EngineOutputs:
    """Stage 3: write and read the circuit, then the mirror, on the same wiring and queries.

    Parameters
    ----------
    resolved : ResolvedConfig
    wired : Wired
    progress : callable, optional
        Called with a label as each step starts.
    nwb : bool
        The run's spikes, rates, weights and epochs will be written to NWB
        (:func:`cerebellum.io.nwb.run_content`): runtime device only.
    report : callable, optional
        Brian2's progress callback inside the simulation.

    Returns
    -------
    EngineOutputs
    """
    step = progress or _silent
    if nwb and resolved.params.device.device != "runtime":
        raise ValueError(
            "nwb needs device 'runtime': cpp_standalone keeps no spike monitors; got device "
            f"{resolved.params.device.device!r}"
        )
    engine = engine_for(resolved.params)
    schedule = Schedule.experiment(
        wired.patterns.numpy(),
        wired.values.numpy(),
        [wired.queries.numpy()],
        n_background=N_BACKGROUND,
        n_rest=N_REST,
        recall_steps=resolved.config.recall_steps,
    )
    step(f"simulating the circuit ({engine.name} engine): writes, reads")
    run = engine(
        resolved.params, wired.wiring, rng=resolved.generators.brian, report=report
    ).simulate(schedule)
    step("mirror: NeuronSDM, PatternSDM, attention")
    device = resolved.config.torch_device
    memories = mirror_memories(
        wired.wiring, wired.patterns, wired.values, resolved.equivalent_radius, torch_device=device
    )
    weights, outputs = _mirror_weights_outputs(memories, wired.queries.to(device))
    readout = run.readouts[0]
    return EngineOutputs(
        run=run,
        engine=engine,
        memories=memories,
        weights={"circuit": readout.pattern_weights, **weights},
        outputs={"circuit": readout.read, **outputs},
    )


def mirror_memories(wiring, patterns, values, d_eff: int, *, torch_device: str = "cpu"):
    """The mirror's engines, written with the patterns.

    Parameters
    ----------
    wiring : cerebellum.wiring.Wiring
        The circuit's wiring: ``neuron_sdm`` uses the same neuron addresses.
    patterns : Tensor of shape (n_patterns, n_dims), uint8
    values : Tensor of shape (n_patterns, n_values), float64
    d_eff : int
        Equivalent radius (:func:`equivalent_radius`) for PatternSDM and the beta fits.
    torch_device : str

    Returns
    -------
    dict of str to Memory
        ``neuron_sdm``, ``pattern_sdm`` and ``attention_<method>`` for each beta fit method.
    """
    n = patterns.shape[1]
    memories: dict[str, Memory] = {
        "neuron_sdm": wiring.mirror(values.shape[1]),
        "pattern_sdm": PatternSDM(n, d_eff),
    }
    for method in BETA_METHODS:
        memories[f"attention_{method}"] = AttentionMemory(
            n_dims=n, activation_radius=d_eff, method=method
        )
    for name, memory in memories.items():
        memories[name] = memory.to(torch_device)
        memories[name].write(patterns.to(torch_device), values.to(torch_device))
    return memories


def _mirror_weights_outputs(memories: dict[str, Memory], queries) -> tuple[dict, dict]:
    weights, outputs = {}, {}
    for name, memory in memories.items():
        weights[name] = memory.weights(queries).double().cpu().numpy()
        outputs[name] = memory.read(queries).double().cpu().numpy()
    return weights, outputs
