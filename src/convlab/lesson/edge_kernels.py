"""How edge-like learned kernels are: each kernel against edge (and line) detectors at four orientations.

The lesson says early CNN layers "often learn edge-like filters". This measures it: each kernel,
its mean removed (a constant part only shifts brightness), is compared with an edge detector
turned to four orientations by the cosine of the angle between them as vectors (9 numbers for a
3x3 kernel). 1 is the same pattern up to scale, 0 nothing in common; the sign says which side of
the edge is bright. 3x3 kernels meet Sobel's detector; larger (odd, square) ones the same
detector's smooth form, the slope of a Gaussian bump across the edge, and oriented lines (a bright
stripe between dark flanks: two edges back to back), sampled on the kernel's grid.

Example:
    >>> sobel = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    >>> match = edge_matches([[sobel]])[0]
    >>> match.orientation, round(match.cosine, 3), match.bright
    ('vertical edge', 1.0, 'on the right')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._args import Array
from ..errors import ShapeError

__all__ = ["EDGE_DETECTORS", "EDGE_LIKE", "EdgeMatch", "edge_detectors", "edge_matches"]

EDGE_LIKE = 0.7
"""The cosine from which a kernel counts as edge-like."""

_SOBEL = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
_DIAGONAL = np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]], dtype=np.float64)

EDGE_DETECTORS: dict[str, tuple[Array, tuple[str, str]]] = {
    # name: (kernel, (the side a positive response has bright, the side it has dark))
    "vertical edge": (_SOBEL, ("on the right", "on the left")),
    "horizontal edge": (_SOBEL.T, ("below", "above")),
    "diagonal edge \\": (_DIAGONAL, ("towards the bottom right", "towards the top left")),
    "diagonal edge /": (np.fliplr(_DIAGONAL), ("towards the bottom left", "towards the top right")),
}


_SIDES = {name: sides for name, (_, sides) in EDGE_DETECTORS.items()}


def edge_detectors(size: int) -> dict[str, tuple[Array, tuple[str, str]]]:
    """The oriented detectors for ``size`` x ``size`` kernels (odd ``size`` >= 3).

    3x3: Sobel's edge detector at four orientations (:data:`EDGE_DETECTORS`). Larger: the same four
    edges in their smooth form, the slope of a Gaussian bump (sigma = size / 4) across the edge, and
    the four lines a larger kernel has room for, a bright stripe between two dark flanks (the bump's
    curvature across the line, its mean removed).
    """
    if size == 3:
        return EDGE_DETECTORS
    offsets = np.arange(size, dtype=np.float64) - size // 2
    y, x = np.meshgrid(offsets, offsets, indexing="ij")  # y grows downwards, as rows do
    sigma = size / 4
    bump = np.exp(-(x * x + y * y) / (2 * sigma**2))
    slopes = {"vertical edge": x, "horizontal edge": y, "diagonal edge \\": x + y, "diagonal edge /": y - x}
    detectors = {name: (slope * bump, _SIDES[name]) for name, slope in slopes.items()}
    across = {"vertical line": x, "horizontal line": y, "diagonal line \\": x - y, "diagonal line /": x + y}
    for name, distance in across.items():
        stripe = (1 - (distance * distance / 2 if "diagonal" in name else distance * distance) / sigma**2) * bump
        detectors[name] = (stripe - stripe.mean(), ("on the line", "beside the line"))
    return detectors


@dataclass(frozen=True)
class EdgeMatch:
    """The detector closest to one kernel: its orientation, the cosine, and which side is bright."""

    index: int  # the kernel's output channel
    orientation: str
    cosine: float  # |cos| in [0, 1]
    bright: str  # the side of the edge the kernel responds to when it is bright

    @property
    def edge_like(self) -> bool:
        """Whether the kernel is close to an oriented edge or line detector (cosine >= :data:`EDGE_LIKE`)."""
        return self.cosine >= EDGE_LIKE


def edge_matches(weight: object) -> list[EdgeMatch]:
    """For each kernel of a first layer, the closest oriented detector (:func:`edge_detectors`).

    Shape:
        weight (C_out, C_in, k, k) with k odd and at least 3: a kernel per output channel, its input
        channels summed (for one grey input channel, the kernel itself) -> C_out matches.
    """
    kernels = np.asarray(weight, dtype=np.float64)
    if (
        kernels.ndim != 4
        or kernels.shape[2] != kernels.shape[3]
        or kernels.shape[2] % 2 == 0
        or kernels.shape[2] < 3
    ):
        raise ShapeError(
            f"edge_matches: weight has shape {kernels.shape}, not (C_out, C_in, k, k) with k odd and at least 3",
            fix="pass the first convolution's weight, e.g. model[0].weight, with square kernels (3x3, 5x5)",
        )
    detectors = edge_detectors(kernels.shape[2])
    matches = []
    for index, kernel in enumerate(kernels.sum(axis=1)):
        centred = (kernel - kernel.mean()).ravel()
        best = EdgeMatch(index, "no pattern", 0.0, "none")
        for name, (detector, (bright, dark)) in detectors.items():
            norm = float(np.linalg.norm(centred) * np.linalg.norm(detector))
            cosine = float(centred @ detector.ravel()) / norm if norm else 0.0
            if abs(cosine) > best.cosine:
                best = EdgeMatch(index, name, abs(cosine), bright if cosine > 0 else dark)
        matches.append(best)
    return matches
