"""The registry writer's batch work, its child-process program and the wire format between them.

No Twisted here: this module is what the writer *thread* runs (:func:`perform`) and what the writer
*child process* is (:func:`main`, ``python -m brokers.client.writer_child``).  The reactor side of
the process lives in :mod:`brokers.client.writer_process`.

**Work.**  A batch goes to a runner as a :class:`Work`: the batch's parts as
``brokers.registry.batch`` items ``(kind, payload, extra)``, each part's client-order journal
records, how many consecutive parts make each queued operation (``groups``) and the accounts whose
balances the vetting cache wants.  :func:`perform` runs it with
:func:`brokers.registry.writer_batch.run_batch`, then appends the journal records of the parts that
committed (one fsync) and returns, per operation, its error (or None) and the balance snapshot.

**The child.**  ``python -m brokers.client.writer_child --registry URL [--journal PATH]
[--parent-pid PID] [--gc-freeze Y|N]``; a password is never on the command line: it comes in the
environment variable ``FIXGATE_WRITER_DB_PASSWORD``.  The child ignores SIGINT and SIGTERM (Ctrl-C or a
service manager signals the whole process group; the gateway stops its child itself, by closing
its stdin, after the last batch) and, on Linux, is killed when the gateway dies (``PR_SET_PDEATHSIG``:
a dead gateway's child never writes the registry or the journal behind a restarted one's back).
It opens the registry (its own engine, the same URL and options as the gateway's), freezes what
it built out of the cyclic GC like the gateway does (``GCFreeze``: ``--gc-freeze Y``, the default),
then serves batches one at a time until EOF on stdin, and exits 0.  Its stdout carries only frames (anything
else printed goes to stderr).

**Frames.**  Both ways: a 4-byte big-endian length, then that many bytes of pickle.  Messages are
tuples tagged by their first element:

child -> gateway::

    ("ready", pid)                                  registry open; batches may come
    ("fatal", error)                                could not start (then exits 1)
    ("done", number, [error | None, ...], snapshot) batch ``number`` ran: per operation
    ("failed", number, error)                       batch ``number`` raised as a whole

gateway -> child::

    ("batch", number, items, records, groups, accounts)   see :func:`encode_work`

A batch's items travel flattened (:func:`encode_work` / :func:`decode_work`): each dataclass payload
(``BookedOrder``, ``FillToBook``) as its class and its field values in field order, every
``Decimal`` as its exact string (pickling a Decimal object costs about ten times more, and the
request is pickled on the reactor) and the domain's ``ZERO`` as a marker that decodes to that very
object (the registry's fast paths test ``is ZERO``); asset keys of reservations as (kind, code)
pairs.  The child rebuilds the objects without running their ``__init__`` (they were validated
when the gateway built them), as unpickling would.

An ``error`` is encoded by :func:`encode_error` so that :func:`decode_error` gives back an
exception of the same type with the same text and attributes even when the class does not pickle
(``InsufficientFunds(account, asset, requested, available)`` keeps only its message in ``args``):
the exception itself when it pickles faithfully, else its class, ``args`` and attributes to set on
a bare instance, else (a class that cannot be rebuilt) its text in a :class:`WriterChildError`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import operator
import os
import pickle
import signal
import struct
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from brokers.domain.accounts import ZERO, Asset, AssetKind, Balance
from brokers.registry import Registry
from brokers.registry.batch import OPEN, Item
from brokers.registry.writer_batch import run_batch
from fix_engine.gc_tuning import freeze_startup_objects

from .journal import OrderJournal

__all__ = [
    "PASSWORD_ENV",
    "Work",
    "WriterChildError",
    "decode_error",
    "decode_work",
    "encode_error",
    "encode_work",
    "frame",
    "main",
    "perform",
    "read_frame",
]

PASSWORD_ENV = "FIXGATE_WRITER_DB_PASSWORD"
HEADER = struct.Struct("!I")
#: a frame longer than this is garbage, not a message (a batch of 5,000 operations is a few MB)
MAX_FRAME = 256 * 1024 * 1024
PROTOCOL = pickle.HIGHEST_PROTOCOL

Snapshot = dict[str, list[Balance]]


class WriterChildError(RuntimeError):
    """An exception raised in the writer child whose class could not be rebuilt in the gateway (its
    text, prefixed with the class name, is kept)."""


@dataclass(slots=True)
class Work:
    """One batch for a runner: its parts as registry items, their journal records, the parts per
    queued operation and the accounts to snapshot."""

    number: int
    items: list[Item]
    records: list[list[dict[str, Any]]]
    groups: list[int]
    accounts: list[str]


def perform(registry: Registry, journal: OrderJournal | None, work: Work) -> tuple[list[Exception | None], Snapshot]:
    """Run ``work`` (see the module docstring); only what commits is journaled."""
    outcome = run_batch(registry, work.items, work.groups, work.accounts)
    if journal is not None:
        journal.append([r for records, ok in zip(work.records, outcome.committed, strict=True) if ok
                        for r in records])
    return outcome.results, outcome.snapshot


# ---- batches across the pipe --------------------------------------------------------------------

_ZERO_MARK = 0  #: the domain's ZERO (an int: no other Decimal field value is encoded as an int)


def _decimal_out(value: Any, _zero: Decimal = ZERO) -> Any:
    """A Decimal-typed value: its string, the ZERO marker, None, or ``("raw", value)`` (not a Decimal)."""
    if type(value) is Decimal:
        return _ZERO_MARK if value is _zero else str(value)
    return value if value is None else ("raw", value)


def _decimal_in(value: Any, _zero: Decimal = ZERO) -> Any:
    if type(value) is str:
        return Decimal(value)
    if type(value) is int:
        return _zero
    return value if value is None else value[1]


@dataclass(frozen=True, slots=True)
class _Layout:
    """How a dataclass payload is flattened: its field names, a getter of their values from the
    instance ``__dict__`` and the positions of its Decimal fields."""

    names: tuple[str, ...]
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    decimals: tuple[int, ...]


_LAYOUTS: dict[type, _Layout | None] = {}


def _layout(cls: type) -> _Layout | None:
    """The layout of ``cls`` (None: not a plain dataclass with a ``__dict__``; pickled as is)."""
    try:
        return _LAYOUTS[cls]
    except KeyError:
        pass
    layout = None
    if dataclasses.is_dataclass(cls) and "__slots__" not in cls.__dict__:
        names = tuple(f.name for f in dataclasses.fields(cls))
        hints = typing.get_type_hints(cls)
        decimals = tuple(i for i, name in enumerate(names)
                         if hints[name] is Decimal or Decimal in typing.get_args(hints[name]))
        getter = operator.itemgetter(*names)
        values = getter if len(names) > 1 else (lambda d: (getter(d),))
        layout = _Layout(names, values, decimals)
    _LAYOUTS[cls] = layout
    return layout


def _object_out(obj: Any) -> tuple[Any, ...]:
    layout = _layout(type(obj))
    if layout is None:
        return (None, obj)
    values = list(layout.values(obj.__dict__))
    for i in layout.decimals:
        values[i] = _decimal_out(values[i])
    return (type(obj), values)


def _object_in(encoded: tuple[Any, ...]) -> Any:
    cls, values = encoded
    if cls is None:
        return values
    layout = _layout(cls)
    assert layout is not None
    for i in layout.decimals:
        values[i] = _decimal_in(values[i])
    obj = object.__new__(cls)
    obj.__dict__.update(zip(layout.names, values, strict=True))
    return obj


_ASSETS: dict[tuple[AssetKind, str], Asset] = {}


def _asset_in(kind: AssetKind, code: str) -> Asset:
    asset = _ASSETS.get((kind, code))
    if asset is None:
        asset = _ASSETS[(kind, code)] = Asset(kind, code)
    return asset


def encode_work(work: Work) -> tuple[Any, ...]:
    """The ``batch`` message of ``work`` (see the module docstring)."""
    items: list[tuple[Any, ...]] = []
    add = items.append
    for kind, payload, extra in work.items:
        if kind == OPEN and extra is not None:
            extra = [((key.kind, key.code) if type(key) is Asset else key, _decimal_out(value))
                     for key, value in extra.items()]
        add((kind, _object_out(payload), extra))
    return ("batch", work.number, items, work.records, work.groups, work.accounts)


def decode_work(message: tuple[Any, ...]) -> Work:
    """The :class:`Work` of a ``batch`` message."""
    _, number, encoded, records, groups, accounts = message
    items: list[Item] = []
    add = items.append
    for kind, payload, extra in encoded:
        if kind == OPEN and extra is not None:
            extra = {(_asset_in(*key) if type(key) is tuple else key): _decimal_in(value) for key, value in extra}
        add((kind, _object_in(payload), extra))
    return Work(number, items, records, groups, accounts)


# ---- errors across the pipe ---------------------------------------------------------------------


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value, PROTOCOL)
    except Exception:  # noqa: BLE001 - anything that does not pickle
        return False
    return True


def _rebuild(module: str, qualname: str, args: tuple[Any, ...], state: dict[str, Any]) -> Exception:
    cls: Any = importlib.import_module(module)
    for name in qualname.split("."):
        cls = getattr(cls, name)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        raise TypeError(f"{module}.{qualname} is not an exception class")
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


def encode_error(exc: Exception) -> tuple[Any, ...]:
    """``exc`` as a picklable tuple :func:`decode_error` turns back into the same type and text."""
    text = str(exc)
    cls = type(exc)
    try:
        blob = pickle.dumps(exc, PROTOCOL)
        back = pickle.loads(blob)  # noqa: S301 - our own bytes
        if type(back) is cls and str(back) == text:
            return ("pickle", blob)
    except Exception:  # noqa: BLE001, S110 - the next encoding is tried
        pass
    args = exc.args if _picklable(exc.args) else (text,)
    state = {k: v for k, v in getattr(exc, "__dict__", {}).items() if _picklable(v)}
    try:
        back = _rebuild(cls.__module__, cls.__qualname__, args, state)
        if type(back) is cls and str(back) == text:
            return ("rebuild", cls.__module__, cls.__qualname__, args, state)
    except Exception:  # noqa: BLE001, S110 - the last encoding is the text
        pass
    return ("text", f"{cls.__module__}.{cls.__qualname__}", text)


def decode_error(encoded: tuple[Any, ...]) -> Exception:
    """The exception :func:`encode_error` encoded (a :class:`WriterChildError` if it cannot be rebuilt)."""
    kind = encoded[0]
    try:
        if kind == "pickle":
            exc = pickle.loads(encoded[1])  # noqa: S301 - our child's bytes
            if isinstance(exc, Exception):
                return exc
        elif kind == "rebuild":
            return _rebuild(*encoded[1:5])
        elif kind == "text":
            return WriterChildError(f"{encoded[1]}: {encoded[2]}")
    except Exception as exc:  # noqa: BLE001 - a class this side cannot rebuild
        return WriterChildError(f"undecodable error from the registry writer process: {exc}")
    return WriterChildError(f"undecodable error from the registry writer process: {encoded!r:.200}")


# ---- frames -------------------------------------------------------------------------------------


def frame(message: object) -> bytes:
    """``message`` as one frame (length + pickle)."""
    body = pickle.dumps(message, PROTOCOL)
    return HEADER.pack(len(body)) + body


def read_frame(stream: IO[bytes]) -> Any:
    """The next message from a blocking stream; None at EOF (a torn frame counts as EOF)."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes")
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)  # noqa: S301 - our parent's bytes


