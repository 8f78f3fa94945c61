"""The grid of a sweep: sweep files and flags parsed into a :class:`SweepSpec`, expanded into
validated :class:`SweepPoint` s, each named by :func:`point_id` (module docstring of
:mod:`cerebellum.experiments.sweep`)."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cerebellum.experiments.sweep.warm import _compare

if TYPE_CHECKING:
    from cerebellum.experiments.compare import CompareConfig

__all__ = [
    "FILE_KEYS",
    "SweepPoint",
    "SweepSpec",
    "default_out",
    "load_sweep_file",
    "plan_sweep",
    "point_id",
    "spec_from_axes",
]

#: Top-level tables of a sweep file.
FILE_KEYS = ("name", "defaults", "grid")


def _compare_fields() -> dict[str, dataclasses.Field]:
    return {field.name: field for field in dataclasses.fields(_compare().CompareConfig)}


def _is_sequence_field(field: dataclasses.Field) -> bool:
    """Fields whose one value is a list (``noise_levels``, ``neuron_sweep``)."""
    return "tuple" in str(field.type)


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep runs: grids, each a Cartesian product of axes.

    Attributes
    ----------
    grids : tuple of dict of str to tuple
        Per grid, each :class:`~cerebellum.experiments.compare.CompareConfig` field it sets and
        the values it takes (one value is an axis of length 1); the defaults are merged in.
    source : str
        Where the grid came from (a file path, or ``"flags"``), for error messages.
    name : str or None
        A title for the report.
    """

    grids: tuple[dict[str, tuple], ...]
    source: str = "flags"
    name: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready: every axis as a list."""
        return {
            "name": self.name,
            "source": self.source,
            "grids": [{key: list(values) for key, values in grid.items()} for grid in self.grids],
        }


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: one comparison.

    Attributes
    ----------
    point_id : str
        :func:`point_id` of the config: the name of its run directory.
    config : CompareConfig
    grid : int
        Index of the grid it came from (0-based).
    """

    point_id: str
    config: CompareConfig
    grid: int


def _is_scalar(value) -> bool:
    return not isinstance(value, list | dict | tuple)


def _parse_grid(mapping, where: str) -> dict[str, tuple]:
    """Check one table of a sweep file: known keys, one value or a non-empty list of values."""
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{where} must be a table of CompareConfig fields; got {mapping!r}")
    fields = _compare_fields()
    axes: dict[str, tuple] = {}
    for key, value in mapping.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"{where}: unknown key {key!r}{hint}; expected CompareConfig fields "
                f"{', '.join(fields)}"
            )
        if isinstance(value, Mapping):
            raise ValueError(f"{where}.{key} must be a value or a list of values; got a table")
        if _is_sequence_field(fields[key]):  # one value is a list; a list of lists is an axis
            if not isinstance(value, list):
                raise ValueError(
                    f"{where}.{key} must be a list such as [0, 2, 4] (or a list of lists for "
                    f"several); got {value!r}"
                )
            values = (
                tuple(tuple(item) for item in value)
                if value and all(isinstance(item, list) for item in value)
                else (tuple(value),)
            )
            if not all(all(_is_scalar(v) for v in item) for item in values):
                raise ValueError(f"{where}.{key} must hold numbers; got {value!r}")
        elif isinstance(value, list):
            values = tuple(value)
            if not all(_is_scalar(v) for v in values):
                raise ValueError(
                    f"{where}.{key} must be a value or a list of values; got {value!r}"
                )
        else:
            values = (value,)
        if not values:
            raise ValueError(f"{where}.{key} is an empty list; give at least one value")
        axes[key] = values
    return axes


