"""Errors that teach: each common mistake recognised, explained with its values, and fixed by its own fix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import convlab
import convlab.functional as F
from convlab import diagnose, nn
from convlab.cli import main
from convlab.errors import ConvlabError, ConvlabWarning
from convlab.lesson.mistakes import CATALOGUE, Mistake, _namespace, run
from convlab.network.torch_errors import torch_error
from tests.conftest import environment_for_the_convlab_under_test

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("mistake", CATALOGUE, ids=[f"{m.code}-{i}" for i, m in enumerate(CATALOGUE)])
def test_each_mistake_is_recognised_and_its_fixed_code_runs(mistake: Mistake) -> None:
    outcome = run(mistake)
    assert outcome.code == mistake.code, outcome.message
    assert outcome.fixed_problem is None, outcome.fixed_problem
    assert "fix:" in outcome.message
    assert re.search(r"\d", outcome.message.splitlines()[0]), "the first line restates the values"


def _applied(mistake: Mistake) -> bool:
    """Apply the diagnosis's own fix statement (x = ..., weight = ...) and run the wrong call again."""
    namespace = _namespace()
    exec(mistake.setup, namespace)
    try:
        exec(mistake.wrong, namespace)
    except ConvlabError as error:
        fix = error.diagnosis.fix  # type: ignore[attr-defined]
    statement = fix.split("#")[0].strip()
    if not re.fullmatch(r"[a-z_]+ = .+", statement):
        return False
    name, value = statement.split(" = ", 1)
    aliases = {"x": ["x", "image", "features"], "input": ["x", "image"], "weight": ["weight", "w"]}
    target = next((v for v in aliases.get(name, [name]) if v in namespace), None)
    if target is None:  # the fix names an argument written inline in the call
        return False
    namespace[target] = eval(re.sub(rf"\b{name}\b", target, value), namespace)
    exec(mistake.wrong, namespace)  # must not raise now
    return True


def test_the_suggested_fixes_when_applied_make_the_call_succeed() -> None:
    applied = [m.code for m in CATALOGUE if m.kind == "error" and _applied(m)]
    # every fix that is a statement about the input or weight was applied and worked
    assert {
        "channels-last",
        "hwc-image",
        "grayscale-without-channel",
        "missing-batch-and-channel",
        "extra-axis",
        "rgba-into-rgb",
        "weight-hwio",
        "float64-with-float32",
        "depthwise-weight",
    } <= set(applied)


def test_twenty_or_more_distinct_mistakes() -> None:
    assert len({m.code for m in CATALOGUE}) >= 20


@pytest.mark.parametrize(
    ("input_shape", "weight_shape", "groups", "code"),
    [
        ((1, 32, 32, 3), (8, 3, 3, 3), 1, "channels-last"),
        ((4, 224, 224, 1), (8, 1, 3, 3), 1, "channels-last"),
        ((1, 16, 8, 8), (4, 8, 3, 3), 1, "in-channels"),  # square H, W on the last axes: NCHW, wrong in_channels
        ((32, 32, 3), (8, 3, 3, 3), 1, "hwc-image"),
        ((8, 28, 28), (4, 1, 3, 3), 1, "grayscale-without-channel"),
        ((1, 1, 32, 32), (8, 3, 3, 3), 1, "grayscale-into-rgb"),
        ((1, 3, 28, 28), (8, 1, 3, 3), 1, "rgb-into-grayscale"),
        ((1, 4, 32, 32), (8, 3, 3, 3), 1, "rgba-into-rgb"),
        ((1, 1, 28, 28), (5, 5, 1, 6), 1, "weight-hwio"),
        ((1, 8, 16, 16), (8, 8, 3, 3), 8, "depthwise-weight"),
        ((1, 6, 8, 8), (4, 2, 3, 3), 2, "in-channels"),
    ],
)
def test_channel_mismatches_are_told_apart(input_shape, weight_shape, groups, code) -> None:  # type: ignore[no-untyped-def]
    batched = input_shape if len(input_shape) == 4 else (1, *input_shape)
    diagnosis = diagnose.channel_mismatch("conv2d", batched, weight_shape, groups, original_shape=input_shape)
    assert diagnosis.code == code
    assert str(input_shape) in diagnosis.what + " ".join(diagnosis.evidence)


def test_the_engine_raises_the_diagnosis_with_numpy_code_and_torch_users_get_torch_code() -> None:
    with pytest.raises(ConvlabError) as raised:
        F.conv2d(np.zeros((2, 64, 64, 3), np.float32), np.zeros((8, 3, 3, 3), np.float32))
    assert "fix: x = x.transpose(0, 3, 1, 2)" in str(raised.value)
    assert raised.value.diagnosis.torch_fix == "x = x.permute(0, 3, 1, 2)"  # type: ignore[attr-defined]


