"""Every bad input gets a convlab error that names the argument, restates the value and gives a fix."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import convlab.functional as F
from convlab import nn
from convlab.errors import ArgumentError, ArgumentTypeError, ConvlabError, DtypeError, ShapeError, StateError
from tests.oracle import count

x = np.zeros((1, 3, 8, 8), dtype=np.float32)
w = np.zeros((4, 3, 3, 3), dtype=np.float32)

CASES: list[tuple[str, Callable[[], object], type[ConvlabError], list[str]]] = [
    (
        "2-D input",
        lambda: F.conv2d(np.zeros((8, 8), np.float32), w),
        ShapeError,
        ["(N, C, H, W)", "(8, 8)", "2 dims", "input = input[None, None]"],
    ),
    (
        "5-D input",
        lambda: F.conv2d(np.zeros((1, 1, 3, 8, 8), np.float32), w),
        ShapeError,
        ["5 dims", "(1, 1, 3, 8, 8)"],
    ),
    (
        "channels do not match",
        lambda: F.conv2d(np.zeros((1, 8, 8, 8), np.float32), w),
        ShapeError,
        ["input has 8 channels", "expects 3", "(1, 8, 8, 8)", "(4, 3, 3, 3)", "nn.Conv2d(8, 4, 3)"],
    ),
    (
        "groups do not divide the input channels",
        lambda: F.conv2d(x, np.zeros((4, 1, 3, 3), np.float32), groups=2),
        ShapeError,
        ["3 channels", "1 x groups 2 = 2"],
    ),
    (
        "groups do not divide the output channels",
        lambda: F.conv2d(np.zeros((1, 4, 8, 8), np.float32), np.zeros((3, 2, 3, 3), np.float32), groups=2),
        ArgumentError,
        ["groups=2", "3 output channels"],
    ),
    (
        "kernel larger than the padded input",
        lambda: F.conv2d(x, np.zeros((4, 3, 9, 9), np.float32)),
        ShapeError,
        ["spans 9", "only 8", "pad by at least 1"],
    ),
    (
        "dilation makes the kernel too large",
        lambda: F.conv2d(x, w, dilation=4),
        ShapeError,
        ["4*(3-1)+1", "only 8"],
    ),
    ("negative padding", lambda: F.conv2d(x, w, padding=-1), ArgumentError, ["padding", "-1", "padding=0"]),
    ("zero stride", lambda: F.conv2d(x, w, stride=0), ArgumentError, ["stride must be positive", "got 0"]),
    ("zero dilation in a pair", lambda: F.conv2d(x, w, dilation=(1, 0)), ArgumentError, ["dilation", "got 0"]),
    (
        "unknown padding string",
        lambda: F.conv2d(x, w, padding="full"),
        ArgumentError,
        ["'full'", "'same'", "'valid'"],
    ),
    (
        "unknown padding_mode",
        lambda: F.conv2d(x, w, padding=1, padding_mode="mirror"),
        ArgumentError,
        ["'mirror'", "'reflect'", "'circular'"],
    ),
    (
        "reflect padding too large",
        lambda: F.conv2d(x, w, padding=8, padding_mode="reflect"),
        ArgumentError,
        ["reflect", "less than H=8", "padding 8"],
    ),
    (
        "circular padding too large",
        lambda: F.conv2d(x, w, padding=9, padding_mode="circular"),
        ArgumentError,
        ["circular", "at most H=8", "padding 9"],
    ),
    (
        "output_padding too large",
        lambda: F.conv_transpose2d(x, w.transpose(1, 0, 2, 3), stride=2, output_padding=2),
        ArgumentError,
        ["output_padding=(2, 2)", "stride=(2, 2)", "output_padding=1"],
    ),
    ("bool as an int", lambda: F.conv2d(x, w, stride=True), ArgumentTypeError, ["stride", "bool True"]),
    (
        "float as an int",
        lambda: F.conv2d(x, w, stride=2.0),
        ArgumentTypeError,
        ["stride", "2.0 (float)", "stride=2"],
    ),
    ("NaN padding", lambda: F.conv2d(x, w, padding=float("nan")), ArgumentTypeError, ["padding", "nan"]),
    ("infinite stride", lambda: F.conv2d(x, w, stride=np.inf), ArgumentTypeError, ["stride", "inf"]),
    (
        "three values for a pair",
        lambda: F.conv2d(x, w, stride=(1, 1, 1)),
        ArgumentError,
        ["(1, 1, 1)", "3 values"],
    ),
    ("a string stride", lambda: F.conv2d(x, w, stride="2"), ArgumentTypeError, ["stride", "'2' (str)"]),
    (
        "'same' with stride 2",
        lambda: F.conv2d(x, w, stride=2, padding="same"),
        ArgumentError,
        ["'same'", "stride=(2, 2)", "padding=(1, 1)"],
    ),
    (
        "bias of the wrong length",
        lambda: F.conv2d(x, w, bias=np.zeros(3, np.float32)),
        ShapeError,
        ["(4,)", "got (3,)"],
    ),
    (
        "2-D weight",
        lambda: F.conv2d(x, np.zeros((3, 3), np.float32)),
        ShapeError,
        ["weight", "(3, 3)", "weight[None, None]"],
    ),
    ("complex input", lambda: F.conv2d(x.astype(complex), w), ArgumentTypeError, ["complex128", "real numbers"]),
    (
        "ragged nested lists",
        lambda: F.conv2d([[[1, 2], [3]]], w),
        ArgumentTypeError,
        ["could not be read", "equal length"],
    ),
    ("string input", lambda: F.conv2d(np.array([["a"]]), w), ArgumentTypeError, ["real numbers"]),
    (
        "float64 input with float32 weight",
        lambda: F.conv2d(x.astype(np.float64), w),
        DtypeError,
        ["input is float64", "weight is float32", "input = input.astype(np.float32)"],
    ),
    (
        "pool padding above half the kernel",
        lambda: F.max_pool2d(x, 2, padding=2),
        ArgumentError,
        ["padding=(2, 2)", "kernel_size=(2, 2)", "padding=1"],
    ),
    ("pool window larger than the input", lambda: F.avg_pool2d(x, 9), ShapeError, ["spans 9", "only 8"]),
    ("ceil_mode not a bool", lambda: F.max_pool2d(x, 2, ceil_mode=1), ArgumentTypeError, ["ceil_mode", "1"]),
    (
        "divisor_override of zero",
        lambda: F.avg_pool2d(x, 2, divisor_override=0),
        ArgumentError,
        ["divisor_override"],
    ),
    (
        "grad_output of the wrong shape",
        lambda: F.conv2d_input_grad(x.shape, w, np.zeros((1, 4, 5, 5), np.float32)),
        ShapeError,
        ["(1, 4, 6, 6)", "(1, 4, 5, 5)"],
    ),
    (
        "an array as input_shape",
        lambda: F.conv2d_input_grad(x, w, np.zeros((1, 4, 6, 6), np.float32)),
        ArgumentTypeError,
        ["input_shape", "array of shape (1, 3, 8, 8)", "x.shape"],
    ),
    (
        "transposed padding crops everything",
        lambda: F.conv_transpose2d(np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1, 1)), padding=1),
        ShapeError,
        ["output H would be -1"],
    ),
    (
        "transposed 'same'",
        lambda: F.conv_transpose2d(x, w.transpose(1, 0, 2, 3), padding="same"),
        ArgumentError,
        ["'same'"],
    ),
    ("empty channel axis", lambda: F.conv2d(np.zeros((1, 0, 8, 8), np.float32), w), ShapeError, ["empty"]),
    (
        "Linear with the wrong in_features",
        lambda: nn.Linear(10, 2)(np.zeros((1, 12), np.float32)),
        ShapeError,
        ["in_features=10", "(1, 12)", "Linear(12, 2)"],
    ),
    (
        "Conv2d channels not divisible by groups",
        lambda: nn.Conv2d(3, 8, 3, groups=2),
        ArgumentError,
        ["in_channels=3", "groups=2"],
    ),
    (
        "Conv2d 'same' with stride 2",
        lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"),
        ArgumentError,
        ["'same'"],
    ),
    ("Conv2d zero channels", lambda: nn.Conv2d(0, 8, 3), ArgumentError, ["in_channels", "got 0"]),
    (
        "assigning a weight of the wrong shape",
        lambda: setattr(nn.Conv2d(3, 8, 3), "weight", np.zeros((3, 3))),
        ShapeError,
        ["(8, 3, 3, 3)", "(3, 3)"],
    ),
    (
        "backward before forward",
        lambda: nn.Conv2d(3, 8, 3).backward(np.zeros((1, 8, 6, 6))),
        StateError,
        ["before forward"],
    ),
    (
        "ConvTranspose2d padding_mode",
        lambda: nn.ConvTranspose2d(3, 8, 3, padding_mode="reflect"),
        ArgumentError,
        ["'zeros'", "'reflect'"],
    ),
    (
        "ConvTranspose2d output_padding",
        lambda: nn.ConvTranspose2d(3, 8, 3, output_padding=1),
        ArgumentError,
        ["output_padding=(1, 1)"],
    ),
    ("layer dtype", lambda: nn.Conv2d(3, 8, 3, dtype=np.int32), ArgumentError, ["dtype", "float32"]),
    ("MaxPool2d padding", lambda: nn.MaxPool2d(2, padding=2), ArgumentError, ["padding=2", "kernel_size=2"]),
    ("Sequential of a non-layer", lambda: nn.Sequential(nn.ReLU(), len), ArgumentTypeError, ["layer 1"]),
    (
        "Flatten beyond the input",
        lambda: nn.Flatten(start_dim=3)(np.zeros((2, 3))),
        ArgumentError,
        ["start_dim=3"],
    ),
    (
        "from_torch of an unknown layer",
        lambda: nn.from_torch(torch.nn.GroupNorm(1, 3)),
        ArgumentTypeError,
        ["GroupNorm"],
    ),
    ("pad with a negative width", lambda: F.pad(x, (1, -1, 0, 0)), ArgumentError, ["pad", "-1"]),
]


@pytest.mark.parametrize(("name", "call", "error", "phrases"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_gets_a_message_with_the_values_and_a_fix(
    name: str, call: Callable[[], object], error: type[ConvlabError] | None, phrases: list[str]
) -> None:
    if error is None:  # a valid neighbour of the bad cases, to show the check is not over-eager
        call()
        return
    with pytest.raises(error) as raised:
        call()
    message = str(raised.value)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in:\n{message}"
    first_line = message.splitlines()[0]
    assert len(first_line) < 160, "the first line must stand alone and stay short"
    assert raised.value.fix is not None, "every error offers one concrete fix"


def test_a_valid_neighbour_of_the_bad_pads_is_answered_like_torch() -> None:
    """The check is not over-eager: a plain pad of the same input gives PyTorch's values."""
    values = np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
    theirs = torch.nn.functional.pad(torch.from_numpy(values), (1, 1)).numpy()
    np.testing.assert_array_equal(F.pad(values, (1, 1)), theirs)


