"""The layers the benchmark times: ResNet-18 at batch 8, two special convolutions, two large images.

Each case is one convolution, run twice: ``forward`` (the output) and
``backward`` (input gradient and weight gradient together, as autograd computes
them). FLOPs are 2 x multiply-adds; backward counts twice the forward's, one
forward's worth for each gradient.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["CASES", "OPS", "PEERS", "Case"]

OPS = ("forward", "backward")
"""The two passes every case is timed in."""

PEERS = ("convlab", "torch", "scipy", "naive")
"""Every library the suite knows, in the order they run and are reported."""


@dataclass(frozen=True)
class Case:
    """One convolution: shapes and hyper-parameters as in ``torch.nn.functional.conv2d``, float32."""

    name: str
    input_shape: tuple[int, int, int, int]  # (N, C_in, H, W)
    weight_shape: tuple[int, int, int, int]  # (C_out, C_in / groups, kH, kW)
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    groups: int = 1
    scipy: bool = False
    """SciPy's ``fftconvolve`` joins in: single-channel images only, where it computes the same thing."""

    @property
    def output_size(self) -> tuple[int, int]:
        """(H_out, W_out), by the engine's one output-length function."""
        from ..functional.geometry import output_length

        kh, kw = self.weight_shape[2:]
        h, w = self.input_shape[2:]
        p, s, d = self.padding, self.stride, self.dilation
        return output_length((h, w), (kh, kw), (s, s), (2 * p, 2 * p), (d, d))

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        """(N, C_out, H_out, W_out): the shape of the output and of its gradient."""
        return (self.input_shape[0], self.weight_shape[0], *self.output_size)

    @property
    def forward_flops(self) -> int:
        """2 x multiply-adds: N * C_out * H_out * W_out outputs, each C_in/groups * kH * kW of them."""
        n = self.input_shape[0]
        o, c_g, kh, kw = self.weight_shape
        ho, wo = self.output_size
        return 2 * n * o * ho * wo * c_g * kh * kw

    def flops(self, op: str) -> int:
        """FLOPs of one pass; backward is input gradient + weight gradient, each as much as the forward."""
        return self.forward_flops * (2 if op == "backward" else 1)

    @property
    def columns_bytes(self) -> int:
        """Size of the whole batch's window matrix in float32: what an unchunked im2col allocates."""
        n, c = self.input_shape[:2]
        kh, kw = self.weight_shape[2:]
        ho, wo = self.output_size
        return 4 * n * c * kh * kw * ho * wo

    @property
    def ops(self) -> tuple[str, ...]:
        """The passes this case is timed in."""
        return OPS

    def peers(self) -> tuple[str, ...]:
        """The libraries that run this case."""
        return tuple(peer for peer in PEERS if peer != "scipy" or self.scipy)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON, the way workers receive their case."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        """The inverse of :meth:`to_json`."""
        fields = dict(data)
        fields["input_shape"] = tuple(fields["input_shape"])
        fields["weight_shape"] = tuple(fields["weight_shape"])
        return cls(**fields)


def _image(kernel: int) -> Case:
    return Case(
        f"image 2048x2048 {kernel}x{kernel}",
        (1, 1, 2048, 2048),
        (1, 1, kernel, kernel),
        padding=kernel // 2,
        scipy=True,
    )


CASES = (
    Case("resnet18 conv1 7x7/2 3->64 224x224", (8, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3),
    Case("resnet18 3x3 64->64 56x56", (8, 64, 56, 56), (64, 64, 3, 3), padding=1),
    Case("resnet18 3x3 128->128 28x28", (8, 128, 28, 28), (128, 128, 3, 3), padding=1),
    Case("resnet18 3x3 256->256 14x14", (8, 256, 14, 14), (256, 256, 3, 3), padding=1),
    Case("resnet18 3x3 512->512 7x7", (8, 512, 7, 7), (512, 512, 3, 3), padding=1),
    Case("resnet18 downsample 1x1/2 64->128 56x56", (8, 64, 56, 56), (128, 64, 1, 1), stride=2),
    Case("depthwise 3x3 32ch 112x112", (8, 32, 112, 112), (32, 1, 3, 3), padding=1, groups=32),
    Case("dilated 3x3 d2 64->64 56x56", (8, 64, 56, 56), (64, 64, 3, 3), padding=2, dilation=2),
    _image(15),
    _image(31),
)
"""The suite, batch 8 for the network layers and batch 1 for the images."""
