"""The pictures: what is drawn is the engine's numbers, frames match output positions, files decode, and bad
input gets one line and exit code 2 without overwriting anything."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage

import convlab.functional as F
from convlab.cli import main
from convlab.errors import ArgumentError, ConvlabError
from convlab.network.shapes import conv2d_output_size
from convlab.viz import style
from convlab.viz.cells import cell_value
from convlab.viz.window import window
from tests.conftest import environment_for_the_convlab_under_test

LAB1_IMAGE = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
LAB1_KERNEL = [[1, 0], [0, -1]]
FEW = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)])


def _inner(frame: Image.Image, box: tuple[int, int, int, int], offset: int = 5) -> np.ndarray:
    """A pixel just inside a cell's bottom-left corner: past its border, clear of its number and notes."""
    x0, _, _, y1 = box
    return np.asarray(frame.convert("RGB"))[y1 - offset, x0 + offset].astype(int)


# --- window: frames are the engine's ---------------------------------------------------------------------


@FEW
@given(
    size=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.integers(1, 3),
    padding=st.one_of(st.integers(0, 2), st.just("same")),
    dilation=st.integers(1, 2),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    seed=st.integers(0, 2**16),
)
def test_window_frames_are_conv2d_output_positions(
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: int,
    padding: int | str,
    dilation: int,
    mode: str,
    seed: int,
) -> None:
    assume(not (padding == "same" and stride > 1))
    rng = np.random.default_rng(seed)
    image = rng.integers(-3, 4, size).astype(np.float32)
    weight = rng.integers(-2, 3, kernel).astype(np.float32)
    try:
        # the lesson's loop, not the engine the animation itself uses: integers, so the sums are exact
        expected = F.conv2d(
            image[None, None], weight[None, None], None, stride, padding, dilation, 1, mode, algorithm="reference"
        )
        expected = expected[0, 0]
    except ConvlabError:
        assume(False)  # the engine refuses it (empty output, reflect wider than the input): so does window
    animation = window(image, weight, stride=stride, padding=padding, dilation=dilation, padding_mode=mode)
    Ho, Wo = expected.shape
    assert len(animation.frames) == len(animation.images) == Ho * Wo
    assert [frame.position for frame in animation.frames] == [(i, j) for i in range(Ho) for j in range(Wo)]
    np.testing.assert_array_equal([frame.value for frame in animation.frames], expected.ravel())
    assert [frame.text for frame in animation.frames] == [cell_value(v) for v in expected.ravel()]
    for frame in animation.frames:  # the window drawn is the lesson's window, and its sum is the value
        i, j = frame.position
        rows = [i * stride + a * dilation for a in range(kernel[0])]
        cols = [j * stride + b * dilation for b in range(kernel[1])]
        assert frame.cells == tuple((r, c) for r in rows for c in cols)
        patch = animation.grid[np.ix_(rows, cols)]
        assert float((patch * weight).sum()) == pytest.approx(frame.value, abs=1e-4)
    assert {image.size for image in animation.images} == {animation.size}


def test_lab1_frames_say_what_the_lesson_says() -> None:
    animation = window(LAB1_IMAGE, LAB1_KERNEL)
    frame = animation.frames[3]
    assert frame.position == (1, 0)
    assert frame.text == "4"
    assert frame.where == "out[1, 0] reads input rows 1..2, cols 0..1"
    assert frame.equation == ("out[1, 0] = 5*1 + 3*0 + 2*0 + 1*(-1) = 4",)
    assert animation.frames[0].equation == ("out[0, 0] = 1*1 + 2*0 + 5*0 + 3*(-1) = -2",)


