"""A small language for layer stacks: ``"conv3x3(64,s2,p1) relu maxpool(2) conv(128,k3,p1) flatten linear(10)"``.

Grammar (spaces, commas or ``->`` separate layers; case does not matter)::

    stack   := layer (sep layer)*
    layer   := name [size] ["(" arg ("," arg)* ")"]
             | res "(" stack ["|" stack] ")"     a residual block: body(x) + x, or body(x) + shortcut(x)
    size    := N | NxM                       kernel size written on the name: conv3x3, maxpool2, conv1x7
    arg     := N                             conv/convT/linear: output channels or features; pools: kernel size
             | k N[xM] | s N[xM] | p N[xM] | p same | p valid | d N[xM] | g N | op N[xM]
             | nobias | ceil
    name    := conv | convT (also deconv) | maxpool | avgpool | gap (global average pool)
             | relu | sigmoid | tanh | gelu | dropout | bn | flatten | linear (also fc)

``k`` kernel, ``s`` stride, ``p`` padding, ``d`` dilation, ``g`` groups, ``op``
output padding (convT only). Pools default to stride = kernel, as in PyTorch.

``res(...)`` adds its body's output to its input, as ResNet's blocks do; after a ``|`` comes a
shortcut that replaces the input where the body changes channels or size. Its layers are named
by the block's position, then their own: ``3.1.conv`` in the body, ``3.s1.conv`` in the shortcut,
``3.add`` the sum.

Examples::

    conv3x3(16,p1) relu conv3x3(16,p1) relu maxpool2 flatten linear(10)
    conv(64,k7,s2,p3) bn relu maxpool(3,s2,p1)
    conv3x3(32,d2,psame) convT(16,k2,s2)
    conv3x3(8,p1) relu res(conv3x3(8,p1) bn relu conv3x3(8,p1) bn) relu
    res(conv3x3(16,s2,p1) bn relu conv3x3(16,p1) | conv1x1(16,s2) bn)

Errors name the token that could not be read and where it is.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ArgumentError
from .graph import Graph, GraphBuilder, Op, in_layer_string_error
from .layer_kinds import Add, kind_named, string_names

__all__ = ["LayerString", "parse_stack", "starts_with_a_layer"]

_RESIDUAL = re.compile(r"res\((?P<inside>.*)\)$", re.IGNORECASE | re.DOTALL)
_LAYER = re.compile(r"(?P<name>[a-z]+?)(?P<size>\d+(?:x\d+)?)?(?:\((?P<args>[^()]*)\))?$")


@dataclass(frozen=True)
class LayerString:
    """One layer of a layer string, read: ``conv3x3(64,s2)`` is name "conv", positional [64], k (3, 3), s 2."""

    name: str
    token: str
    positional: list[int]
    settings: dict[str, Any]

    def count(self, what: str) -> int:
        """The one plain number the layer needs (its output channels or features)."""
        if len(self.positional) != 1:
            raise ArgumentError(
                f"{self.token!r}: give the number of {what} once, e.g. {self.name}(64)",
                fix=f"{self.name}(64,k3,p1)" if "conv" in self.name else f"{self.name}(10)",
            )
        return self.positional[0]

    def kernel(self) -> Any:
        """The kernel size, written on the name (conv3x3) or as k3."""
        if "k" not in self.settings:
            raise ArgumentError(
                f"{self.token!r}: a {self.name} needs a kernel size",
                fix=f"{self.name}3x3(64) or {self.name}(64,k3)",
            )
        return self.settings["k"]


def _split(spec: str) -> list[tuple[str, int]]:
    """Layer tokens with their positions; separators outside parentheses are spaces, commas and ->."""
    tokens: list[tuple[str, int]] = []
    depth, start = 0, None
    text = spec.replace("->", "  ")
    for index, char in enumerate(text + " "):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ArgumentError(f"unmatched ')' at position {index} in {spec!r}", fix="check the parentheses")
        if depth == 0 and char in " ,\t\n" and start is not None:
            tokens.append((text[start:index], start))
            start = None
        elif start is None and char not in " ,\t\n":
            start = index
    if depth > 0:
        raise ArgumentError(f"a '(' is never closed in {spec!r}", fix="close every ( with )")
    return tokens


def _pair_value(text: str, token: str, what: str) -> Any:
    if re.fullmatch(r"\d+", text):
        return int(text)
    if re.fullmatch(r"\d+x\d+", text):
        h, w = text.split("x")
        return (int(h), int(w))
    raise ArgumentError(
        f"{token!r}: {what} must be a number or NxM, got {text!r}", fix=f"e.g. {token.split('(')[0]}(64,k3)"
    )


def _layer(token: str) -> Op:
    match = _LAYER.match(token.lower())
    if not match or kind_named(match.group("name")) is None:
        raise _unreadable(token)
    name = match.group("name")
    size = match.group("size")
    written = (match.group("args") or "").strip()  # "relu()" has no arguments, as nn.ReLU() has none
    args = [arg.strip() for arg in written.split(",")] if written else []
    settings: dict[str, Any] = {}
    positional: list[int] = []
    if size:
        settings["k"] = _pair_value(size, token, "the kernel size")
    for arg in args:
        keyed = re.fullmatch(r"(k|s|p|d|g|op)(\w+)", arg)
        if re.fullmatch(r"\d+", arg):
            positional.append(int(arg))
        elif arg in ("nobias", "ceil"):
            settings[arg] = True
        elif keyed:
            key, value = keyed.groups()
            if key in settings:
                raise ArgumentError(
                    f"{token!r}: {key} is given twice", fix=f"keep one {key}, e.g. {name}(64,k3,s2)"
                )
            settings[key] = value if key == "p" and value in ("same", "valid") else _pair_value(value, token, key)
        else:
            raise ArgumentError(
                f"{token!r}: cannot read {'an empty argument' if not arg else repr(arg)}",
                fix="arguments are N, kN, sN, pN, dN, gN, opN, nobias or ceil, e.g. conv(64,k3,s2,p1)",
            )
    return _op(name, token, positional, settings)


def starts_with_a_layer(token: str) -> bool:
    """Whether ``token``'s leading letters name a layer (``conv`` in ``conv3x(8)``), whatever follows."""
    word = re.match(r"[a-z]*", token.lower())
    return word is not None and (kind_named(word.group(0)) is not None or _RESIDUAL.match(token) is not None)


