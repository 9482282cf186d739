"""Name -> object registries (timm-style register / list / create) with clear errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from omnijepa.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection; ``get`` on an unknown name lists the valid ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._loaders: dict[str, Callable[[], T]] = {}  # lazy entries, built on first get

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers an object under ``name`` (names are unique)."""

        def add(obj: T) -> T:
            self.add(name, obj)
            return obj

        return add

    def add(self, name: str, obj: T) -> None:
        """Register ``obj`` under ``name``; a duplicate name is a programming error."""
        self._check_new(name)
        self._items[name] = obj

    def add_lazy(self, name: str, load: Callable[[], T]) -> None:
        """Register ``name`` now and build its object with ``load()`` on its first ``get``:
        an entry whose module imports heavy dependencies costs nothing until it is used."""
        self._check_new(name)
        self._loaders[name] = load

    def _check_new(self, name: str) -> None:
        if name in self:
            raise KeyError(f"{self.kind} {name!r} is already registered")

    def get(self, name: str) -> T:
        """Return the object named ``name`` or raise a ConfigError listing valid names."""
        if name in self._loaders:
            self._items[name] = self._loaders.pop(name)()
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(self.names()) or "(none)"
            raise ConfigError(f"unknown {self.kind} {name!r}; valid: {valid}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted([*self._items, *self._loaders])

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._loaders

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items) + len(self._loaders)
