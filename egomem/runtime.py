"""The composition root: settings in, loaded models and opened stores out.

Everything is loaded lazily and at most once, so `egomem ask` never loads Whisper and a test
session loads each model once. Each component reports what it is, or why it could not be loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from egomem.config import Settings
from egomem.errors import EgomemError
from egomem.perception.device import configure_torch_threads, resolve_device

if TYPE_CHECKING:
    from egomem.memory.embedder import TextEmbedder
    from egomem.memory.places import PlaceBook
    from egomem.perception.captioning import Captioner
    from egomem.perception.clip import ClipEmbedder, ZeroShotTagger
    from egomem.perception.faces import FaceAnalyzer
    from egomem.perception.ocr import TextReader
    from egomem.perception.speech import SpeechRecognizer
    from egomem.memory.places import DiscoveredPlaceBook
    from egomem.reasoning.reasoner import Reasoner
    from egomem.reasoning.reader import LLMReader
    from egomem.store.catalog import Catalog
    from egomem.store.edge import EdgeEventStore
    from egomem.store.identities import IdentityIndex
    from egomem.store.voices import WearerVoiceBook


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    loaded: bool
    detail: str  # what is loaded, from where and on which device; or why not


class Models:
    """The loaded models. Separate from the stores so several memories (homes) can share one set."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.problems: dict[str, str] = {}  # component -> why it is unavailable

    @cached_property
    def device(self) -> str:
        return resolve_device(self.settings.device)

    @cached_property
    def torch_threads(self) -> int:
        """Set once, before the first torch model runs (a process-wide setting, owned here)."""
        return configure_torch_threads(self.settings.torch_threads)

    @cached_property
    def speech(self) -> SpeechRecognizer:
        from egomem.perception.speech import SpeechRecognizer
        from models import resolve

        s = self.settings
        return SpeechRecognizer(
            resolve(s.whisper_model, s.models_dir), device=self.device, compute_type=s.whisper_compute_type, vad=s.vad,
            beam_size=s.whisper_beam_size, batch_size=s.whisper_batch_size,
        )

    @cached_property
    def faces(self) -> FaceAnalyzer | None:
        if not self.settings.faces:
            self.problems["faces"] = "disabled by configuration (EGOMEM_FACES=false)"
            return None
        from egomem.perception.faces import FaceAnalyzer

        return FaceAnalyzer(detector=self.settings.face_detector, upsample_below=self.settings.face_upsample_below)

    @cached_property
    def ocr(self) -> TextReader | None:
        if not self.settings.ocr:
            self.problems["ocr"] = "disabled by configuration (EGOMEM_OCR=false)"
            return None
        from egomem.perception.ocr import TextReader

        return TextReader(min_side=self.settings.ocr_min_side)

    @cached_property
    def clip(self) -> ClipEmbedder | None:
        from egomem.perception.clip import ClipEmbedder, ClipSource

        s = self.settings
        self.torch_threads  # noqa: B018 - before the model is built
        try:
            return ClipEmbedder(ClipSource(s.clip_model, s.clip_pretrained, s.clip_checkpoint), device=self.device, compile=s.clip_compile)
        except EgomemError as exc:
            self.problems["clip"] = str(exc)
            return None

    @cached_property
    def tagger(self) -> ZeroShotTagger | None:
        if self.clip is None:
            return None
        from egomem.perception.clip import Vocabulary, ZeroShotTagger

        vocabulary = Vocabulary.load(self.settings.clip_vocabulary) if self.settings.clip_vocabulary else None
        return ZeroShotTagger(self.clip, vocabulary)

    @cached_property
    def captioner(self) -> Captioner:
        from egomem.perception.captioning import build_captioner

        s = self.settings
        return build_captioner(
            s.caption_backend, url=s.caption_url, model=s.caption_model, api_key=s.caption_api_key, tagger=self.tagger,
            tagger_problem=self.problems.get("clip"), timeout_s=s.caption_timeout_s, retries=s.caption_retries,
            max_concurrency=s.caption_concurrency, max_images=s.caption_max_images,
        )

    @cached_property
    def llm_reader(self) -> LLMReader | None:
        s = self.settings
        if not s.llm_url:
            self.problems["llm_reader"] = "not configured (EGOMEM_LLM_URL): answers come from the rules alone"
            return None
        from egomem.chat import ChatEndpoint
        from egomem.reasoning.reader import LLMReader

        return LLMReader(ChatEndpoint(s.llm_url, s.llm_model, s.llm_api_key, timeout_s=s.llm_timeout_s))

    @cached_property
    def text_embedder(self) -> TextEmbedder:
        from egomem.memory.embedder import TextEmbedder
        from models import resolve

        self.torch_threads  # noqa: B018 - before the model is built
        return TextEmbedder(resolve("all-MiniLM-L6-v2", self.settings.models_dir), name="all-MiniLM-L6-v2", device=self.device)

    def status(self, load: bool = False) -> list[ComponentStatus]:
        """Which models are loaded, from where, on which device. With load=True, try each one."""
        rows: list[ComponentStatus] = []
        for name in ("speech", "text_embedder", "faces", "ocr", "clip", "captioner", "llm_reader"):
            if load or name in self.__dict__:
                try:
                    component: Any = getattr(self, name)
                except EgomemError as exc:
                    self.problems[name] = str(exc)
                    component = None
                if component is not None:
                    rows.append(ComponentStatus(name, True, component.describe()))
                    continue
            rows.append(ComponentStatus(name, False, self.problems.get(name, "not loaded")))
        return rows


