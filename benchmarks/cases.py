"""The layers the benchmark times: real shapes from ResNet-style networks, each with its FLOP count."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    input_shape: tuple[int, int, int, int]  # (N, C, H, W)
    weight_shape: tuple[int, int, int, int]  # (O, C/groups, kH, kW)
    stride: int = 1
    padding: int = 0
    groups: int = 1
    op: str = "forward"  # forward | input_grad | weight_grad

    @property
    def output_size(self) -> tuple[int, int]:
        kh, kw = self.weight_shape[2:]
        h, w = self.input_shape[2:]
        return ((h + 2 * self.padding - kh) // self.stride + 1, (w + 2 * self.padding - kw) // self.stride + 1)

    @property
    def flops(self) -> int:
        """2 * multiply-adds: N * O * H_out * W_out * (C/groups * kH * kW) each."""
        n = self.input_shape[0]
        o, c_g, kh, kw = self.weight_shape
        ho, wo = self.output_size
        return 2 * n * o * ho * wo * c_g * kh * kw


CASES = [
    Case("resnet 3x3 64->64 56x56 b8", (8, 64, 56, 56), (64, 64, 3, 3), padding=1),
    Case("resnet 3x3 64->64 56x56 b8, input grad", (8, 64, 56, 56), (64, 64, 3, 3), padding=1, op="input_grad"),
    Case("resnet 3x3 64->64 56x56 b8, weight grad", (8, 64, 56, 56), (64, 64, 3, 3), padding=1, op="weight_grad"),
    Case("resnet 3x3 256->256 14x14 b8", (8, 256, 14, 14), (256, 256, 3, 3), padding=1),
    Case("resnet 1x1 256->512 s2 28x28 b8", (8, 256, 28, 28), (512, 256, 1, 1), stride=2),
    Case("stem 7x7 3->64 s2 224x224 b4", (4, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3),
    Case("depthwise 3x3 256 28x28 b8", (8, 256, 28, 28), (256, 1, 3, 3), padding=1, groups=256),
]
