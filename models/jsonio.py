"""Strict JSON files from numpy-laden payloads.

The one JSON writer of the project: :mod:`models` jobs use it directly and
:mod:`cerebellum.io.rundir` re-exports it, so every ``results.json``, ``params.json`` and
``meta.json`` is written the same way. Numpy scalars and arrays become plain numbers and lists,
and non-finite floats become ``null`` (strict JSON, which has no NaN or infinity).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["write_json"]


def _to_jsonable(value):
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _to_jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        return value if np.isfinite(value) else None
    return value


def write_json(path: str | os.PathLike, payload: dict) -> None:
    """Write ``payload`` as indented JSON.

    Numpy scalars and arrays become numbers and lists; non-finite floats become ``null``
    (strict JSON).

    Parameters
    ----------
    path : str or path
        Output file.
    payload : dict
        JSON-like data (dicts, lists, numbers, strings, numpy arrays and scalars).
    """
    Path(path).write_text(json.dumps(_to_jsonable(payload), indent=2, allow_nan=False) + "\n")
