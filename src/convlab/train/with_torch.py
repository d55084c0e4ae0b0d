"""The same training run in PyTorch: same layers, same initial weights, same batches, same optimizer.

What ``convlab train --torch`` compares against: if convlab's forward, backward and update rules
are PyTorch's, the two runs' losses agree step by step, up to float32 rounding that training
slowly amplifies.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._args import Array
from ..data.batches import batches
from ..network.sequential import sequential
from ..nn.module import torch_library
from .fit import epoch_seed
from .recipe import Recipe

__all__ = ["torch_step_losses"]


def torch_step_losses(
    layers: str,
    input_shape: tuple[int, int, int],
    initial: Mapping[str, Array],
    train: tuple[Array, Array],
    recipe: Recipe,
) -> Array:
    """Every step's loss of training ``layers`` in PyTorch as :func:`convlab.train.fit` trains it.

    The model starts from ``initial`` (a convlab state dict), sees the batches ``fit`` draws from
    ``recipe.seed`` and is updated by the recipe's optimizer and schedule, in PyTorch's own code.
    """
    torch = torch_library()
    model = sequential(layers, input_shape)
    model.load_state_dict(initial)
    twin = model.to_torch().train()
    optimizer, schedule = recipe.make_torch(torch, twin.parameters())
    criterion = torch.nn.CrossEntropyLoss()
    losses: list[float] = []
    for epoch in range(1, recipe.epochs + 1):
        for x, y in batches(train[0], train[1], recipe.batch_size, seed=epoch_seed(recipe.seed, epoch)):
            optimizer.zero_grad()
            loss = criterion(twin(torch.from_numpy(np.ascontiguousarray(x))), torch.from_numpy(y))
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        schedule.step()
    return np.array(losses)
