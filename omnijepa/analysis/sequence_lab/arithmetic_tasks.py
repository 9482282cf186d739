"""Digit-level addition and multiplication for encoder-only (bidirectional) models.

Digits are tokens 0-9, least-significant digit first; the model labels positions in place, so
the output length is tied to the input length (Jelassi et al. 2023 use encoder-only models for
this reason). Labels are -100 (ignored) except where a result digit is read:

* addition, layout ``interleaved`` (default): ``a0 b0 a1 b1 ... a(n-1) b(n-1) _``; the sum's
  digit k is read at ``b_k`` and the final carry at ``_``. Every dependency is local (the
  digits of column k sit next to each other), so a relative scheme can carry over to longer
  numbers while an absolute one meets unseen positions.
* addition, layout ``concat``: ``a0 .. a(n-1) + b0 .. b(n-1) _`` with the same read-out; the
  operand digits of one column are n+1 apart, a distance that grows with n (closer to the
  paper's "a+b" strings; offered for comparison).
* multiplication ``a x b`` with ``b`` of ``b_digits`` digits: ``b0 .. b(m-1) x a0 .. a(n-1)
  _ * m``; product digit k is read at ``a_k`` (k < n) and at the m trailing blanks.

The paper's exact layout was not verified against the PDF (brief s.7); these layouts are our
choice and labelled as such in the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from omnijepa.errors import ConfigError
from omnijepa.registry import Registry

PLUS, TIMES, BLANK = 10, 11, 12
VOCAB_SIZE = 13
IGNORE = -100

Encoded = tuple[np.ndarray, np.ndarray]  # tokens (T,), labels (T,)
LayoutFn = Callable[[int, int, int, int], Encoded]
ARITHMETIC_LAYOUTS: Registry[LayoutFn] = Registry("arithmetic layout")


def digits_lsb(value: int, n: int) -> np.ndarray:
    """The ``n`` base-10 digits of ``value``, least significant first, zero-padded."""
    return np.array([(value // 10**i) % 10 for i in range(n)], dtype=np.int64)


@ARITHMETIC_LAYOUTS.register("add_interleaved")
def add_interleaved(a: int, b: int, n: int, m: int = 0) -> Encoded:
    s = digits_lsb(a + b, n + 1)
    tokens = np.empty(2 * n + 1, dtype=np.int64)
    tokens[0:-1:2], tokens[1:-1:2], tokens[-1] = digits_lsb(a, n), digits_lsb(b, n), BLANK
    labels = np.full(2 * n + 1, IGNORE, dtype=np.int64)
    labels[1:-1:2], labels[-1] = s[:n], s[n]
    return tokens, labels


@ARITHMETIC_LAYOUTS.register("add_concat")
def add_concat(a: int, b: int, n: int, m: int = 0) -> Encoded:
    s = digits_lsb(a + b, n + 1)
    tokens = np.concatenate([digits_lsb(a, n), [PLUS], digits_lsb(b, n), [BLANK]])
    labels = np.full(2 * n + 2, IGNORE, dtype=np.int64)
    labels[n + 1 :] = s
    return tokens, labels


@ARITHMETIC_LAYOUTS.register("mul")
def mul_layout(a: int, b: int, n: int, m: int = 1) -> Encoded:
    p = digits_lsb(a * b, n + m)
    tokens = np.concatenate([digits_lsb(b, m), [TIMES], digits_lsb(a, n), [BLANK] * m])
    labels = np.full(len(tokens), IGNORE, dtype=np.int64)
    labels[m + 1 :] = p
    return tokens, labels


def encode_batch(layout: str, pairs: list[tuple[int, int]], n: int, m: int) -> Encoded:
    """Stack equally long encodings of ``(a, b)`` pairs with ``n``-digit ``a`` (and ``b``)."""
    fn = ARITHMETIC_LAYOUTS.get(layout)
    enc = [fn(a, b, n, m) for a, b in pairs]
    return np.stack([e[0] for e in enc]), np.stack([e[1] for e in enc])


def draw_pairs(
    rng: np.random.Generator, count: int, n: int, m: int, layout: str
) -> list[tuple[int, int]]:
    """``count`` operand pairs: ``a`` uniform below 10**n; ``b`` below 10**n (addition) or
    10**m (multiplication). Python ints, so any number of digits is exact."""
    b_digits = m if layout == "mul" else n
    return [(_uniform_int(rng, n), _uniform_int(rng, b_digits)) for _ in range(count)]


def _uniform_int(rng: np.random.Generator, n: int) -> int:
    return int("".join(str(d) for d in rng.integers(0, 10, size=n)))


@dataclass
class BucketedSet:
    """A fixed training set grouped by length: ``buckets[n] = (tokens (k, T), labels (k, T))``.

    A batch picks one bucket with probability proportional to its size and draws rows from it
    with replacement, so every example is seen equally often in expectation and batches need
    no padding (a bidirectional model would otherwise see the pads).
    """

    buckets: dict[int, Encoded] = field(default_factory=dict)

    def add(self, n: int, enc: Encoded) -> None:
        if n in self.buckets:
            old = self.buckets[n]
            enc = (np.concatenate([old[0], enc[0]]), np.concatenate([old[1], enc[1]]))
        self.buckets[n] = enc

    def __len__(self) -> int:
        return sum(len(t) for t, _ in self.buckets.values())

    def sample(self, rng: np.random.Generator, batch: int) -> Encoded:
        keys = sorted(self.buckets)
        sizes = np.array([len(self.buckets[k][0]) for k in keys], dtype=np.float64)
        key = keys[int(rng.choice(len(keys), p=sizes / sizes.sum()))]
        tokens, labels = self.buckets[key]
        rows = rng.integers(0, len(tokens), size=batch)
        return tokens[rows], labels[rows]


def fixed_train_set(
    layout: str,
    size: int,
    digits: tuple[int, int],
    m: int,
    seed: int,
    n_prime: int = 0,
    prime_digits: int = 0,
) -> BucketedSet:
    """``size`` fixed short examples (n uniform in ``digits``) plus ``n_prime`` fixed long
    examples of ``prime_digits`` digits: train-set priming (Jelassi et al. 2023)."""
    if size < 1:
        raise ConfigError(f"train set size must be >= 1, got {size}")
    rng = np.random.default_rng([seed, 11])
    lo, hi = digits
    ns = rng.integers(lo, hi + 1, size=size)
    out = BucketedSet()
    for n in sorted(set(ns.tolist())):
        out.add(n, encode_batch(layout, draw_pairs(rng, int((ns == n).sum()), n, m, layout), n, m))
    if n_prime:
        if prime_digits <= hi:
            raise ConfigError("prime_digits must exceed the training digits")
        prime_rng = np.random.default_rng([seed, 13])  # primes do not depend on ``size``
        pairs = draw_pairs(prime_rng, n_prime, prime_digits, m, layout)
        out.add(prime_digits, encode_batch(layout, pairs, prime_digits, m))
    return out


def fresh_batch(
    rng: np.random.Generator, layout: str, batch: int, digits: tuple[int, int], m: int
) -> Encoded:
    """A freshly drawn batch with one digit count n ~ U[lo, hi] (an unbounded train set)."""
    n = int(rng.integers(digits[0], digits[1] + 1))
    return encode_batch(layout, draw_pairs(rng, batch, n, m, layout), n, m)
