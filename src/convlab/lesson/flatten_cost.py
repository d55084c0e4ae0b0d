"""Why not flatten first? The lesson's parameter arithmetic, for any image and layer sizes.

A fully connected layer on a flattened image needs one weight per (input value,
output) pair; a convolution needs one small kernel per (input channel, output
channel) pair, shared by every position.

Example:
    >>> cost = flatten_vs_conv(32, 32, channels=1, outputs=512)
    >>> cost.inputs, cost.linear_weights
    (1024, 524288)
"""

from __future__ import annotations

from dataclasses import dataclass

from .._args import as_int, pair

__all__ = ["FlattenCost", "flatten_vs_conv"]


@dataclass(frozen=True)
class FlattenCost:
    """Parameters of Linear(H*W*C, outputs) against Conv2d(C, out_channels, kernel_size)."""

    height: int
    width: int
    channels: int
    outputs: int
    kernel_size: tuple[int, int]
    out_channels: int

    @property
    def inputs(self) -> int:
        """H * W * C values once the image is flattened."""
        return self.height * self.width * self.channels

    @property
    def linear_weights(self) -> int:
        return self.inputs * self.outputs

    @property
    def linear_biases(self) -> int:
        return self.outputs

    @property
    def conv_weights(self) -> int:
        return self.out_channels * self.channels * self.kernel_size[0] * self.kernel_size[1]

    @property
    def conv_biases(self) -> int:
        return self.out_channels

    def ratio(self, bias: bool = True) -> float:
        """How many times more parameters the fully connected layer has."""
        linear = self.linear_weights + (self.linear_biases if bias else 0)
        conv = self.conv_weights + (self.conv_biases if bias else 0)
        return linear / conv

    def lines(self, bias: bool = True) -> list[str]:
        """Both layers' parameters worked through, as ``convlab flatten`` prints them."""
        kh, kw = self.kernel_size
        lines = [f"{self.height} x {self.width} x {self.channels} image: {self.inputs:,} input values"]
        linear = f"{self.inputs:,} * {self.outputs:,} = {self.linear_weights:,} weights"
        conv = f"{self.out_channels} * {self.channels} * {kh} * {kw} = {self.conv_weights:,} weights"
        if bias:
            linear += f" + {self.linear_biases:,} biases = {self.linear_weights + self.linear_biases:,} parameters"
            conv += f" + {self.conv_biases:,} biases = {self.conv_weights + self.conv_biases:,} parameters"
        lines.append(f"  Linear({self.inputs}, {self.outputs}): {linear}")
        lines.append(
            f"  Conv2d({self.channels}, {self.out_channels}, kernel_size=({kh}, {kw})): {conv}, "
            "the same kernels at every position"
        )
        lines.append(
            f"  the fully connected layer needs {self.ratio(bias):,.0f}x as many parameters, and it "
            "ignores where pixels are"
        )
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        from .._display import html

        return html.block(html.lines(self.lines()))


def flatten_vs_conv(
    height: int,
    width: int,
    channels: int = 1,
    outputs: int = 512,
    kernel_size: int | tuple[int, int] = 3,
    out_channels: int = 8,
) -> FlattenCost:
    """Compare a fully connected layer on a flattened image with a convolution on it.

    Args:
        height, width, channels: the image, H x W x C.
        outputs: the fully connected layer's outputs. Default: 512 (the lesson's).
        kernel_size: the convolution's kernel. Default: 3.
        out_channels: the convolution's output channels. Default: 8.
    """
    return FlattenCost(
        as_int(height, "height", minimum=1),
        as_int(width, "width", minimum=1),
        as_int(channels, "channels", minimum=1),
        as_int(outputs, "outputs", minimum=1),
        pair(kernel_size, "kernel_size", minimum=1),
        as_int(out_channels, "out_channels", minimum=1),
    )
