"""Writing the files and folders a user names, without ever destroying what nertag did not write.

Every command writes through this module. A path is treated by its kind:

- a regular file (or a new one) is written to a temporary file beside it and renamed over it, so a
  failure leaves the old file whole; a new file gets the permissions the umask allows, a
  replaced one keeps its own;
- a symbolic link is written through: its target is replaced as above, the link stays;
- a FIFO, a character or block device, or ``-`` (standard output) is written directly, streaming;
- a model folder is written only where nothing of the user's can be lost: an absent or empty
  folder, or an earlier nertag model, which is replaced whole with renames.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TextIO

from .errors import OutputError

MODEL_FILES = frozenset({"config.json", "vocab.json", "weights.safetensors"})
CHECKPOINT_FILES = frozenset({"state.json", "tensors.safetensors"})
EXPORT_FILES = frozenset({"config.json", "vocab.json", "crf.safetensors", "emissions.onnx"})
# Folder kinds: the files such a folder holds, the file that marks it complete, and the keys nertag
# writes into that file.
_FOLDER_KINDS = {
    "model": (MODEL_FILES, "config.json", {"format_version", "nertag_version", "model", "labels"}),
    "checkpoint": (CHECKPOINT_FILES, "state.json", {"model", "settings", "progress", "vocab_sha256", "param_groups"}),
    "export": (EXPORT_FILES, "config.json", {"format_version", "model", "labels", "sha256", "export"}),  # nertag.onnx_export
}


def current_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


# Names of an open descriptor: they may lead to a file the shell opened for appending.
_DESCRIPTOR_NAME = re.compile(r"/dev/(?:stdin|stdout|stderr|fd/\d+)|/proc/(?:self|thread-self|\d+(?:/task/\d+)?)/fd/\d+")


def _names_a_descriptor(path: Path) -> bool:
    """Whether ``path``, or a symbolic link on the way to what it names, is the name of an open
    descriptor (``/dev/stdout``, ``/dev/fd/1``, ``/proc/self/fd/1``)."""
    current = Path(os.path.normpath(path.absolute()))
    for _ in range(40):  # the kernel's own limit on links followed
        if _DESCRIPTOR_NAME.fullmatch(str(current)):
            return True
        if not current.is_symlink():
            return False
        # The link's target is read from the link's real folder: normpath alone would resolve a
        # ".." in it against a folder reached through another link.
        current = Path(os.path.normpath(Path(os.path.realpath(current.parent)) / os.readlink(current)))
    return False


def _is_stream(path: Path) -> bool:
    """FIFOs, devices and sockets are written directly: renaming over them would break their reader.

    So are the names of an open descriptor: they may lead to a file the shell opened for
    appending, which a rename would replace. A regular file is a file wherever it lies: files in
    ``/dev/shm`` are replaced whole like any other, never appended to.
    """
    if _names_a_descriptor(path):
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _regular_file_identity(opened: int | Path) -> tuple[int, int] | None:
    """(device, inode) of a regular file, by descriptor or by path (symlinks followed); None for
    anything else: a terminal or a pipe may be both a command's input and its output."""
    try:
        found = os.fstat(opened) if isinstance(opened, int) else opened.stat()
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISREG(found.st_mode) else None


def _inputs_of(sources: Sequence[str | Path | None]) -> list[tuple[str, tuple[int, int]]]:
    """Each input's name and file identity; ``-`` is standard input, a model folder brings its files."""
    found: list[tuple[str, tuple[int, int]]] = []
    for source in sources:
        if source is None:
            continue
        if str(source) == "-":
            candidates: list[tuple[str, int | Path]] = [("standard input", 0)]
        elif Path(source).is_dir():  # a model folder: the files nertag reads from it
            candidates = [(str(Path(source, name)), Path(source, name)) for name in sorted(MODEL_FILES | EXPORT_FILES)]
        else:
            candidates = [(str(source), Path(source))]
        for name, opened in candidates:
            identity = _regular_file_identity(opened)
            if identity is not None:
                found.append((name, identity))
    return found


def _refuse_empty_name(path: str | Path) -> None:
    """An empty name is no path (Path("") is the working folder, which the user did not name)."""
    if not str(path):
        raise OutputError("''", "an empty name; name the file or folder to write")


def _refuse_link_loop(path: str | Path) -> None:
    """A symbolic link that leads back to itself has no file to write through to: refused, where
    replacing it would destroy the links."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OutputError(path, "is a loop of symbolic links; nertag writes through links, and this one leads nowhere") from None


def _refuse_an_input(path: str | None, output: tuple[int, int] | None, inputs: Sequence[str | Path | None]) -> None:
    """Refuse an output (``None``: standard output) whose file identity is one of ``inputs``'."""
    if output is None:
        return
    for name, identity in _inputs_of(inputs):
        if identity == output:
            raise OutputError(path or "standard output", f"is also an input ({name}); nertag does not write over its input")


