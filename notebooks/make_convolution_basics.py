"""Write notebooks/convolution-basics.ipynb: the lesson on convolution as a notebook built on convlab.

The notebook is stored without outputs; run it top to bottom in Jupyter (or let the test suite do it).
Edit the cells here and run ``python notebooks/make_convolution_basics.py`` to write it again.
Cells that the tests read are tagged (``lab1-by-hand``, ``edge-image``, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent
TARGET = HERE / "convolution-basics.ipynb"


def md(text: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_markdown_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def code(text: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


CELLS = [
    md("""
# Convolution basics, with convlab

A convolution looks at an image through a small window: it multiplies the pixels under the window by a
kernel, adds the products into one number, moves the window and does it again. This notebook walks
through that idea on convlab's own engine, which computes exactly what PyTorch's `conv2d` computes:
the picture, Lab 1 by hand and with `conv2d`, one value explained, an edge detector on a real photograph,
output sizes, channels, receptive fields, the mistakes convlab catches, the exercises with their checks,
and kernels that are learned from data rather than written by hand.

Run the cells from top to bottom. Every result shows itself: tables as tables, explanations with the
window highlighted, pictures inline.
"""),
    code("""
import numpy as np

import convlab
import convlab.functional as F
from convlab import data, labs, nn
from convlab.errors import ConvlabError
from convlab.lesson import exercises
from convlab.lesson.flatten_cost import flatten_vs_conv
from convlab.network.shapes import conv2d_derivation, conv2d_output_size
from convlab.viz import explain_picture, features_figure, window_animation
"""),
    md("""
## The picture: a window that slides

*small window -> multiply by the kernel -> sum -> one output value -> slide and repeat.*

Below, Lab 1's 2x2 kernel slides over its 4x4 image. Each frame is one output value: the window on the
input, the products, and the sum written into the output. The same kernel is used at every position.
"""),
    code("""
IMAGE = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=np.float32)
KERNEL = np.array([[1, 0], [0, -1]], dtype=np.float32)
window_animation(IMAGE, KERNEL)
"""),
    md("""
## Why not flatten the image first?

A fully connected layer gives every input value its own weight for every output. On a flattened image that
is a great many weights, and none of them knows which pixels were neighbours. A convolution reuses one
small kernel everywhere (parameter sharing) and looks only at local windows (local connection).
"""),
    code(
        """
for height, width, channels in [(32, 32, 1), (224, 224, 3)]:
    print(flatten_vs_conv(height, width, channels), end="\\n\\n")
""",
        "flatten",
    ),
    md("""
## Lab 1: compute a convolution by hand

The loop is the whole algorithm: for each output position take the patch under the window, multiply it
cell by cell with the kernel, and add.
"""),
    code(
        """
out = np.zeros((3, 3), dtype=np.float32)
for i in range(3):
    for j in range(3):
        patch = IMAGE[i : i + 2, j : j + 2]
        out[i, j] = np.sum(patch * KERNEL)
print("manual_conv_lab")
print(out)
""",
        "lab1-by-hand",
    ),
    md("""
### The same with `conv2d`

`convlab.functional.conv2d` takes PyTorch's shapes: the input is `(N, C, H, W)` and the weight
`(C_out, C_in, kH, kW)`, so the 2-D image and kernel get two leading axes of size 1.
"""),
    code(
        """
engine = F.conv2d(IMAGE[None, None], KERNEL[None, None])
print("conv2d output shape:", engine.shape)
print(engine[0, 0])
print("same as the loop:", np.array_equal(engine[0, 0], out))
""",
        "lab1-conv2d",
    ),
    md("""
`labs.run` runs the lesson's lab and shows it as the lesson prints it, with the image, the kernel and
the output as grids:
"""),
    code("""
labs.run("manual_conv")
"""),
    md("""
## One value explained

Where did the top-left `-2` come from? `convlab.explain` traces one output value: the window on the
input, the patch, the kernel and the arithmetic. The value it reports is the engine's own, so the
explanation and the result cannot disagree.
"""),
    code(
        """
