"""`convlab apply`: a network over an image file into a .zarr, equal to the model in memory; refusals exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask.array", reason="convlab apply needs the optional extra: pip install -e '.[dask]'")
zarr = pytest.importorskip("zarr", reason="convlab apply writes zarr: pip install -e '.[dask]'")

import torch  # noqa: E402

from convlab import nn  # noqa: E402
from convlab.cli import main  # noqa: E402
from convlab.cli.apply_model import from_layer_string  # noqa: E402

LAYERS = "conv3x3(4,p1) relu maxpool2 conv5x5(3,s2,p2) tanh conv3x3(2) flatten linear(5)"
RESIDUAL_LAYERS = (
    "conv5x5(4,p2) relu res(conv3x3(4,p1),bn,relu,conv3x3(4,p1)) relu "
    "res(conv3x3(6,s2,p1) bn relu conv3x3(6,p1,d1) | conv1x1(6,s2) bn) relu gap flatten linear(3)"
)


class Block(torch.nn.Module):
    """ResNet's basic block as a torch user writes it: the addition is in forward, no module says so."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(channels_out)
        self.conv2 = torch.nn.Conv2d(channels_out, channels_out, 3, padding=1)
        down = stride != 1 or channels_in != channels_out
        self.down = torch.nn.Conv2d(channels_in, channels_out, 1, stride=stride) if down else None

    def forward(self, x: Any) -> Any:
        out = self.conv2(torch.relu(self.bn1(self.conv1(x))))
        return torch.relu(out + (x if self.down is None else self.down(x)))


