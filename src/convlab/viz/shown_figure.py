"""A matplotlib Figure that shows itself in a notebook as PNG.

convlab's figures are drawn on the Agg canvas without pyplot, so a notebook's matplotlib integration
(which hooks into pyplot) never sees them; this subclass gives them their own picture instead. Only
the drawing functions import it, inside their bodies, so ``import convlab.viz`` stays light.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["ShownFigure"]


class ShownFigure(Figure):
    """``matplotlib.figure.Figure`` plus ``_repr_png_``: the figure as ``savefig`` writes it."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()
