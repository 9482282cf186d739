"""Copy-family tasks as token sequences with a loss mask on the answer.

Formats follow the official "Repeat After Me" synthetic experiments (letters of an alphabet of
size D, plus BOS ``$``, separator ``|``, EOS ``.``; the loss covers the answer and EOS):

* ``copy``: ``$ s | s .``
* ``prefix_key`` (key first): ``$ g | s | c .`` where ``g`` is an n-gram that occurs once in
  ``s`` and ``c`` the ``answer_len`` tokens that follow it in ``s``.
* ``suffix_key`` (key last): ``$ s | g c .``; the loss covers ``c`` and EOS only.
* ``duplicate_ngram`` (evaluation probe): ``copy`` on a string in which one random n-gram is
  written twice (ours inserts a duplicate; the official code replaces one n-gram's occurrences
  with another). A hash-based copier that keys on the last n' < n tokens meets an ambiguous
  key there.
* ``phonebook``: a *proxy*, trained from scratch, for the paper's pretrained-LLM phone-book
  experiment: ``$ name | number | name | number ... | query-name | number .`` with names and
  numbers drawn from the alphabet; ``length`` is the number of entries; the query is one of
  the entries (a suffix-key lookup with structure).

Every generator is ``fn(rng, length, vocab, ngram, answer_len) -> (tokens, loss_mask)`` with
int64 / bool numpy arrays of equal length; for a fixed task and length every example has the
same length, so evaluation batches stack without padding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from omnijepa.errors import ConfigError
from omnijepa.registry import Registry


@dataclass(frozen=True)
class Vocab:
    """An alphabet of ``alphabet`` letters (ids 0..D-1) and four special tokens after it."""

    alphabet: int

    @property
    def bos(self) -> int:
        return self.alphabet

    @property
    def sep(self) -> int:
        return self.alphabet + 1

    @property
    def eos(self) -> int:
        return self.alphabet + 2

    @property
    def pad(self) -> int:
        return self.alphabet + 3

    @property
    def size(self) -> int:
        return self.alphabet + 4

    def render(self, tokens: np.ndarray) -> str:
        """Human-readable string (letters a.., then ``$ | . *``) for figures and debugging."""
        special = {self.bos: "$", self.sep: "|", self.eos: ".", self.pad: "*"}
        return "".join(
            special.get(int(t), chr(ord("a") + int(t)) if t < 26 else f"<{int(t)}>") for t in tokens
        )


Example = tuple[np.ndarray, np.ndarray]
TaskFn = Callable[[np.random.Generator, int, Vocab, int, int], Example]
COPY_TASKS: Registry[TaskFn] = Registry("copy task")


def _assemble(parts: list[tuple[np.ndarray | list[int], bool]]) -> Example:
    tokens = np.concatenate([np.asarray(p, dtype=np.int64) for p, _ in parts])
    mask = np.concatenate([np.full(len(p), m, dtype=bool) for p, m in parts])
    return tokens, mask


def _letters(rng: np.random.Generator, n: int, vocab: Vocab) -> np.ndarray:
    return rng.integers(0, vocab.alphabet, size=n, dtype=np.int64)


def _unique_ngram_start(
    rng: np.random.Generator, s: np.ndarray, n: int, last_start: int
) -> int | None:
    """A random start in [0, last_start] whose n-gram occurs exactly once in ``s``."""
    grams = [tuple(s[i : i + n]) for i in range(len(s) - n + 1)]
    counts: dict[tuple, int] = {}
    for g in grams:
        counts[g] = counts.get(g, 0) + 1
    ok = [i for i in range(last_start + 1) if counts[grams[i]] == 1]
    return int(rng.choice(ok)) if ok else None


def _lookup_string(
    rng: np.random.Generator, length: int, vocab: Vocab, ngram: int, answer_len: int
) -> tuple[np.ndarray, int]:
    if length < ngram + answer_len:
        raise ConfigError(
            f"lookup tasks need length >= ngram + answer_len = {ngram + answer_len}, got {length}"
        )
    for _ in range(1000):
        s = _letters(rng, length, vocab)
        start = _unique_ngram_start(rng, s, ngram, length - ngram - answer_len)
        if start is not None:
            return s, start
    raise ConfigError(
        f"could not draw a string of length {length} with a unique {ngram}-gram over an "
        f"alphabet of {vocab.alphabet}; use a larger alphabet or ngram"
    )


@COPY_TASKS.register("copy")
def copy_example(
    rng: np.random.Generator, length: int, vocab: Vocab, ngram: int = 0, answer_len: int = 0
) -> Example:
    s = _letters(rng, length, vocab)
    return _assemble(
        [([vocab.bos], False), (s, False), ([vocab.sep], False), (s, True), ([vocab.eos], True)]
    )


def _lookup_example(
    rng: np.random.Generator, length: int, vocab: Vocab, ngram: int, answer_len: int, prefix: bool
) -> Example:
    """``BOS key SEP s SEP answer EOS`` (key first) or ``BOS s SEP key answer EOS``."""
    s, i = _lookup_string(rng, length, vocab, ngram, answer_len)
    key, answer = s[i : i + ngram], s[i + ngram : i + ngram + answer_len]
    bos, sep = ([vocab.bos], False), ([vocab.sep], False)
    if prefix:
        head = [bos, (key, False), sep, (s, False), sep]
    else:
        head = [bos, (s, False), sep, (key, False)]
    return _assemble([*head, (answer, True), ([vocab.eos], True)])


@COPY_TASKS.register("prefix_key")
def prefix_key_example(
    rng: np.random.Generator, length: int, vocab: Vocab, ngram: int = 4, answer_len: int = 4
) -> Example:
    return _lookup_example(rng, length, vocab, ngram, answer_len, prefix=True)


@COPY_TASKS.register("suffix_key")
def suffix_key_example(
    rng: np.random.Generator, length: int, vocab: Vocab, ngram: int = 4, answer_len: int = 4
) -> Example:
    return _lookup_example(rng, length, vocab, ngram, answer_len, prefix=False)


@COPY_TASKS.register("duplicate_ngram")
def duplicate_ngram_example(
    rng: np.random.Generator, length: int, vocab: Vocab, ngram: int = 4, answer_len: int = 0
) -> Example:
    if length < 2 * ngram:
        raise ConfigError(f"duplicate_ngram needs length >= 2 * ngram = {2 * ngram}")
    s = _letters(rng, length, vocab)
    src = int(rng.integers(0, length - 2 * ngram + 1))
    dst = int(rng.integers(src + ngram, length - ngram + 1))
    s[dst : dst + ngram] = s[src : src + ngram]
    return _assemble(
        [([vocab.bos], False), (s, False), ([vocab.sep], False), (s, True), ([vocab.eos], True)]
    )


PHONEBOOK_NAME, PHONEBOOK_NUMBER = 4, 5


@COPY_TASKS.register("phonebook")
def phonebook_example(
    rng: np.random.Generator, length: int, vocab: Vocab, ngram: int = 0, answer_len: int = 0
) -> Example:
    """``length`` entries of a 4-letter name and a 5-letter number; query one name."""
    if length < 1:
        raise ConfigError("phonebook needs at least one entry")
    names: list[np.ndarray] = []
    seen: set[tuple] = set()
    while len(names) < length:
        name = _letters(rng, PHONEBOOK_NAME, vocab)
        if tuple(name) not in seen:
            seen.add(tuple(name))
            names.append(name)
    numbers = [_letters(rng, PHONEBOOK_NUMBER, vocab) for _ in range(length)]
    q = int(rng.integers(0, length))
    parts: list[tuple[np.ndarray | list[int], bool]] = [([vocab.bos], False)]
    for name, number in zip(names, numbers):
        parts += [(name, False), ([vocab.sep], False), (number, False), ([vocab.sep], False)]
    parts += [(names[q], False), ([vocab.sep], False), (numbers[q], True), ([vocab.eos], True)]
    return _assemble(parts)


def task_fn(name: str) -> TaskFn:
    """The generator registered as ``name`` (ConfigError listing the valid ones)."""
    return COPY_TASKS.get(name)


def eval_batch(
    task: str, length: int, n: int, vocab: Vocab, seed: int, ngram: int = 4, answer_len: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples of one length stacked as (n, T) tokens and loss mask (seeded)."""
    rng = np.random.default_rng([seed, length, 7])
    fn = task_fn(task)
    pairs = [fn(rng, length, vocab, ngram, answer_len) for _ in range(n)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def packed_batch(
    task: str,
    rng: np.random.Generator,
    batch: int,
    context: int,
    lengths: tuple[int, int],
    vocab: Vocab,
    ngram: int = 4,
    answer_len: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Training rows of ``context`` tokens packed with examples of length U[lo, hi].

    As in the official code the last example of a row is truncated; rows start at BOS.
    """
    fn = task_fn(task)
    tokens = np.full((batch, context), vocab.pad, dtype=np.int64)
    mask = np.zeros((batch, context), dtype=bool)
    lo, hi = lengths
    for r in range(batch):
        pos = 0
        while pos < context:
            t, m = fn(rng, int(rng.integers(lo, hi + 1)), vocab, ngram, answer_len)
            take = min(len(t), context - pos)
            tokens[r, pos : pos + take], mask[r, pos : pos + take] = t[:take], m[:take]
            pos += take
    return tokens, mask
