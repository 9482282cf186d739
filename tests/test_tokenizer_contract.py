"""The tokenizer contract (``nn.tokens``), checked over the whole ``TOKENIZERS`` registry.

Every registered tokenizer needs an example below: a new one without it fails
``test_every_tokenizer_has_an_example``, so the contract is checked for it too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from omnijepa.data.series_data import pad_series
from omnijepa.modalities import TOKENIZERS
from omnijepa.modalities.audio import SpectrogramTokenizer, pad_frames
from omnijepa.modalities.eeg import (
    EEGChannelConvTokenizer,
    EEGChannelTokenizer,
    electrode_positions,
    pack_recording,
)
from omnijepa.modalities.image import PatchTokenizer
from omnijepa.modalities.point_cloud import PointPatchTokenizer, group_patches, pack_patches
from omnijepa.modalities.roi_series import ROIPatchTokenizer
from omnijepa.modalities.series import SeriesWindowTokenizer
from omnijepa.modalities.tabular import TabularTokenizer
from omnijepa.modalities.video import TubeletTokenizer
from omnijepa.nn.encoder import TokenEncoder
from omnijepa.nn.positional import POSITIONAL_ENCODINGS
from omnijepa.nn.tokens import Axis, Tokenizer


def _image() -> tuple[Tokenizer, torch.Tensor]:
    return PatchTokenizer(1, 4, 16, (8, 12)), torch.randn(3, 1, 8, 12)  # non-square grid


def _points() -> tuple[Tokenizer, torch.Tensor]:
    centres, patches = group_patches(torch.randn(3, 64, 3), 8, 8)
    return PointPatchTokenizer(16, 8, (8, 16, 32)), pack_patches(centres, patches)


def _table() -> tuple[Tokenizer, torch.Tensor]:
    x = torch.randn(3, 5)
    x[:, 1] = torch.tensor([0.0, 2.0, float("nan")])
    return TabularTokenizer(5, [1], [3], 16), x


def _series() -> tuple[Tokenizer, torch.Tensor]:
    xs = [torch.randn(2, n) for n in (12, 20, 7)]
    return SeriesWindowTokenizer(2, 4, 16), pad_series(xs, 20)


def _spectrogram() -> tuple[Tokenizer, torch.Tensor]:
    specs = [pad_frames(torch.randn(n, 8), 16) for n in (16, 9, 4)]  # clips of 3 lengths
    return SpectrogramTokenizer(16, 8, 4, 4, 16), torch.stack(specs)


def _eeg() -> tuple[Tokenizer, torch.Tensor]:
    montages = (["C3", "Cz", "C4", "Pz"], ["Fp1", "Fp2", "O1"], ["C3", "C4"])  # 3 channel sets
    recs = [
        pack_recording(torch.randn(len(m), n), electrode_positions(m), 4, 16)
        for m, n in zip(montages, (16, 11, 8))
    ]
    return EEGChannelTokenizer(4, 16, 4, 16), torch.stack(recs)


def _eeg_conv() -> tuple[Tokenizer, torch.Tensor]:
    tok, x = _eeg()
    return EEGChannelConvTokenizer(4, 16, 4, 16), x


def _roi_gradients() -> tuple[Tokenizer, torch.Tensor]:
    return ROIPatchTokenizer(5, 12, 4, 16, torch.randn(5, 3).numpy()), torch.randn(3, 5, 12)


def _video() -> tuple[Tokenizer, torch.Tensor]:
    return TubeletTokenizer(1, 4, 8, 2, 4, 16), torch.randn(3, 1, 4, 8, 8)


def _roi_index() -> tuple[Tokenizer, torch.Tensor]:
    return ROIPatchTokenizer(5, 13, 4, 16, None), torch.randn(3, 5, 13)


EXAMPLES: dict[str, Callable[[], tuple[Tokenizer, torch.Tensor]]] = {
    "eeg_channel_window": _eeg,
    "eeg_channel_conv": _eeg_conv,
    "roi_time_patch": _roi_gradients,
    "tubelet": _video,
    "spectrogram_patch": _spectrogram,
    "patch": _image,
    "point_patch": _points,
    "tabular": _table,
    "series_window": _series,
}


def test_every_tokenizer_has_an_example() -> None:
    assert sorted(EXAMPLES) == TOKENIZERS.names()


@pytest.mark.parametrize("name", TOKENIZERS.names())
def test_tokenizer_contract(name: str) -> None:
    torch.manual_seed(0)
    tok, x = EXAMPLES[name]()
    assert isinstance(tok, TOKENIZERS.get(name)) and isinstance(tok, Tokenizer)
    assert isinstance(tok.dim, int) and tok.axes and all(isinstance(a, Axis) for a in tok.axes)
    tokens = tok(x)
    b, n = x.shape[0], tokens.shape[1]
    assert tokens.shape == (b, n, tok.dim) and torch.isfinite(tokens).all()
    coords = tok.coords(x)
    assert coords.shape == ((n, len(tok.axes)) if tok.shared_coords else (b, n, len(tok.axes)))
    assert torch.isfinite(coords).all()
    for i, axis in enumerate(tok.axes):
        if axis.kind == "grid":
            col = coords[..., i]
            assert torch.equal(col, col.round()) and col.min() >= 0 and col.max() < axis.size
    if tok.shared_coords:
        assert tok.coords(x) is coords  # one cached tensor per sample shape: positions cache
    pad = tok.padding(x)
    assert pad is None or (pad.shape == (b, n) and pad.dtype == torch.bool)
    # a sample's tokens do not depend on the rest of the batch; tokenizing is deterministic
    torch.testing.assert_close(tok(x[:1]), tokens[:1])
    torch.testing.assert_close(tok(x), tokens)


@pytest.mark.parametrize("name", TOKENIZERS.names())
@pytest.mark.parametrize("pos", POSITIONAL_ENCODINGS.names())
def test_every_positional_encoding_builds_from_declared_axes(name: str, pos: str) -> None:
    tok, x = EXAMPLES[name]()
    if pos == "learned" and any(a.kind != "grid" for a in tok.axes):
        with pytest.raises(ValueError, match="grid"):
            TokenEncoder(tok, 1, 2, pos=pos)
        return
    enc = TokenEncoder(tok, 1, 2, pos=pos)
    out = enc(x)
    assert out.shape == (x.shape[0], tok(x).shape[1], tok.dim) and torch.isfinite(out).all()


@pytest.mark.parametrize("pos", ["learned", "sincos", "linear_sincos", "mlp"])
def test_roi_tokens_by_index_take_grid_encodings(pos: str) -> None:
    tok, x = _roi_index()
    assert [a.kind for a in tok.axes] == ["grid", "grid"] and tok(x).shape == (3, 15, 16)
    assert TokenEncoder(tok, 1, 2, pos=pos)(x).shape == (3, 15, 16)


def test_learned_positions_refuse_a_grid_larger_than_declared() -> None:
    tok = PatchTokenizer(1, 4, 16, 8)  # declared 2 x 2 patches
    enc = TokenEncoder(tok, 1, 2, pos="learned")
    assert enc(torch.randn(1, 1, 8, 8)).shape == (1, 4, 16)
    with pytest.raises(RuntimeError, match="outside"):
        enc(torch.randn(1, 1, 8, 12))
    sincos = TokenEncoder(PatchTokenizer(1, 4, 16, 8), 1, 2, pos="sincos")
    assert sincos(torch.randn(1, 1, 8, 12)).shape == (1, 6, 16)  # sin-cos extends


def test_non_square_images_have_non_square_grids() -> None:
    tok, x = _image()
    assert [(a.name, a.size) for a in tok.axes] == [("row", 2), ("col", 3)]
    assert tok.coords(x)[-1].tolist() == [1.0, 2.0]


def test_encoder_refuses_a_module_that_is_not_a_tokenizer() -> None:
    with pytest.raises(TypeError, match="Tokenizer"):
        TokenEncoder(torch.nn.Linear(2, 2), 1, 2)  # type: ignore[arg-type]