def test_errors_are_also_the_builtin_exceptions_python_users_catch() -> None:
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(TypeError, match="stride"):
        F.conv2d(x, w, stride=1.5)


# Arguments as a user might type them, right or wrong.
ints = st.one_of(st.integers(-2, 4), st.tuples(st.integers(-1, 4), st.integers(-1, 4)))
odd = st.sampled_from([True, 1.5, 2.0, "1", (1, 2, 3), [1], None, float("nan")])


@settings(max_examples=400)
@given(
    input_shape=st.lists(st.integers(0, 7), min_size=2, max_size=5),
    weight_shape=st.lists(st.integers(0, 4), min_size=2, max_size=5),
    stride=st.one_of(ints, odd),
    padding=st.one_of(ints, st.sampled_from(["same", "valid", "full"]), odd),
    dilation=st.one_of(ints, odd),
    groups=st.one_of(st.integers(0, 4), odd),
    with_bias=st.booleans(),
)
def test_any_arguments_give_torchs_answer_or_a_convlab_error(
    input_shape: list[int],
    weight_shape: list[int],
    stride: object,
    padding: object,
    dilation: object,
    groups: object,
    with_bias: bool,
) -> None:
    """Never a raw NumPy error, never a wrong answer: where convlab answers, PyTorch gives the same answer."""
    count("conv2d with arbitrary arguments")
    rng = np.random.default_rng(0)
    xs = rng.standard_normal(input_shape)
    ws = rng.standard_normal(weight_shape)
    bias = rng.standard_normal(weight_shape[0]) if with_bias else None

    def theirs() -> np.ndarray:
        bias_t = None if bias is None else torch.tensor(bias)
        return torch.nn.functional.conv2d(
            torch.tensor(xs),
            torch.tensor(ws),
            bias_t,
            stride,
            padding,
            dilation,
            groups,  # type: ignore[arg-type]
        ).numpy()

    try:
        ours = F.conv2d(xs, ws, bias, stride, padding, dilation, groups)
    except ConvlabError:
        # convlab refuses more than PyTorch only on purpose: bools, floats and strings where ints belong,
        # and arrays with an empty channel or spatial axis; anything else it refuses, PyTorch refuses too
        well_typed = all(_plain(v) for v in (stride, dilation, groups)) and (
            padding in ("same", "valid") or _plain(padding)
        )
        # an empty batch is no reason to refuse: PyTorch answers it, and so must convlab
        if well_typed and min(input_shape[1:] + weight_shape) > 0:
            with pytest.raises((RuntimeError, ValueError, TypeError)):
                theirs()
        return
    np.testing.assert_allclose(ours, theirs(), rtol=1e-10, atol=1e-10)


