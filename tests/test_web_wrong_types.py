"""Every field of every API call, given each wrong kind of JSON value in turn: a 400 that names the field.

The hypothesis test in test_safety_server.py draws random bodies; this one walks all (call, field, value)
triples of a valid request, so no field's type check can be missing without a failure here.
"""

from __future__ import annotations

from typing import Any

import pytest

from convlab.errors import ConvlabError
from convlab.web import api

VALID: dict[str, dict[str, Any]] = {
    "conv": {
        "input": [[1, 2, 0], [5, 3, 0], [2, 1, 3]],
        "kernel": [[1, 0], [0, -1]],
        "bias": 0.5,
        "stride": 1,
        "padding": [1, 0],
        "dilation": 1,
        "padding_mode": "zeros",
    },
    "network": {"model": "conv3x3(8) flatten linear(10)", "input": "3x8x8"},
    "features": {"image": "camera", "kernels": ["sobel_x"]},
    "model": {"digit": 3},
    "model_digits": {"start": 0},
    "model_unit": {"digit": 0, "layer": 0, "channel": 1, "row": 1, "col": 2},
}

WRONG: list[object] = [None, True, -1, 2.5, 10**30, "nonsense", "", [], [None], [[1, "a"]], {}, {"a": 1}]


def test_every_call_is_listed() -> None:
    assert set(VALID) == set(api.HANDLERS) - {"presets"}  # presets reads no field
    for call, request in VALID.items():
        assert api.handle(call, request), call  # the valid request is answered


@pytest.mark.parametrize(("call", "field"), [(call, field) for call, fields in VALID.items() for field in fields])
def test_a_wrong_value_in_any_field_is_refused_by_name_or_answered(call: str, field: str) -> None:
    """Each wrong value either makes sense for the field (answered) or raises convlab's error naming the
    field (or, for a name it does not know, quoting it) with a fix; never another exception."""
    for value in WRONG:
        request = {**VALID[call], field: value}
        try:
            answer = api.handle(call, request)
        except ConvlabError as caught:
            error = caught
        else:
            assert isinstance(answer, dict)
            continue
        text = f"{error.message} {error.fix or ''}"
        quoted = isinstance(value, str) and value and repr(value) in text  # a name it does not know
        assert field in text or quoted, f"{call}.{field}={value!r}: {text}"
        assert error.fix, f"{call}.{field}={value!r}: no fix in {error.message!r}"
