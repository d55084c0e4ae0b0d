"""nn.Residual: body(x) + shortcut(x), forward and backward as in PyTorch, read as a graph with an add."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convlab import nn
from convlab.errors import ArgumentTypeError, ShapeError
from convlab.network.as_graph import as_graph
from convlab.network.summary import analyse
from tests.oracle import numpy, tensor


def downsampling_block(seed: int) -> nn.Residual:
    """ResNet's downsampling block: two 3x3 convolutions (the first strided) and a strided 1x1 shortcut."""
    body = nn.Sequential(
        nn.Conv2d(3, 6, 3, stride=2, padding=1, bias=False, seed=seed, dtype=np.float64),
        nn.BatchNorm2d(6, dtype=np.float64),
        nn.ReLU(),
        nn.Conv2d(6, 6, 3, padding=1, seed=seed + 1, dtype=np.float64),
    )
    shortcut = nn.Sequential(
        nn.Conv2d(3, 6, 1, stride=2, seed=seed + 2, dtype=np.float64), nn.BatchNorm2d(6, dtype=np.float64)
    )
    return nn.Residual(body, shortcut)


def identity_block(seed: int) -> nn.Residual:
    return nn.Residual(
        nn.Sequential(
            nn.Conv2d(6, 6, 3, padding=1, seed=seed, dtype=np.float64),
            nn.Tanh(),
            nn.Conv2d(6, 6, 3, padding=1, seed=seed + 1, dtype=np.float64),
        )
    )


@pytest.mark.parametrize("training", [True, False])
def test_forward_and_backward_equal_torch(training: bool) -> None:
    model = nn.Sequential(downsampling_block(0), nn.ReLU(), identity_block(5)).train(training)
    reference = model.to_torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 11, 9))
    grad = rng.standard_normal((2, 6, 6, 5))
    ours = model(x)
    x_t = tensor(x, requires_grad=True)
    theirs = reference(x_t)
    np.testing.assert_allclose(ours, numpy(theirs), rtol=0, atol=1e-12)
    grad_x = model.backward(grad)
    theirs.backward(tensor(grad))
    np.testing.assert_allclose(grad_x, numpy(x_t.grad), rtol=0, atol=1e-12)
    torch_grads = {name: numpy(p.grad) for name, p in reference.named_parameters()}
    for name, parameter in model.named_parameters():
        np.testing.assert_allclose(parameter.grad, torch_grads[name], rtol=0, atol=1e-11, err_msg=name)


def test_identity_shortcut_passes_the_gradient_straight_through() -> None:
    """A body that outputs zeros leaves x itself, and the input's gradient is the output's, unchanged."""
    block = nn.Residual(nn.Conv2d(2, 2, 3, padding=1, bias=False, dtype=np.float64))
    block.body.weight[...] = 0.0
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 5))
    np.testing.assert_array_equal(block(x), x)
    np.testing.assert_array_equal(block.backward(np.ones_like(x)), np.ones_like(x))


def test_state_and_torch_round_trip_keep_the_names_and_values() -> None:
    block = downsampling_block(3)
    assert set(block.state_dict()) == set(block.to_torch().state_dict())
    back = nn.from_torch(block.to_torch())
    assert isinstance(back, nn.Residual)
    x = np.random.default_rng(2).standard_normal((1, 3, 8, 8))
    np.testing.assert_array_equal(back.eval()(x), block.eval()(x))


def test_the_graph_has_both_branches_and_an_add_with_the_fields_torch_tracing_gives() -> None:
    model = nn.Sequential(downsampling_block(0), identity_block(5))
    graph, _ = as_graph(model)
    assert [node.name for node in graph.nodes if node.op.kind == "add"] == ["0.add", "1.add"]
    assert graph.nodes[-1].inputs == ("1.body.2.conv2d", "0.add")
    ours = analyse(graph, (1, 3, 32, 32))[-1]
    theirs = analyse(as_graph(model.to_torch())[0], (1, 3, 32, 32))[-1]
    assert (ours.output_shape, ours.rf, ours.jump, ours.start) == (
        theirs.output_shape,
        theirs.rf,
        theirs.jump,
        theirs.start,
    )
    assert ours.rf == (15.0, 15.0)  # the stride-2 3x3 sees 3, each 3x3 after it at jump 2 adds 4: 3 + 3 * 4


def test_branches_of_different_shapes_are_refused_with_the_shortcut_that_fixes_them() -> None:
    block = nn.Residual(nn.Conv2d(2, 4, 3, stride=2, padding=1))
    with pytest.raises(
        ShapeError, match=r"body gives \(1, 4, 4, 4\) but the shortcut gives \(1, 2, 8, 8\)"
    ) as caught:
        block(np.zeros((1, 2, 8, 8), dtype=np.float32))
    assert "shortcut=Conv2d(in_channels, out_channels, 1, stride=" in (caught.value.fix or "")
    with pytest.raises(ArgumentTypeError, match="body is a str"):
        nn.Residual("conv3x3")  # type: ignore[arg-type]


def test_a_torch_module_named_residual_of_another_make_is_refused() -> None:
    class Residual(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 2, 3, padding=1)

    with pytest.raises(ArgumentTypeError, match="no body and shortcut"):
        nn.from_torch(Residual())