def _plain(value: object) -> bool:
    """An int, or a pair of ints, as PyTorch's signature means them (no bools)."""

    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    return is_int(value) or (isinstance(value, tuple) and len(value) == 2 and all(is_int(v) for v in value))


def test_a_convlab_error_holds_only_the_fields_it_declares() -> None:
    """Every attribute an error carries is declared on ConvlabError (no attribute is added to an error later):
    made from an engine call, from a layer string and from the command line's translation."""
    import ast
    import inspect
    from pathlib import Path

    import convlab
    from convlab.cli import build_parser
    from convlab.cli.fixes import command_flags, in_flags

    declared = set(inspect.get_annotations(ConvlabError))
    assert {"message", "evidence", "fix", "call", "diagnosis"} <= declared
    made = []
    for raising in (
        lambda: F.conv2d(np.ones((1, 3, 3)), np.ones((1, 1, 5, 5))),
        lambda: convlab.summary("conv3x3(8,s2,psame)", (1, 28, 28)),
        lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"),
    ):
        with pytest.raises(ConvlabError) as raised:
            raising()
        made.append(raised.value)
    args = build_parser().parse_args(
        ["size", "--input", "7", "--kernel", "3", "--stride", "2", "--padding", "same"]
    )
    made.append(in_flags(made[-1], command_flags(args), args.command_parser.prog))
    for error in made:
        assert set(vars(error)) <= declared, set(vars(error)) - declared

    # and no module sets one of them on an error it did not make: only ConvlabError's own __init__ assigns them
    source = Path(convlab.__file__).parent
    assigned = [
        f"{path.relative_to(source)}:{node.lineno}"
        for path in source.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute)
        and target.attr in {"fix", "diagnosis", "call", "evidence"}
        and not (isinstance(target.value, ast.Name) and target.value.id == "self" and path.name == "errors.py")
    ]
    assert not assigned, assigned