def _writable(target: Path) -> bool:
    """Writable by this process, and not marked read-only: root may write any file, but a file
    with no write permission for anyone was made read-only on purpose."""
    return os.access(target, os.W_OK) and bool(target.stat().st_mode & 0o222)


def check_output_file(path: str | None, inputs: Sequence[str | Path | None] = ()) -> None:
    """Refuse, before any work is done, an output path that cannot be written: a folder, one whose
    folder does not exist, a read-only file, or one of the command's ``inputs`` (writing the tags
    of a file over that file, or a chart over the training corpus, is a slip, never a wish).

    ``None`` and ``-`` mean standard output, ``-`` among ``inputs`` standard input, and a folder
    among them (a model) stands for its files. Files are compared by identity, so a symlink, a hard
    link, ``/dev/stdin`` or a shell redirection (``< in.txt``, ``>> in.txt``) to an input is refused
    as the input itself is, as ``cat`` refuses "input file is output file".
    """
    if path is None or path == "-":
        _refuse_an_input(None, _regular_file_identity(1), inputs)
        return
    _refuse_empty_name(path)
    _refuse_link_loop(path)
    _refuse_an_input(path, _regular_file_identity(Path(path)), inputs)
    target = Path(path)
    if target.is_dir():
        raise OutputError(path, "is a folder, expected a file")
    if _is_stream(target):
        return
    if target.exists() and not _writable(target):
        raise OutputError(path, "is read-only; nertag does not replace it")
    folder = Path(os.path.realpath(target)).parent
    if not folder.is_dir():
        raise OutputError(path, f"cannot write there: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) and not (target.exists() and os.access(target, os.W_OK)):
        raise OutputError(path, f"cannot write there: folder {folder} is not writable")


@contextmanager
def open_output(path: str | None, stdout: TextIO, encoding: str = "utf-8", binary: bool = False) -> Iterator[Any]:
    """A text handle (a bytes one when ``binary``) for ``path`` that treats it by its kind (see the
    module docstring).

    ``None`` or ``-`` yields ``stdout`` (its byte buffer when ``binary``). A regular file appears
    only once the block ends without an error; until then the old file, if any, is untouched.
    """
    if path is None or path == "-":
        with naming_standard_output(stdout):
            yield stdout.buffer if binary else stdout
        return
    check_output_file(path)
    try:
        with _writing_to(path, encoding, binary) as handle:
            yield handle
    except OSError as error:
        if error.errno in _DEVICE_FULL and error.filename is None:  # raised by a write: name the output
            raise OutputError(path, f"cannot write: {error.strerror}") from None
        raise


_DEVICE_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@contextmanager
def naming_standard_output(stdout: TextIO) -> Iterator[None]:
    """Writes to ``stdout`` in the block, flushed at its end, whose failure for want of space (a full
    disk behind a redirection, ``> /dev/full``) is an :class:`OutputError` naming standard output."""
    try:
        yield
        stdout.flush()
    except OSError as error:
        if error.errno in _DEVICE_FULL and error.filename is None:
            raise OutputError("standard output", f"cannot write: {error.strerror}") from None
        raise


@contextmanager
def _writing_to(path: str, encoding: str, binary: bool) -> Iterator[Any]:
    target = Path(path)
    text = {} if binary else {"encoding": encoding, "newline": "\n"}
    if _is_stream(target):
        # "a": a /dev/stdout that leads to a file the shell opened for appending must not be truncated;
        # on a FIFO or a device appending is plain writing.
        with open(target, "ab" if binary else "a", **text) as handle:
            yield handle
        return
    real = Path(os.path.realpath(target))  # write through symlinks: the link itself stays
    handle = tempfile.NamedTemporaryFile(
        "wb" if binary else "w", **text, dir=real.parent, prefix=f".{real.name}.", suffix=".nertag-tmp",
        delete=False,
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _put_in_place(Path(handle.name), real)
    except BaseException:
        with _ignoring_os_errors():
            os.unlink(handle.name)
        raise


def _put_in_place(written: Path, real: Path) -> None:
    """Rename the whole ``written`` file over ``real``, with ``real``'s permissions and, where
    allowed, its owner and group.

    A rename is all or nothing: a full disk or Ctrl-C leaves the old file whole. So a file with
    other hard links is replaced under this name only; the other names keep the old contents
    (copying into the old file would lose both old and new if the copy failed half-way).
    """
    try:
        found: os.stat_result | None = real.stat()
    except FileNotFoundError:
        found = None
    os.chmod(written, _mode_for(real))
    if found is not None and (found.st_uid, found.st_gid) != (os.getuid(), os.getgid()):
        with _ignoring_os_errors():  # only root, or a group the user is in, may do this
            os.chown(written, found.st_uid, found.st_gid)
    os.replace(written, real)


def _mode_for(real: Path) -> int:
    """A replaced file keeps its permissions; a new one gets what the umask allows."""
    try:
        return stat.S_IMODE(real.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


@contextmanager
def _ignoring_os_errors() -> Iterator[None]:
    try:
        yield
    except OSError:
        pass


def _describe(entries: list[str]) -> str:
    shown = ", ".join(sorted(entries)[:5])
    more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
    return f"{shown}{more}"


def sha256_of(path: Path) -> str:
    """Hex digest of a file, as a model's config.json records it for each of its other files."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def written_by_nertag(folder: Path, kind: str = "model") -> bool:
    """A folder holding nothing but a nertag model (or checkpoint, or export): only its file names,
    the JSON file that marks it complete holds every key nertag writes there, and a model's or
    export's files have the digests its config records. A user's folder that merely borrows a
    name or two is not replaced."""
    names, marker, keys = _FOLDER_KINDS[kind]
    try:
        entries = set(os.listdir(folder))
        data = json.loads((folder / marker).read_text(encoding="utf-8"))
        if not (entries <= names and isinstance(data, dict) and keys <= data.keys()):
            return False
        if kind == "checkpoint":
            return isinstance(data["progress"], dict) and "epoch" in data["progress"]
        if "sha256" not in data:  # models saved before digests were recorded (as en-conll03 was)
            return kind == "model" and isinstance(data["model"], dict) and isinstance(data["labels"], list)
        digests = data["sha256"]
        return isinstance(digests, dict) and bool(digests) and all(
            isinstance(name, str) and name in entries and name != marker and sha256_of(folder / name) == digest
            for name, digest in digests.items()
        )
    except (OSError, ValueError, RecursionError):
        return False


def check_folder_target(path: str | Path, kind: str = "model") -> Path:
    """The real folder a model (or checkpoint) may be written to, or an :class:`OutputError`
    naming the folder and what is in it. Called before training starts, so nothing is wasted."""
    _refuse_empty_name(path)
    _refuse_link_loop(path)
    given = Path(path)
    real = Path(os.path.realpath(given))
    if not real.exists():  # absent, or a dangling link, which is written through
        return real
    if not real.is_dir():
        raise OutputError(path, f"is a file, not a folder; nertag writes a {kind} only into an absent or empty folder or over an earlier nertag {kind}")
    entries = os.listdir(real)
    if entries and not written_by_nertag(real, kind):
        other = next((k for k in _FOLDER_KINDS if k != kind and written_by_nertag(real, k)), None)
        if other is not None:
            raise OutputError(path, f"holds a nertag {other}; nertag writes a new {kind} only over an earlier {kind}: give an absent or empty folder")
        raise OutputError(
            path,
            f"holds files nertag did not write ({_describe(entries)}); give an absent or empty folder, "
            f"or an earlier nertag {kind}",
        )
    return real


def write_folder(path: str | Path, fill: Callable[[Path], None], kind: str = "model") -> Path:
    """Write a folder whole: ``fill(staging)`` writes its files into an empty staging folder,
    which then takes the place of ``path`` by renames.

    ``path`` must pass :func:`check_folder_target` (checked again here). An existing empty folder
    is kept (it may be the working directory, or belong to someone else) and the files are moved
    into it, config.json (or state.json) last so a reader sees a complete set; an earlier nertag folder
    is swapped out whole.
    """
    real = check_folder_target(path, kind=kind)
    existing_empty = real.is_dir() and not os.listdir(real)
    if existing_empty:
        staging = Path(tempfile.mkdtemp(prefix=".nertag-staging-", dir=real))
    else:
        real.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{real.name}.", suffix=".nertag-tmp", dir=real.parent))
    retired = real.with_name(f".{real.name}.old-{os.getpid()}.nertag-tmp")
    try:
        fill(staging)
        _apply_umask(staging)
        if real.is_dir() and not existing_empty:  # an earlier folder of ours keeps its permissions
            os.chmod(staging, stat.S_IMODE(real.stat().st_mode))
        if existing_empty:
            names = sorted(os.listdir(staging), key=lambda name: name in ("config.json", "state.json"))
            for name in names:  # the file that marks a complete folder goes last
                os.replace(staging / name, real / name)
            staging.rmdir()
        elif real.exists():
            os.replace(real, retired)
            os.replace(staging, real)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, real)
    except BaseException:
        if retired.exists() and not real.exists():  # the new folder did not take the old one's place
            os.replace(retired, real)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return real


def _apply_umask(staging: Path) -> None:
    """mkdtemp makes a private folder; a written folder gets the usual permissions of new files."""
    umask = current_umask()
    os.chmod(staging, 0o777 & ~umask)
    for entry in staging.iterdir():
        os.chmod(entry, 0o666 & ~umask)


def remove_own_folder(path: Path, kind: str = "checkpoint") -> None:
    """Remove a folder only if it is recognisably one nertag wrote (a checkpoint or a model)."""
    if path.is_dir() and not path.is_symlink() and written_by_nertag(path, kind):
        shutil.rmtree(path, ignore_errors=True)