def load_sweep_file(path: str | os.PathLike) -> SweepSpec:
    """Read and check a sweep file (TOML, :mod:`tomllib`).

    Parameters
    ----------
    path : str or path
        A TOML file with an optional ``name`` (str), an optional ``[defaults]`` table and one
        or more ``[[grid]]`` tables (module docstring). Keys are
        :class:`~cerebellum.experiments.compare.CompareConfig` fields; a list is an axis (for
        ``noise_levels`` and ``neuron_sweep``, whose one value is a list, a list of lists).

    Returns
    -------
    SweepSpec

    Raises
    ------
    ValueError
        Missing or unreadable file, invalid TOML, an unknown key, an empty list, a table where
        a value belongs, or no grid; the message names the file and the key.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"sweep file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"sweep file {str(path)!r} cannot be read ({error})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error})") from None
    for key in document:
        if key not in FILE_KEYS:
            close = difflib.get_close_matches(key, [*FILE_KEYS, *_compare_fields()], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"{path}: unknown top-level key {key!r}{hint}; expected 'name', a [defaults] "
                "table and [[grid]] tables (CompareConfig fields go inside them)"
            )
    name = document.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{path}: name must be a string; got {name!r}")
    defaults = _parse_grid(document.get("defaults", {}), f"{path} [defaults]")
    grids = document.get("grid")
    if isinstance(grids, Mapping):  # a single [grid] table
        grids = [grids]
    if not grids:
        raise ValueError(
            f"{path}: no [[grid]] table; a sweep needs at least one (an empty [[grid]] runs the "
            "defaults once)"
        )
    if not isinstance(grids, list):
        raise ValueError(f"{path}: grid must be [[grid]] tables; got {grids!r}")
    parsed = tuple(
        {**defaults, **_parse_grid(grid, f"{path} [[grid]] {index + 1}")}
        for index, grid in enumerate(grids)
    )
    return SweepSpec(grids=parsed, source=str(path), name=name)


def spec_from_axes(axes: Mapping[str, Sequence | None], *, name: str | None = None) -> SweepSpec:
    """One grid from ``{field: values}`` (the CLI's flags); None or missing keeps the default.

    Parameters
    ----------
    axes : mapping of str to sequence or None
        CompareConfig field to the values it takes (for ``noise_levels``, a list of lists).
    name : str, optional

    Returns
    -------
    SweepSpec
    """
    table = {}
    for key, values in axes.items():
        if values is None:
            continue
        values = [list(v) if isinstance(v, tuple) else v for v in values]
        table[key] = values
    if not table:
        raise ValueError(
            "a sweep needs a grid: give a sweep file or at least one grid flag (--radius 3,4,5, "
            "--n-neurons 256,1024, --seeds 0,1, ...)"
        )
    return SweepSpec(grids=(_parse_grid(table, "flags"),), source="flags", name=name)


def point_id(config: CompareConfig) -> str:
    """A stable name for a point: the first 16 hex digits of the SHA-256 of its config.

    The config is hashed as canonical JSON (:meth:`CompareConfig.to_dict`, sorted keys, after
    the config's own normalisation, so ``mode="deterministic"`` and ``"algorithmic"`` are one
    point). A new CompareConfig field changes every id, so old points are run again rather
    than silently reused under a config they did not run.

    Parameters
    ----------
    config : CompareConfig

    Returns
    -------
    str
    """
    canonical = json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _describe(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in values.items()) or "the defaults"


def plan_sweep(spec: SweepSpec) -> list[SweepPoint]:
    """Expand the grids into points and validate every one before any work starts.

    Each combination becomes a :class:`~cerebellum.experiments.compare.CompareConfig`, checked
    by :func:`~cerebellum.experiments.compare.configure` against its preset. Points that two
    grids share run once (the first grid's).

    Parameters
    ----------
    spec : SweepSpec

    Returns
    -------
    list of SweepPoint
        In grid order, then the product's order.

    Raises
    ------
    ValueError
        The first invalid point, naming its grid, its values and the library's message.
    """
    points: dict[str, SweepPoint] = {}
    for index, grid in enumerate(spec.grids):
        keys = list(grid)
        for combination in itertools.product(*(grid[key] for key in keys)):
            values = dict(zip(keys, combination, strict=True))
            varying = {key: values[key] for key in keys if len(grid[key]) > 1}
            where = f"{spec.source} grid {index + 1} point ({_describe(varying or values)})"
            try:
                config = _compare().CompareConfig(**values)
                _compare().configure(config)
            except (ValueError, TypeError) as error:
                raise ValueError(f"{where}: {error}") from None
            identifier = point_id(config)
            points.setdefault(identifier, SweepPoint(identifier, config, index))
    return list(points.values())


def default_out(points: Iterable[SweepPoint]) -> Path:
    """``runs/sweep-<hash of the point ids>``: the same sweep resumes in the same directory."""
    digest = hashlib.sha256(",".join(sorted(p.point_id for p in points)).encode()).hexdigest()
    return Path("runs") / f"sweep-{digest[:10]}"
