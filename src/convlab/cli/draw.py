"""``convlab draw``: the pictures: the sliding window, one value explained, feature maps, receptive fields,
the flatten chart and the conv_arithmetic gallery, written as PNG and GIF files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._files import PICTURE_SUFFIXES, writable_file
from . import operands, options

_ANIMATION_SUFFIXES = (".gif", ".png", ".webp")  # the formats PIL writes with several frames


def _output(parser: argparse.ArgumentParser, default: str, what: str = "file") -> None:
    parser.add_argument("--out", default=default, help=f"the {what} to write (default: {default})")
    parser.add_argument("--force", action="store_true", help=f"overwrite the {what} if it exists")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "draw",
        help="pictures: the sliding window (GIF), one value explained, feature maps, receptive fields, ...",
        description="Draw convolution from the engine's own numbers: the window sliding over any "
        "configuration (an animated GIF and a PNG strip), one output value explained, classic kernels on a "
        "real image, receptive-field growth, the flatten-first chart, and the conv_arithmetic gallery. "
        "Files are never overwritten without --force.",
        epilog="examples:\n  convlab draw window --lab manual_conv\n"
        '  convlab draw window --image "1 2 3 4 5; 5 4 3 2 1; 1 2 3 4 5; 5 4 3 2 1; 1 2 3 4 5" '
        '--kernel "1 0 1; 0 1 0; 1 0 1" --stride 2 --padding 1\n'
        '  convlab draw window --image "1 2; 3 4" --kernel "1 1; 1 1" --transposed --stride 2\n'
        "  convlab draw explain --lab manual_conv --at 1,0\n"
        "  convlab draw features --image astronaut --kernel sobel_x --kernel sobel_y\n"
        "  convlab draw rf resnet18\n  convlab draw params\n  convlab draw gallery --out gallery",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="picture", metavar="PICTURE", required=True, parser_class=type(parser))

    window = kinds.add_parser(
        "window",
        help="the kernel sliding over the input: an animated GIF and a PNG strip",
        description="One frame per output value: the kernel's window on the padded input, its products and "
        "the value written into the output. --transposed draws conv_transpose2d as it is computed: zeros "
        "inserted between input cells, padding, and the flipped kernel sliding with stride 1.",
    )
    operands.add_arguments(window, position=False, padding_sides=True)
    window.add_argument("--transposed", action="store_true", help="draw conv_transpose2d")
    window.add_argument("--output-padding", type=options.int_or_pair, default=0, help="with --transposed")
    window.add_argument("--strip", help="also a PNG of four frames (default: <out>-strip.png)")
    window.add_argument("--no-strip", action="store_true", help="write only the GIF")
    window.add_argument("--frame-ms", type=options.positive_int, default=700, help="milliseconds per frame (700)")
    _output(window, "window.gif")
    window.set_defaults(run=run_window)

    explain = kinds.add_parser(
        "explain",
        help="one output value: the window, the kernel, the products and the sum (PNG)",
        description="The picture of `convlab explain`: the same trace and the same words.",
    )
    operands.add_arguments(explain, position=True)
    _output(explain, "explain.png")
    explain.set_defaults(run=run_explain, flags={"out_channel": "--channel"})

    features = kinds.add_parser(
        "features",
        help="classic kernels (or yours) applied to an image: feature maps (PNG)",
        description="Kernels from the bank (identity, box_blur, gaussian, sharpen, sobel_x, sobel_y, laplacian, "
        'lesson_edge, emboss) or your own ("1 0; 0 -1") on a bundled image (camera, astronaut, cat) or a '
        "PNG/JPEG file; diverging colours centred on zero, grey from 0 for maps with no negative value.",
    )
    features.add_argument("--image", default="camera", help="camera, astronaut, cat, or a PNG/JPEG path")
    features.add_argument(
        "--kernel", action="append", help='a bank name or "1 0; 0 -1" (repeatable; default: the whole bank)'
    )
    features.add_argument("--columns", type=int, default=4, help="panels per row (4)")
    _output(features, "features.png")
    features.set_defaults(run=run_features, flags={"kernels": "--kernel"})

    rf = kinds.add_parser(
        "rf",
        help="receptive-field growth through a stack or preset, over a real image (PNG)",
        description="Per layer, the field of one unit near the centre as nested squares over an image, its "
        "size as a line chart, and the input rows/columns a stride skips (and whether another branch reads them).",
    )
    rf.add_argument("model", nargs="?", default="resnet18", help="a preset or a layer string (resnet18)")
    rf.add_argument("--input", help="input shape such as 3x224x224 (presets know their own)")
    rf.add_argument("--image", default="astronaut", help="camera, astronaut, cat, or a PNG/JPEG path")
    _output(rf, "rf.png")
    rf.set_defaults(run=run_rf, flags={"input_shape": "--input"})

    params = kinds.add_parser(
        "params",
        help="why not flatten first: a fully connected layer's weights vs a convolution's (PNG)",
        description="Weights of Linear(H*W*C, outputs) and Conv2d(C, out_channels, k) across image sizes, "
        "on a log scale, with the lesson's two examples marked.",
    )
    params.add_argument("--outputs", type=int, default=512, help="outputs of the fully connected layer (512)")
    params.add_argument("--out-channels", type=int, default=8, help="conv output channels (8)")
    params.add_argument("--kernel-size", type=int, default=3, help="conv kernel size (3)")
    _output(params, "params.png")
    params.set_defaults(run=run_params)

    gallery = kinds.add_parser(
        "gallery",
        help="the eight classic conv_arithmetic cases as GIFs, plus a contact sheet",
        description="No padding, arbitrary, half (same) and full padding, strides with and without padding, "
        "dilation, and a transposed convolution with output_padding, each a GIF labelled with its sizes.",
    )
    _output(gallery, "convlab-gallery", what="folder")
    gallery.set_defaults(run=run_gallery)


def _free(path: Path, force: bool, suffixes: tuple[str, ...] = PICTURE_SUFFIXES, option: str = "--out") -> Path:
    """``path`` if it may be written: refuses an existing file without --force, a folder, an extension
    convlab cannot write and a place it cannot write to."""
    from ..errors import ArgumentError

    if path.is_dir():
        raise ArgumentError(f"{path} is a folder; convlab draw writes a file there", fix="pass --out file.png")
    if path.exists() and not force:
        raise ArgumentError(
            f"{path} exists; convlab draw will not overwrite it", fix="pass --force, or --out another name"
        )
    return writable_file(path, suffixes, option)


def run_window(args: argparse.Namespace) -> int:
    from ..viz.window import window

    out = _free(Path(args.out), args.force, _ANIMATION_SUFFIXES)
    strip = None if args.no_strip else Path(args.strip or out.with_name(f"{out.stem}-strip.png"))
    if strip is not None:
        if strip.resolve() == out.resolve():
            from ..errors import ArgumentError

            raise ArgumentError(
                f"--strip {args.strip!r} is the same file as --out: the strip would replace the animation",
                fix=f"--strip {out.with_name(f'{out.stem}-strip.png')}",
            )
        _free(strip, args.force, option="--strip")
    image, kernel, bias = operands.values(args, "draw window")
    if bias is not None and bias.size != 1:
        from ..errors import ArgumentError

        raise ArgumentError(f"window draws one channel, so one bias, got {bias.size}", fix="--bias 0.5")
    animation = window(
        image,
        kernel,
        None if bias is None else float(bias[0]),
        stride=args.stride,
        padding=args.padding,
        dilation=args.dilation,
        padding_mode=args.padding_mode,
        transposed=args.transposed,
        output_padding=args.output_padding,
        out=out,
        strip=strip,
        frame_ms=args.frame_ms,
    )
    width, height = animation.size
    print(animation.title)
    print(
        f"wrote {out} ({len(animation.frames)} frames, {width}x{height} px)" + (f" and {strip}" if strip else "")
    )
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from ..viz.explain_figure import explain_figure

    out = _free(Path(args.out), args.force)
    image, kernel, bias = operands.values(args, "draw explain")
    kernel = operands.one_output_channel(image, kernel)
    picture = explain_figure(
        image,
        kernel,
        bias,
        args.at,
        out_channel=args.channel,
        stride=args.stride,
        padding=args.padding,
        dilation=args.dilation,
        padding_mode=args.padding_mode,
        out=out,
    )
    print("\n".join(picture.lines))
    print(f"wrote {out} ({picture.image.width}x{picture.image.height} px)")
    return 0


def run_features(args: argparse.Namespace) -> int:
    from ..viz.features import features_figure

    out = _free(Path(args.out), args.force)
    figure = features_figure(args.image, args.kernel, columns=args.columns, out=out)
    width, height = (round(v) for v in figure.get_size_inches() * figure.dpi)
    print(f"wrote {out} ({len(args.kernel or []) or 'every'} kernel(s) on {args.image}, {width}x{height} px)")
    return 0


def run_rf(args: argparse.Namespace) -> int:
    from ..viz.rf import rf_figure, rf_growth

    out = _free(Path(args.out), args.force)
    growth = rf_growth(args.model, args.input)
    rf_figure(args.model, args.input, image=args.image, out=out)
    final = growth.layers[-1]
    print(
        f"{growth.model}: the receptive field grows to {final.rf[0]:g}x{final.rf[1]:g} at {final.name}"  # type: ignore[index]
        + (
            f"; {growth.dropped.layer} never reads {len(growth.dropped.rows)} row(s) and "
            f"{len(growth.dropped.cols)} column(s) of its input" + _elsewhere(growth.dropped.read_by)
            if growth.dropped
            else ""
        )
    )
    print(f"wrote {out}")
    return 0


def _elsewhere(readers: tuple[str, ...]) -> str:
    return f" ({', '.join(readers)} reads them on another branch)" if readers else ""


def run_params(args: argparse.Namespace) -> int:
    from ..viz.params import params_figure

    out = _free(Path(args.out), args.force)
    params_figure(outputs=args.outputs, out_channels=args.out_channels, kernel_size=args.kernel_size, out=out)
    print(f"wrote {out}")
    return 0


def run_gallery(args: argparse.Namespace) -> int:
    from ..viz.gallery import gallery

    written = gallery(args.out, force=args.force)
    print(f"wrote {len(written)} files to {args.out}/: {', '.join(path.name for path in written)}")
    return 0