class Runtime:
    """One memory (a data folder) with its stores, and the models that fill and query it."""

    def __init__(self, settings: Settings, models: Models | None = None) -> None:
        self.settings = settings
        self.models = models or Models(settings)

    # Shortcuts: the pipeline and the app read models through the runtime.
    device = property(lambda self: self.models.device)
    speech = property(lambda self: self.models.speech)
    faces = property(lambda self: self.models.faces)
    ocr = property(lambda self: self.models.ocr)
    clip = property(lambda self: self.models.clip)
    text_embedder = property(lambda self: self.models.text_embedder)
    tagger = property(lambda self: self.models.tagger)
    captioner = property(lambda self: self.models.captioner)

    # -- memory -------------------------------------------------------------------------------

    @cached_property
    def store(self) -> EdgeEventStore:
        from egomem.store.edge import EdgeEventStore

        image_dim = self.clip.dim if self.clip else 512
        return EdgeEventStore(self.settings.store_dir, text_dim=384, image_dim=image_dim)

    @cached_property
    def identities(self) -> IdentityIndex:
        from egomem.store.identities import IdentityIndex

        return IdentityIndex(self.settings.home / "identities", match_distance=self.settings.face_match_distance)

    @cached_property
    def wearer_voices(self) -> WearerVoiceBook:
        from egomem.store.voices import WearerVoiceBook

        return WearerVoiceBook(self.settings.home / "wearer_voice.json")

    @cached_property
    def catalog(self) -> Catalog:
        from egomem.store.catalog import Catalog

        return Catalog(self.settings.catalog_path)

    @cached_property
    def places(self) -> PlaceBook:
        from egomem.memory.places import PlaceBook

        return PlaceBook(self.settings.home / "places.json")

    # -- questions ----------------------------------------------------------------------------

    @cached_property
    def reasoner(self) -> Reasoner:
        from egomem.reasoning.reasoner import Reasoner

        return Reasoner(self.store, self.text_embedder, self.known_names, self.models.llm_reader, self.known_place_names)

    def known_names(self) -> list[str]:
        """Names of the people this memory knows (given by the user or heard), for questions that name them."""
        return [i.display_name for i in self.identities.identities() if i.display_name and not i.display_name.startswith("person-")]

    def known_place_names(self) -> list[str]:
        """Names of the places this memory knows (the user's and those found from signs and speech):
        "the pool" in a question is the "Swimming Pool" visited."""
        found = [p.name for p in self.discovered_places().places if p.name]
        return list(dict.fromkeys([p.name for p in self.places.places] + found))

    def discovered_places(self) -> DiscoveredPlaceBook:
        """Places found from visits (read afresh: every ingest batch may rewrite them)."""
        from egomem.memory.places import DiscoveredPlaceBook

        return DiscoveredPlaceBook(self.settings.home / "discovered_places.json")

    def component_status(self, load: bool = False) -> list[ComponentStatus]:
        return self.models.status(load)

    def close(self) -> None:
        self.__dict__.pop("reasoner", None)  # it holds the store being closed
        for name in ("store", "identities", "catalog"):
            component = self.__dict__.pop(name, None)
            if component is not None:
                component.close()

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
