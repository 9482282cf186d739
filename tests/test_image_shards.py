"""Image folders packed into WebDataset-layout tar shards: same samples, training, exact resume."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from omnijepa.data import ImageDataConfig, load_image_data
from omnijepa.data.image_shards import ShardImages, pack_image_folder
from omnijepa.errors import DataError
from tests.test_cli import assert_one_line_error, run_cli
from tests.test_image_data import _save


def make_folder(root: Path, n: int = 24) -> Path:
    for i in range(n):
        _save(root / ("light" if i % 2 else "dark") / f"{i:03d}.png", (18 + i % 5, 20), 10 * i)
    return root


def test_a_folder_with_its_own_split_keeps_it_as_a_folder_and_as_shards(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    for split, n in (("train", 12), ("test", 6)):
        make_folder(folder / split, n)
    base = dict(image_size=12, channels=1)
    a = load_image_data(ImageDataConfig(path=str(folder), decode="memory", **base), seed=1)
    assert a.classes == ["dark", "light"] and "its own split 12/6" in a.source
    assert len(a.train.labels) == 12 and len(a.test.labels) == 6
    pack_image_folder(folder, tmp_path / "shards", shard_size=5)
    b = load_image_data(ImageDataConfig(path=str(tmp_path / "shards"), **base), seed=1)
    assert "their own split 12/6" in b.source
    assert torch.equal(b.test.images[:], a.test.images)  # the same six test images
    assert torch.equal(b.train.labels, a.train.labels)


def test_shards_hold_the_same_samples_as_the_folder(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs")
    shards = pack_image_folder(folder, tmp_path / "shards", shard_size=10)
    assert [p.name for p in shards] == ["shard-00000.tar", "shard-00001.tar", "shard-00002.tar"]
    with tarfile.open(shards[0]) as tar:
        names = tar.getnames()
    assert names[:2] == ["000000000.png", "000000000.cls"]  # WebDataset: key.ext per member
    assert json.loads((tmp_path / "shards" / "classes.json").read_text()) == ["dark", "light"]
    base = dict(image_size=12, channels=3, test_fraction=0.25)
    a = load_image_data(ImageDataConfig(path=str(folder), decode="memory", **base), seed=1)
    b = load_image_data(ImageDataConfig(path=str(tmp_path / "shards"), **base), seed=1)
    assert isinstance(b.train.images, ShardImages) and b.classes == a.classes
    assert torch.equal(b.train.labels, a.train.labels) and torch.equal(b.test.labels, a.test.labels)
    assert torch.equal(b.train.images[:], a.train.images)
    assert torch.equal(b.test.images[1], a.test.images[1])


def test_pack_refuses_to_overwrite_and_bad_shards_are_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path / "imgs", 4)
    code, out, err = run_cli(capsys, "data", "pack", folder, "--out", tmp_path / "s")
    assert code == 0 and "1 shard" in out, err
    code, _, err = run_cli(capsys, "data", "pack", folder, "--out", tmp_path / "s")
    assert code == 2
    assert_one_line_error(err, "already holds shards")
    code, _, err = run_cli(capsys, "data", "pack", folder, "--out", folder / "packed")
    assert code == 2 and not (folder / "packed").exists()
    assert_one_line_error(err, "lies inside the image folder")
    broken = make_folder(tmp_path / "broken", 4)
    next(broken.rglob("*.png")).write_bytes(b"not a png")
    code, _, err = run_cli(capsys, "data", "pack", broken, "--out", tmp_path / "new" / "s")
    assert code == 2 and not (tmp_path / "new" / "s").exists()  # no empty folder left behind
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.tar").write_bytes(b"not a tar file at all" * 40)
    with pytest.raises(DataError, match="x.tar"):
        load_image_data(ImageDataConfig(path=str(tmp_path / "bad")), seed=0)


def _copy_members(src: Path, dst: Path, edit=lambda name, data: [(name, data)]) -> None:  # noqa: ANN001
    """Rewrite the tar ``src`` as ``dst``, each member through ``edit`` (name, bytes) -> list."""
    import io

    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for m in tin.getmembers():
            for name, data in edit(m.name, tin.extractfile(m).read()):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tout.addfile(info, io.BytesIO(data))


def test_damaged_or_ambiguous_shard_sets_are_one_error(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    folder = make_folder(tmp_path / "imgs", 6)
    good = tmp_path / "good"
    pack_image_folder(folder, good)
    shard = good / "shard-00000.tar"

    def fails(path: Path, match: str) -> None:
        with pytest.raises(DataError, match=match):
            load_image_data(ImageDataConfig(path=str(path), image_size=8), seed=0)

    def case(name: str) -> Path:
        (tmp_path / name).mkdir()
        (tmp_path / name / "classes.json").write_text((good / "classes.json").read_text())
        return tmp_path / name

    cut = case("cut")  # an interrupted copy, cut at a member boundary
    data = shard.read_bytes()
    with tarfile.open(shard) as tar:
        third = tar.getmembers()[4].offset  # the third sample's header
    (cut / "shard-00000.tar").write_bytes(data[:third])
    fails(cut, "truncated")
    merged = case("merged")  # two packs copied into one folder: the keys repeat
    (merged / "shard-00000.tar").write_bytes(data)
    (merged / "shard-00001.tar").write_bytes(data)
    fails(merged, "also appears in")
    ranged = case("ranged")
    _copy_members(shard, ranged / "shard-00000.tar",
                  lambda n, d: [(n, b"7" if n.endswith(".cls") else d)])  # fmt: skip
    fails(ranged, "names 2 classes")
    named = case("named")  # a .cls that holds the class name instead of its index
    _copy_members(shard, named / "shard-00000.tar",
                  lambda n, d: [(n, b"dark" if n.endswith(".cls") else d)])  # fmt: skip
    fails(named, "holds 'dark', not a class index")
    junk = case("junk")
    (junk / "shard-00000.tar").write_bytes(b"this is no archive" * 100)
    fails(junk, "shard-00000.tar: not a tar archive$")
    (good / "classes.json").write_text("{not json")
    fails(good, "not valid JSON")
    (good / "classes.json").write_text('{"dark": 0}')
    fails(good, "list of class names")
    mixed = make_folder(tmp_path / "mixed", 4)  # a stray archive among the class folders
    (mixed / "old.tar").write_bytes(data)
    fails(mixed, "both .tar shards and image files")
    code, _, err = run_cli(capsys, "data", "pack", folder, "--out", shard)  # a file
    assert code == 2 and "exists and is not a directory" in err
    (tmp_path / "empty.tar").mkdir()
    (tmp_path / "empty.tar" / "shard-00000.tar").write_bytes(b"")
    with pytest.raises(DataError) as info:  # one line, not tarfile's list of codecs tried
        load_image_data(ImageDataConfig(path=str(tmp_path / "empty.tar"), image_size=8), 0)
    assert "\n" not in str(info.value)
    (folder / "light" / "zz_fake.png").write_text("not an image")
    code, _, err = run_cli(capsys, "data", "pack", folder, "--out", tmp_path / "p2")
    assert code == 2
    assert_one_line_error(err, "zz_fake.png", "not a readable image")
    assert not list((tmp_path / "p2").glob("*"))  # no half-written shard left behind


def test_pack_says_it_left_out_broken_links(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs", 4)
    (folder / "dark" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    with pytest.warns(UserWarning, match="1 broken link"):
        pack_image_folder(folder, tmp_path / "s")


def test_webdataset_metadata_members_are_skipped(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs", 6)
    pack_image_folder(folder, tmp_path / "plain")
    (tmp_path / "wds").mkdir()
    names = (tmp_path / "plain" / "classes.json").read_text()
    (tmp_path / "wds" / "classes.json").write_text(names)

    def with_metadata(name: str, data: bytes) -> list:
        key = name.rpartition(".")[0]
        extra = [(f"{key}.json", b"{}"), (f"{key}.txt", b"a caption")]
        return [(name, data), *extra] if name.endswith(".png") else [(name, data)]

    _copy_members(tmp_path / "plain" / "shard-00000.tar", tmp_path / "wds" / "shard-00000.tar",
                  with_metadata)  # fmt: skip
    cfg = dict(image_size=8, test_fraction=0.5)
    a = load_image_data(ImageDataConfig(path=str(tmp_path / "plain"), **cfg), seed=0)
    b = load_image_data(ImageDataConfig(path=str(tmp_path / "wds"), **cfg), seed=0)
    assert torch.equal(b.train.images[:], a.train.images[:])
    assert torch.equal(b.train.labels, a.train.labels)


def test_training_on_shards_resumes_to_the_same_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_overrides
) -> None:  # noqa: ANN001
    folder = make_folder(tmp_path / "imgs", 40)
    pack_image_folder(folder, tmp_path / "shards", shard_size=16)
    ov = tiny_overrides("ijepa", f"data.path={tmp_path / 'shards'}", "data.image_size=16",
                        "train.steps=6", "train.batch_size=8", "train.num_workers=2")  # fmt: skip
    assert run_cli(capsys, "train", "ijepa", *ov, "--out", tmp_path / "full")[0] == 0
    code, _, err = run_cli(
        capsys, "train", "ijepa", *ov, "train.stop_at=3", "--out", tmp_path / "part"
    )
    assert code == 0, err
    shutil.copytree(tmp_path / "part", tmp_path / "part2")
    assert run_cli(capsys, "train", "--resume", tmp_path / "part")[0] == 0
    (tmp_path / "shards" / "shard-00002.tar").unlink()  # the data changes under a stopped run
    code, _, err = run_cli(capsys, "train", "--resume", tmp_path / "part2")
    assert code == 2
    assert_one_line_error(err, "the data changed since")
    full, part = (
        load_file(tmp_path / "full" / "model.safetensors"),
        load_file(tmp_path / "part" / "model.safetensors"),
    )
    for key in full:
        assert torch.equal(full[key], part[key]), key


def test_each_rank_reads_only_its_own_shards(tmp_path: Path) -> None:
    import numpy as np

    from omnijepa.data.image_data import make_datasets
    from omnijepa.errors import ConfigError
    from omnijepa.train.data_order import StepBatchSampler

    folder = make_folder(tmp_path / "imgs", n=40)
    pack_image_folder(folder, tmp_path / "shards", shard_size=5)
    data = load_image_data(ImageDataConfig(path=str(tmp_path / "shards"), image_size=12), 0)
    train, _ = make_datasets(data)
    owner = train.shard_of
    assert owner is not None and len(owner) == len(train) and len(np.unique(owner)) == 8

    def batches(rank: int, start: int = 0) -> list[list[int]]:
        s = StepBatchSampler(len(train), 8, 0, start, 12, rank, 2, owner)
        return [[i for i, _ in b] for b in s]

    for rank in (0, 1):
        got = batches(rank)
        assert all(len(b) == 4 for b in got)
        assert {int(owner[i]) % 2 for b in got for i in b} == {rank}  # its own shards only
        assert batches(rank, start=5) == got[5:]  # a resumed run continues where it stopped
    # each step's global batch has no repeats; the order is seeded, not the file order
    assert all(not set(a) & set(b) for a, b in zip(batches(0), batches(1)))
    with pytest.raises(ConfigError, match="divisible"):
        StepBatchSampler(len(train), 7, 0, 0, 4, 0, 2, owner)
    with pytest.raises(ConfigError, match="fewer than its"):
        StepBatchSampler(len(train), 8, 0, 0, 4, 0, 2, np.zeros(len(train), dtype=int))


def test_shards_at_a_url_read_like_local_ones_and_train(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_overrides
) -> None:  # noqa: ANN001
    import fsspec

    folder = make_folder(tmp_path / "imgs", 24)
    pack_image_folder(folder, tmp_path / "shards", shard_size=10)
    fs = fsspec.filesystem("memory")
    url = f"memory://omnijepa-test-{tmp_path.name}"
    for p in sorted((tmp_path / "shards").iterdir()):  # "object storage"
        fs.pipe_file(f"{url}/{p.name}", p.read_bytes())
    try:
        base = dict(image_size=12, channels=3, test_fraction=0.25)
        local = load_image_data(ImageDataConfig(path=str(tmp_path / "shards"), **base), seed=1)
        remote = load_image_data(ImageDataConfig(path=url, **base), seed=1)
        assert remote.classes == local.classes and url in remote.source
        assert torch.equal(remote.train.images[:], local.train.images[:])
        assert torch.equal(remote.test.labels, local.test.labels)
        ov = tiny_overrides("ijepa", "data.image_size=16", "train.steps=3", "train.batch_size=8")
        for name, path in (("local", tmp_path / "shards"), ("remote", url)):
            code, _, err = run_cli(capsys, "train", "ijepa", *ov, f"data.path={path}",
                                   "--out", tmp_path / name)  # fmt: skip
            assert code == 0, err
        a = load_file(tmp_path / "local" / "model.safetensors")
        b = load_file(tmp_path / "remote" / "model.safetensors")
        assert all(torch.equal(a[k], b[k]) for k in a)
        with pytest.raises(DataError, match="no \\*.tar shards"):
            load_image_data(ImageDataConfig(path=f"{url}-missing"), seed=0)
    finally:
        fs.rm(url, recursive=True)


def test_forked_loader_workers_open_their_own_remote_shards(tmp_path: Path) -> None:
    """DataLoader workers on Linux are forked, so a filesystem and file handles the parent
    opened (fingerprint, step-0 probe) reach them unpickled; fsspec's async filesystems (s3,
    gs, https) refuse to work in a forked child. The fake below refuses the same way."""
    import io
    import os

    import fsspec
    from fsspec.implementations.memory import MemoryFileSystem
    from torch.utils.data import DataLoader

    class ForkRefusingFS(MemoryFileSystem):
        protocol = "forkrefusing"

        @classmethod
        def _strip_protocol(cls, path):  # noqa: ANN001, ANN206
            return super()._strip_protocol(path.replace("forkrefusing://", "memory://", 1))

        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            super().__init__(*args, **kwargs)
            self.born = os.getpid()

        def _open(self, path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            data, born = self.cat_file(path), self.born  # a handle of its own (memory's is shared)

            class Handle(io.BytesIO):
                def read(self, *a):  # noqa: ANN002, ANN202
                    if os.getpid() != born:
                        raise RuntimeError("This class is not fork-safe")
                    return super().read(*a)

            return Handle(data)

    fsspec.register_implementation("forkrefusing", ForkRefusingFS, clobber=True)
    folder = make_folder(tmp_path / "imgs", 24)
    pack_image_folder(folder, tmp_path / "shards", shard_size=10)
    store = fsspec.filesystem("memory")
    key = f"omnijepa-fork-{tmp_path.name}"
    for p in sorted((tmp_path / "shards").iterdir()):
        store.pipe_file(f"memory://{key}/{p.name}", p.read_bytes())
    try:
        data = load_image_data(ImageDataConfig(path=f"forkrefusing://{key}", image_size=12,
                                               channels=3, decode="lazy"), seed=0)  # fmt: skip
        images = data.train.images
        first = images[0]  # the parent opens the filesystem and a handle
        loader = DataLoader(
            range(len(images)),
            batch_size=4,
            num_workers=2,
            multiprocessing_context="fork",
            collate_fn=lambda idx: torch.stack([images[i] for i in idx]),
        )
        read = torch.cat(list(loader))
        assert read.shape[0] == len(images) and torch.equal(read[0], first)
    finally:
        store.rm(f"memory://{key}", recursive=True)
