"""Faces on real photos: detection, enrolment, recognition, unnamed identities and persistence."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from egomem.errors import EgomemError, StoreLocked
from egomem.people import enroll_people_dir, enroll_photos, read_photo
from egomem.perception.faces import FaceAnalyzer
from egomem.perception.records import Box
from egomem.store.identities import IdentityIndex

ENROLLED = ("alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie")
Faces = list[tuple[Box, np.ndarray]]


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer(detector="hog")


@pytest.fixture(scope="session")
def faces_dir(shared_data: Path) -> Path:
    return shared_data / "faces"


@pytest.fixture(scope="session")
def faces_in(analyzer: FaceAnalyzer) -> Callable[[Path], Faces]:
    """analyze() of a photo, computed once per session."""
    cache: dict[Path, Faces] = {}

    def get(path: Path) -> Faces:
        if path not in cache:
            cache[path] = analyzer.analyze(read_photo(path))
        return cache[path]

    return get


@pytest.fixture(scope="module")
def enrolled_home(analyzer: FaceAnalyzer, faces_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """An identity index with every train/NAME folder enrolled, built once; tests open copies."""
    path = tmp_path_factory.mktemp("enrolled") / "identities"
    with IdentityIndex(path) as index:
        results = enroll_people_dir(analyzer, index, faces_dir / "train")
    return path, results


@pytest.fixture
def index(enrolled_home, tmp_path: Path) -> Iterator[IdentityIndex]:
    path = tmp_path / "identities"
    shutil.copytree(enrolled_home[0], path)
    idx = IdentityIndex(path)
    yield idx
    idx.close()


def test_people_dir_enrols_every_folder(enrolled_home, faces_dir: Path) -> None:
    _, results = enrolled_home
    assert [r.name for r in results] == list(ENROLLED)
    for result in results:
        photos = sorted((faces_dir / "train" / result.name).iterdir())
        assert result.identity_id is not None and not result.skipped, result.summary()
        assert result.used == photos and result.added == len(photos)
    with IdentityIndex(enrolled_home[0]) as index:
        people = index.identities()
    assert [(p.name, p.source, p.exemplars) for p in people] == [(r.name, "enrolled", r.added) for r in results]
    assert len({p.id for p in people}) == len(ENROLLED)


@pytest.mark.parametrize(
    ("photo", "names"),
    [
        ("obama1.jpg", ["obama"]),
        ("johnsnow_test1.jpg", ["kit_harington"]),
        ("alex_lacamoire1.jpg", ["alex_lacamoire"]),
        ("kit_with_rose.jpg", ["kit_harington", "rose_leslie"]),
        ("obama_and_biden.jpg", ["biden", "obama"]),
    ],
)
def test_test_photos_get_the_right_names(index: IdentityIndex, faces_in, faces_dir: Path, photo: str, names: list[str]) -> None:
    image_path = faces_dir / "test" / photo
    faces = faces_in(image_path)
    height, width = read_photo(image_path).shape[:2]
    for box, descriptor in faces:
        assert 0 <= box.left < box.right <= width and 0 <= box.top < box.bottom <= height
        assert descriptor.shape == (128,) and descriptor.dtype == np.float32
    matches = [index.identify(d) for _, d in faces]
    assert sorted(m.name for m in matches if m.name) == names  # each enrolled person exactly once
    for m in matches:
        if m.name:
            assert m.distance < 0.5 and not m.is_new
        else:  # obama_and_biden.jpg also shows a child nobody enrolled: unnamed, not a false name
            assert m.is_new and m.identity_id not in {i.id for i in index.identities() if i.name}


def test_stranger_becomes_one_unnamed_identity_that_persists(
    analyzer: FaceAnalyzer, enrolled_home, faces_in, faces_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "identities"
    shutil.copytree(enrolled_home[0], path)
    stranger = faces_dir / "lin-manuel-miranda.png"
    faces = faces_in(stranger)
    assert len(faces) == 1

    with IdentityIndex(path) as index:
        known = {i.id for i in index.identities()}
        first = index.identify(faces[0][1])
        assert first.is_new and first.name is None and first.identity_id not in known

        # Another view of the same face: shifted and scaled, so not the same pixels.
        image = read_photo(stranger)
        crop = image[100:, 150:]
        crop = cv2.resize(crop, (int(crop.shape[1] * 0.8), int(crop.shape[0] * 0.8)), interpolation=cv2.INTER_AREA)
        again = analyzer.analyze(crop)
        assert len(again) == 1
        second = index.identify(again[0][1])
        assert (second.identity_id, second.name, second.is_new) == (first.identity_id, None, False)
        assert 0 < second.distance <= 0.6
        before = {i.id: i for i in index.identities()}
        assert len(before) == len(known) + 1

    with IdentityIndex(path) as index:  # close and reopen: names and the unnamed identity are kept
        assert {i.id: i for i in index.identities()} == before
        assert index.identify(faces[0][1]).identity_id == first.identity_id
        obama = index.identify(faces_in(faces_dir / "test" / "obama1.jpg")[0][1])
        assert obama.name == "obama" and not obama.is_new
        # A new face after reopening gets a fresh number, never a reused one.
        newcomer = index.identify(np.full(128, 0.5, dtype=np.float32))
        assert newcomer.is_new and newcomer.identity_id not in before


def test_registry_lost_is_rebuilt_from_the_face_samples(index: IdentityIndex) -> None:
    people = index.identities()
    index.close()
    (index.path / "identities.json").unlink()
    with IdentityIndex(index.path) as reopened:
        assert [(i.id, i.name, i.exemplars) for i in reopened.identities()] == [(i.id, i.name, i.exemplars) for i in people]


def test_enrolment_skips_photos_without_exactly_one_face(
    analyzer: FaceAnalyzer, index: IdentityIndex, faces_dir: Path, tmp_path: Path
) -> None:
    blank = tmp_path / "wall.png"
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    cv2.imwrite(str(blank), cv2.merge([gradient, gradient[::-1], gradient]))
    broken = tmp_path / "broken.jpg"
    broken.write_text("not a photo")
    group = faces_dir / "test" / "kit_with_rose.jpg"
    good = faces_dir / "test" / "alex_lacamoire1.jpg"

    result = enroll_photos(analyzer, index, "  Alex   Lacamoire ", [blank, group, broken, good])
    assert result.name == "Alex Lacamoire" and result.used == [good]
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons[blank] == "no face found"
    assert reasons[group].startswith("2 faces")
    assert "not a readable image" in reasons[broken]
    assert "skipped" in result.summary()

    with pytest.raises(EgomemError, match="no photo shows exactly one face"):
        enroll_photos(analyzer, index, "nobody", [blank, group])
    assert index.find("nobody") is None


def test_enrolling_a_name_again_adds_to_the_same_identity(analyzer: FaceAnalyzer, index: IdentityIndex, faces_dir: Path) -> None:
    obama = index.find("obama")
    assert obama is not None
    again = enroll_photos(analyzer, index, " OBAMA ", sorted((faces_dir / "train" / "obama").iterdir()))
    assert again.identity_id == obama.id and again.added == 0  # the same photos add nothing
    more = enroll_photos(analyzer, index, "Obama", [faces_dir / "test" / "obama1.jpg"])
    assert more.identity_id == obama.id and more.added == 1
    updated = index.get(obama.id)
    assert updated is not None and updated.name == "obama" and updated.exemplars == obama.exemplars + 1


def test_index_is_opened_by_one_holder_at_a_time(index: IdentityIndex) -> None:
    with pytest.raises(StoreLocked):
        IdentityIndex(index.path)


@pytest.mark.parametrize(
    "frame",
    [
        None,
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((64, 64, 3), np.float32),
        np.zeros(100, np.uint8),
        np.zeros((1, 1, 3), np.uint8),
        "frame",
    ],
    ids=["none", "empty", "float", "1d", "1px", "str"],
)
def test_bad_frame_gives_no_faces(analyzer: FaceAnalyzer, frame) -> None:
    assert analyzer.analyze(frame) == []


def test_describe_names_the_models(analyzer: FaceAnalyzer) -> None:
    text = analyzer.describe()
    assert "HOG" in text
    assert "shape_predictor_5_face_landmarks.dat" in text and "dlib_face_recognition_resnet_model_v1.dat" in text
    assert analyzer.info.detector == "hog" and analyzer.info.landmarks_model.is_file()