convlab.explain(IMAGE, KERNEL, at=(0, 0))
""",
        "explain",
    ),
    md("""
The same as a picture, for the value below it (`out[1, 0]`, exercise 2's answer):
"""),
    code("""
explain_picture(IMAGE, KERNEL, at=(1, 0))
"""),
    md("""
## Lab 2: a kernel as an edge detector

The kernel `[-1, 1]` subtracts each pixel from its right-hand neighbour. Where the image is flat the
answer is 0; where it steps from dark (0) to bright (1) the answer is 1.
"""),
    code(
        """
edge = labs.run("edge")
print(edge)
""",
        "edge-lab",
    ),
    md("""
### On a real photograph

The same kernel on the bundled `camera` photograph (grey, 224x224, scaled to 0..1). Large positive
values mark places where the picture gets brighter from left to right, large negative ones where it
gets darker; the transposed kernel does the same from top to bottom.
"""),
    code(
        """
photo = data.load_image("camera").astype(np.float32) / 255
across = F.conv2d(photo[None, None], np.array([[[[-1, 1]]]], dtype=np.float32))[0, 0]
down = F.conv2d(photo[None, None], np.array([[[[-1], [1]]]], dtype=np.float32))[0, 0]
print("photo:", photo.shape, "left-right edges:", across.shape, "top-bottom edges:", down.shape)
r, c = np.unravel_index(np.argmax(across), across.shape)
print(f"strongest dark-to-bright step left to right: {across[r, c]:.4f} at row {r}, col {c}")
print(f"mean absolute response: left-right {np.abs(across).mean():.4f}, top-bottom {np.abs(down).mean():.4f}")
""",
        "edge-image",
    ),
    code("""
features_figure("camera", ["lesson_edge", "sobel_x", "sobel_y", "laplacian"])
"""),
    md("""
## Stride, padding and output size

For one spatial axis:

`output = floor((input + 2*padding - kernel_size) / stride) + 1`

The lesson's example: input 6, kernel 3, padding 1, stride 2 gives 3. `convlab.shapes` works it through
with any numbers:
"""),
    code(
        """
layers = [(6, 3, 2, 1), (6, 3, 1, 1), (32, 3, 1, 1), (224, 7, 2, 3), (8, 3, 1, 0)]
for size, kernel_size, stride, padding in layers:
    answer = conv2d_output_size(size, kernel_size, stride=stride, padding=padding)
    print(f"input {size}, kernel {kernel_size}, stride {stride}, padding {padding} -> {answer}")
print(conv2d_derivation(6, 3, stride=2, padding=1))
""",
        "output-sizes",
    ),
    md("""
The size lab checks it on a real layer, `nn.Conv2d(1, 2, kernel_size=3, stride=2, padding=1)` on a
`(1, 1, 6, 6)` input. Shapes read as `[batch, channels, height, width]`.
"""),
    code(
        """
labs.run("size")
""",
        "size-lab",
    ),
    md("""
## Channels

A colour image has three input channels. A 3x3 convolution over it has one 3x3 kernel *per input
channel* for each output channel: the weight is `(out_channels, in_channels, 3, 3)`, and each output
channel adds up its three per-channel sums and its bias.
"""),
    code(
        """
labs.run("channel")
""",
        "channel-lab",
    ),
    code(
        """
rng = np.random.default_rng(0)
rgb = rng.integers(0, 4, size=(3, 5, 5)).astype(np.float32)
kernels = rng.integers(-1, 2, size=(1, 3, 3, 3)).astype(np.float32)
convlab.explain(rgb, kernels, bias=np.array([0.5], dtype=np.float32), at=(1, 1))
""",
        "channels-explained",
    ),
    code("""
labs.run("conv2d")
"""),
    md("""
## Receptive fields: seeing more with depth

One 3x3 convolution sees 3x3 input pixels. Stack another and each of its outputs sees 3x3 outputs of
the first, which together cover 5x5 input pixels; a stride or a pooling layer makes the field grow
faster. `convlab.receptive_field` follows it layer by layer (RF: the field's size in input pixels; jump:
how far apart neighbouring units' fields are).
"""),
    code(
        """
convlab.receptive_field("conv3x3(8,p1) relu conv3x3(8,p1) relu maxpool2 conv3x3(16,p1) relu", "1x32x32")
""",
        "receptive-field",
    ),
    md("""
`convlab.summary` gives the whole table for a network: shapes, parameters, multiply-adds, memory and
receptive field per layer.
"""),
    code("""
convlab.summary("digits_cnn")
"""),
    md("""
## Mistakes, caught and explained

The common mistakes of the lesson raise a convlab error that says what went wrong, with the numbers,
and one fix. Each cell below makes one on purpose and shows the message.
"""),
    code(
        """
def show(attempt):
    \"\"\"Run a mistake and print the error it raises, without stopping the notebook.\"\"\"
    try:
        attempt()
    except ConvlabError as error:
        print(f"{type(error).__name__}: {error}\\n")


layer = nn.Conv2d(3, 8, kernel_size=3, padding=1, seed=0)
show(lambda: layer(np.zeros((1, 32, 32, 3), dtype=np.float32)))  # [N, H, W, C] from an image library
show(lambda: layer(np.zeros((1, 1, 32, 32), dtype=np.float32)))  # a grey image into an RGB layer
show(lambda: F.conv2d(np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), stride=2, padding="same"))
show(lambda: convlab.explain(IMAGE, KERNEL, at=(3, 0)))  # past the 3x3 output
""",
        "mistakes",
    ),
    md("""
`convlab.check` finds every shape mistake in a network before anything runs. LeNet-5 was built for one
grey channel; give it an RGB image:
"""),
    code(
        """
convlab.check("lenet5", "3x32x32")
""",
        "check",
    ),
    md("""
## Exercises, with checking

Each exercise is answered with convlab, and `exercises.check` says whether the answer is right (and,
when it is not, gives a hint). Change the answers and run the cells again.

**1.** Change Lab 1's 2x2 kernel and see how the output changes.
"""),
    code(
        """
print(exercises.get(1).task)
exercises.check(1, "1 1; 1 1")  # a blur: each output adds up its 2x2 patch
""",
        "exercise-1",
    ),
    md("**2.** Compute `out[1, 0]` of Lab 1 by hand."),
    code(
        """
patch = IMAGE[1:3, 0:2]
by_hand = float(np.sum(patch * KERNEL))
print("out[1, 0] by hand:", by_hand, "  conv2d:", engine[0, 0, 1, 0])
exercises.check(2, str(by_hand))
""",
        "exercise-2",
    ),
    md("**3.** Set `stride=1` in the size lab. What output shape do you get?"),
    code(
        """
answer = labs.run("size", stride=1).output_shape
print(answer)
exercises.check(3, str(answer))
""",
        "exercise-3",
    ),
    md("**4.** Set `out_channels=16` in the channel lab. Which shapes change?"),
    code(
        """
lab = labs.run("channel", out_channels=16)
print(lab)
exercises.check(4, f"output {lab.output_shape}, weight {lab.weight_shape}, bias {lab.bias_shape}")
""",
        "exercise-4",
    ),
    md("**5.** Turn an image-like array from `[N, H, W, C]` into `[N, C, H, W]`."),
    code(
        """
nhwc = np.zeros((2, 32, 32, 3), dtype=np.float32)
nchw = nhwc.transpose(0, 3, 1, 2)
print(nhwc.shape, "->", nchw.shape, "; the layer takes it:", layer(nchw).shape)
exercises.check(5, "x.transpose(0, 3, 1, 2)")
""",
        "exercise-5",
    ),
    md(
        """
## The playground

Slide a kernel over an image yourself. Every number below is computed by convlab's engine; hover or focus
an output value to see its window on the padded input and the lesson's arithmetic, *patch × kernel → sum*.
Edit the input, the kernel, the stride, the padding or the dilation in the widget, or set them from Python
(`playground.stride = 2`): the two stay in step. (Outside a notebook, `convlab serve` opens the same
playground in a browser.)
""",
        "playground-here",
    ),
    code(
        """
from convlab.widgets import Playground

playground = Playground()  # Lab 1's image and kernel; try stride 2 or padding 1
playground
""",
        "playground",
    ),
    code(
        """
# What the widget shows, read back in Python: run this after changing a setting above.
print("stride:", playground.stride, "padding:", playground.padding, "dilation:", playground.dilation)
print(playground.error or playground.output)
""",
        "playground-output",
    ),
    code(
        """
# Settings are traits: set one from Python and the widget above redraws.
playground.padding = 1
""",
        "playground-set",
    ),
    md("""
## Channels

With several input channels, each channel has its own kernel. Each channel gives its own sum, and the
output value is those sums plus the bias. Hover an output value to see them add up.
"""),
    code(
        """
from convlab.widgets import Channels

channels = Channels()  # three 3x3 input channels, one 2x2 kernel each, bias 0.5
channels
""",
        "channels",
    ),
    md("""
## Kernels are learned

In Lab 2 the kernel `[-1, 1]` was written by hand. A network finds its kernels itself. Turn Lab 2 round:
keep its image and its edge map, start from a random 1x2 kernel, and let gradient descent lower the
squared error between `conv2d(image, kernel)` and the edge map. The kernel walks to `[-1, 1]`.
"""),
    code(
        """
from convlab.train.kernel import learn_edge_kernel

run = learn_edge_kernel(steps=60)
print("learned kernel:", np.round(run.kernel, 3))
run
""",
        "learned-kernel",
    ),
    md("""
The same loop trains a whole network. A few epochs of `digits_cnn` on the bundled 8x8 handwritten
digits (the history draws itself as loss and accuracy per epoch):
"""),
    code(
        """
from convlab.network.sequential import sequential
from convlab.train import Recipe, fit

model = sequential("digits_cnn", seed=0)
optimizer, schedule = Recipe("adam", lr=0.01, epochs=3).make(model.parameters())
history = fit(
    model, data.digits("train"), data.digits("test"), optimizer, nn.CrossEntropyLoss(), 3, schedule=schedule
)
print(history)
history
""",
        "fit",
    ),
    md("""
## The shipped model's filters

convlab ships a `digits_cnn` it trained longer. Its first layer's 3x3 kernels, each compared with an
edge detector at four orientations (1: the same pattern up to scale):
"""),
    code(
        """
from convlab.lesson.edge_kernels import edge_matches
from convlab.viz.filters import filters_figure, first_conv

shipped = data.trained_digits_model()
images, labels = data.digits("test")
accuracy = float((shipped(images).argmax(axis=1) == labels).mean())
print(f"test accuracy: {accuracy:.1%}")
for match in sorted(edge_matches(first_conv(shipped).weight), key=lambda m: -m.cosine)[:5]:
    print(f"kernel {match.index}: {match.orientation}, cosine {match.cosine:.2f}, bright {match.bright}")
filters_figure(shipped)
""",
        "shipped-model",
    ),
    md("""
## What to keep

- A convolution keeps the image's layout: each output looks at a local window (local connection), and one
  kernel is used at every position (parameter sharing).
- One output value is *patch x kernel -> sum*; `convlab.explain` shows it for any value.
- Stride and padding set how the window moves and how large the output is:
  `floor((input + 2*padding - kernel_size) / stride) + 1`.
- With several input channels each output channel sums one kernel per input channel, plus its bias.
- Stacked convolutions see more of the input at each depth: the receptive field grows.
- Kernels are learned from data, and the first layer's often look like edge detectors.
"""),
]


def build() -> nbformat.NotebookNode:
    notebook = new_notebook(cells=CELLS)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:02d}"  # stable ids, so writing it again changes nothing
    return notebook


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    nbformat.write(build(), target)
    print(f"wrote {target}")
