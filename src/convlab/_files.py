"""Every file convlab writes goes through here: written under a temporary name beside it, then renamed.

A rename within one folder is atomic, so a reader, or a rerun after Ctrl-C, sees
either the old file or the complete new one, never a 0-byte or truncated file.
The temporary name keeps the target's extension, because PIL, matplotlib and
NumPy choose the format from it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ArgumentError

__all__ = [
    "PICTURE_SUFFIXES",
    "atomic_folder",
    "atomic_path",
    "make_folder",
    "output_folder",
    "writable_file",
    "write_text",
]

PICTURE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
"""Extensions convlab can write pictures as (PIL and matplotlib both know these)."""


def _cannot_write(where: Path, error: OSError) -> ArgumentError:
    return ArgumentError(
        f"cannot write to {str(where)!r}: {error.strerror or error}",
        fix='choose a place you can write to, e.g. out="convlab-pictures/name.png"',
    )


def make_folder(folder: str | os.PathLike[str], option: str | None = None) -> Path:
    """Create ``folder`` (and its parents) if missing and check that files can be written in it.

    ``option`` names the command-line flag that gave the folder, for a command's message; without it
    the message speaks of the folder alone, as a Python caller gave it.

    Raises:
        ArgumentError: it or a parent is a file, or the system refuses (no permission, /proc, read-only).
    """
    path = Path(folder)
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            given = f"{option} {str(folder)!r}" if option else f"the folder {str(folder)!r}"
            raise ArgumentError(
                f"{given}: {str(parent)!r} is a file, not a folder",
                fix="choose a path whose folders are folders",
            )
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".convlab-probe-{secrets.token_hex(4)}"
        probe.touch(
            exist_ok=False
        )  # the only sure test of writing (permissions, read-only or virtual file systems)
        probe.unlink()
    except OSError as error:
        raise _cannot_write(path, error) from None
    return path


def output_folder(folder: str | os.PathLike[str], force: bool, command: str) -> Path:
    """A folder for a command's files: created if missing; one that is not empty only with ``force``.

    Its fixes are Python (``force=True``, ``out="..."``), as every fix is; a command shows them as its
    flags (``--force``, ``--out ...``).

    Raises:
        ArgumentError: ``folder`` is a file, is not empty (without ``force``), or cannot be written.
    """
    path = Path(folder)
    another = f'out="{path.name or "convlab"}-2"'
    if path.exists() and not path.is_dir():
        raise ArgumentError(f"{path} exists and is not a folder", fix=f"another name, e.g. {another}")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ArgumentError(
            f"{path}/ is not empty; {command} will not overwrite it",
            fix=f"force=True to write into it, or another folder, e.g. {another}",
        )
    return make_folder(path)


def writable_file(path: str | os.PathLike[str], suffixes: tuple[str, ...], option: str = "--out") -> Path:
    """Check that ``path`` names a file convlab can write in one of ``suffixes``; creates its folder.

    Raises:
        ArgumentError: an unknown extension, a folder, or a place that cannot be written.
    """
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        named = f"{target.suffix!r}" if target.suffix else "no extension"
        raise ArgumentError(
            f"{option} {str(path)!r} has {named}; convlab writes {', '.join(suffixes)} here",
            fix=f"{option} {target.with_suffix(suffixes[0]).name}",
        )
    if target.is_dir():
        raise ArgumentError(
            f"{option} {str(path)!r} is a folder", fix=f"{option} {target / ('name' + suffixes[0])}"
        )
    make_folder(target.parent, option)
    return target


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Give a temporary path beside ``path`` to write to; on success it replaces ``path``, on any
    failure or interrupt it is removed and ``path`` is left as it was.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with atomic_path(folder / "a.txt") as temporary:
        ...     _ = temporary.write_text("done")
        >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
        ('done', ['a.txt'])
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial{target.suffix}")
    try:
        yield temporary
        os.replace(temporary, target)
    except OSError as error:  # a full disk, a folder without write permission, ...
        temporary.unlink(missing_ok=True)
        raise _cannot_write(target, error) from None
    except BaseException:  # KeyboardInterrupt included: Ctrl-C must not leave a half-written file
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(path: str | os.PathLike[str], replace: bool = False) -> Iterator[Path]:
    """:func:`atomic_path` for a folder (a zarr array): written under a temporary name beside ``path``, then
    renamed into place; on any failure the temporary folder is removed.

    An existing ``path`` is refused unless ``replace``; then it is moved aside, and deleted only once the
    new folder stands in its place.
    """
    import shutil

    target = Path(path)
    if target.exists() and not replace:
        raise ArgumentError(
            f"{str(target)!r} exists already", fix="pass --force to replace it, or choose another name"
        )
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial{target.suffix}")
    try:
        yield temporary
        old = target.with_name(f".{target.name}.{secrets.token_hex(4)}.old{target.suffix}")
        if target.exists():
            os.replace(target, old)
        os.replace(temporary, target)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        shutil.rmtree(temporary, ignore_errors=True)
        raise _cannot_write(target, error) from None
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)
