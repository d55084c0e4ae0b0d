"""Check a whole network against an input before anything runs, and report every problem, not just the first.

Each layer is checked against what actually reaches it: channels against its
in_channels, features against a Linear's in_features, the kernel against the
feature map. After a mismatch the check goes on as if the layer had received
what it was built for, so later problems are found too. Quiet traps (a stride
that skips pixels, padding no window uses, a feature map shrunk to 1x1 while
convolutions still follow, flattening before any convolution) are reported as
warnings.

Example:
    >>> report = check("conv3x3(8) flatten linear(10)", (3, 8, 8))
    >>> report.ok
    True
    >>> problem = check("conv9x9(8) relu", (3, 8, 8)).problems[0]
    >>> problem.index, problem.diagnosis.code, problem.diagnosis.fix.split("#")[0].strip()  # as a layer string
    (1, 'kernel-larger-than-input', 'conv9x9(8,p1)')
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from typing import Any

from ..diagnose import Diagnosis, channel_mismatch, rank_mismatch
from ..errors import ArgumentError, ConvlabError, ShapeError
from .as_graph import as_graph, input_shape_of
from .graph import Graph, Node
from .presets import wrong_input

__all__ = ["Problem", "Report", "check", "require_fit"]


@dataclass(frozen=True)
class Problem:
    index: int  # 1-based position of the layer
    layer: str
    kind: str
    severity: str  # "error" or "warning"
    diagnosis: Diagnosis

    @property
    def message(self) -> str:
        """The diagnosis without the layer's name in front (the line names it)."""
        return self.diagnosis.what.removeprefix(f"{self.layer}: ")

    @property
    def headline(self) -> str:
        """The diagnosis's first line with the layer named once in front: ``conv2: conv2d: input has 6 ...``."""
        return f"{self.layer}: {self.message}"

    def line(self, torch: bool = False) -> str:
        """``layer 7 (fc, linear): Linear(in_features=400) gets 576 features ...; fix: nn.Linear(576, 10)``."""
        fix = self.diagnosis.torch_fix if torch else self.diagnosis.fix
        return f"layer {self.index} ({self.layer}, {self.kind}): {self.message}; fix: {fix}"


@dataclass(frozen=True)
class Report:
    model: str
    input_shape: tuple[int, ...]
    problems: tuple[Problem, ...]
    checked: int  # layers checked before the check could not go on (all of them when it could)
    total: int
    inferred: tuple[str, ...] = ()  # sizes the layers took from what reached them: "1.conv in_channels=3"

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def verdict(self) -> str:
        """``lenet5 on input (1, 3, 32, 32): 2 error(s), 0 warning(s) (stopped at layer 3 of 8)``."""
        stopped = "" if self.checked == self.total else f" (stopped at layer {self.checked} of {self.total})"
        errors, warnings = len(self.errors), len(self.problems) - len(self.errors)
        found = "no problems" if not self.problems else f"{errors} error(s), {warnings} warning(s)"
        return f"{self.model} on input {self.input_shape}: {found}{stopped}"

    def __str__(self) -> str:
        """Each problem on one line with its fix (in Python), then the verdict, as ``convlab check`` prints."""
        lines = [f"{problem.severity}: {problem.line()}" for problem in self.problems]
        if self.inferred:
            lines.append(f"inferred from the input: {'; '.join(self.inferred)}")
        return "\n".join([*lines, self.verdict])

    def _repr_html_(self) -> str:
        """The problems as a table (layer, kind, severity, problem, fix), then the verdict."""
        from .._display import html

        rows = [(p.index, p.layer, p.kind, p.severity, p.message, p.diagnosis.fix) for p in self.problems]
        header = ("#", "layer", "kind", "severity", "problem", "fix")
        found = html.table(header, rows, right={0}) if rows else ""
        inferred = [f"inferred from the input: {'; '.join(self.inferred)}"] if self.inferred else []
        return html.block(html.heading(self.verdict), found, html.lines(inferred) if inferred else "")


