"""convlab.train.fit: the loop, its History, its checks; evaluation; agreement with the same run in PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convlab import data, nn, optim
from convlab.errors import ArgumentError, ArgumentTypeError, ShapeError, StateError
from convlab.network.sequential import sequential
from convlab.train import History, Recipe, Step, evaluate, fit, predict
from convlab.train.fit import epoch_seed

SMALL = "conv3x3(4,p1) bn relu maxpool2 flatten linear(10)"


def _digits(n: int = 160) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    x, y = data.digits("train")
    tx, ty = data.digits("test")
    return (x[:n], y[:n]), (tx[:100], ty[:100])


def _setup(lr: float = 0.05, seed: int = 0) -> tuple[nn.Sequential, optim.Optimizer]:
    model = sequential(SMALL, "1x8x8", seed=seed)
    return model, optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def test_fit_records_every_epoch_and_step_and_learns() -> None:
    train, test = _digits()
    model, optimizer = _setup()
    steps: list[Step] = []
    epochs_seen: list[int] = []
    history = fit(
        model, train, test, optimizer, nn.CrossEntropyLoss(), 4, batch_size=32,
        on_step=steps.append, on_epoch=lambda epoch, h: epochs_seen.append(epoch),
    )  # fmt: skip
    assert isinstance(history, History)
    assert history.epochs == 4
    assert epochs_seen == [1, 2, 3, 4]
    per_epoch = math.ceil(160 / 32)
    assert len(history.step_losses) == len(steps) == 4 * per_epoch
    assert [s.step for s in steps[:per_epoch]] == list(range(1, per_epoch + 1))
    for values in (history.train_loss, history.train_accuracy, history.test_loss, history.test_accuracy):
        assert len(values) == 4
    assert history.train_loss[-1] < history.train_loss[0] / 2
    assert history.test_accuracy[-1] > 0.6  # 160 images, 4 epochs: far above the 0.1 of chance
    # the test scores are the model's own, in eval mode, after the last epoch, scored in fit's batches (a
    # product over another number of rows may round its last bit otherwise)
    loss, accuracy = evaluate(model, *test, nn.CrossEntropyLoss(), batch_size=32)
    assert (loss, accuracy) == (history.test_loss[-1], history.test_accuracy[-1])
    assert accuracy == np.mean(predict(model, test[0]).argmax(axis=1) == test[1])
    assert model.training  # fit leaves the model as it trained it
    record = history.to_dict()
    assert record["test_accuracy"] == history.test_accuracy[-1]
    assert record["seconds"] == sum(history.seconds)


def test_fit_is_the_loop_written_by_hand() -> None:
    train, _ = _digits(96)
    model, optimizer = _setup(seed=2)
    history = fit(model, train, None, optimizer, nn.CrossEntropyLoss(), 2, batch_size=20, seed=5)
    by_hand, manual = _setup(seed=2)
    criterion, losses = nn.CrossEntropyLoss(), []
    for epoch in (1, 2):
        for x, y in data.batches(*train, batch_size=20, seed=epoch_seed(5, epoch)):
            manual.zero_grad()
            losses.append(float(criterion(by_hand(x), y)))
            by_hand.backward(criterion.backward())
            manual.step()
    assert history.step_losses == losses
    assert all(np.array_equal(a, b) for a, b in zip(model.parameters(), by_hand.parameters()))
    assert history.test_loss == [None, None]
    assert history.test_accuracy == [None, None]


@pytest.mark.parametrize("recipe", [Recipe("adam", 0.01, 0.0, 2, 16, 3), Recipe("sgd", 0.05, 0.01, 2, 16, 3)])
def test_fit_matches_the_same_run_in_torch(recipe: Recipe) -> None:
    pytest.importorskip("torch")
    from convlab.train.with_torch import torch_step_losses

    train, _ = _digits(128)
    model = sequential(SMALL, "1x8x8", seed=1)
    initial = model.state_dict()
    optimizer, schedule = recipe.make(model.parameters())
    history = fit(
        model, train, None, optimizer, nn.CrossEntropyLoss(), recipe.epochs,
        batch_size=recipe.batch_size, seed=recipe.seed, schedule=schedule,
    )  # fmt: skip
    theirs = torch_step_losses(SMALL, (1, 8, 8), initial, train, recipe)
    np.testing.assert_allclose(history.step_losses, theirs, rtol=1e-4)  # float32 over 16 steps


@pytest.mark.parametrize(
    ("labels", "error", "words"),
    [
        (lambda y: np.where(y == 9, 10, y), ArgumentError, ["class 10", "0..9", "linear(11)"]),
        (lambda y: y - 1, ArgumentError, ["class -1", "labels - -1"]),
        (lambda y: y[:, None], ShapeError, ["(160, 1)", "(160,)"]),
        (lambda y: y.astype(np.float32), ArgumentTypeError, ["float32", "astype(np.int64)"]),
        (lambda y: y[:-1], ShapeError, ["160 train images", "(159,)"]),
    ],
)
def test_labels_that_cannot_train_are_refused_before_the_first_step(labels, error, words) -> None:  # type: ignore[no-untyped-def]
    (x, y), test = _digits()
    model, optimizer = _setup()
    before = model.state_dict()
    with pytest.raises(error) as raised:
        fit(model, (x, labels(y)), test, optimizer, nn.CrossEntropyLoss(), 1)
    text = str(raised.value)
    assert all(word in text for word in words), text
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())  # nothing was trained


def test_test_labels_are_checked_too() -> None:
    train, (tx, ty) = _digits()
    model, optimizer = _setup()
    with pytest.raises(ArgumentError, match="test labels hold class 12"):
        fit(model, train, (tx, np.where(ty == 0, 12, ty)), optimizer, nn.CrossEntropyLoss(), 1)


def test_an_empty_data_set_and_a_batch_size_of_zero_are_refused() -> None:
    (x, y), test = _digits()
    model, optimizer = _setup()
    with pytest.raises(ArgumentError, match="train set is empty"):
        fit(model, (x[:0], y[:0]), test, optimizer, nn.CrossEntropyLoss(), 1)
    with pytest.raises(ArgumentError, match="batch_size") as raised:
        fit(model, (x, y), test, optimizer, nn.CrossEntropyLoss(), 1, batch_size=0)
    assert "batch_size=1" in (raised.value.fix or "")


@pytest.mark.parametrize("lr", [0.0, -0.1, math.nan, math.inf])
def test_a_learning_rate_that_cannot_train_is_refused(lr: float) -> None:
    train, test = _digits()
    model, optimizer = _setup()
    with pytest.raises(ArgumentError, match="lr"):
        optim.SGD(model.parameters(), lr=lr)
    optimizer.lr = lr  # set after the optimizer was made
    with pytest.raises(ArgumentError, match=f"lr={lr!r}") as raised:
        fit(model, train, test, optimizer, nn.CrossEntropyLoss(), 1)
    assert "lr=0.01" in (raised.value.fix or "")


def test_a_loss_that_becomes_nan_stops_training_at_its_step() -> None:
    # y = w x on x = 10: each SGD step multiplies w's error by (1 - 2 * lr * 100), -199 at lr=1
    x, y = np.full((400, 1), 10.0), np.zeros((400, 1))
    model = nn.Linear(1, 1, bias=False, dtype=np.float64, seed=0)
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    with pytest.raises(
        ArgumentError, match=r"the loss became (inf|nan) at step \d+ \(epoch 1, batch \d+\)"
    ) as raised:
        fit(model, (x, y), None, optimizer, nn.MSELoss(), 1000, batch_size=4)
    step = int(str(raised.value).split(" at step ")[1].split()[0])
    assert 30 < step < 100  # (199**k)**2 overflows float64 after about 67 steps: it stopped there, not later
    assert "smaller learning rate, e.g. lr=0.1" in (raised.value.fix or "")


def test_a_model_whose_output_is_not_logits_is_refused() -> None:
    train, test = _digits()
    model = sequential("conv3x3(10,p1) relu", "1x8x8")
    with pytest.raises(ShapeError, match=r"\(1, 10, 8, 8\)") as raised:
        fit(model, train, test, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), 1)
    assert "flatten" in (raised.value.fix or "")


def test_regression_targets_of_another_shape_are_refused() -> None:
    model = nn.Linear(3, 2, seed=0)
    with pytest.raises(ShapeError, match=r"target of shape \(8, 3\)"):
        fit(
            model,
            (np.ones((8, 3), np.float32), np.ones((8, 3), np.float32)),
            None,
            optim.SGD(model.parameters(), lr=0.1),
            nn.MSELoss(),
            1,
        )


def test_backward_before_forward_is_a_state_error() -> None:
    model, _ = _setup()
    with pytest.raises(StateError, match="before forward"):
        model.backward(np.ones((1, 10), np.float32))
    with pytest.raises(StateError, match="before the loss was computed"):
        nn.CrossEntropyLoss().backward()
