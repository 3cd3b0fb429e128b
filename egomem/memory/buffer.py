"""Short-term memory: everything perceived in one recording, in order, before it becomes events."""

from __future__ import annotations

from dataclasses import dataclass, field

from egomem.media.recording import Recording
from egomem.perception.records import FrameObservation, Utterance


@dataclass
class ShortTermBuffer:
    """Perception records of one recording, kept sorted by time as stages add them."""

    recording: Recording
    utterances: list[Utterance] = field(default_factory=list)
    frames: list[FrameObservation] = field(default_factory=list)

    def add_utterances(self, utterances: list[Utterance]) -> None:
        self.utterances.extend(utterances)
        self.utterances.sort(key=lambda u: u.start_s)

    def add_frame(self, frame: FrameObservation) -> None:
        self.frames.append(frame)
        if len(self.frames) > 1 and self.frames[-2].t_s > frame.t_s:
            self.frames.sort(key=lambda f: f.t_s)

    @property
    def span_s(self) -> float:
        """How much of the recording the records cover (a photo covers an instant)."""
        ends = [self.recording.duration_s]
        ends += [u.end_s for u in self.utterances[-1:]]
        ends += [f.t_s for f in self.frames[-1:]]
        return max(ends)
