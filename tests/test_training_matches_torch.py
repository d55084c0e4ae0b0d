"""Training end to end: the same model, initial weights and batches give PyTorch's losses at every step.

A model with conv, BatchNorm2d, ReLU, max pool, flatten and linear layers is trained for 100 steps by
convlab (explicit backward, convlab.optim) and by PyTorch (autograd, torch.optim) from the same start.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from convlab import nn, optim

STEPS = 100
# float64: rounding differences grow through 100 dependent steps but stay far below 1e-8;
# float32: each step rounds at ~6e-8 relative, and 100 steps of training amplify it.
LOSS_TOLERANCE = {np.float64: 1e-8, np.float32: 1e-3}
PARAMETER_TOLERANCE = {np.float64: 1e-8, np.float32: 1e-3}


def _model(dtype: Any) -> nn.Sequential:
    return nn.Sequential(
        # no bias before BatchNorm, as usual: its gradient is exactly 0 in theory, so only rounding noise
        # would move it (and Adam would scale that noise up to full steps)
        nn.Conv2d(1, 6, 3, padding=1, bias=False, seed=0, dtype=dtype),
        nn.BatchNorm2d(6, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 4 * 4, 4, seed=1, dtype=dtype),
    )


OPTIMIZERS = {
    "sgd-momentum": (
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
    ),
    "adam": (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_losses_and_parameters_follow_torch_for_100_steps(name: str, dtype: Any) -> None:
    rng = np.random.default_rng(0)
    images = rng.standard_normal((STEPS, 8, 1, 8, 8)).astype(dtype)
    # a learnable task: the label is the brightest 4x4 quadrant
    quadrants = images.reshape(STEPS, 8, 2, 4, 2, 4).mean(axis=(3, 5)).reshape(STEPS, 8, 4)
    labels = quadrants.argmax(axis=2)
    ours = _model(dtype)
    theirs = ours.to_torch()
    make_ours, make_theirs = OPTIMIZERS[name]
    optimizer, reference = make_ours(ours.parameters()), make_theirs(theirs.parameters())
    criterion, their_criterion = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    worst, losses = 0.0, []
    for x, y in zip(images, labels):
        optimizer.zero_grad()
        loss = criterion(ours(x), y)
        ours.backward(criterion.backward())
        optimizer.step()
        reference.zero_grad()
        their_loss = their_criterion(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        their_loss.backward()
        reference.step()
        expected = float(their_loss.detach())
        worst = max(worst, abs(float(loss) - expected) / abs(expected))
        losses.append(float(loss))
    assert worst <= LOSS_TOLERANCE[dtype]
    assert np.mean(losses[-10:]) < 0.7 * np.log(4)  # it learned: well below a uniform guess over 4 classes
    for (key, value), their_value in zip(ours.state_dict().items(), theirs.state_dict().values()):
        if value.dtype.kind == "f":
            np.testing.assert_allclose(
                value, their_value.numpy(), rtol=0, atol=PARAMETER_TOLERANCE[dtype], err_msg=key
            )