def _unreadable(token: str) -> ArgumentError:
    """Why a token is not a layer: a known name written wrongly, or an unknown (perhaps misspelt) name."""
    word = re.match(r"[a-z]*", token.lower())
    name = word.group(0) if word else ""
    if kind_named(name) is not None:
        return ArgumentError(
            f"{token!r}: after {name!r} comes an optional size N or NxM, then (arguments)",
            fix=f"e.g. {name}3x3(64,p1)" if "conv" in name else f"e.g. {name}2" if "pool" in name else name,
        )
    names = string_names()
    close = difflib.get_close_matches(name, names, n=1)
    return ArgumentError(
        f"unknown layer {name or token!r} in {token!r}; known: {', '.join(names)}",
        fix=f"did you mean {token.lower().replace(name, close[0], 1)}?"
        if close and name
        else 'e.g. "conv3x3(64,p1) relu maxpool2"',
    )


def _op(name: str, token: str, positional: list[int], settings: dict[str, Any]) -> Op:
    kind = kind_named(name)
    assert kind is not None  # _layer reads only registered names
    allowed = kind.takes(name)
    unknown = [key for key in settings if key not in allowed]
    if unknown or (positional and not kind.counted):
        what = ("a kernel size" if unknown[0] == "k" else unknown[0]) if unknown else f"the number {positional[0]}"
        takes = f"takes only {', '.join(allowed)}" if allowed else "takes no size or arguments"
        raise ArgumentError(f"{token!r}: {name} {takes}, not {what}", fix=f"e.g. {kind.example_of(name)}")
    return kind.from_string(LayerString(name, token, positional, settings))


def parse_stack(spec: str, name: str = "stack") -> Graph:
    """Parse a layer string into a :class:`~convlab.network.graph.Graph`: a chain, with a branch per ``res(...)``.

    Layers are named by position and kind: ``1.conv``, ``2.relu``, ...

    Example:
        >>> [node.name for node in parse_stack("conv3x3(8,p1) relu maxpool2").nodes]
        ['1.conv', '2.relu', '3.maxpool']
        >>> [node.name for node in parse_stack("res(conv3x3(8,p1) relu | conv1x1(8))").nodes]
        ['1.1.conv', '1.2.relu', '1.s1.conv', '1.add']
    """
    builder = GraphBuilder(name)
    if not _split(spec):
        raise ArgumentError("the layer string is empty", fix='e.g. "conv3x3(16,p1) relu maxpool2"')
    _add_chain(builder, spec, 0, "", "input")
    return builder.build()


def _add_chain(builder: GraphBuilder, text: str, offset: int, prefix: str, source: str) -> str:
    """Add the layers written in ``text`` (at ``offset`` in the whole string) after ``source``; their last node."""
    for index, (token, position) in enumerate(_split(text), start=1):
        label = f"{prefix}{index}"
        residual = _RESIDUAL.match(token)
        if residual:
            source = _add_residual(builder, residual.group("inside"), offset + position + 4, label, source)
            continue
        try:
            op = _layer(token)
        except ArgumentError as error:
            written = in_layer_string_error(error, token)  # a layer's own check speaks Python
            raise ArgumentError(
                f"layer {label} at position {offset + position}: {error.message}",
                evidence=written.evidence,
                fix=written.fix,
                diagnosis=written.diagnosis,
            ) from None
        source = builder.add(f"{label}.{op.kind}", op, source, written=token)
    return source


def _add_residual(builder: GraphBuilder, inside: str, offset: int, label: str, source: str) -> str:
    """``res(body | shortcut)``: both branches read ``source``; the block's node adds their outputs."""
    parts = _top_level_parts(inside)
    if len(parts) > 2 or not _split(parts[0]) or (len(parts) == 2 and not _split(parts[1])):
        raise ArgumentError(
            f"layer {label} at position {offset - 4}: res(...) holds a body, then at most one '|' and a shortcut, "
            f"got {inside!r}",
            fix="e.g. res(conv3x3(8,p1) relu conv3x3(8,p1)) or res(conv3x3(16,s2,p1) | conv1x1(16,s2))",
        )
    body = _add_chain(builder, parts[0], offset, f"{label}.", source)
    skipped = source
    if len(parts) == 2:
        skipped = _add_chain(builder, parts[1], offset + len(parts[0]) + 1, f"{label}.s", source)
    return builder.add(f"{label}.add", Add(), body, skipped)


def _top_level_parts(text: str) -> list[str]:
    """``text`` split at the ``|`` that no parenthesis encloses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]