class LeNet(torch.nn.Module):
    """LeNet-5 as written for 32x32 inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc = torch.nn.Linear(16 * 5 * 5, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def test_explain_errors_re_explains_torchs_linear_error_and_chains_it() -> None:
    model = LeNet()
    with pytest.raises(ConvlabError) as raised, convlab.explain_errors(model):
        model(torch.zeros(2, 1, 28, 28))
    message = str(raised.value)
    assert "fc: Linear(in_features=400) gets 256 features" in message
    assert "nn.Linear(256, 10)" in message
    assert isinstance(raised.value.__cause__, RuntimeError)
    assert "mat1 and mat2" in str(raised.value.__cause__)


def test_explain_errors_gives_torch_code_for_nhwc_input() -> None:
    model = LeNet()
    with pytest.raises(ConvlabError, match=r"x = x\.permute\(0, 3, 1, 2\)"), convlab.explain_errors(model):
        model(torch.zeros(2, 32, 32, 1))


def test_explain_errors_lets_working_models_and_other_errors_through() -> None:
    model = LeNet()
    with convlab.explain_errors(model):
        assert model(torch.zeros(1, 1, 32, 32)).shape == (1, 10)
    with pytest.raises(KeyError), convlab.explain_errors(model):
        raise KeyError("not a shape error")


def test_explain_errors_for_a_float64_input() -> None:
    model = LeNet()
    with pytest.raises(ConvlabError, match=r"x = x\.float\(\)"), convlab.explain_errors(model):
        model(torch.zeros(1, 1, 32, 32, dtype=torch.float64))


def test_torch_error_directly() -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Conv2d(16, 4, 3))
    x = torch.zeros(1, 3, 8, 8)
    try:
        model(x)
    except RuntimeError as error:
        explained = torch_error(error, model, x)
    assert "input has 8 channels but the layer expects 16" in str(explained)
    assert explained.__cause__ is not None


def test_warnings_can_be_switched_off() -> None:
    x, w = np.zeros((1, 1, 9, 9), np.float32), np.ones((1, 1, 2, 2), np.float32)
    with pytest.warns(ConvlabWarning, match="stride-skips-pixels"):
        F.conv2d(x, w, stride=3)
    with warnings.catch_warnings(), diagnose.quiet():
        warnings.simplefilter("error")
        F.conv2d(x, w, stride=3)
    code = (
        "import warnings, numpy as np, convlab.functional as F\nwarnings.simplefilter('error')\n"
        "F.conv2d(np.zeros((1, 1, 9, 9)), np.ones((1, 1, 2, 2)), stride=3)\nprint('quiet')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        # only the variable under test changes: PYTHONPATH and the rest still pick the convlab under test
        env=environment_for_the_convlab_under_test(CONVLAB_WARNINGS="0"),
        check=True,
    ).stdout
    assert "quiet" in out


def test_a_sequential_names_the_failing_layer() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 5), nn.MaxPool2d(2), nn.Conv2d(4, 8, 5), nn.MaxPool2d(2), nn.Conv2d(8, 8, 5)
    )
    with pytest.raises(ConvlabError, match=r"layer 4 \(Conv2d\(8, 8, kernel_size=\(5, 5\).* overshoots by 3"):
        model(np.zeros((1, 1, 20, 20), np.float32))


def test_check_reports_every_problem_through_the_stack() -> None:
    report = convlab.check(LeNet(), (1, 3, 28, 28))
    codes = [(p.index, p.diagnosis.code) for p in report.errors]
    assert codes == [(1, "rgb-into-grayscale"), (8, "linear-in-features")]  # found past the first error
    assert not report.ok


def test_check_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["check", "conv5x5(6) maxpool2 conv5x5(16) maxpool2 flatten linear(10)", "--input", "1x32x32"]) == 0
    )
    assert "no problems" in capsys.readouterr().out
    (tmp_path / "lenet.py").write_text(
        Path(__file__).read_text().split("class LeNet")[0].split("ROOT =")[0]
        + "class LeNet"
        + Path(__file__).read_text().split("class LeNet")[1].split("\n\n\ndef ")[0]
    )
    assert main(["check", "--model", f"{tmp_path / 'lenet.py'}:LeNet", "--input", "1x28x28"]) == 1
    out = capsys.readouterr().out
    assert "layer 8 (fc, linear): Linear(in_features=400) gets 256 features" in out
    assert "1 error(s)" in out


def test_check_an_image_file_as_pil_reads_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "photo.png")
    assert main(["check", "conv3x3(8)", "--input", str(tmp_path / "photo.png")]) == 0
    assert "inferred from the input: 1.conv in_channels=32" in capsys.readouterr().out  # and says so
    # a preset is the published network: the picture as PIL reads it is channels last, and the fix says how
    assert main(["check", "resnet18", "--input", str(tmp_path / "photo.png"), "--json"]) == 1
    problem = json.loads(capsys.readouterr().out)["problems"][0]
    assert problem["code"] == "hwc-image"
    assert problem["layer"] == "conv1"
    assert "expects 3 channels; got 32: 32x32x3 is channels-last" in problem["message"]
    assert problem["fix"].startswith("x = x.transpose(2, 0, 1)")


def test_the_catalogue_in_docs_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_mistakes.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