def test_frames_show_the_window_and_fill_the_output_in_order(tmp_path: Path) -> None:
    """Decoded from the GIF: in frame k the window's cells and output cell k are orange, earlier outputs are
    computed (purple), later ones still white."""
    animation = window(LAB1_IMAGE, LAB1_KERNEL, out=tmp_path / "lab1.gif")
    with Image.open(tmp_path / "lab1.gif") as gif:
        assert gif.n_frames == 9
        assert gif.size == animation.size
        frames = []
        for k in range(gif.n_frames):
            gif.seek(k)
            frames.append(gif.convert("RGB"))
    window_fill, done, pending = (_rgb(style.CELL_STYLES[kind].fill) for kind in ("window", "done", "pending"))
    input_fill = _rgb(style.CELL_STYLES["input"].fill)
    for k, frame in enumerate(animation.frames):
        picture = frames[k]
        for r in range(4):
            for c in range(4):
                expected = window_fill if (r, c) in frame.cells else input_fill
                np.testing.assert_allclose(_inner(picture, animation.box("input", r, c)), expected, atol=12)
        for index in range(9):
            i, j = divmod(index, 3)
            pixel = _inner(picture, animation.box("output", i, j))
            expected = window_fill if index == k else done if index < k else pending
            np.testing.assert_allclose(pixel, expected, atol=12)


def test_a_30_frame_7x7_window_gif_has_every_frame(tmp_path: Path, record_property: Any) -> None:
    """30 frames in the GIF and a strip of the right size; the time is reported, never asserted (benchmarks/)."""
    image = (np.arange(49).reshape(7, 7) * 3 % 8).astype(np.float32)
    kernel = np.array([[1, 0], [0, -1], [1, 1]], dtype=np.float32)  # 3x2 on 7x7: 5 x 6 = 30 positions
    start = time.perf_counter()
    animation = window(image, kernel, out=tmp_path / "w.gif", strip=tmp_path / "w.png")
    seconds = time.perf_counter() - start
    record_property("render_seconds_30_frame_7x7_gif", round(seconds, 3))
    print(f"\n30-frame 7x7 window GIF + strip: {seconds:.3f} s")
    assert len(animation.frames) == 30
    with Image.open(tmp_path / "w.gif") as gif:
        assert gif.n_frames == 30
    with Image.open(tmp_path / "w.png") as strip:
        width, height = animation.size
        assert strip.size == (2 * width + 8, 2 * height + 8)


# --- transposed convolution -------------------------------------------------------------------------------


