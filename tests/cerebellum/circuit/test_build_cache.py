"""The cpp_standalone build cache: keys, folder slots and locks, the seed as data.

Nothing here compiles (the compile-once property itself is checked on a real build in
tests/cerebellum/circuit/test_circuit_standalone.py). Oracles: the definitions of the key (what
changes generated code) and of the slots (POSIX ``flock``: a second open file description cannot
take a held exclusive lock), and Brian2's own main queue (what it would write into ``main.cpp``).
"""

import gc
import logging
import os
import subprocess
import sys

import brian2
import numpy as np
import pytest

from cerebellum.circuit import build_circuit
from cerebellum.circuit.build import (
    CACHE_ENV,
    claim_standalone_directory,
    release_standalone_directory,
    standalone_cache_at,
    standalone_cache_root,
    structure_key,
)
from cerebellum.presets import preset
from tests.cerebellum.helpers import wiring_from_manual_seed

pytestmark = pytest.mark.brian


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    yield root
    release_standalone_directory()


def _key(params, **kwargs):
    return structure_key(params, **{"n_values": 3, "n_pattern_channels": 6, **kwargs})


def test_key_ignores_name_and_build_directory_but_not_structure(tiny_params):
    # Oracle: the definition -- name and build folder change no generated code; sizes,
    # compile flags, channel counts and run layouts do.
    same = [
        tiny_params.replace(name="other"),
        tiny_params.replace(device={"device": "runtime", "build_directory": "/somewhere"}),
    ]
    assert {_key(p) for p in same} == {_key(tiny_params)}
    different = {
        _key(tiny_params.replace(granule={"n_neurons": tiny_params.granule.n_neurons + 1})),
        _key(tiny_params.replace(device={"fast_compile": True})),
        _key(tiny_params, n_values=4),
        _key(tiny_params, n_pattern_channels=0),
        _key(tiny_params, extra=[6, 6]),
        _key(tiny_params, extra=[6, 7]),
    }
    assert _key(tiny_params) not in different
    assert len(different) == 6


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert standalone_cache_root() == tmp_path / "mine"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert standalone_cache_root() == tmp_path / "xdg" / "cerebellar-sdm" / "standalone"


_CLAIM_IN_CHILD = (
    "import sys; from cerebellum.circuit.build import claim_standalone_directory as c; "
    "print(c(sys.argv[1]).name)"
)


def _claim_in_child(key):
    done = subprocess.run(
        [sys.executable, "-c", _CLAIM_IN_CHILD, key],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_a_held_folder_sends_another_process_to_the_next_slot(cache):
    directory = claim_standalone_directory("k")
    assert directory == cache / "k"
    assert _claim_in_child("k") == "k-1"
    release_standalone_directory()
    assert _claim_in_child("k") == "k"


def test_claiming_removes_the_last_runs_data_and_keeps_the_code(cache):
    directory = claim_standalone_directory("k")
    for name in ("results/x", "static_arrays/y", "code_objects/z.o", "main"):
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text("old")
    release_standalone_directory()
    assert claim_standalone_directory("k") == directory
    assert not (directory / "results").exists()
    assert not (directory / "static_arrays").exists()
    assert (directory / "code_objects" / "z.o").read_text() == "old"
    assert (directory / "main").read_text() == "old"


class _NotRun(logging.Filter):
    """Drops Brian2's warning for objects deleted without a run (these circuits never run)."""

    def filter(self, record):
        return "unused_brian_object" not in record.name


def _build_standalone(params):
    """Build (never run) a standalone circuit: its folder, main queue and static arrays."""
    wiring = wiring_from_manual_seed(params, 0)
    logger = logging.getLogger("brian2")
    quiet = _NotRun()
    logger.addFilter(quiet)
    try:
        build_circuit(
            params, wiring, n_values=3, n_pattern_channels=6, rng=np.random.default_rng(0)
        )
        device = brian2.get_device()
        return device.project_dir, list(device.main_queue), dict(device.static_arrays)
    finally:
        brian2.device.reinit()
        brian2.set_device("runtime")
        gc.collect()
        logger.removeFilter(quiet)


def test_standalone_build_uses_the_keyed_cache_folder_and_seeds_from_data(cache):
    params = preset("tiny").replace(device={"device": "cpp_standalone"})
    project_dir, queue, static_arrays = _build_standalone(params)
    assert project_dir == str(cache / _key(params))
    # Oracle: Brian2's main queue -- brian2.seed would queue ("seed", value), which becomes a
    # literal in main.cpp; here the value is a data file read by one inserted line.
    assert "seed" not in [entry[0] for entry in queue]
    seeds = [name for name in static_arrays if name.startswith("_static_array_cerebellum_seed")]
    assert len(seeds) == 1
    expected = int(np.random.default_rng(0).integers(0, 2**31 - 1))
    assert static_arrays[seeds[0]].tolist() == [expected]
    inserted = [entry[1] for entry in queue if entry[0] == "insert_code"]
    assert any(f"brian::{seeds[0]}[0] + _i" in code for code in inserted)


def test_an_explicit_build_directory_is_used_as_given(cache, tmp_path):
    directory = tmp_path / "explicit"
    params = preset("tiny").replace(
        device={"device": "cpp_standalone", "build_directory": str(directory)}
    )
    project_dir, _, _ = _build_standalone(params)
    assert project_dir == str(directory)
    assert directory.is_dir()
    assert not cache.exists()


@pytest.mark.parametrize("before", [None, "/somewhere/else"])
def test_standalone_cache_at_sets_the_folder_for_the_block_and_restores_it(
    tmp_path, monkeypatch, before
):
    # Oracle: os.environ itself -- the folder inside the block (and what a child process
    # sees), the previous value or its absence after it, also when the block raises.
    if before is None:
        monkeypatch.delenv(CACHE_ENV, raising=False)
    else:
        monkeypatch.setenv(CACHE_ENV, before)
    with pytest.raises(RuntimeError), standalone_cache_at(tmp_path / "c") as folder:
        assert folder == tmp_path / "c"
        assert standalone_cache_root() == tmp_path / "c"
        child = subprocess.run(
            [sys.executable, "-c", f"import os; print(os.environ[{CACHE_ENV!r}])"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert child.stdout.strip() == str(tmp_path / "c")
        raise RuntimeError
    assert os.environ.get(CACHE_ENV) == before
