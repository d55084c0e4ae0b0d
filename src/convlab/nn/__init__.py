"""convlab's layers, named and initialised as in ``torch.nn``, each with an explicit ``backward``."""

from .activation import ReLU
from .container import Sequential
from .conv import Conv2d, ConvTranspose2d
from .flatten import Flatten
from .linear import Linear
from .loss import CrossEntropyLoss, Loss, MSELoss
from .module import Module, Parameter
from .pooling import AvgPool2d, MaxPool2d
from .torch_bridge import from_torch, to_torch

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Flatten",
    "Linear",
    "Loss",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "from_torch",
    "to_torch",
]
