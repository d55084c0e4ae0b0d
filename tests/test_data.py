"""convlab.data: the bundled UCI digits, the generated shapes and the seeded batch iterator."""

from __future__ import annotations

import numpy as np
import pytest

from convlab.data import SHAPE_CLASSES, batches, digits, shapes
from convlab.errors import ArgumentError, ArgumentTypeError, ShapeError

# Images per digit 0..9 in the whole UCI data set, as its documentation lists them.
UCI_CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_are_the_uci_set_split_1347_and_450() -> None:
    (train, train_labels), (test, test_labels) = digits("train"), digits("test")
    assert train.shape == (1347, 1, 8, 8)
    assert test.shape == (450, 1, 8, 8)
    for images, labels in ((train, train_labels), (test, test_labels)):
        assert images.dtype == np.float32
        assert labels.dtype == np.int64
        assert images.min() == 0.0
        assert images.max() == 1.0
        np.testing.assert_array_equal(images * 16, np.round(images * 16))  # the original counts 0..16
        assert set(labels.tolist()) == set(range(10))  # the shuffle put every digit in both splits
    total = np.bincount(train_labels, minlength=10) + np.bincount(test_labels, minlength=10)
    assert total.tolist() == UCI_CLASS_COUNTS


def test_digits_refuses_an_unknown_split() -> None:
    with pytest.raises(ArgumentError, match='split="test"'):
        digits("validation")


def test_shapes_are_balanced_seeded_and_in_range() -> None:
    images, labels, names = shapes(70, size=20, seed=4)
    assert names == SHAPE_CLASSES
    assert images.shape == (70, 1, 20, 20)
    assert images.dtype == np.float32
    assert labels.dtype == np.int64
    assert images.min() >= 0
    assert images.max() <= 1
    assert np.bincount(labels).tolist() == [10] * len(names)
    again, again_labels, _ = shapes(70, size=20, seed=4)
    np.testing.assert_array_equal(again, images)
    np.testing.assert_array_equal(again_labels, labels)
    assert not np.array_equal(shapes(70, size=20, seed=5)[0], images)


def _ink(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # stroke pixels: 0.4 or more from the background (most of the image), brighter or darker; noise has sigma 0.08
    rows, columns = np.nonzero(np.abs(image - np.median(image)) > 0.3)
    return rows.astype(float), columns.astype(float)


def test_each_line_class_has_its_orientation() -> None:
    images, labels, names = shapes(140, seed=0)
    expected = {"horizontal line": 0, "vertical line": 90, "diagonal line /": 45, "diagonal line \\": 135}
    for image, label in zip(images[:, 0], labels):
        if names[label] not in expected:
            continue
        rows, columns = _ink(image)
        # the stroke's long axis: the covariance's main direction (y = -row, so angles read as seen)
        spread = np.cov(np.stack([columns, -rows]))
        _, axes = np.linalg.eigh(spread)
        angle = np.degrees(np.arctan2(axes[1, -1], axes[0, -1])) % 180
        apart = abs((angle - expected[names[label]] + 90) % 180 - 90)
        assert apart < 16  # drawn within 8 degrees; a short thick stroke's whole pixels add a few more


def test_circles_are_hollow_and_crosses_are_not() -> None:
    images, labels, names = shapes(70, seed=1)
    for image, label in zip(images[:, 0], labels):
        rows, columns = _ink(image)
        centre = (int(np.rint(rows.mean())), int(np.rint(columns.mean())))
        ink = abs(image[centre] - np.median(image)) > 0.25
        if names[label] == "circle":
            assert not ink
        if names[label] == "cross":
            assert ink


def test_shape_edges_come_at_every_orientation_equally_often() -> None:
    images = shapes(700, seed=2)[0][:, 0].astype(np.float64)
    down, right = np.gradient(images, axis=(1, 2))
    strength = np.hypot(down, right)
    orientation = np.degrees(np.arctan2(-down, right)) % 180  # an edge and its opposite are one orientation
    edges = strength > 0.1  # above what the noise alone gives most pixels
    share = np.bincount((orientation[edges] // 22.5).astype(int), weights=strength[edges], minlength=8)
    # the four line classes alone would put 4 of 8 bins far above the rest; turned shapes fill them all
    assert share.max() < 1.25 * share.min()


def test_brightness_tells_no_class_apart() -> None:
    images, labels, names = shapes(350, seed=3)
    stroke = np.abs(images[:, 0] - np.median(images[:, 0], axis=(1, 2), keepdims=True)) > 0.25
    for index in range(len(names)):
        of_class = images[labels == index, 0]
        brightness = of_class.mean(axis=(1, 2))
        assert brightness.min() < 0.3  # dark backgrounds and bright ones
        assert brightness.max() > 0.7
        # strokes brighter than their background and strokes darker, in every class
        inks = stroke[labels == index]
        darker = [(image[ink] < np.median(image)).mean() > 0.5 for image, ink in zip(of_class, inks)]
        assert 0 < sum(darker) < len(darker)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [({"n": 0}, ArgumentError), ({"n": 5, "size": 8}, ArgumentError), ({"n": 2.5}, ArgumentTypeError)],
)
def test_shapes_refuses_bad_arguments(arguments: dict[str, object], error: type) -> None:
    with pytest.raises(error, match="fix:"):
        shapes(**arguments)  # type: ignore[arg-type]


def test_batches_cover_every_example_once_in_a_seeded_order() -> None:
    images, labels = np.arange(23)[:, None] * np.ones((23, 3)), np.arange(23)
    epoch = list(batches(images, labels, 5, seed=1))
    assert [len(y) for _, y in epoch] == [5, 5, 5, 5, 3]
    seen = np.concatenate([y for _, y in epoch])
    assert sorted(seen.tolist()) == list(range(23))
    assert seen.tolist() != list(range(23))  # shuffled
    for x, y in epoch:
        np.testing.assert_array_equal(x[:, 0], y)  # images stay with their labels
    assert [y.tolist() for _, y in batches(images, labels, 5, seed=1)] == [y.tolist() for _, y in epoch]
    assert [y.tolist() for _, y in batches(images, labels, 5, seed=2)] != [y.tolist() for _, y in epoch]
    assert np.concatenate([y for _, y in batches(images, labels, 5, shuffle=False)]).tolist() == list(range(23))


def test_batches_refuses_bad_input() -> None:
    with pytest.raises(ArgumentError, match="batch_size"):
        next(batches(np.zeros((4, 1)), np.zeros(4), 0))
    with pytest.raises(ArgumentError, match="empty"):
        next(batches(np.zeros((0, 1)), np.zeros(0), 2))
    with pytest.raises(ShapeError, match="one label per image"):
        next(batches(np.zeros((4, 1)), np.zeros(3), 2))
