"""How edge-like learned kernels are: each 3x3 kernel against an edge detector at four orientations.

The lesson says early CNN layers "often learn edge-like filters". This measures it: each kernel,
its mean removed (a constant part only shifts brightness), is compared with Sobel's edge detector
turned to four orientations by the cosine of the angle between them as 9-vectors. 1 is the same
pattern up to scale, 0 nothing in common; the sign says which side of the edge is bright.

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

__all__ = ["EDGE_DETECTORS", "EdgeMatch", "edge_matches"]

_SOBEL = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
_DIAGONAL = np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]], dtype=np.float64)

EDGE_DETECTORS: dict[str, tuple[Array, tuple[str, str]]] = {
    # name: (kernel, (the side a positive response has bright, the side it has dark))
    "vertical edge": (_SOBEL, ("on the right", "on the left")),
    "horizontal edge": (_SOBEL.T, ("below", "above")),
    "diagonal edge \\": (_DIAGONAL, ("towards the bottom right", "towards the top left")),
    "diagonal edge /": (np.fliplr(_DIAGONAL), ("towards the bottom left", "towards the top right")),
}


@dataclass(frozen=True)
class EdgeMatch:
    """The edge detector closest to one kernel: its orientation, the cosine, and which side is bright."""

    index: int  # the kernel's output channel
    orientation: str
    cosine: float  # |cos| in [0, 1]
    bright: str  # the side of the edge the kernel responds to when it is bright


def edge_matches(weight: object) -> list[EdgeMatch]:
    """For each kernel of a first layer, the closest oriented edge detector.

    Shape:
        weight (C_out, C_in, 3, 3): a kernel per output channel, its input channels summed
        (for one grey input channel, the kernel itself) -> C_out matches.
    """
    kernels = np.asarray(weight, dtype=np.float64)
    if kernels.ndim != 4 or kernels.shape[2:] != (3, 3):
        raise ShapeError(
            f"edge_matches: weight has shape {kernels.shape}, not (C_out, C_in, 3, 3)",
            fix="pass the first convolution's weight, e.g. model[0].weight, with 3x3 kernels",
        )
    matches = []
    for index, kernel in enumerate(kernels.sum(axis=1)):
        centred = (kernel - kernel.mean()).ravel()
        best = EdgeMatch(index, "no pattern", 0.0, "none")
        for name, (detector, (bright, dark)) in EDGE_DETECTORS.items():
            norm = float(np.linalg.norm(centred) * np.linalg.norm(detector))
            cosine = float(centred @ detector.ravel()) / norm if norm else 0.0
            if abs(cosine) > best.cosine:
                best = EdgeMatch(index, name, abs(cosine), bright if cosine > 0 else dark)
        matches.append(best)
    return matches
