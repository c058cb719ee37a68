"""Faster construction of frozen slotted dataclasses on the venue's hot path.

A ``@dataclass(frozen=True, slots=True)`` ``__init__`` assigns every field through
``object.__setattr__`` (one Python-level call per field: about 1 us for the 15 fields of a
:class:`venues.base.Fill`).  :func:`positional_constructor` returns a function that takes *all*
fields positionally, in declaration order, and stores them through the slot descriptors instead -
the same object the class would build (equal, same repr and hash), in about half the time.

Only for plain dataclasses: a class with ``__post_init__`` (or without ``__slots__``) gets the class
itself back, so validation is never skipped.  ``tests/venues/internal/test_fast_init.py`` checks
that every constructor used builds objects equal to the class's own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def positional_constructor(cls: type[T]) -> Callable[..., T]:
    """``build(f1, f2, ..., fn)`` equivalent to ``cls(f1, f2, ..., fn)`` with every field given."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__") or "__slots__" not in cls.__dict__:
        return cls
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    if len(names) != len(dataclasses.fields(cls)) or set(names) != set(cls.__slots__):  # type: ignore[attr-defined]
        return cls
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def build({', '.join(names)}):", "    o = _new(_cls)"]
    for name in names:
        namespace[f"_set_{name}"] = cls.__dict__[name].__set__
        lines.append(f"    _set_{name}(o, {name})")
    lines.append("    return o")
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from the dataclass's own field names
    build = namespace["build"]
    build.__doc__ = f"Build a {cls.__name__} from all its fields, positionally."
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    return build  # type: ignore[no-any-return]
