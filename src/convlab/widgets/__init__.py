"""The playground in a notebook cell: convlab's explorer as Jupyter widgets (the optional extra ``notebook``).

``Playground`` slides one kernel over one image; ``Channels`` gives each input channel its own kernel and
adds the per-channel sums and the bias. Every value is computed by convlab's engine in Python; the cell
draws it with the explorer page's own JavaScript and styles (``web/static/grids.js``, ``grids.css``), so it
works offline. Settings are traits: ``w.stride = 2`` redraws the cell, and editing the cell updates
``w.stride`` and ``w.output``.

Needs ``anywidget`` (``pip install -e ".[notebook]"`` in a convlab checkout); ``import convlab`` never
imports this package.

Example (in a notebook)::

    from convlab.widgets import Playground
    w = Playground(stride=1)
    w            # the cell shows the padded input, the output and one value explained
    w.stride = 2
    w.output     # (H_out, W_out), equal to convlab.functional.conv2d's
"""

from __future__ import annotations

from ..errors import DependencyError

try:
    import anywidget  # noqa: F401  (checked here, so the message names the extra rather than a module)
except ImportError:
    raise DependencyError(
        "convlab.widgets needs anywidget, which is not installed",
        fix='pip install -e ".[notebook]"   (from the convlab checkout; it adds anywidget and JupyterLab)',
    ) from None

from .channels import Channels
from .playground import Playground

__all__ = ["Channels", "Playground"]