# ---- the child program --------------------------------------------------------------------------


def _die_with_parent(parent_pid: int | None) -> None:
    """Linux: SIGKILL when the parent dies (and exit now if it already did)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort; EOF on stdin still stops the child
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def _frames_out() -> IO[bytes]:
    """A private copy of stdout for the frames; fd 1 (``print``, C libraries) then goes to stderr."""
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m brokers.client.writer_child",
                                     description="fixgate registry writer child (spoken to over stdin/stdout)")
    parser.add_argument("--registry", required=True, help="registry URL (password in $" + PASSWORD_ENV + ")")
    parser.add_argument("--journal", default=None, help="client-order journal to append to")
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument("--gc-freeze", choices=["Y", "N"], default="Y",
                        help="freeze the startup objects out of the cyclic GC (the gateway's GCFreeze)")
    return parser.parse_args(argv)


def _url(url: str) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        return url
    from sqlalchemy.engine import make_url

    return make_url(url).set(password=password).render_as_string(hide_password=False)


def serve(registry: Registry, journal: OrderJournal | None, stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """Answer batches until EOF; 0 at EOF, 2 on a message that is not a batch."""
    while True:
        message = read_frame(stdin)
        if message is None:
            return 0
        if not (isinstance(message, tuple) and len(message) == 6 and message[0] == "batch"):
            stdout.write(frame(("fatal", encode_error(ValueError(f"not a batch: {message!r:.200}")))))
            return 2
        number = message[1]
        try:
            results, snapshot = perform(registry, journal, decode_work(message))
            reply: tuple[Any, ...] = ("done", number, [None if e is None else encode_error(e) for e in results],
                                      snapshot)
        except Exception as exc:  # noqa: BLE001 - the whole batch failed: every operation gets it
            print(f"fixgate registry writer: batch {number} failed: {exc!r}", file=sys.stderr, flush=True)
            reply = ("failed", number, encode_error(exc))
        stdout.write(frame(reply))


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(args.parent_pid)
    stdout = _frames_out()
    stdin = os.fdopen(os.dup(0), "rb")
    try:
        registry = Registry(_url(args.registry))
        with registry.uow() as uow:  # connect now: a bad URL or an unreachable server fails the start
            uow.accounts.list()
        journal = OrderJournal(args.journal) if args.journal else None
    except Exception as exc:  # noqa: BLE001 - reported to the gateway, which stops
        stdout.write(frame(("fatal", encode_error(exc))))
        return 1
    if args.gc_freeze == "Y":
        freeze_startup_objects()
    stdout.write(frame(("ready", os.getpid())))
    try:
        return serve(registry, journal, stdin, stdout)
    except BrokenPipeError:  # the gateway is gone
        return 1
    finally:
        if journal is not None:
            journal.close()
        registry.close()


if __name__ == "__main__":
    sys.exit(main())
