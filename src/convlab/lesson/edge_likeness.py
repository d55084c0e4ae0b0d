"""How much of a kernel is an oriented edge: the share of its energy its best-fitting edge explains.

The lesson says early CNN layers "often learn edge-like filters". This turns "looks like an edge
detector" into a number. Every oriented edge of a bank is tried, each with its mean removed (an edge
detector gives 0 on a flat patch, whatever its brightness): a profile across a straight line at
some angle and offset from the centre, constant along it. Two profiles are tried, each at a few
widths: a blurred step (dark on one side, bright on the other) and the slope of a Gaussian bump (the
first derivative of a Gaussian: the smooth edge detector, its two lobes fading away from the edge).
The best one, scaled to fit, leaves a residual; the share of the kernel's energy (the sum of its
squared weights) it explains is

    share = 1 - |residual|^2 / |kernel|^2 = cos^2(angle between kernel and edge, as vectors)

1 is an edge exactly, 0 nothing of one. A kernel's mean is part of the residual: a kernel mostly
of one sign measures brightness, and looks like a blob, not an edge. For 5x5 kernels random noise
scores about 0.2 (fewer than 1 in 500 reach 0.6), a bump in the middle or a line about 0.2; a Sobel
or Prewitt kernel about 0.9 or more. 3x3 kernels have too few numbers: noise scores about 0.4.

Example:
    >>> fit = edge_fit([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    >>> fit.angle, fit.share > 0.9
    (0, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from .._args import Array
from ..errors import ShapeError

__all__ = ["EDGE_LIKE_SHARE", "EdgeFit", "edge_bank", "edge_fit", "edge_fits"]

EDGE_LIKE_SHARE = 0.6
"""The share from which a kernel counts as clearly edge-like: three times what 5x5 noise scores on average."""

_ANGLE_STEP = 5  # degrees between the orientations tried
_BLURS = (0.3, 0.7, 1.2)  # in pixels: the step's blur
_SIGMAS = (0.8, 1.2, 2.0)  # in pixels: the Gaussian's; narrower, its two lobes are one line beside another


@dataclass(frozen=True)
class EdgeFit:
    """One kernel's best-fitting oriented edge.

    ``angle``: degrees counter-clockwise from the x axis (pointing right) of the direction in which
    the kernel's weights grow from dark to bright: 0 is a vertical edge, bright on the right; 90 a
    horizontal edge, bright above. ``offset``: the edge's distance from the kernel's centre, in pixels,
    along that direction. ``profile``: "step" or "gaussian slope". ``share``: the share of the kernel's
    energy the edge explains, in [0, 1].
    """

    angle: int
    offset: float
    profile: str
    width: float
    share: float

    @property
    def edge_like(self) -> bool:
        """Whether the kernel is clearly an oriented edge detector (share >= :data:`EDGE_LIKE_SHARE`)."""
        return self.share >= EDGE_LIKE_SHARE


@cache
def edge_bank(size: int) -> tuple[Array, tuple[tuple[int, float, str, float], ...]]:
    """Every edge tried on a ``size`` x ``size`` kernel, each with its mean removed and unit length.

    Shape:
        -> (edges (T, size * size), labels: T of (angle, offset, profile, width)).
    """
    centre = (size - 1) / 2
    rows, columns = np.mgrid[0:size, 0:size].astype(np.float64) - centre
    x, y = columns, -rows  # y grows upwards, so angles read as they are seen
    offsets = np.arange(-centre, centre + 0.01, 0.5)
    edges, labels = [], []
    for angle in range(0, 360, _ANGLE_STEP):
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        along = -x * sin + y * cos
        for offset in offsets:
            across = x * cos + y * sin - offset  # signed distance from the edge, bright side positive
            candidates = []
            if abs(offset) < centre:  # a step at least half a pixel inside the kernel
                blurred = [np.vectorize(math.erf)(across / (blur * math.sqrt(2))) for blur in _BLURS]
                candidates += [("step", blur, step) for blur, step in zip(_BLURS, blurred)]
            if abs(offset) <= centre / 2:  # a slope far off centre is half a blob, not an edge
                bumps = [np.exp(-(across**2 + along**2) / (2 * sigma**2)) for sigma in _SIGMAS]
                candidates += [("gaussian slope", sigma, across * bump) for sigma, bump in zip(_SIGMAS, bumps)]
            for profile, width, values in candidates:
                edge = (values - values.mean()).ravel()
                norm = np.linalg.norm(edge)
                if norm > 1e-9:  # an edge outside the kernel is flat: nothing to fit
                    edges.append(edge / norm)
                    labels.append((angle, float(offset), profile, width))
    return np.array(edges), tuple(labels)


def edge_fit(kernel: object) -> EdgeFit:
    """The oriented edge that explains most of one square kernel (size >= 2), and how much it explains.

    Shape:
        kernel (k, k) -> one :class:`EdgeFit`.
    """
    values = np.asarray(kernel, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] < 2:
        raise ShapeError(
            f"edge_fit: kernel has shape {values.shape}, not (k, k) with k at least 2",
            fix="pass one square kernel, e.g. model[0].weight[0, 0]",
        )
    edges, labels = edge_bank(values.shape[0])
    energy = float(values.ravel() @ values.ravel())
    if energy == 0:
        return EdgeFit(0, 0.0, "none", 0.0, 0.0)
    cosines = edges @ values.ravel() / math.sqrt(energy)
    best = int(cosines.argmax())  # the sign matters: it says which side is bright
    angle, offset, profile, width = labels[best]
    return EdgeFit(angle, offset, profile, width, float(cosines[best] ** 2))


def edge_fits(weight: object) -> list[EdgeFit]:
    """Each first-layer kernel's best edge, its input channels summed (one grey channel: the kernel).

    Shape:
        weight (C_out, C_in, k, k) -> C_out fits.
    """
    kernels = np.asarray(weight, dtype=np.float64)
    if kernels.ndim != 4:
        raise ShapeError(
            f"edge_fits: weight has shape {kernels.shape}, not (C_out, C_in, k, k)",
            fix="pass the first convolution's weight, e.g. model[0].weight",
        )
    return [edge_fit(kernel) for kernel in kernels.sum(axis=1)]
