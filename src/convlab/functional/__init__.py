"""convlab's engine: convolution, transposed convolution and pooling, forward and backward.

Names and meanings follow ``torch.nn.functional`` (and ``torch.nn.grad`` for the
gradients). Each fast function has a slow twin in :mod:`convlab.functional.reference`,
the lesson's loop, against which it is tested.
"""

from .conv import conv2d, conv2d_bias_grad, conv2d_input_grad, conv2d_weight_grad
from .conv_transpose import conv_transpose2d, conv_transpose2d_input_grad, conv_transpose2d_weight_grad
from .padding import pad
from .pool import avg_pool2d, avg_pool2d_grad, max_pool2d, max_pool2d_grad

__all__ = [
    "avg_pool2d",
    "avg_pool2d_grad",
    "conv2d",
    "conv2d_bias_grad",
    "conv2d_input_grad",
    "conv2d_weight_grad",
    "conv_transpose2d",
    "conv_transpose2d_input_grad",
    "conv_transpose2d_weight_grad",
    "max_pool2d",
    "max_pool2d_grad",
    "pad",
]
