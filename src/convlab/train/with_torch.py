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

__all__ = ["torch_step_losses"]


def torch_step_losses(
    layers: str,
    input_shape: tuple[int, int, int],
    initial: Mapping[str, Array],
    train: tuple[Array, Array],
    optimizer: str,
    lr: float,
    epochs: int,
    batch_size: int,
    seed: int,
) -> Array:
    """Every step's loss of training ``layers`` in PyTorch as :func:`convlab.train.fit` trains it.

    The optimizer is ``"adam"`` (PyTorch's defaults beside ``lr``) or ``"sgd"`` (momentum 0.9), and the
    learning rate follows a cosine schedule to 0 over ``epochs``, as ``convlab train`` runs them.
    """
    torch = torch_library()
    model = sequential(layers, input_shape)
    model.load_state_dict(initial)
    twin = model.to_torch().train()
    parameters = list(twin.parameters())
    chosen = (
        torch.optim.Adam(parameters, lr=lr)
        if optimizer == "adam"
        else torch.optim.SGD(parameters, lr=lr, momentum=0.9)
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(chosen, T_max=epochs)
    criterion = torch.nn.CrossEntropyLoss()
    losses: list[float] = []
    for epoch in range(1, epochs + 1):
        for x, y in batches(train[0], train[1], batch_size, seed=epoch_seed(seed, epoch)):
            chosen.zero_grad()
            loss = criterion(twin(torch.from_numpy(np.ascontiguousarray(x))), torch.from_numpy(y))
            loss.backward()
            chosen.step()
            losses.append(float(loss.detach()))
        schedule.step()
    return np.array(losses)
