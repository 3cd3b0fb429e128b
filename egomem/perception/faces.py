"""Face detection and 128-d face descriptors with dlib, the models loaded once per analyzer.

Pipeline per frame: detect on a working copy (downscaled when huge, upsampled once by the detector
when small), map the boxes back to the original frame, then find landmarks and compute the ResNet
descriptor on the original pixels so that descriptors do not lose detail to the downscale.
Descriptors from dlib's model are comparable by Euclidean distance (0.6 is its "same person" line).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import dlib
import numpy as np

from egomem.errors import ModelUnavailable
from egomem.perception.records import Box

DETECTORS = ("hog", "cnn")
DESCRIPTOR_SIZE = 128


@dataclass(frozen=True)
class FaceAnalyzerInfo:
    """What `egomem status` shows about the face models."""

    detector: str  # "hog" or "cnn"
    detector_model: Path | None  # None for HOG, which is built into dlib
    landmarks_model: Path
    descriptor_model: Path
    dlib_version: str
    cuda: bool  # whether dlib was built with CUDA (only the CNN detector and descriptor use it)


class FaceAnalyzer:
    """Finds faces in BGR frames and describes each one with a 128-d float32 vector."""

    def __init__(
        self,
        detector: str = "hog",
        *,
        num_jitters: int = 1,
        upsample_below: int = 500,
        max_side: int = 1600,
    ) -> None:
        """
        detector: "hog" (fast on CPU, frontal faces) or "cnn" (more robust, slow without CUDA).
        num_jitters: >1 averages descriptors of randomly jittered chips: steadier, and that many times slower.
        upsample_below: upsample once when the working image's shorter side is below this, so that
            faces down to ~40 px are found (HOG alone misses faces under ~80 px).
        max_side: downscale the working image to this longest side first; huge photos only cost time.
        """
        if detector not in DETECTORS:
            raise ModelUnavailable(f"unknown face detector {detector!r}; expected one of {', '.join(DETECTORS)}")
        try:
            with warnings.catch_warnings():  # the package imports pkg_resources, which warns on import
                warnings.simplefilter("ignore", UserWarning)
                import face_recognition_models as frm
        except ImportError as exc:
            raise ModelUnavailable("face models are missing: install the face_recognition_models package") from exc

        self.detector_name = detector
        self.num_jitters = max(1, int(num_jitters))
        self.upsample_below = upsample_below
        self.max_side = max_side

        detector_model = Path(frm.cnn_face_detector_model_location()) if detector == "cnn" else None
        landmarks_model = Path(frm.pose_predictor_five_point_model_location())
        descriptor_model = Path(frm.face_recognition_model_location())
        for path in filter(None, (detector_model, landmarks_model, descriptor_model)):
            if not path.is_file():
                raise ModelUnavailable(f"face model file is missing: {path}")

        if detector_model is not None:
            self._cnn = dlib.cnn_face_detection_model_v1(str(detector_model))
            self._hog = None
        else:
            self._hog = dlib.get_frontal_face_detector()
            self._cnn = None
        self._landmarks = dlib.shape_predictor(str(landmarks_model))
        self._encoder = dlib.face_recognition_model_v1(str(descriptor_model))
        self._info = FaceAnalyzerInfo(
            detector=detector,
            detector_model=detector_model,
            landmarks_model=landmarks_model,
            descriptor_model=descriptor_model,
            dlib_version=dlib.__version__,
            cuda=bool(getattr(dlib, "DLIB_USE_CUDA", False)),
        )

    @property
    def info(self) -> FaceAnalyzerInfo:
        return self._info

    def describe(self) -> str:
        i = self._info
        detector = f"dlib CNN detector ({i.detector_model.name})" if i.detector_model else "dlib HOG detector"
        where = "CUDA" if i.cuda else "CPU"
        return (
            f"{detector}, 5-point landmarks ({i.landmarks_model.name}), ResNet descriptor "
            f"({i.descriptor_model.name}) from {i.descriptor_model.parent}; dlib {i.dlib_version} on {where}"
        )

    def analyze(self, image_bgr: np.ndarray) -> list[tuple[Box, np.ndarray]]:
        """Boxes (clipped to the frame, in its pixel coordinates) and descriptors of the faces found.

        A frame that is not an 8-bit image (None, empty, wrong dtype or shape) gives [] so that one
        bad frame cannot stop a recording.
        """
        rgb = _to_rgb(image_bgr)
        if rgb is None:
            return []
        height, width = rgb.shape[:2]

        scale = min(1.0, self.max_side / max(height, width))
        work = rgb
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        upsample = 1 if min(work.shape[:2]) < self.upsample_below else 0

        found: list[tuple[Box, dlib.rectangle]] = []
        for rect in self._detect(work, upsample):
            box = Box(
                left=max(0, int(round(rect.left() / scale))),
                top=max(0, int(round(rect.top() / scale))),
                right=min(width, int(round((rect.right() + 1) / scale))),
                bottom=min(height, int(round((rect.bottom() + 1) / scale))),
            )
            if box.right - box.left < 2 or box.bottom - box.top < 2:
                continue  # a detection almost entirely outside the frame
            # The landmark model sees the unclipped rectangle: a face cut by the frame edge still
            # gets landmarks where they are, which keeps its descriptor aligned.
            full = dlib.rectangle(
                int(round(rect.left() / scale)),
                int(round(rect.top() / scale)),
                int(round((rect.right() + 1) / scale)) - 1,
                int(round((rect.bottom() + 1) / scale)) - 1,
            )
            found.append((box, full))
        if not found:
            return []

        shapes = dlib.full_object_detections()
        for _, rect in found:
            shapes.append(self._landmarks(rgb, rect))
        descriptors = self._encoder.compute_face_descriptor(rgb, shapes, self.num_jitters)
        return [(box, np.asarray(d, dtype=np.float32)) for (box, _), d in zip(found, descriptors)]

    def _detect(self, rgb: np.ndarray, upsample: int) -> list[dlib.rectangle]:
        if self._cnn is not None:
            return [d.rect for d in self._cnn(rgb, upsample)]
        assert self._hog is not None
        return list(self._hog(rgb, upsample))


def _to_rgb(image: object) -> np.ndarray | None:
    """A C-contiguous HxWx3 uint8 RGB copy of a BGR/BGRA/grey frame, or None if it is not one."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        return None
    if image.ndim == 2:
        rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.ndim == 3 and image.shape[2] == 3:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    elif image.ndim == 3 and image.shape[2] == 1:
        rgb = cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB)
    else:
        return None
    if min(rgb.shape[:2]) < 2:
        return None
    return np.ascontiguousarray(rgb)
