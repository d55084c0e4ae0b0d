"""The catalogue of common mistakes: each as wrong code, the fix, and the same mistake in PyTorch.

The catalogue is data, run by the tests (the wrong code must give convlab's
diagnosis, the fixed code must run cleanly) and by ``docs/make_mistakes.py``,
which writes ``docs/mistakes.md`` with PyTorch's own message captured by
running the PyTorch version. Code runs with ``np``, ``F`` (convlab.functional),
``nn`` (convlab.nn) and ``convlab`` in scope; PyTorch code with ``torch``.

Kinds:

* ``error``: the wrong code raises a convlab error with this diagnosis;
* ``warning``: it runs, with a ``ConvlabWarning`` (a quiet trap);
* ``check``: ``convlab.check`` reports it before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATALOGUE", "Mistake", "Outcome", "run"]


@dataclass(frozen=True)
class Mistake:
    code: str  # the Diagnosis code convlab gives
    title: str
    kind: str  # "error", "warning" or "check"
    setup: str
    wrong: str
    fixed: str
    torch: str | None = None  # the same mistake in PyTorch, to capture its message


CATALOGUE = (
    Mistake(
        "channels-last",
        "Image batch in [N, H, W, C] (the lesson's first mistake, and exercise 5)",
        "error",
        "x = np.zeros((1, 32, 32, 3), np.float32)\nconv = nn.Conv2d(3, 8, 3)",
        "conv(x)",
        "conv(x.transpose(0, 3, 1, 2))",
        "torch.nn.Conv2d(3, 8, 3)(torch.zeros(1, 32, 32, 3))",
    ),
    Mistake(
        "hwc-image",
        "An image as PIL or Matplotlib read it, (H, W, C), passed as is",
        "error",
        "image = np.zeros((32, 32, 3), np.float32)\nconv = nn.Conv2d(3, 8, 3)",
        "conv(image)",
        "conv(image.transpose(2, 0, 1)[None])",
        "torch.nn.Conv2d(3, 8, 3)(torch.zeros(32, 32, 3))",
    ),
    Mistake(
        "grayscale-without-channel",
        "A batch of grayscale images that lost its channel axis",
        "error",
        "x = np.zeros((8, 28, 28), np.float32)\nconv = nn.Conv2d(1, 4, 3)",
        "conv(x)",
        "conv(x[:, None])",
        "torch.nn.Conv2d(1, 4, 3)(torch.zeros(8, 28, 28))",
    ),
    Mistake(
        "missing-batch-and-channel",
        "A bare (H, W) image: no batch, no channel axis",
        "error",
        "image = np.zeros((28, 28), np.float32)\nconv = nn.Conv2d(1, 4, 3)",
        "conv(image)",
        "conv(image[None, None])",
        "torch.nn.Conv2d(1, 4, 3)(torch.zeros(28, 28))",
    ),
    Mistake(
        "extra-axis",
        "A batch axis added to something that already had one",
        "error",
        "x = np.zeros((1, 1, 3, 8, 8), np.float32)\nconv = nn.Conv2d(3, 4, 3)",
        "conv(x)",
        "conv(x[0])",
        "torch.nn.Conv2d(3, 4, 3)(torch.zeros(1, 1, 3, 8, 8))",
    ),
    Mistake(
        "flatten-without-batch",
        "Forgetting the batch dimension before a model with a classifier head",
        "error",
        "model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 8 * 8, 10))\n"
        "image = np.zeros((3, 8, 8), np.float32)",
        "model(image)",
        "model(image[None])",
        "torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Flatten(), "
        "torch.nn.Linear(256, 10))(torch.zeros(3, 8, 8))",
    ),
    Mistake(
        "extra-batch-axis",
        "A single image with a batch axis where one (H, W) matrix is expected",
        "error",
        "image = np.zeros((1, 1, 4, 4), np.float32)",
        "convlab.labs.run('manual_conv', image=image)",
        "convlab.labs.run('manual_conv', image=image[0, 0])",
    ),
    Mistake(
        "in-channels",
        "Wrong in_channels (the lesson's second mistake)",
        "error",
        "x = np.zeros((1, 16, 8, 8), np.float32)",
        "nn.Conv2d(8, 4, 3)(x)",
        "nn.Conv2d(16, 4, 3)(x)",
        "torch.nn.Conv2d(8, 4, 3)(torch.zeros(1, 16, 8, 8))",
    ),
    Mistake(
        "grayscale-into-rgb",
        "Grayscale images into a first layer built for RGB",
        "error",
        "x = np.zeros((1, 1, 32, 32), np.float32)\nconv = nn.Conv2d(3, 8, 3)",
        "conv(x)",
        "conv(np.repeat(x, 3, axis=1))",
        "torch.nn.Conv2d(3, 8, 3)(torch.zeros(1, 1, 32, 32))",
    ),
    Mistake(
        "rgb-into-grayscale",
        "RGB images into a first layer built for grayscale",
        "error",
        "x = np.zeros((1, 3, 28, 28), np.float32)\nconv = nn.Conv2d(1, 8, 3)",
        "conv(x)",
        "conv(x.mean(axis=1, keepdims=True))",
        "torch.nn.Conv2d(1, 8, 3)(torch.zeros(1, 3, 28, 28))",
    ),
    Mistake(
        "rgba-into-rgb",
        "A PNG with an alpha channel into an RGB layer",
        "error",
        "x = np.zeros((1, 4, 32, 32), np.float32)\nconv = nn.Conv2d(3, 8, 3)",
        "conv(x)",
        "conv(x[:, :3])",
        "torch.nn.Conv2d(3, 8, 3)(torch.zeros(1, 4, 32, 32))",
    ),
    Mistake(
        "linear-in-features",
        "Linear after Flatten with the wrong in_features (LeNet on 28x28 instead of 32x32)",
        "error",
        "model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),\n"
        "                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))\n"
        "x = np.zeros((1, 1, 28, 28), np.float32)",
        "model(x)",
        "model.layers[7] = nn.Linear(256, 10)\nmodel(x)",
        "torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), "
        "torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), "
        "torch.nn.Linear(400, 10))(torch.zeros(1, 1, 28, 28))",
    ),
    Mistake(
        "linear-on-image",
        "A fully connected layer on an image that was never flattened",
        "error",
        "features = np.zeros((2, 16, 4, 4), np.float32)",
        "nn.Linear(256, 10)(features)",
        "nn.Sequential(nn.Flatten(), nn.Linear(256, 10))(features)",
        "torch.nn.Linear(256, 10)(torch.zeros(2, 16, 4, 4))",
    ),
    Mistake(
        "kernel-larger-than-input",
        "A kernel larger than the padded input (kernel size taken for output size)",
        "error",
        "x = np.zeros((1, 1, 5, 5), np.float32)\nw = np.zeros((1, 1, 7, 7), np.float32)",
        "F.conv2d(x, w)",
        "F.conv2d(x, w, padding=1)",
        "torch.nn.functional.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 7, 7))",
    ),
    Mistake(
        "dilation-too-large",
        "Dilation that makes the effective kernel larger than the input",
        "error",
        "x = np.zeros((1, 1, 8, 8), np.float32)\nw = np.zeros((1, 1, 3, 3), np.float32)",
        "F.conv2d(x, w, dilation=4)",
        "F.conv2d(x, w, dilation=3)",
        "torch.nn.functional.conv2d(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 3, 3), dilation=4)",
    ),
    Mistake(
        "kernel-larger-than-input",
        "An output that shrinks to nothing deep in a stack (the layer is named)",
        "error",
        "model = nn.Sequential(nn.Conv2d(1, 4, 5), nn.MaxPool2d(2), nn.Conv2d(4, 8, 5), nn.MaxPool2d(2),\n"
        "                      nn.Conv2d(8, 8, 5))\nx = np.zeros((1, 1, 20, 20), np.float32)",
        "model(x)",
        "model(np.zeros((1, 1, 32, 32), np.float32))",
        "torch.nn.Sequential(torch.nn.Conv2d(1, 4, 5), torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 8, 5), "
        "torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 8, 5))(torch.zeros(1, 1, 20, 20))",
    ),
    Mistake(
        "same-with-stride",
        "padding='same' with stride 2",
        "error",
        "",
        "nn.Conv2d(3, 8, 3, stride=2, padding='same')",
        "nn.Conv2d(3, 8, 3, stride=2, padding=(1, 1))",
        "torch.nn.Conv2d(3, 8, 3, stride=2, padding='same')",
    ),
    Mistake(
        "groups",
        "groups that do not divide the output channels",
        "error",
        "x = np.zeros((1, 4, 8, 8), np.float32)",
        "F.conv2d(x, np.zeros((3, 2, 3, 3), np.float32), groups=2)",
        "F.conv2d(x, np.zeros((4, 2, 3, 3), np.float32), groups=2)",
        "torch.nn.functional.conv2d(torch.zeros(1, 4, 8, 8), torch.zeros(3, 2, 3, 3), groups=2)",
    ),
    Mistake(
        "depthwise-weight",
        "A depthwise convolution written with a full weight",
        "error",
        "x = np.zeros((1, 8, 16, 16), np.float32)\nw = np.ones((8, 8, 3, 3), np.float32)",
        "F.conv2d(x, w, groups=8)",
        "F.conv2d(x, w[:, :1], groups=8)",
        "torch.nn.functional.conv2d(torch.zeros(1, 8, 16, 16), torch.ones(8, 8, 3, 3), groups=8)",
    ),
    Mistake(
        "weight-hwio",
        "A weight in (kH, kW, in, out) layout, as TensorFlow stores it",
        "error",
        "x = np.zeros((1, 1, 28, 28), np.float32)\nw = np.zeros((5, 5, 1, 6), np.float32)",
        "F.conv2d(x, w)",
        "F.conv2d(x, w.transpose(3, 2, 0, 1))",
        "torch.nn.functional.conv2d(torch.zeros(1, 1, 28, 28), torch.zeros(5, 5, 1, 6))",
    ),
    Mistake(
        "float64-with-float32",
        "float64 input into float32 weights",
        "error",
        "x = np.zeros((1, 3, 8, 8))  # NumPy's default dtype is float64\nconv = nn.Conv2d(3, 4, 3)",
        "conv(x)",
        "conv(x.astype(np.float32))",
        "torch.nn.Conv2d(3, 4, 3)(torch.zeros(1, 3, 8, 8, dtype=torch.float64))",
    ),
    Mistake(
        "bias-length",
        "A bias of the wrong length",
        "error",
        "x = np.zeros((1, 3, 8, 8), np.float32)\nw = np.zeros((8, 3, 3, 3), np.float32)",
        "F.conv2d(x, w, bias=np.zeros(4, np.float32))",
        "F.conv2d(x, w, bias=np.zeros(8, np.float32))",
        "torch.nn.functional.conv2d(torch.zeros(1, 3, 8, 8), torch.zeros(8, 3, 3, 3), torch.zeros(4))",
    ),
    Mistake(
        "uint8-not-scaled",
        "A uint8 image used with its 0..255 values",
        "warning",
        "x = np.full((1, 3, 8, 8), 255, np.uint8)\nw = np.ones((4, 3, 3, 3), np.float32)",
        "F.conv2d(x, w)",
        "F.conv2d(x.astype(np.float32) / 255, w)",
        "torch.nn.functional.conv2d(torch.full((1, 3, 8, 8), 255.0), torch.ones(4, 3, 3, 3))",
    ),
    Mistake(
        "even-kernel-same",
        "padding='same' with an even kernel: the padding is uneven",
        "warning",
        "x = np.zeros((1, 1, 8, 8), np.float32)",
        "F.conv2d(x, np.ones((1, 1, 4, 4), np.float32), padding='same')",
        "F.conv2d(x, np.ones((1, 1, 3, 3), np.float32), padding='same')",
        "torch.nn.functional.conv2d(torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 4, 4), padding='same')",
    ),
    Mistake(
        "stride-skips-pixels",
        "A stride larger than the kernel, skipping input pixels",
        "warning",
        "x = np.zeros((1, 1, 9, 9), np.float32)\nw = np.ones((1, 1, 2, 2), np.float32)",
        "F.conv2d(x, w, stride=3)",
        "F.conv2d(x, w, stride=2)",
        "torch.nn.functional.conv2d(torch.zeros(1, 1, 9, 9), torch.ones(1, 1, 2, 2), stride=3)",
    ),
    Mistake(
        "padding-unused",
        "Padding wider than the kernel can use",
        "warning",
        "x = np.zeros((1, 1, 8, 8), np.float32)\nw = np.ones((1, 1, 3, 3), np.float32)",
        "F.conv2d(x, w, padding=3)",
        "F.conv2d(x, w, padding=1)",
        "torch.nn.functional.conv2d(torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 3, 3), padding=3)",
    ),
    Mistake(
        "flatten-too-early",
        "Flattening too early (the lesson's fifth mistake)",
        "check",
        "",
        "convlab.check('flatten linear(512) relu linear(10)', '1x32x32')",
        "convlab.check('conv3x3(8,p1) relu maxpool2 flatten linear(10)', '1x32x32')",
    ),
    Mistake(
        "shrunk-to-1x1",
        "A feature map shrunk to 1x1 while convolutions still follow",
        "check",
        "",
        "convlab.check('conv3x3(8,s2) conv3x3(8,s2) conv3x3(8,s2) conv3x3(8,p1)', '1x16x16')",
        "convlab.check('conv3x3(8,s2,p1) conv3x3(8,s2,p1) conv3x3(8,p1)', '1x16x16')",
    ),
    Mistake(
        "batchnorm-features",
        "BatchNorm2d built for another number of channels (checked in a torch model)",
        "check",
        "import torch",
        "convlab.check(torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.BatchNorm2d(16)), '3x8x8')",
        "convlab.check(torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.BatchNorm2d(32)), '3x8x8')",
        "torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.BatchNorm2d(16))(torch.zeros(1, 3, 8, 8))",
    ),
)


@dataclass(frozen=True)
class Outcome:
    """What running one catalogue entry showed."""

    message: str  # convlab's message: the error, the warning, or the check's first problem
    code: str | None  # the diagnosis code convlab gave
    fixed_problem: str | None  # None: the fixed code ran cleanly
    torch_message: str | None  # PyTorch's own message, "" if it runs silently, None if not run


def _namespace() -> dict[str, object]:
    import numpy as np

    import convlab
    from convlab import functional, nn

    return {"np": np, "F": functional, "nn": nn, "convlab": convlab}


def _attempt(mistake: Mistake, code: str) -> tuple[str, str | None]:
    """Run setup + code; return (message, diagnosis code), ("", None) when it ran cleanly."""
    import re
    import warnings

    from ..errors import ConvlabError, ConvlabWarning

    namespace = _namespace()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(mistake.setup, namespace)  # the catalogue's own code, not user input
        *lines, last = code.split("\n")
        try:
            exec("\n".join(lines), namespace)
            result = eval(last, namespace)
        except ConvlabError as error:
            return str(error), error.diagnosis.code if error.diagnosis else None
    for warning in caught:
        if issubclass(warning.category, ConvlabWarning):
            text = str(warning.message)
            found = re.search(r"\[([a-z0-9-]+)\]", text)
            return text, found.group(1) if found else None
    problems = getattr(result, "problems", ())
    if problems:
        return problems[0].line(), problems[0].diagnosis.code
    return "", None


def _torch_message(code: str) -> str | None:
    import warnings

    try:
        import torch
    except ImportError:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(code, {"torch": torch})  # the catalogue's own code
        except Exception as error:  # PyTorch raises several kinds; the catalogue shows whichever it is
            return f"{type(error).__name__}: {' '.join(str(error).split())}"
    notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return f"UserWarning: {' '.join(notes[0].split())}" if notes else ""


def run(mistake: Mistake) -> Outcome:
    """Run one entry: the wrong code, the fixed code, and the PyTorch version."""
    message, code = _attempt(mistake, mistake.wrong)
    fixed_message, _ = _attempt(mistake, mistake.fixed)
    torch_message = _torch_message(mistake.torch) if mistake.torch else None
    return Outcome(message, code, fixed_message or None, torch_message)