@FEW
@given(
    size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    output_padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_transposed_input_cells_sit_where_zero_insertion_puts_them(
    size: tuple[int, int], k: int, stride: int, padding: int, output_padding: int, dilation: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(1, 5, size).astype(np.float32)  # never 0, so every input cell is visible in the grid
    weight = rng.integers(-2, 3, (k, k)).astype(np.float32)
    try:
        expected = F.conv_transpose2d(  # the stamping loop, exact on integers
            image[None, None],
            weight[None, None],
            None,
            stride,
            padding,
            output_padding,
            1,
            dilation,
            algorithm="reference",
        )[0, 0]
    except ConvlabError:
        assume(False)
    animation = window(
        image,
        weight,
        transposed=True,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
    )
    before = dilation * (k - 1) - padding
    grid = animation.grid
    assert grid.shape == (expected.shape[0] + dilation * (k - 1), expected.shape[1] + dilation * (k - 1))
    placed = np.zeros_like(grid)
    for a in range(size[0]):
        for b in range(size[1]):
            r, c = before + a * stride, before + b * stride
            if 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]:
                assert animation.input_cells[(a, b)] == (r, c)
                assert animation.kinds[r][c] == "input"
                placed[r, c] = image[a, b]
            else:
                assert (a, b) not in animation.input_cells  # cropped away by a padding wider than the kernel
    np.testing.assert_array_equal(grid, placed)  # everything else is an inserted zero or padding
    last_input_row = before + (size[0] - 1) * stride
    for r in range(max(last_input_row + 1, grid.shape[0] - output_padding), grid.shape[0]):
        assert set(animation.kinds[r]) == {"output_padding"}  # rows that exist only thanks to output_padding
    np.testing.assert_array_equal(animation.kernel, weight[::-1, ::-1])
    assert len(animation.frames) == expected.size
    np.testing.assert_array_equal([frame.value for frame in animation.frames], expected.ravel())


def test_transposed_gif_marks_inserted_zeros_and_output_padding(tmp_path: Path) -> None:
    animation = window(
        np.arange(1, 10).reshape(3, 3),
        np.ones((3, 3)),
        transposed=True,
        stride=2,
        padding=1,
        output_padding=1,
        out=tmp_path / "t.gif",
    )
    assert animation.output.shape == (6, 6)
    assert animation.input_cells[(0, 0)] == (1, 1)
    assert animation.input_cells[(2, 2)] == (5, 5)
    assert animation.kinds[2][1] == "zero"
    assert animation.kinds[0][0] == "padding"
    assert animation.kinds[7][3] == "output_padding"
    with Image.open(tmp_path / "t.gif") as gif:
        assert gif.n_frames == 36
        gif.seek(35)  # the last frame: the window sits bottom-right, the inserted zero at (2, 1) is white
        last = gif.convert("RGB")
    zero = animation.box("input", 2, 1)
    np.testing.assert_allclose(_inner(last, zero, offset=2), _rgb("#FFFFFF"), atol=12)  # white, then
    np.testing.assert_allclose(_inner(last, zero, offset=4), _rgb(style.HATCH_INK), atol=12)  # its first dot
    np.testing.assert_allclose(
        _inner(last, animation.box("input", 1, 1)), _rgb(style.CELL_STYLES["input"].fill), atol=12
    )


# --- explain picture --------------------------------------------------------------------------------------


def test_explain_picture_writes_what_convlab_explain_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from convlab.viz.explain_figure import explain_figure

    picture = explain_figure(LAB1_IMAGE, LAB1_KERNEL, at=(1, 0), out=tmp_path / "e.png")
    assert picture.trace.value == 4.0
    assert picture.lines[-1] == "out[1, 0] = 4"
    assert "5*1 + 3*0 + 2*0 + 1*(-1) = 4" in picture.lines
    assert main(["explain", "--lab", "manual_conv", "--at", "1,0"]) == 0
    printed = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert all(line in printed for line in picture.lines)
    with Image.open(tmp_path / "e.png") as written:
        assert written.size == picture.image.size
        assert 500 < written.width < 1200
        assert 250 < written.height < 800


def test_explain_picture_with_channels_and_bias() -> None:
    from convlab.viz.explain_figure import explain_figure

    image = np.arange(18, dtype=np.float32).reshape(2, 3, 3)
    weight = np.ones((1, 2, 2, 2), dtype=np.float32)
    picture = explain_figure(image, weight, [0.5], at=(1, 1), padding=1)
    # by hand: out[1, 1] with padding 1 reads input rows 0-1, cols 0-1 of each channel
    # (0 + 1 + 3 + 4) + (9 + 10 + 12 + 13) + bias 0.5 = 52.5
    assert picture.trace.value == 52.5
    assert any(line.startswith("sum over channels:") and "bias 0.5" in line for line in picture.lines)


# --- features ---------------------------------------------------------------------------------------------


def test_feature_maps_are_conv2d_on_the_bundled_image() -> None:
    from convlab.data import load_image
    from convlab.viz.features import KERNELS, feature_maps, features_figure

    maps = feature_maps("camera", ["sobel_x", "1 0; 0 -1", np.eye(3)])
    grey = load_image("camera").astype(np.float32) / 255
    sobel = np.array(KERNELS["sobel_x"][0], dtype=np.float32)
    # SciPy's correlation, with its "mirror" border (PyTorch's reflect): an implementation that is not convlab's
    expected = ndimage.correlate(grey.astype(np.float64), sobel.astype(np.float64), mode="mirror")
    np.testing.assert_allclose(maps[0].output, expected, rtol=0, atol=1e-5 * np.abs(sobel).sum())
    assert maps[1].name == "[[1, 0], [0, -1]]"
    assert all(m.output.shape == (224, 224) for m in maps)
    figure = features_figure("camera", ["sobel_x", "lesson_edge"])
    drawn = [axes.images[0] for axes in figure.axes if axes.images and axes.images[0].get_array().shape[0] == 224]
    assert len(drawn) == 3  # the input and two maps
    np.testing.assert_array_equal(drawn[1].get_array(), maps[0].output)  # the map checked above is what is drawn
    low, high = drawn[1].get_clim()
    assert low == -high  # the diverging colours are centred on zero
    assert drawn[1].get_cmap().name == style.DIVERGING_CMAP


def test_unknown_kernel_names_the_closest() -> None:
    from convlab.viz.features import feature_maps

    with pytest.raises(ArgumentError) as raised:
        feature_maps("camera", ["sobelx"])
    assert raised.value.fix == 'kernels=["sobel_x"]'  # Python from Python; the command says --kernel


def test_bundled_images_and_user_files(tmp_path: Path) -> None:
    from convlab.data import IMAGES, load_image, read_image

    assert {name: load_image(name).shape for name in IMAGES} == {
        "camera": (224, 224),
        "astronaut": (224, 224, 3),
        "cat": (224, 224, 3),
    }
    assert all(load_image(name).dtype == np.uint8 for name in IMAGES)
    mine = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    Image.fromarray(mine).save(tmp_path / "mine.png")
    np.testing.assert_array_equal(read_image(str(tmp_path / "mine.png")), mine)
    (tmp_path / "broken.png").write_text("not a picture")
    with pytest.raises(ArgumentError, match="cannot read the image"):
        read_image(str(tmp_path / "broken.png"))


# --- receptive field and params ---------------------------------------------------------------------------


def test_rf_growth_draws_the_computed_fields() -> None:
    from convlab.network.receptive_field import receptive_field
    from convlab.viz.rf import rf_figure, rf_growth

    growth = rf_growth("conv3x3(8,s2) conv3x3(16,s2) conv3x3(32,s2)", "1x28x28")
    assert [layer.rf for layer in growth.layers] == [(3.0, 3.0), (7.0, 7.0), (15.0, 15.0)]
    assert growth.dropped is not None
    assert (growth.dropped.layer, growth.dropped.rows, growth.dropped.cols) == ("1.conv", (27,), (27,))
    figure = rf_figure("conv3x3(8,s2) conv3x3(16,s2) conv3x3(32,s2)", "1x28x28", image="camera")
    squares = [patch for patch in figure.axes[0].patches if not patch.get_fill()]
    assert sorted(square.get_width() for square in squares) == [3.0, 7.0, 15.0]
    resnet = rf_growth("resnet18")
    assert resnet.layers[-1].rf == receptive_field("resnet18").final.rf == (435.0, 435.0)
    assert len(resnet.squares) == 8


def test_params_chart_plots_the_flatten_arithmetic() -> None:
    from convlab.viz.params import params_figure

    figure = params_figure(sizes=(32, 224))
    lines = figure.axes[0].lines
    assert list(lines[0].get_ydata()) == [1024 * 512, 224 * 224 * 512]
    assert list(lines[1].get_ydata()) == [32 * 32 * 3 * 512, 224 * 224 * 3 * 512]  # H*W*3 inputs x 512 outputs
    assert list(lines[2].get_ydata()) == [72, 72]
    assert figure.axes[0].get_yscale() == "log"


# --- the command ------------------------------------------------------------------------------------------


def test_draw_writes_each_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "window.gif": ["window", "--lab", "manual_conv"],
        "explain.png": ["explain", "--lab", "manual_conv", "--at", "1,0"],
        "features.png": ["features", "--kernel", "sobel_y", "--kernel", "1 -1"],
        "rf.png": ["rf", "conv3x3(4,s2) maxpool2", "--input", "1x30x30", "--image", "cat"],
        "params.png": ["params"],
    }
    for name, argv in cases.items():
        assert main(["draw", *argv, "--out", str(tmp_path / name)]) == 0, name
    assert {path.name for path in tmp_path.iterdir()} == {*cases, "window-strip.png"}
    printed = capsys.readouterr().out
    assert "wrote" in printed
    assert "out[1, 0] = 4" in printed
    for name in cases:
        with Image.open(tmp_path / name) as image:
            assert min(image.size) > 300


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["features", "--kernel", "sobelx"], "unknown kernel 'sobelx'"),
        (["features", "--image", "{broken}"], "cannot read the image"),
        (["features", "--image", "{missing}"], "does not exist"),
        (["window", "--image", "1 2; 3 4", "--kernel", "1 1 1; 1 1 1; 1 1 1"], "overshoots"),
        (["window", "--lab", "manual_conv", "--stride", "2", "--padding", "same"], "same"),
        (["window", "--lab", "manual_conv", "--transposed", "--output-padding", "1"], "output_padding"),
        (["explain", "--lab", "manual_conv", "--at", "5,5"], "outside the 3x3 output"),
        (["window", "--image", "; ".join(["1 " * 40] * 40), "--kernel", "1"], "1600 frames"),
        (["rf", "nosuchnet"], "there is no preset or layer 'nosuchnet'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG but not really")
    argv = [part.format(broken=tmp_path / "broken.png", missing=tmp_path / "missing.png") for part in argv]
    assert main(["draw", *argv, "--out", str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("convlab: error: ")
    assert message in err
    assert not (tmp_path / "out.png").exists()


def test_nothing_is_overwritten_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "params.png"
    target.write_text("mine")
    assert main(["draw", "params", "--out", str(target)]) == 2
    assert "exists" in capsys.readouterr().err
    assert target.read_text() == "mine"
    assert main(["draw", "params", "--out", str(target), "--force"]) == 0
    assert target.read_bytes().startswith(b"\x89PNG")
    strip = tmp_path / "w-strip.png"
    strip.write_text("mine too")  # the GIF is free but its strip is not: neither is written
    assert main(["draw", "window", "--lab", "edge", "--out", str(tmp_path / "w.gif")]) == 2
    assert strip.read_text() == "mine too"
    assert not (tmp_path / "w.gif").exists()


def test_gallery_draws_the_eight_cases_and_guards_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from convlab.viz.gallery import CASES

    folder = tmp_path / "gallery"
    assert main(["draw", "gallery", "--out", str(folder)]) == 0
    assert len(CASES) == 8
    assert {path.name for path in folder.iterdir()} == {f"{case.slug}.gif" for case in CASES} | {"gallery.png"}
    for case in CASES:
        n, k = case.input_size, case.kernel_size
        options = {key: value for key, value in case.options.items() if key != "transposed"}
        if case.options.get("transposed"):
            s, p, op = options["stride"], options["padding"], options["output_padding"]
            positions = ((n - 1) * s - 2 * p + (k - 1) + op + 1) ** 2
        else:
            positions = int(np.prod(conv2d_output_size((n, n), k, **options)))
        with Image.open(folder / f"{case.slug}.gif") as gif:
            assert gif.n_frames == positions, case.slug
    assert main(["draw", "gallery", "--out", str(folder)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["draw", "gallery", "--out", str(folder), "--force"]) == 0


def test_importing_the_pictures_stays_light() -> None:
    code = (
        "import sys, convlab.viz, convlab.cli.draw\n"
        "print('HEAVY', [m for m in ('numpy', 'PIL', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=environment_for_the_convlab_under_test(),
    ).stdout
    assert "HEAVY []" in out


def test_package_names_survive_importing_the_modules() -> None:
    """``convlab.viz.window`` is also a module; the package's names never collide with one."""
    import convlab.viz
    import convlab.viz.explain_figure
    import convlab.viz.gallery
    import convlab.viz.window

    animation = convlab.viz.window_animation(LAB1_IMAGE, LAB1_KERNEL)
    assert len(animation.frames) == 9
    assert convlab.viz.explain_picture(LAB1_IMAGE, LAB1_KERNEL, at=(1, 0)).lines[-1] == "out[1, 0] = 4"
    assert callable(convlab.viz.draw_gallery)
