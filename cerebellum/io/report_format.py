"""How the report writes a number: shared by :mod:`cerebellum.io.report` and
:mod:`cerebellum.io.report_spiking`.
"""

from __future__ import annotations

__all__ = ["fmt"]


def fmt(value, digits: int = 4) -> str:
    """A number as the report prints it.

    Parameters
    ----------
    value : float, int, str or None
        ``None`` is written ``n/a``; a float of magnitude >= 1e4 or below 1e-3 (but not 0) in
        scientific notation with two decimals; any other float with ``digits`` decimals; any
        other value as ``str(value)``.
    digits : int, optional
        Decimals of a float in fixed notation.

    Returns
    -------
    str
    """
    if value is None:
        return "n/a"
    if isinstance(value, float) and (abs(value) >= 1e4 or (0 < abs(value) < 1e-3)):
        return f"{value:.2e}"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
