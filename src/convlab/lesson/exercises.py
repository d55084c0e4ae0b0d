"""The lesson's five exercises as data: each states a task, checks an answer, gives a hint and a solution.

Answers are read the way people write them: ``(1, 2, 6, 6)``, ``1,2,6,6``,
``[1, 2, 6, 6]`` and ``1x2x6x6`` are the same shape; ``x.permute(0, 3, 1, 2)``
and ``np.transpose(x, (0, 3, 1, 2))`` are the same conversion.

Example:
    >>> check(3, "1x2x6x6").correct
    True
    >>> check(2, "3").correct
    False
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ArgumentError, Call, ConvlabError

__all__ = ["EXERCISES", "Exercise", "Verdict", "check", "get"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one answer."""

    correct: bool
    message: str  # on a right answer: why it is right; on a wrong one: a hint

    def __str__(self) -> str:
        return f"{'right' if self.correct else 'not yet'}: {self.message}"

    def _repr_html_(self) -> str:
        from .._display import html

        mark = "\N{CHECK MARK} right" if self.correct else "\N{BALLOT X} not yet"
        return html.block(html.heading(mark), html.lines([self.message]))


@dataclass(frozen=True)
class Exercise:
    number: int
    task: str
    solution: str
    checker: Callable[[str], Verdict]
    prompt: str  # what to type, shown before the answer
    hint: str  # the first hint, before any answer; a wrong answer's own hint replaces it


def _integers(text: str) -> list[int]:
    return [int(value) for value in re.findall(r"-?\d+", text)]


def _exercise_1(answer: str) -> Verdict:
    """Open-ended: run Lab 1 with the learner's kernel and explain what it does."""
    from .explain import explain
    from .explain_text import equation
    from .labs import value_lab

    try:
        lab = value_lab("manual_conv", kernel=answer)
    except ConvlabError as error:
        return Verdict(
            False, f"that kernel could not be used: {error.message}. Type a 2x2 kernel such as 0 1; -1 0"
        )
    if lab.kernel.shape != (2, 2):
        return Verdict(
            False,
            f"the exercise changes Lab 1's 2 x 2 kernel, and yours is {lab.kernel.shape[0]} x "
            f"{lab.kernel.shape[1]}: type 2 rows of 2 values, e.g. 1 1; 1 1",
        )
    if not lab.changed:
        return Verdict(
            False,
            "that is Lab 1's own kernel, 1 0; 0 -1, so the output is the lesson's: change at least one value, "
            "e.g. 1 1; 1 1",
        )
    trace = explain(lab.image, lab.kernel, at=(0, 0))
    lines = [
        f"Lab 1 with your kernel gives:\n{lab.output}",
        f"top-left value: {equation(trace.terms[0])}",
        "Each output is the sum of the 2x2 patch times your kernel; a kernel with both signs compares "
        "neighbouring pixels (an edge detector), one with all positive values averages them (a blur).",
    ]
    return Verdict(True, "\n".join(lines))


def _exercise_2(answer: str) -> Verdict:
    numbers = re.findall(r"-?\d+(?:\.\d+)?", answer.split("=")[-1])
    if len(numbers) == 1 and float(numbers[0]) == 4:
        return Verdict(True, "out[1, 0] = 5*1 + 3*0 + 2*0 + 1*(-1) = 4")
    return Verdict(
        False,
        "out[1, 0] uses the patch in rows 1-2 and columns 0-1: [[5, 3], [2, 1]]. "
        "Multiply it cell by cell with the kernel [[1, 0], [0, -1]] and add.",
    )


def _exercise_3(answer: str) -> Verdict:
    if tuple(_integers(answer)) == (1, 2, 6, 6):
        return Verdict(True, "(1, 2, 6, 6): H_out = floor((6 + 2*1 - 3) / 1) + 1 = 6, the same for W")
    return Verdict(
        False,
        "use output = floor((input + 2*padding - kernel_size) / stride) + 1 with stride=1 "
        "for H and W; the batch (1) and out_channels (2) do not change",
    )


_EXERCISE_4_SHAPES = {"output": "(2, 16, 32, 32)", "weight": "(16, 3, 3, 3)", "bias": "(16,)"}
_EXERCISE_4_ALIASES = {
    "output": ("output", "out", "y", "feature"),
    "weight": ("weight", "kernel", "w"),
    "bias": ("bias", "b"),
}


def _exercise_4(answer: str) -> Verdict:
    text = answer.lower()
    words = set(re.findall(r"[a-z]+", text))
    shapes = {tuple(_integers(group)) for group in re.findall(r"[(\[][^)\]]*[)\]]", text)}
    named = {name for name, aliases in _EXERCISE_4_ALIASES.items() if words & set(aliases)}
    named |= {name for name, shape in _EXERCISE_4_SHAPES.items() if tuple(_integers(shape)) in shapes}
    mentions_input = "input" in words or (2, 3, 32, 32) in shapes
    if named == set(_EXERCISE_4_SHAPES) and not mentions_input:
        listed = ", ".join(f"{name} {shape}" for name, shape in _EXERCISE_4_SHAPES.items())
        return Verdict(True, f"{listed}; the input (2, 3, 32, 32) does not change")
    if mentions_input:
        return Verdict(
            False,
            "the input is the data: it does not depend on the layer. Which of output, "
            "weight and bias have one entry per output channel?",
        )
    missing = sorted(set(_EXERCISE_4_SHAPES) - named)
    return Verdict(
        False,
        f"not all of them yet: out_channels also sets the {missing[0]}'s shape. "
        "Name each shape that has out_channels in it.",
    )


