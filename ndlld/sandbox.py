"""A second wall around the query workers: a process that cannot open a network socket.

``ndlld serve`` refuses every query that could make pyoxigraph fetch anything
(:func:`ndlld.queries.refuse_outbound`). Should a way past that check ever be
found, a worker that called :func:`forbid_network` still cannot connect
anywhere: the kernel's seccomp filter answers ``socket()`` of any family but
``AF_UNIX`` (which the worker's pipe to the server is) with EPERM, and
``io_uring_setup()`` too, whose rings could open sockets without ``socket()``.
A filter cannot be lifted, and it is inherited by any child.

The filter is built by libseccomp (Debian's libseccomp2, through ctypes), which
knows each architecture's system call numbers and kills a process that makes a
call of another architecture's ABI (the x32 and i386 ways around a filter).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import socket

# From <seccomp.h>.
_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_ERRNO = 0x00050000  # | errno
_SCMP_CMP_NE = 1


class _ArgCmp(ctypes.Structure):
    """``struct scmp_arg_cmp``: compare argument *arg* of a call with *datum_a*."""

    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def forbid_network() -> bool:
    """Forbid this process (and its children) every network socket, for good.

    True once the filter is in force; False where it cannot be (no libseccomp,
    or a kernel without seccomp), and then nothing has changed.
    """
    name = ctypes.util.find_library("seccomp")
    if name is None:
        return False
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return False
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    context = lib.seccomp_init(_SCMP_ACT_ALLOW)  # everything else is allowed: this is about the network only
    if not context:
        return False
    try:
        refuse = _SCMP_ACT_ERRNO | errno.EPERM
        not_unix = (_ArgCmp * 1)(_ArgCmp(0, _SCMP_CMP_NE, socket.AF_UNIX, 0))
        rules = [
            (lib.seccomp_syscall_resolve_name(b"socket"), 1, not_unix),
            (lib.seccomp_syscall_resolve_name(b"io_uring_setup"), 0, None),
        ]
        for number, count, arguments in rules:
            if number < 0 or lib.seccomp_rule_add_array(context, refuse, number, count, arguments) != 0:
                return False
        return lib.seccomp_load(context) == 0
    finally:
        lib.seccomp_release(context)
