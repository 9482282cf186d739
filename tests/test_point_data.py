"""Point clouds: procedural shape classes, user point files/folders, and load_point_data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh

from omnijepa.data.point_data import PointDataConfig, load_point_data, normalize_clouds
from omnijepa.data.point_files import POINT_READERS, load_point_file, load_point_folder
from omnijepa.data.point_shapes import (
    DEFAULT_SHAPE_CLASSES,
    ROTATIONS,
    SHAPE_CLASSES,
    make_shape_dataset,
    make_shape_mesh,
    sample_shape_cloud,
)
from omnijepa.errors import ConfigError, DataError
from tests.test_point_file_reading import _npy

# ---- procedural shapes ------------------------------------------------------------------------


def test_cached_shapes_are_the_generated_ones(tmp_path: Path) -> None:
    from omnijepa.data.npz_cache import code_digest

    args = (["box", "sphere"], 3, 64, 5, 0.01, "y", "primitives")
    points, labels, names = make_shape_dataset(*args)
    for _ in range(2):  # built and saved, then read back
        got = make_shape_dataset(*args, cache_dir=str(tmp_path))
        assert np.array_equal(got[0], points) and np.array_equal(got[1], labels)
        assert got[2] == names
    assert len(list(tmp_path.glob("shapes_*.npz"))) == 1
    other = make_shape_dataset(["box", "sphere"], 3, 64, 6, cache_dir=str(tmp_path))
    assert not np.array_equal(other[0], points)  # another seed, another file
    assert len(list(tmp_path.glob("shapes_*.npz"))) == 2
    # a cache folder that cannot be written costs time, not the run
    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder")
    with pytest.warns(UserWarning, match="cannot write the cache"):
        got = make_shape_dataset(*args, cache_dir=str(blocked))
    assert np.array_equal(got[0], points)
    # editing a generator's source changes the key, so stale clouds are never read
    src = tmp_path / "gen.py"
    src.write_text("a = 1\n")
    before = code_digest([src])
    src.write_text("a = 2\n")
    assert code_digest([src]) != before


def test_registry_has_enough_classes_and_defaults_are_registered() -> None:
    assert len(SHAPE_CLASSES) >= 12
    assert len(DEFAULT_SHAPE_CLASSES) == 10
    assert all(name in SHAPE_CLASSES for name in DEFAULT_SHAPE_CLASSES)


@pytest.mark.parametrize("name", SHAPE_CLASSES.names())
def test_every_class_builds_a_valid_mesh_and_cloud(name: str) -> None:
    rng = np.random.default_rng(0)
    for _ in range(3):
        mesh = make_shape_mesh(name, rng)
        assert len(mesh.faces) > 0 and mesh.area > 1e-3
        assert np.isfinite(mesh.vertices).all()
        radius = np.linalg.norm(mesh.vertices, axis=1).max()
        assert radius == pytest.approx(1.0)
        extents = mesh.bounds[1] - mesh.bounds[0]
        assert extents.max() > 0.5 and extents.min() > 0.01  # not collapsed to a line
    cloud = sample_shape_cloud(name, rng, 100, rotation="so3")
    assert cloud.shape == (100, 3) and cloud.dtype == np.float32
    assert np.isfinite(cloud).all() and np.ptp(cloud, axis=0).min() > 0.01


def test_rotations_are_proper_rotations() -> None:
    rng = np.random.default_rng(1)
    for name in ROTATIONS:
        r = ROTATIONS.get(name)(rng)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)
    y = ROTATIONS.get("y")(rng)
    np.testing.assert_allclose(y[:, 1], [0.0, 1.0, 0.0], atol=1e-12)  # the up axis stays put


def test_rotation_options_act_as_documented() -> None:
    def cloud(rotation: str) -> np.ndarray:
        return sample_shape_cloud("table", np.random.default_rng(4), 64, 0.0, rotation)

    none, about_y, so3 = cloud("none"), cloud("y"), cloud("so3")
    np.testing.assert_allclose(about_y[:, 1], none[:, 1], atol=1e-6)  # heights unchanged
    assert not np.allclose(about_y, none, atol=1e-3)
    assert not np.allclose(so3[:, 1], none[:, 1], atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(so3, axis=1), np.linalg.norm(none, axis=1), rtol=1e-5)


def test_known_class_geometry() -> None:
    rng = np.random.default_rng(0)
    sphere = make_shape_mesh("sphere", rng)
    surface, _ = trimesh.sample.sample_surface(sphere, 300, seed=0)
    assert np.linalg.norm(surface, axis=1).min() > 0.97  # round, not a polyhedron
    box = make_shape_mesh("box", rng)
    assert len(box.faces) == 12 and box.is_watertight
    torus = sample_shape_cloud("torus", rng, 500, noise=0.0, rotation="none")
    assert np.linalg.norm(torus[:, [0, 2]], axis=1).min() > 0.3  # a hole around the y axis


def test_y_rotation_keeps_the_vertical_extent() -> None:
    a = sample_shape_cloud("plate", np.random.default_rng(3), 400, noise=0.0, rotation="y")
    assert np.ptp(a[:, 1]) < 0.25 < np.ptp(a[:, 0])  # plate lies flat: thin along y


def test_same_seed_same_clouds_different_seed_different() -> None:
    a = make_shape_dataset(["torus", "mug"], 3, 64, seed=5)
    b = make_shape_dataset(["torus", "mug"], 3, 64, seed=5)
    c = make_shape_dataset(["torus", "mug"], 3, 64, seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[0], c[0])
    # a class's clouds do not depend on which other classes are asked for
    solo = make_shape_dataset(["mug"], 3, 64, seed=5)
    np.testing.assert_array_equal(solo[0], a[0][3:])
    # clouds within a class differ
    assert not np.allclose(a[0][0], a[0][1])


def test_make_shape_dataset_shapes_and_errors() -> None:
    points, labels, names = make_shape_dataset(None, 2, 32, seed=0)
    assert names == list(DEFAULT_SHAPE_CLASSES)
    assert points.shape == (20, 32, 3) and points.dtype == np.float32
    assert labels.dtype == np.int64 and labels.tolist() == np.repeat(np.arange(10), 2).tolist()
    with pytest.raises(ConfigError, match="sphere"):  # lists the valid names
        make_shape_dataset(["spere"], 2, 32, seed=0)
    with pytest.raises(ConfigError, match="so3"):
        make_shape_dataset(None, 2, 32, seed=0, rotation="x")


def _d2_histograms(points: np.ndarray, bins: int = 24) -> np.ndarray:
    """D2 shape distribution: histogram of pairwise distances of each normalised cloud."""
    points = normalize_clouds(points)
    dist = np.linalg.norm(points[:, :, None] - points[:, None], axis=-1)
    iu = np.triu_indices(points.shape[1], 1)
    return np.stack([np.histogram(d[iu], bins=bins, range=(0, 2), density=True)[0] for d in dist])


def test_default_classes_are_distinguishable_by_d2_nearest_centroid() -> None:
    x_tr, y_tr, names = make_shape_dataset(None, 20, 192, seed=0, rotation="so3")
    x_te, y_te, _ = make_shape_dataset(None, 15, 192, seed=1, rotation="so3")
    h_tr, h_te = _d2_histograms(x_tr), _d2_histograms(x_te)
    centroids = np.stack([h_tr[y_tr == c].mean(0) for c in range(len(names))])
    pred = np.argmin(((h_te[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (pred == y_te).mean() > 0.5  # chance is 0.1


# ---- user files -------------------------------------------------------------------------------


def _write_all_formats(folder: Path, rng: np.random.Generator) -> list[str]:
    """One file per supported suffix (meshes, a vertex-only .ply, text variants, .npy)."""
    folder.mkdir(parents=True, exist_ok=True)
    mesh = trimesh.creation.box(extents=rng.uniform(0.5, 1.5, 3))
    for suffix in (".ply", ".off", ".obj", ".stl"):
        mesh.export(folder / f"mesh{suffix}")
    trimesh.PointCloud(rng.normal(size=(40, 3))).export(folder / "cloud_only.ply")
    pts = rng.normal(size=(30, 4))
    np.savetxt(folder / "a.xyz", pts)
    np.savetxt(folder / "b.txt", pts, delimiter=",", header="x,y,z,w")
    (folder / "c.pts").write_text("30\n" + "\n".join(" ".join(map(str, r)) for r in pts) + "\n")
    np.save(folder / "d.npy", pts)
    return sorted(p.name for p in folder.iterdir())


def test_every_suffix_has_a_reader_and_reads(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    names = _write_all_formats(tmp_path, rng)
    assert {Path(n).suffix for n in names} == set(POINT_READERS.names())
    for name in names:
        cloud = load_point_file(tmp_path / name, 50, np.random.default_rng(1))
        assert cloud.shape == (50, 3) and cloud.dtype == np.float32 and np.isfinite(cloud).all()
    # meshes are sampled on their surface: box points lie on a face (one coordinate extreme)
    box = load_point_file(tmp_path / "mesh.stl", 200, np.random.default_rng(1))
    lo, hi = box.min(0), box.max(0)
    on_face = (np.isclose(box, lo, atol=1e-5) | np.isclose(box, hi, atol=1e-5)).any(1)
    assert on_face.all()
    # text and npy give the first three columns
    pts = np.load(tmp_path / "d.npy")
    for name in ("a.xyz", "b.txt", "c.pts", "d.npy"):
        cloud = load_point_file(tmp_path / name, 30, np.random.default_rng(2))
        order = np.argsort(cloud[:, 0])
        np.testing.assert_allclose(cloud[order], pts[np.argsort(pts[:, 0]), :3], rtol=1e-6)


def test_resampling_with_and_without_replacement(tmp_path: Path) -> None:
    np.save(tmp_path / "p.npy", np.arange(30, dtype=np.float64).reshape(10, 3))
    few = load_point_file(tmp_path / "p.npy", 4, np.random.default_rng(0))
    assert len(np.unique(few[:, 0])) == 4  # no repeats when there are enough points
    every = load_point_file(tmp_path / "p.npy", 10, np.random.default_rng(0))
    assert sorted(every[:, 0].tolist()) == list(range(0, 30, 3))  # a permutation of all rows
    many = load_point_file(tmp_path / "p.npy", 25, np.random.default_rng(0))
    assert many.shape == (25, 3) and len(np.unique(many[:, 0])) <= 10


def test_load_point_folder_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    per_class = {c: _write_all_formats(tmp_path / c, rng) for c in ("beta", "alpha")}
    (tmp_path / "empty_class").mkdir()
    with pytest.warns(UserWarning, match="empty_class"):
        points, listing = load_point_folder(tmp_path, 64, seed=0)
        labels, classes = listing.labels, listing.classes
    assert classes == ["alpha", "beta"]
    n = len(per_class["alpha"])
    assert points.shape == (2 * n, 64, 3) and points.dtype == np.float32
    assert labels.tolist() == [0] * n + [1] * n
    with pytest.warns(UserWarning):
        again, _ = load_point_folder(tmp_path, 64, seed=0)
    np.testing.assert_array_equal(points, again)


def test_a_readme_in_a_class_folder_is_a_note_not_an_empty_cloud(tmp_path: Path) -> None:
    """``.txt`` is a point format and the usual suffix of notes: a README stopped the run
    with "empty file (no point rows)"."""
    rng = np.random.default_rng(0)
    n = len(_write_all_formats(tmp_path / "ball", rng))
    (tmp_path / "ball" / "README.txt").write_text("Scanned with a Kinect, 2021. Units: metres.\n")
    with pytest.warns(UserWarning, match=r"1 \.txt file.*without point rows.*README\.txt"):
        points, listing = load_point_folder(tmp_path, 32, seed=0)
    assert len(points) == n and not any(f.name == "README.txt" for f in listing.files)


def test_flat_folder_is_unlabeled(tmp_path: Path) -> None:
    names = _write_all_formats(tmp_path, np.random.default_rng(0))
    points, listing = load_point_folder(tmp_path, 32, seed=0)
    labels, classes = listing.labels, listing.classes
    assert classes == [] and points.shape == (len(names), 32, 3)
    assert (labels == -1).all()


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_point_folder(tmp_path / "nope", 32, seed=0)
    (tmp_path / "cls").mkdir()
    (tmp_path / "readme.md").write_text("hi")
    with pytest.raises(DataError, match="no point files"):
        load_point_folder(tmp_path, 32, seed=0)


def test_bad_file_in_a_folder_names_that_file(tmp_path: Path) -> None:
    _write_all_formats(tmp_path / "a", np.random.default_rng(0))
    (tmp_path / "a" / "broken.off").write_text("OFF\n3 1 0\n0 0 0\n")
    with pytest.raises(DataError, match="broken.off"):
        load_point_folder(tmp_path, 16, seed=0)


# ---- load_point_data --------------------------------------------------------------------------


def test_load_point_data_shapes() -> None:
    cfg = PointDataConfig(classes=["sphere", "torus", "table"], num_points=64)
    cfg.train_per_class, cfg.test_per_class = 4, 2
    data = load_point_data(cfg, seed=0)
    assert data.class_names == ["sphere", "torus", "table"]
    assert len(data.train) == 12 and len(data.test) == 6
    for split in (data.train, data.test):
        assert split.points.shape == (len(split), 64, 3) and split.points.dtype == torch.float32
        assert split.labels.dtype == torch.long
        norms = split.points.norm(dim=-1)
        torch.testing.assert_close(norms.max(dim=1).values, torch.ones(len(split)))
        assert split.points.mean(dim=1).abs().max() < 1e-5
    # train and test are generated with different seeds: no shared cloud
    assert not any(torch.allclose(a, b) for a in data.train.points for b in data.test.points)
    item = data.train.dataset()[5]
    assert item[0].shape == (64, 3) and isinstance(item[1], int) and item[1] == 1
    again = load_point_data(cfg, seed=0)
    assert torch.equal(again.train.points, data.train.points)
    assert not torch.equal(load_point_data(cfg, seed=1).train.points, data.train.points)


def test_load_point_data_defaults_to_ten_classes() -> None:
    cfg = PointDataConfig(num_points=16, train_per_class=1, test_per_class=1, normalize=False)
    data = load_point_data(cfg, seed=0)
    assert data.class_names == list(DEFAULT_SHAPE_CLASSES) and len(data.train) == 10


def test_load_point_data_folder_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(8):
            np.save(tmp_path / c / f"{i}.npy", rng.normal(size=(50, 3)) * 5 + 3)
    cfg = PointDataConfig(source=str(tmp_path), num_points=32, test_fraction=0.25)
    data = load_point_data(cfg, seed=0)
    assert data.class_names == ["a", "b"]
    assert len(data.train) == 12 and len(data.test) == 4
    assert data.test.labels.tolist().count(0) == 2  # stratified
    torch.testing.assert_close(data.train.points.norm(dim=-1).max(1).values, torch.ones(12))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"num_points": 8}, "num_points"),
        ({"classes": ["sphere", "blob"]}, "blob.*valid.*torus"),
        ({"classes": ["sphere", "sphere"]}, "more than once"),
        ({"rotation": "z"}, "rotation"),
        ({"noise": -0.1}, "noise"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"train_per_class": 0}, "per_class"),
    ],
)
def test_bad_config(change: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_point_data(PointDataConfig(**change), seed=0)


def test_unknown_source_is_a_clear_data_error() -> None:
    with pytest.raises(DataError, match="shapes"):
        load_point_data(PointDataConfig(source="shape"), seed=0)


def test_large_coordinates_normalise_without_overflow() -> None:
    from omnijepa.data.point_data import normalize_clouds

    cloud = np.random.default_rng(0).standard_normal((2, 64, 3)).astype(np.float32) * 1e20
    out = normalize_clouds(cloud)
    assert np.isfinite(out).all() and np.allclose(np.linalg.norm(out, axis=2).max(1), 1.0)


def test_nan_vertices_and_degenerate_meshes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "nan.off").write_text("OFF\n3 1 0\n0 0 0\nnan 0 0\n0 1 0\n3 0 1 2\n")
    with pytest.raises(DataError, match="nan.off: vertex coordinates contain NaN"):
        load_point_file(tmp_path / "nan.off", 16, np.random.default_rng(0))
    (tmp_path / "dot.off").write_text("OFF\n4 2 0\n" + "0 0 0\n" * 4 + "3 0 1 2\n3 1 2 3\n")
    with pytest.raises(DataError, match="dot.off: only 1 distinct point"):
        load_point_file(tmp_path / "dot.off", 16, np.random.default_rng(0))


def test_small_clouds_keep_every_point_and_are_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    small = rng.standard_normal((20, 3))
    cloud = load_point_file(_npy(tmp_path / "a" / "small.npy", small), 64, rng)
    assert len(np.unique(cloud, axis=0)) == 20  # all 20 points, then repeats
    _npy(tmp_path / "b" / "big.npy", rng.standard_normal((500, 3)))
    with pytest.warns(UserWarning, match="1 file.*small.npy: 20"):
        load_point_folder(tmp_path, 64, seed=0)