def _diagnosis_of(error: ConvlabError) -> Diagnosis:
    if error.diagnosis is not None:
        return error.diagnosis
    return Diagnosis("error", error.message, error.evidence, "see the message", error.fix or "", error.fix or "")


def _shape_of(value: Any) -> tuple[int, ...]:
    if hasattr(value, "shape"):
        return tuple(int(n) for n in value.shape)
    if isinstance(value, str):
        import re

        return tuple(int(n) for n in re.findall(r"\d+", value))
    if not isinstance(value, (tuple, list)):
        raise ArgumentError(
            f'input must be a shape such as (3, 224, 224), a "3x224x224" string or the array, got {value!r}',
            fix='input="3x224x224"',
        )
    sizes = [_whole(n) for n in value]
    if not all(size is not None and size >= 1 for size in sizes):
        raise ArgumentError(
            f"input shape {tuple(value)!r} must hold whole sizes of at least 1", fix='input="3x224x224"'
        )
    return tuple(size for size in sizes if size is not None)


def _whole(value: Any) -> int | None:
    """An int or a NumPy integer as an int (not a bool); None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def check(model: object, input: object = None) -> Report:
    """Check ``model`` against an input (its shape, a "3x224x224" string, or the array itself).

    Args:
        model: a preset name, a layer string, a ``convlab.nn.Sequential`` or a ``torch.nn.Module``.
        input: the input's shape as the model will get it, or the array; presets default to their own.
    """
    given = _shape_of(input) if input is not None else None
    graph, default = as_graph(model, given if given is not None and len(given) in (3, 4) else None)
    if input is None and default is None:
        raise ArgumentError(
            "this model has no input shape of its own (only presets do): check needs the input",
            fix='input="3x224x224"',
        )
    raw = given if given is not None else (1, *default) if default else ()
    array = hasattr(input, "shape")
    takes_features = (getattr(graph.nodes[0].op, "inner", None) or graph.nodes[0].op).takes_features
    if len(raw) not in (3, 4) and not (takes_features and len(raw) == 2):
        diagnosis = rank_mismatch("input", "x", raw)
        return Report(graph.name, raw, (Problem(0, "input", "input", "error", diagnosis),), 0, len(graph.nodes))
    shapes: dict[str, tuple[int, ...]] = {"input": raw if len(raw) == 2 else input_shape_of(raw)}
    problems: list[Problem] = []
    inferred: list[str] = []
    convolved = False
    for index, node in enumerate(graph.nodes, start=1):
        inputs = [shapes[source] for source in node.inputs]
        taken = node.op.inferred(inputs)
        if taken:
            inferred.append(f"{node.name} {', '.join(f'{key}={value}' for key, value in taken.items())}")
        failed = False
        try:
            shapes[node.name] = node.output_shape(inputs)
        except ConvlabError as error:
            first = _first_layer(node, inputs, raw)
            diagnosis = first or _diagnosis_of(error)
            if graph.designed_for is not None:
                channels = inputs[0][1] if first is not None else None
                diagnosis = wrong_input(graph.name, graph.designed_for, raw, diagnosis, channels, array)
            problems.append(Problem(index, node.name, node.op.kind, "error", diagnosis))
            failed = True  # a warning about a layer that cannot run would restate (or contradict) its error
            try:
                fallback = node.op.fallback_output(inputs, node.name)
            except ConvlabError:
                fallback = None
            if fallback is None:
                problems += _shrunk(graph, shapes, index - 1)
                problems.sort(key=lambda problem: problem.index)
                return Report(graph.name, raw, tuple(problems), index, len(graph.nodes), tuple(inferred))
            shapes[node.name] = fallback
        if not failed:
            problems += _warnings(index, node, inputs, shapes[node.name], convolved)
        convolved |= node.op.convolves
    problems += _shrunk(graph, shapes, len(graph.nodes))
    problems.sort(key=lambda problem: problem.index)  # stable: each layer's error, then its warnings
    return Report(graph.name, raw, tuple(problems), len(graph.nodes), len(graph.nodes), tuple(inferred))


def require_fit(graph: Graph, input: object) -> None:
    """Raise the first mistake a fixed network (a preset) finds in ``input``; other graphs infer their sizes.

    ``input`` is as :func:`check` takes it; None is the network's own input.
    """
    if graph.designed_for is None:
        return
    errors = check(graph, input if input is not None else graph.designed_for).errors
    if errors:
        first = errors[0]
        raise replace(first.diagnosis, what=f"{first.layer}: {first.message}").error(ShapeError)


def _first_layer(node: Node, inputs: list[tuple[int, ...]], raw: tuple[int, ...]) -> Diagnosis | None:
    """For the layer that reads the input itself, diagnose with the input as the user gave it (HWC, ...)."""
    op = getattr(node.op, "inner", None) or node.op  # a layer measured by running the model: the layer itself
    declared = op.declared_input()
    if node.inputs != ("input",) or declared is None:
        return None
    in_channels, weight, groups = declared
    if inputs[0][1] == in_channels:
        return None
    diagnosis = channel_mismatch("conv2d", inputs[0], weight, groups, original_shape=raw)
    return replace(diagnosis, what=f"{node.name}: {diagnosis.what}")


def _warnings(
    index: int, node: Node, inputs: list[tuple[int, ...]], output: tuple[int, ...], convolved: bool
) -> list[Problem]:
    op, found = node.op, node.op.traps(node.name)
    if op.flattens and not convolved and len(inputs[0]) == 4 and inputs[0][2] * inputs[0][3] > 1:
        found.append(
            Diagnosis(
                "flatten-too-early",
                f"{node.name}: the image is flattened before any convolution",
                (f"{inputs[0]} becomes {output}",),
                "flattening first loses where pixels are and needs many weights",
                "put convolution blocks before the classifier head",
                "put nn.Conv2d blocks before nn.Flatten()",
            )
        )
    return [Problem(index, node.name, op.kind, "warning", diagnosis) for diagnosis in found]


def _shrunk(graph: Graph, shapes: dict[str, tuple[int, ...]], checked: int) -> list[Problem]:
    """Layers whose output is already 1x1 while layers after them slide larger kernels over that 1x1 map.

    Only layers fed from it count (a squeeze-excitation branch pools to 1x1 beside the main path), and
    only where they get the 1x1 map (a transposed convolution upsamples it first: no mistake).
    """
    found = []
    nodes = graph.nodes[:checked]
    seen = {node.name: node.op.seen_input([shapes[source] for source in node.inputs]) for node in nodes}
    for index, node in enumerate(nodes, start=1):
        output, given = shapes[node.name], seen[node.name]
        if len(output) != 4 or output[2:] != (1, 1) or len(given) != 4 or given[2:] == (1, 1):
            continue
        fed = {node.name}
        for later in nodes[index:]:
            if not fed.intersection(later.inputs) or not getattr(later.op, "wired", True):
                continue  # not fed from it, or read by running a model and not known to be
            fed.add(later.name)
            window, its_input = later.op.window(), seen[later.name]
            if window not in (None, (1, 1)) and not later.op.uneven_fields and its_input[2:] == (1, 1):
                diagnosis = Diagnosis(
                    "shrunk-to-1x1",
                    f"{node.name}: the feature map is already 1x1 but layers with larger kernels follow",
                    (f"output {output}", f"{later.name} slides a {window[0]}x{window[1]} kernel over it"),
                    "the input is small for this network, or strides and pools came too early",
                    "use a larger input, or fewer strides/pools",
                    "use a larger input, or fewer strides/pools",
                )
                found.append(Problem(index, node.name, node.op.kind, "warning", diagnosis))
                break
    return found