def _torch_residual_net() -> Any:
    """A torch network of two such blocks (an identity and a strided shortcut) and a global head."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 5, padding=2),
        Block(4, 4, 1),
        Block(4, 6, 2),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(6, 3),
    )
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):  # statistics that are not the identity
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    return net.eval()


def _image(folder: Path, shape: tuple[int, ...] = (2, 70, 90), seed: int = 0) -> tuple[Path, np.ndarray]:
    image = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    path = folder / "image.npy"
    np.save(path, image)
    return path, image


def _written(path: Path) -> np.ndarray:
    return np.asarray(zarr.open_array(str(path), mode="r")[...])


def _same(tiled: np.ndarray, whole: np.ndarray) -> None:
    assert tiled.shape == whole.shape
    assert tiled.dtype == whole.dtype
    np.testing.assert_allclose(tiled, whole, rtol=1e-5, atol=1e-5 * float(np.abs(whole).max()))


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_a_layer_string_over_a_memory_mapped_npy_equals_the_model_in_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, image = _image(tmp_path)
    out = tmp_path / "out.zarr"
    assert main(["apply", LAYERS, "--image", str(path), "--out", str(out), "--chunk", "24", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "initial weights drawn from seed 3" in printed
    assert "from 7.flatten on, see the whole image: not run" in printed
    assert "peak memory" in printed
    model, _ = from_layer_string(LAYERS, 2, 3)
    _same(_written(out), model.eval()(image[None]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.npy", "out.zarr"]  # no temporary left


def test_an_existing_output_is_refused_without_force_and_replaced_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, image = _image(tmp_path)
    out = tmp_path / "out.zarr"
    assert main(["apply", "conv3x3(1)", "--image", str(path), "--out", str(out)]) == 0
    first = _written(out)
    capsys.readouterr()
    assert main(["apply", "conv3x3(1)", "--image", str(path), "--out", str(out), "--seed", "1"]) == 2
    assert "exists already" in _error_line(capsys)
    np.testing.assert_array_equal(_written(out), first)
    assert main(["apply", "conv3x3(1)", "--image", str(path), "--out", str(out), "--seed", "1", "--force"]) == 0
    model, _ = from_layer_string("conv3x3(1)", 2, 1)
    _same(_written(out), model.eval()(image[None]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.npy", "out.zarr"]


def test_a_torch_model_file_runs_with_its_own_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 5, padding=2, padding_mode="reflect"),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(4, 1, 3, stride=2),
    ).eval()
    torch.save(net, tmp_path / "net.pt")
    path, image = _image(tmp_path, (2, 64, 50))
    out = tmp_path / "out.zarr"
    assert main(["apply", str(tmp_path / "net.pt"), "--image", str(path), "--out", str(out), "--chunk", "16"]) == 0
    with torch.no_grad():
        whole = net(torch.tensor(image[None])).numpy()
    _same(_written(out), whole)


def test_a_layer_string_with_residual_blocks_equals_its_model_in_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, image = _image(tmp_path, (2, 70, 90))
    out = tmp_path / "out.zarr"
    argv = ["apply", RESIDUAL_LAYERS, "--image", str(path), "--out", str(out), "--chunk", "24", "--seed", "2"]
    assert main(argv) == 0
    assert "from 7.adaptivepool on, see the whole image: not run" in capsys.readouterr().out
    model, _ = from_layer_string(RESIDUAL_LAYERS, 2, 2)
    assert [type(layer).__name__ for layer in model] == ["Conv2d", "ReLU", "Residual", "ReLU", "Residual", "ReLU"]
    assert model[2].shortcut is None
    assert model[4].shortcut is not None
    _same(_written(out), model.eval()(image[None]))


def test_a_torch_file_whose_forward_adds_branches_runs_as_residual_blocks_with_its_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    net = _torch_residual_net()
    torch.save(net, tmp_path / "net.pt")
    path, image = _image(tmp_path, (2, 64, 50))
    out = tmp_path / "out.zarr"
    assert main(["apply", str(tmp_path / "net.pt"), "--image", str(path), "--out", str(out), "--chunk", "16"]) == 0
    assert "its additions read as residual blocks by torch.fx" in capsys.readouterr().out
    with torch.no_grad():
        whole = net[:3](torch.tensor(image[None])).numpy()
    _same(_written(out), whole)


def test_residual_layer_strings_read_in_summary_and_rf_through_both_branches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # body: two 3x3 (field 5); shortcut: one 7x7 (field 7): the block's field is the larger, the shortcut's
    assert main(["rf", "res(conv3x3(4,p1) relu conv3x3(4,p1) | conv7x7(4,p3))", "--input", "1x32x32"]) == 0
    printed = capsys.readouterr().out
    assert "receptive field of 1.add: 7 input pixels" in printed
    assert "1.s1.conv" in printed
    assert main(["rf", "res(conv3x3(4,p1) relu conv3x3(4,p1)) res(conv3x3(4,p1))", "--input", "4x32x32"]) == 0
    assert "receptive field of 2.add: 7 input pixels" in capsys.readouterr().out
    assert main(["summary", RESIDUAL_LAYERS, "--input", "2x32x32"]) == 0
    printed = capsys.readouterr().out
    assert "5.s2.batchnorm" in printed
    assert "5.add" in printed


def test_zarr_tif_and_png_inputs_and_a_saved_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import dask.array as da
    import tifffile
    from PIL import Image

    model, _ = from_layer_string("conv3x3(2,p1) relu conv3x3(1)", 1, 0)
    for layer in model:
        if isinstance(layer, nn.Conv2d):
            layer.weight[...] = np.random.default_rng(5).standard_normal(layer.weight.shape)
    model.save(tmp_path / "state.npz")
    image = np.random.default_rng(2).random((40, 36)).astype(np.float32)
    da.from_array(image, chunks=16).to_zarr(str(tmp_path / "in.zarr"))
    tifffile.imwrite(tmp_path / "in.tif", image)
    Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / "in.png")
    expected = {
        "in.zarr": image,
        "in.tif": image,
        "in.png": (image * 255).astype(np.uint8).astype(np.float32) / 255,
    }
    for name, pixels in expected.items():
        out = tmp_path / f"{name}.out.zarr"
        argv = ["apply", "conv3x3(2,p1) relu conv3x3(1)", "--image", str(tmp_path / name), "--out", str(out)]
        assert main([*argv, "--weights", str(tmp_path / "state.npz"), "--chunk", "8"]) == 0, name
        assert f"the weights in {str(tmp_path / 'state.npz')!r}" in capsys.readouterr().out
        _same(_written(out), model.eval()(pixels[None, None]))


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["conv3x3(1)", "--out", "OUT/out.png"], "must name a .zarr array"),
        (["conv3x3(1)", "--image", "missing.npy"], "does not exist"),
        (["res(conv3x3(2,p1))"], "added branches have different shapes"),
        (["res(conv3x3(3,p1) | conv1x1(3) | relu)"], "res(...) holds a body, then at most one '|' and a shortcut"),
        (["conv3x3(3,p1) res(conv3x3(3,p1) foo)"], "layer 2.2 at position 32: unknown layer 'foo'"),
        (["conv3x3(2,p1) res(relu gap | gap)"], "layer 2.2.adaptivepool sees the whole image inside a block"),
        (["conv3x3(1) convt2x2(1,s2)"], "cannot run tile by tile"),
        (["conv3x3(1)", "--scheduler", "gpu"], "is not threads, processes or tcp://ADDRESS"),
    ],
)
def test_refusals_are_one_line_with_exit_code_2(
    argv: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _image(tmp_path, (3, 70, 90))  # three channels, as resnet18 expects
    given = [arg.replace("OUT", str(tmp_path)) for arg in argv]
    defaults = {"--image": str(path), "--out": str(tmp_path / "out.zarr")}
    for flag, value in defaults.items():
        if flag not in given:
            given += [flag, value]
    assert main(["apply", *given]) == 2
    assert said in _error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.npy"]


def test_a_model_file_runs_on_its_own_and_a_bare_state_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from convlab.network.sequential import sequential
    from convlab.train import save_model

    path, image = _image(tmp_path)
    model = sequential("conv3x3(2,p1) relu conv3x3(1)", (image.shape[0], 8, 8), seed=3).eval()
    save_model(model, tmp_path / "model.npz")
    model.save(tmp_path / "state.npz")
    out = tmp_path / "out.zarr"
    argv = ["apply", str(tmp_path / "model.npz"), "--image", str(path), "--out", str(out), "--chunk", "8"]
    assert main(argv) == 0
    assert "its own weights" in capsys.readouterr().out
    _same(_written(out), model(image[None]))
    argv = ["apply", str(tmp_path / "state.npz"), "--image", str(path), "--out", str(tmp_path / "again.zarr")]
    assert main(argv) == 2
    assert "holds weights but not the layers" in _error_line(capsys)
    assert not (tmp_path / "again.zarr").exists()


def test_an_output_larger_than_the_free_disk_is_refused_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda where: usage(10**6, 10**6 - 1000, 1000))
    path, _ = _image(tmp_path)
    assert main(["apply", "conv3x3(8,p1)", "--image", str(path), "--out", str(tmp_path / "out.zarr")]) == 2
    assert "free on its disk" in _error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.npy"]


@pytest.mark.slow
def test_an_existing_cluster_by_its_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--scheduler tcp://...: the tiles run on a cluster started elsewhere; its workers' peaks are printed."""
    import logging

    distributed = pytest.importorskip("distributed")
    path, image = _image(tmp_path, (1, 60, 50))
    out = tmp_path / "out.zarr"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
    ) as cluster:
        argv = ["apply", "conv3x3(2,p1) relu maxpool2", "--image", str(path), "--out", str(out), "--chunk", "16"]
        assert main([*argv, "--scheduler", cluster.scheduler_address]) == 0
    printed = capsys.readouterr().out
    assert printed.count("peak memory tcp://") == 2
    model, _ = from_layer_string("conv3x3(2,p1) relu maxpool2", 1, 0)
    _same(_written(out), model.eval()(image[None]))


def test_a_preset_with_residual_blocks_runs_its_front_part_tile_by_tile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, image = _image(tmp_path, (3, 64, 80))
    out = tmp_path / "out.zarr"
    argv = ["apply", "resnet18", "--image", str(path), "--out", str(out), "--chunk", "32", "--seed", "1"]
    assert main(argv) == 0
    assert "see the whole image: not run" in capsys.readouterr().out
    model, _ = from_layer_string("resnet18", 3, 1)
    assert sum(isinstance(layer, nn.Residual) for layer in model) == 8  # ResNet-18's eight basic blocks
    _same(_written(out), model.eval()(image[None]))
