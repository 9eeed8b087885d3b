"""Reading an input file's bytes: regular files only, never more than the size limit.

A named pipe, a socket or a device would block the reader or never end, so
anything that is not a regular file is refused before it is opened for
reading (and checked again on the open descriptor, which is opened without
blocking, in case the path changed in between).  A file over the limit is
refused by its real size, without reading it.
"""

from __future__ import annotations

import os
import stat

from backprop_cli.source.errors import BackpropError, Location, Problem

_KINDS = ((stat.S_ISDIR, "it is a directory, not a file"), (stat.S_ISLNK, "it is a symbolic link, not a file"),
          (stat.S_ISFIFO, "it is a named pipe, not a file"),
          (stat.S_ISSOCK, "it is a socket, not a file"), (stat.S_ISCHR, "it is a device, not a file"),
          (stat.S_ISBLK, "it is a device, not a file"))
_OPEN_ERRORS = {FileNotFoundError: "no such file", IsADirectoryError: "it is a directory, not a file",
                PermissionError: "permission denied"}


class _Refused(Exception):
    pass


def read_file(path: str | os.PathLike, name: str, most: int, follow_links: bool = True) -> bytes:
    """The bytes of ``path``; a positioned BackpropError when it cannot or may not be read.

    ``follow_links=False`` refuses a symbolic link too (a student's folder may hold one to
    /etc/passwd).
    """
    try:
        _check(os.stat(path) if follow_links else os.lstat(path), name, most)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        if not follow_links:
            flags |= getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags)
        try:
            _check(os.fstat(fd), name, most)  # the same file, or one put in its place since
            chunks, size = [], 0
            while size <= most:
                chunk = os.read(fd, most + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    except _Refused as refused:
        raise BackpropError(Problem(f"cannot read '{name}': {refused}")) from None
    except (OSError, ValueError) as e:
        reason = _OPEN_ERRORS.get(type(e)) or getattr(e, "strerror", None) or str(e)
        raise BackpropError(Problem(f"cannot read '{name}': {reason}")) from None


def _check(info: os.stat_result, name: str, most: int) -> None:
    for test, words in _KINDS:
        if test(info.st_mode):
            raise _Refused(words)
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("it is not a regular file")
    if info.st_size > most:
        raise too_large(name, info.st_size, most)


def too_large(name: str, size: int, most: int) -> BackpropError:
    return BackpropError(Problem(f"file is too large ({size} bytes; the limit is {most})", Location(name, 1, 1)))