def _exercise_5(answer: str) -> Verdict:
    text = answer.lower().replace(" ", "")
    if "->" in text:  # einops: "n h w c -> n c h w"
        left, right = answer.lower().split("->")
        before, after = left.split(), right.split()
        if sorted(before) == sorted(after) and len(before) == 4:
            order = tuple(before.index(axis) for axis in after)
        else:
            order = ()
    else:
        order = tuple(int(d) for d in re.findall(r"\d", text))
    if order == (0, 3, 1, 2):
        return Verdict(
            True,
            "x.permute(0, 3, 1, 2) in PyTorch, x.transpose(0, 3, 1, 2) in NumPy: "
            "new axis 1 is old axis 3 (C), then H and W",
        )
    if order == (0, 2, 3, 1):
        return Verdict(
            False,
            "(0, 2, 3, 1) goes the other way, NCHW -> NHWC. List, for each new axis N, C, H, W, "
            "where it is in [N, H, W, C].",
        )
    return Verdict(
        False,
        "write the new order of the old axes: in [N, H, W, C], N is 0, H is 1, W is 2, C is 3; "
        "the new order is N, C, H, W. E.g. x.permute(...)",
    )


EXERCISES = (
    Exercise(
        1,
        "Change the hand-written 2 x 2 kernel of Lab 1 and observe how the output changes.",
        "Any 2x2 kernel works; try [[1, 1], [1, 1]] (a blur: sums each patch) or [[1, -1], [1, -1]] "
        "(a vertical-edge detector).",
        _exercise_1,
        "your kernel, rows separated by ';' (e.g. 1 1; 1 1)",
        "Lab 1's kernel is 1 0; 0 -1: each output is a patch's top-left pixel minus its bottom-right one. "
        "Type any other 2 x 2 kernel and compare the two outputs.",
    ),
    Exercise(
        2,
        "Manually compute out[1, 0] in Lab 1 and compare with the printed output.",
        "The patch is rows 1-2, columns 0-1 of the image: [[5, 3], [2, 1]].\n"
        "out[1, 0] = 5*1 + 3*0 + 2*0 + 1*(-1) = 4",
        _exercise_2,
        "a number",
        "out[1, 0] is output row 1, column 0: its window starts at image row 1, column 0 and covers 2 x 2 "
        "pixels; multiply them cell by cell with the kernel 1 0; 0 -1 and add.",
    ),
    Exercise(
        3,
        "Change stride=1 in the size lab. What output shape do you get?",
        "H_out = floor((6 + 2*1 - 3) / 1) + 1 = 6, the same for W, so output is (1, 2, 6, 6).",
        _exercise_3,
        "a shape such as (1, 2, 3, 3)",
        "the size lab has input 6 x 6, kernel 3 and padding 1; put stride 1 into "
        "floor((input + 2*padding - kernel_size) / stride) + 1, then write (N, out_channels, H_out, W_out).",
    ),
    Exercise(
        4,
        "Change out_channels=16 in the channel lab. Which shapes change?",
        "output (2, 8, 32, 32) -> (2, 16, 32, 32), weight (8, 3, 3, 3) -> (16, 3, 3, 3), "
        "bias (8,) -> (16,). The input (2, 3, 32, 32) stays.",
        _exercise_4,
        "the names of the shapes that change (input, output, weight, bias)",
        "out_channels is how many kernels the layer has: each makes one feature map and has one bias. Which "
        "shapes count kernels or feature maps?",
    ),
    Exercise(
        5,
        "Convert an image-like tensor from [N, H, W, C] to [N, C, H, W].",
        "PyTorch: x = x.permute(0, 3, 1, 2); NumPy: x = x.transpose(0, 3, 1, 2). New axis 1 (C) is old axis 3.",
        _exercise_5,
        "the code, e.g. x.permute(a, b, c, d)",
        "number the old axes, [N, H, W, C] = 0, 1, 2, 3, then list them in the new order N, C, H, W.",
    ),
)


def get(number: int) -> Exercise:
    """Exercise ``number`` (1 to 5)."""
    if not 1 <= number <= len(EXERCISES):
        nearest = min(max(number, 1), len(EXERCISES))
        raise ArgumentError(
            f"there is no exercise {number}; they are 1 to {len(EXERCISES)}",
            fix=Call("convlab.lesson.exercises.get", (nearest,)),
        )
    return EXERCISES[number - 1]


def check(number: int, answer: str) -> Verdict:
    """Check an answer to exercise ``number``."""
    return get(number).checker(answer)
