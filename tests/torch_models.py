"""Three mobile networks written from their papers, laid out as torchvision lays them out (module names,
layer order, squeeze-excitation sizes), so that the suite can read them without torchvision.

* MobileNetV2: Sandler et al. 2018, Table 2 (t, c, n, s);
* MobileNetV3-Small: Howard et al. 2019, Table 2 (kernel, expansion, out, SE, activation, stride);
* EfficientNet-B0: Tan & Le 2019, Table 1 (expansion, kernel, stride, channels, repeats).

Their forward passes use what torch.fx cannot read as layers: ``scale * x`` in squeeze-excitation,
Hardsigmoid, a stochastic-depth module of its own. Parameter counts and multiply-adds are those
torchvision's model cards give (weights=None): 3,504,872 / 0.30 G; 2,542,856 / 0.06 G; 5,288,548 / 0.39 G.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def _divisible(value: float, divisor: int = 8) -> int:
    """Round a channel count to a multiple of ``divisor``, never below 90% of it (the papers' rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class ConvNormAct(nn.Sequential):
    """Conv2d without bias, BatchNorm2d, then an activation (none when ``act`` is None)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 3,
        stride: int = 1,
        groups: int = 1,
        act: Callable[[], nn.Module] | None = nn.ReLU6,
        eps: float = 1e-5,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_channels, eps=eps),
        ]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """Channel weights from the global average: pool, 1x1 down, act, 1x1 up, gate; then ``gate * x``."""

    def __init__(
        self, channels: int, squeezed: int, act: Callable[[], nn.Module], gate: Callable[[], nn.Module]
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.activation = act()
        self.scale_activation = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class StochasticDepth(nn.Module):
    """Drops the residual branch of a whole sample with probability ``p`` while training; identity after."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expand (if t > 1), 3x3 depthwise with the stride, 1x1 linear projection."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = [] if expansion == 1 else [ConvNormAct(in_channels, hidden, 1)]
        layers += [
            ConvNormAct(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    SETTINGS = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvNormAct(3, 32, 3, 2)]
        channels = 32
        for expansion, out_channels, repeats, stride in self.SETTINGS:
            for index in range(repeats):
                layers.append(InvertedResidual(channels, out_channels, stride if index == 0 else 1, expansion))
                channels = out_channels
        layers.append(ConvNormAct(channels, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


class MobileNetV3Block(nn.Module):
    """Expand (when the width changes), depthwise, squeeze-excitation (optional), project; residual at stride 1."""

    def __init__(
        self, in_channels: int, kernel: int, hidden: int, out_channels: int, se: bool, hard: bool, stride: int
    ) -> None:
        super().__init__()
        act: Callable[[], nn.Module] = nn.Hardswish if hard else nn.ReLU
        layers: list[nn.Module] = []
        if hidden != in_channels:
            layers.append(ConvNormAct(in_channels, hidden, 1, act=act, eps=0.001))
        layers.append(ConvNormAct(hidden, hidden, kernel, stride, groups=hidden, act=act, eps=0.001))
        if se:
            layers.append(SqueezeExcitation(hidden, _divisible(hidden // 4), nn.ReLU, nn.Hardsigmoid))
        layers.append(ConvNormAct(hidden, out_channels, 1, act=None, eps=0.001))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV3Small(nn.Module):
    # in, kernel, expanded, out, squeeze-excitation, hard-swish, stride
    BLOCKS = (
        (16, 3, 16, 16, True, False, 2),
        (16, 3, 72, 24, False, False, 2),
        (24, 3, 88, 24, False, False, 1),
        (24, 5, 96, 40, True, True, 2),
        (40, 5, 240, 40, True, True, 1),
        (40, 5, 240, 40, True, True, 1),
        (40, 5, 120, 48, True, True, 1),
        (48, 5, 144, 48, True, True, 1),
        (48, 5, 288, 96, True, True, 2),
        (96, 5, 576, 96, True, True, 1),
        (96, 5, 576, 96, True, True, 1),
    )

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvNormAct(3, 16, 3, 2, act=nn.Hardswish, eps=0.001)]
        layers += [MobileNetV3Block(*block) for block in self.BLOCKS]
        layers.append(ConvNormAct(96, 576, 1, act=nn.Hardswish, eps=0.001))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(576, 1024), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(1024, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class MBConv(nn.Module):
    """EfficientNet's block: expand, depthwise, squeeze-excitation to a quarter of the *input* width, project."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int, expansion: int, drop: float
    ) -> None:
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = []
        if hidden != in_channels:
            layers.append(ConvNormAct(in_channels, hidden, 1, act=nn.SiLU))
        layers += [
            ConvNormAct(hidden, hidden, kernel, stride, groups=hidden, act=nn.SiLU),
            SqueezeExcitation(hidden, max(1, in_channels // 4), nn.SiLU, nn.Sigmoid),
            ConvNormAct(hidden, out_channels, 1, act=None),
        ]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(drop)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return x + self.stochastic_depth(out) if self.residual else out


class EfficientNetB0(nn.Module):
    # expansion, kernel, stride, in, out, repeats
    STAGES = (
        (1, 3, 1, 32, 16, 1),
        (6, 3, 2, 16, 24, 2),
        (6, 5, 2, 24, 40, 2),
        (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3),
        (6, 5, 2, 112, 192, 4),
        (6, 3, 1, 192, 320, 1),
    )

    def __init__(self, classes: int = 1000, drop_rate: float = 0.2) -> None:
        super().__init__()
        total = sum(stage[-1] for stage in self.STAGES)
        layers: list[nn.Module] = [ConvNormAct(3, 32, 3, 2, act=nn.SiLU)]
        done = 0
        for expansion, kernel, stride, in_channels, out_channels, repeats in self.STAGES:
            stage: list[nn.Module] = []
            for index in range(repeats):
                # the drop probability grows linearly with depth, to 0.2 at the last block
                drop = drop_rate * done / total
                stage.append(
                    MBConv(
                        in_channels if index == 0 else out_channels,
                        out_channels,
                        kernel,
                        stride if index == 0 else 1,
                        expansion,
                        drop,
                    )
                )
                done += 1
            layers.append(nn.Sequential(*stage))
        layers.append(ConvNormAct(320, 1280, 1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
