"""A word-level vocabulary for the small text decoders: built from training texts, with
padding, begin, end and unknown tokens, and the round trip text <-> ids."""

from __future__ import annotations

from collections import Counter

import torch

from omnijepa.data.text_words import tokenize

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"


class WordVocab:
    """Every word of the training texts, in first-seen order after the four specials."""

    def __init__(self, texts: list[str]) -> None:
        self.words = [PAD, BOS, EOS, UNK]
        self.index = {w: k for k, w in enumerate(self.words)}
        for text in texts:
            for w in tokenize(text):
                if w not in self.index:
                    self.index[w] = len(self.words)
                    self.words.append(w)

    @classmethod
    def most_common(cls, texts: list[str], n: int, extra: list[str] = ()) -> WordVocab:
        """The ``n`` most frequent words of ``texts`` (ties in first-seen order), then every
        word of ``extra`` not among them."""
        counts = Counter(w for t in texts for w in tokenize(t))
        top = [w for w, _ in counts.most_common(n)]
        return cls([" ".join(top), *extra])

    def __len__(self) -> int:
        return len(self.words)

    def word_ids(self, text: str) -> list[int]:
        """The ids of ``text``'s words, unknown words as UNK (3)."""
        return [self.index.get(w, 3) for w in tokenize(text)]

    def encode(self, texts: list[str], length: int) -> torch.Tensor:
        """(N, length) ids: BOS, the words (cut to fit), EOS, then padding."""
        out = torch.zeros(len(texts), length, dtype=torch.long)
        for i, text in enumerate(texts):
            ids = self.word_ids(text)[: length - 2]
            row = [1, *ids, 2]
            out[i, : len(row)] = torch.tensor(row)
        return out

    def decode(self, ids: list[int]) -> str:
        """Words up to the first EOS, specials dropped."""
        words = []
        for k in ids:
            if k == 2:
                break
            if k > 3:
                words.append(self.words[k])
        return " ".join(words)


__all__ = ["WordVocab", "tokenize"]
