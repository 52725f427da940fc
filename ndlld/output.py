"""A build's output, published whole: written beside the last one and swapped in.

One build at a time writes an output (:class:`Lock`). It writes into a directory
beside the published one (:class:`Staging`), which replaces it in one step only
once every file is complete: a failed or killed build leaves the published output
as it was. With a spare, the output a build replaced is kept beside it, and the
next build writes over that instead of into an empty directory.
"""

from __future__ import annotations

import builtins
import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import ExitStack
from pathlib import Path

from ndlld.errors import ConfigError, PublishError
from ndlld.parallel import beside


def cache_dir_of(out_dir: Path) -> Path:
    """Where a build keeps its state for *out_dir* unless told otherwise: ``.dist.cache``
    beside ``dist`` (:mod:`ndlld.incremental`)."""
    return out_dir.parent / f".{out_dir.name}.cache"


class PublishedFiles(Collection[str]):
    """The names of the files an output holds (relative to it, the releases carried over left
    out, as a build lists what it wrote), counted by the build that wrote it and listed only
    when asked: a build that writes nothing would otherwise list a million at 100,000
    organizations for a summary that prints their number."""

    def __init__(self, out_dir: Path, count: int):
        self.out_dir, self.count = out_dir, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        from ndlld.releases import RELEASES  # its code is not needed to publish

        for folder, folders, names in os.walk(self.out_dir):
            relative = os.path.relpath(folder, self.out_dir)
            if relative == ".":
                folders[:] = [name for name in folders if name != RELEASES]
            yield from (name if relative == "." else f"{relative}/{name}" for name in names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in set(self)


LOCK_WAIT = 0.5  # seconds a build waits for another's lock before it says so (a killed one's children ending)


def _locked(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Lock:
    """Only one build writes *out_dir* at a time: a second one stops with a clear message.

    An advisory ``flock`` on ``.<out_dir>.lock`` beside it; the kernel drops it
    when the build ends, however it ends (SIGKILL included), so it never goes
    stale: its forked children, which share it, end with it (:mod:`ndlld.parallel`),
    a moment after, which a build starting then waits for. Under the lock, staging
    directories left by a killed build are removed.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir

    def __enter__(self) -> None:
        parent = self.out_dir.resolve().parent
        self.path = parent / f".{self.out_dir.name}.lock"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise PublishError(f"cannot write beside {self.out_dir}: {err.strerror}", path=self.out_dir) from None
        waited_for = time.monotonic() + LOCK_WAIT
        while not _locked(self.fd):
            if time.monotonic() > waited_for:
                os.close(self.fd)
                raise PublishError(
                    "another build is writing this output now; wait for it to finish, then run again",
                    path=self.out_dir,
                ) from None
            time.sleep(0.05)
        for kind in ("new", "old"):
            for leftover in parent.glob(f".{self.out_dir.name}.{kind}-*"):
                shutil.rmtree(leftover, ignore_errors=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        os.close(self.fd)  # releases the lock; the file stays, so no other build can race on it


class Staging:
    """A directory beside *out_dir* to write the new output into, swapped in on
    success, removed on failure.

    With *spare*, the output a build replaces is kept as ``.dist.spare`` beside
    ``dist/`` (with the cache, so that a page is reused only when its files are
    those the cache describes), and the next build starts from it instead of an
    empty directory: of the files under *keep* (the pages), those that did not
    change since are already in place and those changed by the last build are
    linked from ``dist/``, so an edit costs what changed, not one link per file of
    the site. Everything else in the spare is
    removed first, so every other file is written anew. The first output (none
    replaced) leaves its own pages linked as the spare, and so does an output whose
    pages were all written *anew* (a build from scratch): the one it replaced shares
    none of them, and the next build would link every page again. Without *spare*, the
    directory starts empty and the replaced output, and any spare, are removed.
    """

    def __init__(self, out_dir: Path, spare: bool = False, keep: tuple[str, ...] = (), anew: bool = False):
        self.out_dir, self.spare, self.keep, self.anew = out_dir, spare, keep, anew
        self.reused = False
        self._removing = ExitStack()

    def __enter__(self) -> Staging:
        parent = self.out_dir.resolve().parent
        self.spare_path = parent / f".{self.out_dir.name}.spare"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.new-", dir=parent))
            if self.spare and self.spare_path.is_dir() and not self.spare_path.is_symlink():
                # Renamed first: if this build dies, the next one removes it with any other leftover.
                os.rename(self.spare_path, self.path)  # over the empty directory just made
                self.reused = True
                self._put_aside(parent)
        except OSError as err:
            raise PublishError(f"cannot write beside {self.out_dir}: {err.strerror}", path=self.out_dir) from None
        return self

    def _put_aside(self, parent: Path) -> None:
        """The spare's files but the pages moved out of the way, and removed by a process of
        their own while the build runs: freeing a gigabyte of old dumps takes the kernel a while."""
        old = [entry.name for entry in os.scandir(self.path) if not (entry.name in self.keep and entry.is_dir(follow_symlinks=False))]
        if not old:
            return
        aside = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.old-", dir=parent))  # a leftover the next Lock removes
        for name in old:
            os.rename(self.path / name, aside / name)
        self._removing.enter_context(beside(shutil.rmtree, aside))

    def remove_all_but(self, written: Collection[str]) -> None:
        """Remove what the spare held under *keep* that this build did not write
        (the pages of resources gone since)."""
        self.remove(self.unwanted(set(written)))

    def unwanted(self, written: AbstractSet[str]) -> list[str]:
        """The files under *keep* not among *written*: of a reused spare, the pages of
        resources gone since and anything left there by hand. A walk of every page's file."""
        if not self.reused:
            return []
        found = []
        folders = [(str(self.path / name), name + "/") for name in self.keep]
        while folders:  # by scandir, not os.walk, which would join a path for every file of the site
            folder, relative = folders.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append((entry.path, relative + entry.name + "/"))
                    elif relative + entry.name not in written:
                        found.append(relative + entry.name)
        return found

    def remove(self, names: Iterable[str]) -> None:
        """Remove the files of *names*, relative to the new output."""
        for name in names:
            os.unlink(self.path / name)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._removing.close()
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            if isinstance(exc, OSError):
                raise PublishError(f"cannot write the output: {exc.strerror}", path=self.out_dir) from None
            return
        os.chmod(self.path, 0o755)  # mkdtemp makes it private; published output is not
        try:
            replaced = swap_into_place(self.path, self.out_dir)
        except OSError as err:
            shutil.rmtree(self.path, ignore_errors=True)
            raise PublishError(f"cannot replace the output: {err.strerror}", path=self.out_dir) from None
        if replaced is not None and self.spare and not self.anew and not self.spare_path.exists():
            try:
                os.rename(replaced, self.spare_path)
                return
            except OSError:
                pass
        if self.spare and (replaced is None or self.anew):  # the next build starts from this output's files
            shutil.rmtree(self.spare_path, ignore_errors=True)
            _mirror(self.out_dir, self.spare_path, self.keep)
        if replaced is not None:
            shutil.rmtree(replaced, ignore_errors=True)
        if not self.spare:
            shutil.rmtree(self.spare_path, ignore_errors=True)


def _mirror(source: Path, target: Path, keep: tuple[str, ...]) -> None:
    """The files under *keep* of *source* hard-linked at the same names under *target*
    (as a spare: a build links a file only where it is not the same file already)."""
    try:
        folders = [(str(source / name), str(target / name)) for name in keep if (source / name).is_dir()]
        while folders:
            folder, mirrored = folders.pop()
            os.makedirs(mirrored, exist_ok=True)
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append((entry.path, f"{mirrored}/{entry.name}"))
                    else:
                        os.link(entry.path, f"{mirrored}/{entry.name}", follow_symlinks=False)
    except OSError:  # a spare is only a head start: without one the next build links what it keeps
        shutil.rmtree(target, ignore_errors=True)


def swap_into_place(new: Path, out_dir: Path) -> Path | None:
    """Put *new* at *out_dir*; the old output stays whole until the new one is in place.
    Returns where the old output now is (for the caller to remove or keep), if there was one."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} exists and is not a directory")
    if not out_dir.exists():
        os.rename(new, out_dir)
        return None
    if not exchange(new, out_dir):
        old = new.with_name(new.name.replace(".new-", ".old-"))
        os.rename(out_dir, old)  # the one moment out_dir is missing: between these two renames
        os.rename(new, out_dir)
        new = old
    return new  # after the swap, *new* holds the old output


def exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2 RENAME_EXCHANGE)."""
    import ctypes.util  # only here: `ndlld validate` starts faster without it

    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


class Writer:
    """Writes an output's files, or links those whose bytes are the same from the
    *previous* output: on most disks creating a file costs far more than comparing it.
    A file already in *out_dir* (the spare) is replaced, never written into: it may be
    shared with *previous*."""

    def __init__(self, out_dir: Path, previous: Path | None = None):
        self.out_dir = out_dir
        self.previous = previous
        self.written: list[str] = []  # relative to out_dir
        self._directories: set[Path] = set()

    def bytes(self, path: str, content: bytes) -> None:
        target = self.out_dir / path
        if target.parent not in self._directories:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._directories.add(target.parent)
        if not self._link_if_unchanged(path, content, target):
            with os.fdopen(_created(target), "wb") as file:
                file.write(content)
        self.written.append(path)

    # builtins.bytes: in this class, bytes names the method above.
    def _link_if_unchanged(self, path: str, content: builtins.bytes, target: Path) -> bool:
        if self.previous is None:
            return False
        old = self.previous / path
        try:
            if not stat.S_ISREG(os.lstat(old).st_mode):
                return False
            with open(old, "rb") as file:
                if file.read(len(content) + 1) != content:
                    return False
            hard_link(old, target)
        except OSError:  # gone, unreadable, or a file system without hard links: write it
            return False
        return True

    def files(self, files: dict[str, builtins.bytes]) -> None:
        for path, content in files.items():
            self.bytes(path, content)


# A file already at a target is a version left in the spare, which may share its inode
# with the published output: it is unlinked and replaced, never written into. Most
# targets are new, so the file is created (or linked) first and unlinked only if there:
# unlinking a name that is not there takes the directory's lock, a cost for nothing.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def _created(target: Path) -> int:
    """A new file at *target*, open for writing."""
    try:
        return os.open(target, _CREATE, 0o666)
    except FileExistsError:
        os.unlink(target)
        return os.open(target, _CREATE, 0o666)


def hard_link(old: str | Path, target: str | Path) -> None:
    """*old* hard-linked at *target*, in place of what is there."""
    try:
        os.link(old, target, follow_symlinks=False)
    except FileExistsError:
        os.unlink(target)
        os.link(old, target, follow_symlinks=False)
