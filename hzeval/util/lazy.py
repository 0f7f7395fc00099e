"""Read-only collections filled on first use: a module can export a catalog by name (``from m import
METRICS``) without building it at import. Each wraps a function returning the real collection
(cache that function: it is called on every access)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class LazyMapping(Mapping[K, V]):
    """A read-only mapping whose contents are ``load()``'s, built when first read."""

    __slots__ = ("_load",)

    def __init__(self, load: Callable[[], Mapping[K, V]]):
        self._load = load

    def __getitem__(self, key: K) -> V:
        return self._load()[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __contains__(self, key: object) -> bool:
        return key in self._load()

    def __repr__(self) -> str:
        return repr(self._load())


class LazyTuple(Sequence[T]):
    """A read-only sequence equal to (and hashing as) the tuple ``load()`` returns, built when first read."""

    __slots__ = ("_load",)

    def __init__(self, load: Callable[[], tuple[T, ...]]):
        self._load = load

    def __getitem__(self, index: Any) -> Any:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[T]:
        return iter(self._load())

    def __contains__(self, value: object) -> bool:
        return value in self._load()

    def __eq__(self, other: object) -> bool:
        return self._load() == (other._load() if isinstance(other, LazyTuple) else other)

    def __hash__(self) -> int:
        return hash(self._load())

    def __add__(self, other: tuple) -> tuple:
        return self._load() + other

    def __radd__(self, other: tuple) -> tuple:
        return other + self._load()

    def __repr__(self) -> str:
        return repr(self._load())


class LazyFrozenSet(Set[T]):
    """A read-only set equal to (and hashing as) the frozenset ``load()`` returns, built when first read."""

    __slots__ = ("_load",)

    def __init__(self, load: Callable[[], frozenset[T]]):
        self._load = load

    @classmethod
    def _from_iterable(cls, it):  # the results of ``|``, ``&``, ``-``: plain frozensets
        return frozenset(it)

    def __contains__(self, value: object) -> bool:
        return value in self._load()

    def __iter__(self) -> Iterator[T]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __eq__(self, other: object) -> bool:
        return self._load() == (other._load() if isinstance(other, LazyFrozenSet) else other)

    def __hash__(self) -> int:
        return hash(self._load())

    def __repr__(self) -> str:
        return repr(self._load())
