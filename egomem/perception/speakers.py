"""Who said what: speaker turns within one recording, from the audio itself, tied to faces in view.

No pretrained speaker-embedding model ships with egomem, so voices are told apart by a small voice
print computed here with numpy: loudness, median pitch (F0 by autocorrelation) and cepstral timbre
(mean MFCCs over the speech frames). Other voices are per recording: "a voice heard in this
recording", never a person recognised across recordings. The wearer is the exception (step 1b).

0. Turns. Whisper's segments often run across several speakers, so each is cut into the stretches
   of sound (separated by MIN_PAUSE_S of quiet) its words fall in; each piece gets a voice print,
   and a segment is split for good only where the speaker found really changes.
1. The wearer. A head-worn microphone sits a hand's width from the wearer's mouth and a metre or
   more from anyone else, so the wearer arrives 6-12 dB louder. The pieces are split in two by
   level (Otsu); the loud side is the wearer's when it is WEARER_MARGIN_DB louder than the rest,
   and its main voice cluster is taken as the wearer (a loud outlier in another voice is not).
   With no such contrast (one talker, or everyone at a distance) level alone cannot say who is near.
1b. The wearer's voice on this device (WearerVoice), learned from the recordings where 1 found them,
   supplies what was missing: the level the wearer arrives at through this device's microphone and
   gain. A voice is then the wearer's when it is about that loud and sounds alike (pitch and timbre
   within two voice units, the tolerance step 1 gives the wearer's own lines). Alike alone is not
   enough: these statistics do not tell voices of the same sex apart, while someone else, even
   alone, speaks from a metre or more away.
2. Other voices: average-linkage clustering of pitch and timbre (level left out: people move).
3. Faces: a voice is given the identity in view while it speaks. One identity settles it; with
   several, the identity most often in view during that voice, one identity per voice. A tie is
   not guessed, and neither is a lone voice with no wearer found (it may be the wearer looking at
   someone): such a voice keeps a per-recording label ("speaker 2"), or None when it is the only
   voice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from egomem.perception.records import FrameObservation, Utterance, Word
from egomem.perception.speech import SAMPLE_RATE, block_energy

WEARER = "me"  # the speaker id the rest of egomem reads as the person wearing the device

_FRAME = 640  # 40 ms: long enough to hold two periods of a 60 Hz voice for the pitch tracker
_HOP = 160  # 10 ms
_N_MELS = 32
_N_CEPS = 13  # c1..c12 are used; c0 is loudness, which is kept apart
_F0_MIN, _F0_MAX = 60.0, 420.0
_VOICING = 0.45  # normalised autocorrelation peak above which a frame counts as voiced
_ACTIVE_DB = 30.0  # frames within this many dB of an utterance's loudest frame are its speech
_SILENCE_DBFS = -60.0  # frames below this are silence whatever the utterance's level

# Voice distance: one unit is "clearly another voice". Measured on eight espeak-ng voices over
# eight sentences: one voice's sentences differ by up to ~1 semitone in median pitch and up to ~8
# in cepstral distance (content moves the mean spectrum of a short utterance); a male and a female
# voice differ by ~10 semitones and 15+ cepstral units. Voices of the same sex and similar build
# are not told apart by these statistics: they become one turn.
PITCH_SCALE_ST = 6.0
TIMBRE_SCALE = 10.0
MERGE_THRESHOLD = 1.0  # average-linkage distance below which two groups are one voice

WEARER_MARGIN_DB = 5.0  # how much louder (median) the wearer's utterances are than everyone else's
LEVEL_GAP_DB = 2.0  # and the two sides of the level split must not interleave
MIN_PAUSE_S = 0.15  # silence that separates two stretches of speech (turns rarely leave less)
WEARER_VOICE_WEIGHT = 200  # prints a WearerVoice counts at most, so that a cold or a new microphone still moves it
FACE_SLACK_S = 0.5  # faces are sampled ~1/s: a face seen just before or after an utterance counts


@dataclass(frozen=True)
class VoicePrint:
    """What one utterance sounds like."""

    level_dbfs: float  # RMS of its speech frames
    pitch_st: float | None  # median F0 in semitones above 55 Hz; None when nothing was voiced
    timbre: np.ndarray  # mean MFCC c1..c12 over its speech frames
    frames: int  # speech frames it was measured on


@dataclass(frozen=True)
class Attribution:
    """The result for one recording: utterances with speakers set, and how it was decided."""

    utterances: list[Utterance]  # split where a speaker change falls inside a transcribed segment
    voices: int  # voices told apart in the recording, the wearer's included
    wearer_found: bool
    attributed_to_faces: int  # voices tied to an identity in view
    split: int  # transcribed segments that were cut at a change of speaker
    unmeasured: int  # stretches too short or silent to get a voice print (speaker left None)
    wearer_by: str | None = None  # "level" (louder than the rest) or "profile" (the device's WearerVoice)
    # The wearer's prints when found by level, to learn the WearerVoice from; never from a profile
    # match, so that one wrong match cannot teach the profile someone else's voice.
    wearer_prints: tuple[VoicePrint, ...] = ()

    def describe(self) -> str:
        how = {"level": " (louder than the rest)", "profile": " (by their voice on this device, learned earlier)"}
        wearer = f"wearer's voice found{how.get(self.wearer_by or '', '')}" if self.wearer_found else "wearer's voice not found"
        parts = [f"{self.voices} voices", wearer]
        if self.attributed_to_faces:
            parts.append(f"{self.attributed_to_faces} matched to a face in view")
        if self.split:
            parts.append(f"{self.split} segments cut at a change of speaker")
        if self.unmeasured:
            parts.append(f"{self.unmeasured} stretches too short to tell")
        return ", ".join(parts)


@dataclass(frozen=True)
class WearerVoice:
    """How the wearer sounds through one device: a running summary of their voice prints."""

    level_dbfs: float
    pitch_st: float | None
    timbre: tuple[float, ...]
    utterances: int  # prints it was learned from, capped at WEARER_VOICE_WEIGHT so that it keeps adapting

    @classmethod
    def learned(cls, previous: WearerVoice | None, prints: Sequence[VoicePrint]) -> WearerVoice:
        """`previous` updated with new prints of the wearer (a weighted running mean)."""
        if not prints:
            if previous is None:
                raise ValueError("a voice is learned from at least one print")
            return previous
        weight = previous.utterances if previous else 0
        n = len(prints)
        mix = lambda old, new: (old * weight + new * n) / (weight + n)
        level = float(np.mean([p.level_dbfs for p in prints]))
        timbre = np.mean([p.timbre for p in prints], axis=0)
        pitches = [p.pitch_st for p in prints if p.pitch_st is not None]
        pitch = float(np.median(pitches)) if pitches else None
        if previous is not None:
            level = mix(previous.level_dbfs, level)
            timbre = mix(np.asarray(previous.timbre), timbre)
            if previous.pitch_st is not None:
                pitch = previous.pitch_st if pitch is None else mix(previous.pitch_st, pitch)
        return cls(float(level), pitch, tuple(float(x) for x in timbre), min(weight + n, WEARER_VOICE_WEIGHT))

    def as_print(self) -> VoicePrint:
        return VoicePrint(self.level_dbfs, self.pitch_st, np.asarray(self.timbre, np.float32), 0)

    def hears(self, voice: VoicePrint) -> bool:
        """Whether `voice` (one voice's summary print) is the wearer speaking into this device."""
        near = voice.level_dbfs >= self.level_dbfs - WEARER_MARGIN_DB
        # Two voice units, as for the wearer's own lines in step 1: a single word's timbre wanders.
        return near and voice_distance(voice, self.as_print()) <= 2 * MERGE_THRESHOLD


# -- voice prints ---------------------------------------------------------------------------------


class VoiceAnalyzer:
    """Computes voice prints; holds the filter banks so they are built once per instance."""

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        self.sample_rate = sample_rate
        self._window = np.hanning(_FRAME).astype(np.float32)
        self._mel = _mel_filterbank(_N_MELS, _FRAME, sample_rate, 80.0, 7600.0)
        self._dct = _dct_matrix(_N_CEPS, _N_MELS)
        self._lags = np.arange(int(sample_rate / _F0_MAX), int(sample_rate / _F0_MIN) + 1)
        # the window's own autocorrelation: dividing by it unbiases long lags (as Praat does)
        overlap = np.correlate(self._window, self._window, "full")[_FRAME - 1 :]
        self._overlap = np.maximum(overlap / overlap[0], 1e-3)

    def voice_print(self, audio: np.ndarray, start_s: float, end_s: float) -> VoicePrint | None:
        """The print of audio[start_s:end_s]; None when it holds too little speech to measure."""
        a, b = max(0, int(start_s * self.sample_rate)), min(audio.size, int(end_s * self.sample_rate))
        if b - a < _FRAME + 10 * _HOP:
            return None
        frames = np.lib.stride_tricks.sliding_window_view(audio[a:b], _FRAME)[::_HOP].astype(np.float32)
        energy_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
        active = (energy_db > energy_db.max() - _ACTIVE_DB) & (energy_db > _SILENCE_DBFS)
        if active.sum() < 10:
            return None
        spoken = frames[active] * self._window
        power = np.abs(np.fft.rfft(spoken, axis=1)) ** 2
        cepstra = np.log(power @ self._mel.T + 1e-10) @ self._dct.T
        level = 10 * np.log10(np.mean(10 ** (energy_db[active] / 10)))
        return VoicePrint(float(level), self._pitch(spoken), cepstra[:, 1:].mean(axis=0), int(active.sum()))

    def _pitch(self, frames: np.ndarray) -> float | None:
        """Median F0 of the voiced frames, by normalised autocorrelation (Wiener-Khinchin)."""
        spectrum = np.fft.rfft(frames, n=2 * _FRAME, axis=1)
        acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :_FRAME]
        acf = acf / (acf[:, :1] + 1e-12)
        # unbiased: the window shrinks the overlap at long lags, which would favour short ones
        acf = acf / self._overlap[None, :]
        band = acf[:, self._lags]
        peak = band.max(axis=1)
        # the first local maximum nearly as strong as the best: multiples of the period score as high
        inner = band[:, 1:-1]
        candidate = (inner >= band[:, :-2]) & (inner >= band[:, 2:]) & (inner >= 0.9 * peak[:, None])
        best = np.argmax(candidate, axis=1) + 1
        voiced = (peak > _VOICING) & candidate.any(axis=1)
        if voiced.sum() < 5:
            return None
        f0 = self.sample_rate / self._lags[best[voiced]]
        return float(12 * np.log2(np.median(f0) / 55.0))


def _mel_filterbank(n_mels: int, n_fft: int, sr: int, f_lo: float, f_hi: float) -> np.ndarray:
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)
    edges = hz(np.linspace(mel(f_lo), mel(f_hi), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1 / sr)
    bank = np.zeros((n_mels, bins.size), np.float32)
    for i in range(n_mels):
        lo, mid, hi = edges[i : i + 3]
        bank[i] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0, None)
    return bank


def _dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    k, n = np.arange(n_out)[:, None], np.arange(n_in)[None, :]
    return (np.sqrt(2 / n_in) * np.cos(np.pi * k * (2 * n + 1) / (2 * n_in))).astype(np.float32)


# -- voices ---------------------------------------------------------------------------------------


def voice_distance(a: VoicePrint, b: VoicePrint) -> float:
    """Euclidean distance over scaled timbre and pitch; about 1 and more between different voices."""
    parts = [float(np.linalg.norm(a.timbre - b.timbre)) / TIMBRE_SCALE]
    if a.pitch_st is not None and b.pitch_st is not None:
        parts.append((a.pitch_st - b.pitch_st) / PITCH_SCALE_ST)
    return float(np.sqrt(sum(p * p for p in parts)))


def summary_print(prints: Sequence[VoicePrint]) -> VoicePrint:
    """One voice's prints as one: median level and pitch, mean timbre."""
    pitches = [p.pitch_st for p in prints if p.pitch_st is not None]
    return VoicePrint(
        float(np.median([p.level_dbfs for p in prints])),
        float(np.median(pitches)) if pitches else None,
        np.mean([p.timbre for p in prints], axis=0),
        sum(p.frames for p in prints),
    )


def cluster_voices(prints: Sequence[VoicePrint], threshold: float = MERGE_THRESHOLD) -> list[int]:
    """Average-linkage agglomerative clustering; a cluster index per print, numbered by first use."""
    n = len(prints)
    if n == 0:
        return []
    dist = np.array([[voice_distance(p, q) for q in prints] for p in prints], np.float64)
    np.fill_diagonal(dist, np.inf)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(members) > 1:
        i, j = sorted(np.unravel_index(np.argmin(dist), dist.shape))
        if dist[i, j] >= threshold:
            break
        ni, nj = len(members[i]), len(members[j])
        merged = (dist[i] * ni + dist[j] * nj) / (ni + nj)  # average linkage (Lance-Williams)
        dist[i], dist[:, i] = merged, merged
        dist[i, i] = np.inf
        dist[j], dist[:, j] = np.inf, np.inf
        members[i] += members.pop(j)
    label = np.empty(n, int)
    for index, group in enumerate(sorted(members.values(), key=min)):
        label[group] = index
    return label.tolist()


def near_field(levels: Sequence[float]) -> list[int]:
    """Indices on the loud side of the best two-way level split, when that side is clearly closer; else [].

    The split maximises the between-side variance (Otsu), which holds up better than the widest gap
    when there are three distances (the wearer, someone across the table, someone further away).
    """
    if len(levels) < 2:
        return []
    order = np.argsort(levels)
    ranked = np.asarray(levels, np.float64)[order]
    n = len(ranked)
    spread = [(k / n) * (1 - k / n) * (ranked[k:].mean() - ranked[:k].mean()) ** 2 for k in range(1, n)]
    cut = int(np.argmax(spread)) + 1
    far, near = ranked[:cut], ranked[cut:]
    if near[0] - far[-1] < LEVEL_GAP_DB or np.median(near) - np.median(far) < WEARER_MARGIN_DB:
        return []
    return sorted(order[cut:].tolist())


# -- attribution ----------------------------------------------------------------------------------


def speech_stretches(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[tuple[float, float]]:
    """(start_s, end_s) of the stretches of sound separated by MIN_PAUSE_S of quiet.

    Quiet is relative to the recording: 10 dB over its noise floor, 40 dB under its loudest speech.
    A speaker change almost always leaves such a pause, while Whisper's segments (one per VAD chunk)
    often run across several turns; the stretches are what gets a voice print.
    """
    if audio.size < _FRAME:
        return []
    energy_db = 10 * np.log10(_frame_power(audio) + 1e-12)
    floor, top = np.percentile(energy_db, [10, 99])
    loud = energy_db > max(floor + 10, top - 40, _SILENCE_DBFS)
    stretches: list[tuple[float, float]] = []
    bridge = int(MIN_PAUSE_S * sample_rate / _HOP)
    run_start, last = None, -bridge - 1
    for i in np.flatnonzero(loud):
        if run_start is None or i - last > bridge:
            if run_start is not None:
                stretches.append((run_start, last))
            run_start = i
        last = i
    if run_start is not None:
        stretches.append((run_start, last))
    to_s = lambda i: (i * _HOP + _FRAME / 2) / sample_rate
    return [(to_s(a) - 0.02, to_s(b) + 0.02) for a, b in stretches]


def _frame_power(audio: np.ndarray) -> np.ndarray:
    """Mean power of each _FRAME-long frame, one every _HOP samples, in O(samples) time and O(frames) memory.

    Per-hop sums of squares (einsum over a reshaped view: no copy of the audio), then each frame adds
    up the _FRAME // _HOP hops it spans. An hour of audio as a frames x 640 float64 matrix would take
    1.8 GB; this takes a few MB.
    """
    per_frame = _FRAME // _HOP
    hop_power = block_energy(np.asarray(audio, np.float32), _HOP)
    frames = hop_power.size - per_frame + 1
    if frames <= 0:
        return np.zeros(0)
    window = np.convolve(hop_power, np.ones(per_frame), mode="valid")[:frames]
    return window / _FRAME


@dataclass(frozen=True)
class _Turn:
    """The part of one utterance that falls in one stretch of speech: what gets a speaker."""

    utterance: int
    start_s: float  # span measured for the voice print
    end_s: float
    words: tuple[Word, ...]


def _turns(utterances: Sequence[Utterance], stretches: list[tuple[float, float]]) -> list[_Turn]:
    """Cut each utterance where its words move from one stretch of speech to the next."""
    turns: list[_Turn] = []
    for k, u in enumerate(utterances):
        inside = [(max(a, u.start_s), min(b, u.end_s)) for a, b in stretches if min(b, u.end_s) - max(a, u.start_s) > 0.05]
        if not u.words or len(inside) < 2:
            turns.append(_Turn(k, u.start_s, u.end_s, u.words))
            continue
        groups: dict[int, list[Word]] = {}
        for w in u.words:  # to the stretch it overlaps most, else the nearest one
            overlap = [min(b, w.end_s) - max(a, w.start_s) for a, b in inside]
            best = (
                int(np.argmax(overlap))
                if max(overlap) > 0
                else int(np.argmin([abs((a + b) / 2 - (w.start_s + w.end_s) / 2) for a, b in inside]))
            )
            groups.setdefault(best, []).append(w)
        turns += [_Turn(k, *inside[g], tuple(ws)) for g, ws in sorted(groups.items())]
    return turns


def attribute_speakers(
    utterances: Sequence[Utterance],
    audio: np.ndarray,
    frames: Sequence[FrameObservation] = (),
    *,
    analyzer: VoiceAnalyzer | None = None,
    wearer_voice: WearerVoice | None = None,
) -> Attribution:
    """Set `speaker` on each utterance: WEARER, the name or identity id of who was seen speaking,
    "speaker N" for a voice that could not be tied to anyone, or None where nothing can be said.
    An utterance whose words span a change of speaker is cut in two at that change.
    `wearer_voice` is how the wearer sounded through this device before, if known."""
    analyzer = analyzer or VoiceAnalyzer()
    turns = _turns(utterances, speech_stretches(audio, analyzer.sample_rate))
    prints = {i: p for i, t in enumerate(turns) if (p := analyzer.voice_print(audio, t.start_s, t.end_s)) is not None}
    measured = sorted(prints)

    near = [measured[k] for k in near_field([prints[i].level_dbfs for i in measured])]
    wearer: list[int] = []
    if near:  # the loud side's main voice; a loud outlier in a clearly other voice is not the wearer
        labels = cluster_voices([prints[i] for i in near], threshold=2 * MERGE_THRESHOLD)
        main = Counter(labels).most_common(1)[0][0]
        wearer = [i for i, label in zip(near, labels) if label == main]
    rest = [i for i in measured if i not in set(wearer)]
    voices: list[list[int]] = []
    for label, i in zip(cluster_voices([prints[i] for i in rest]), rest):
        if label == len(voices):
            voices.append([])
        voices[label].append(i)
    wearer_by = "level" if wearer else None
    if not wearer and wearer_voice is not None:
        heard = {v: summary_print([prints[i] for i in members]) for v, members in enumerate(voices)}
        # Every voice that passes: the clustering splits one voice now and then (a short "Right, I
        # will." reads apart from a long sentence), and nobody else speaks from the wearer's distance.
        alike = [v for v, voice in heard.items() if wearer_voice.hears(voice)]
        if alike:
            wearer, wearer_by = sorted(i for v in alike for i in voices[v]), "profile"
            voices = [members for v, members in enumerate(voices) if v not in alike]

    speaker: dict[int, str | None] = {i: WEARER for i in wearer}
    matched: dict[int, str] = {}
    if wearer or len(voices) >= 2:  # a lone voice with no wearer found may be the wearer's own
        matched = _match_faces(voices, [_identities_in_view(frames, t.start_s, t.end_s) for t in turns])
    names = {face.identity_id: face.name or face.identity_id for f in frames for face in f.faces if face.identity_id}
    number = 2 if wearer else 1
    for v, members in enumerate(voices):  # numbered by first turn, so labels read in order
        if v in matched:
            label: str | None = names[matched[v]]
        elif len(voices) == 1 and not wearer:
            label = None  # the only voice, and nothing to tell it apart from: say nothing
        else:
            label, number = f"speaker {number}", number + 1
        speaker.update((i, label) for i in members)

    out, split = _rejoin(utterances, turns, speaker)
    voices_found = len(voices) + (1 if wearer else 0)
    learnable = tuple(prints[i] for i in wearer) if wearer_by == "level" else ()
    return Attribution(out, voices_found, bool(wearer), len(matched), split, len(turns) - len(measured), wearer_by, learnable)


def _rejoin(utterances: Sequence[Utterance], turns: list[_Turn], speaker: dict[int, str | None]) -> tuple[list[Utterance], int]:
    """Utterances back, each cut only where the speaker really changes inside it."""
    out: list[Utterance] = []
    split = 0
    for k, u in enumerate(utterances):
        mine = [(i, t) for i, t in enumerate(turns) if t.utterance == k]
        runs: list[tuple[str | None, list[Word]]] = []
        for i, t in mine:
            who = speaker.get(i)
            if runs and runs[-1][0] == who:
                runs[-1][1].extend(t.words)
            else:
                runs.append((who, list(t.words)))
        if len(runs) == 1:
            out.append(replace(u, speaker=runs[0][0]))
            continue
        split += 1
        for who, words in runs:
            text = " ".join(w.text for w in words)
            out.append(Utterance(words[0].start_s, words[-1].end_s, text, tuple(words), who))
    return out, split


def _identities_in_view(frames: Sequence[FrameObservation], start_s: float, end_s: float) -> set[str]:
    return {
        face.identity_id
        for f in frames
        if start_s - FACE_SLACK_S <= f.t_s <= end_s + FACE_SLACK_S
        for face in f.faces
        if face.identity_id
    }


def _match_faces(voices: list[list[int]], in_view: list[set[str]]) -> dict[int, str]:
    """Tie each voice to at most one identity, and each identity to at most one voice.

    Strongest pairs first, by the share of the voice's utterances during which the identity was in
    view. A voice takes an identity only when no other free identity was in view as often during
    it, and no other unmatched voice was heard as often (by share) with that identity in view: a
    tie means the pictures cannot tell who spoke. Taking one may settle another, so repeat.
    """
    counts = [Counter(identity for i in members for identity in in_view[i]) for members in voices]
    share = [{identity: c / len(voices[v]) for identity, c in counts[v].items()} for v in range(len(voices))]
    matched: dict[int, str] = {}
    changed = True
    while changed:
        changed = False
        taken = set(matched.values())
        pairs = sorted(
            ((value, v, identity) for v in range(len(voices)) if v not in matched
             for identity, value in share[v].items() if identity not in taken),
            key=lambda p: (-p[0], p[1], p[2]),
        )  # fmt: skip
        for value, v, identity in pairs:
            if v in matched or identity in taken:
                continue
            faces = [x for other, x in share[v].items() if other != identity and other not in taken]
            voices_too = [share[w].get(identity, 0.0) for w in range(len(voices)) if w != v and w not in matched]
            if max(faces + voices_too, default=0.0) >= value:
                continue
            matched[v] = identity
            taken.add(identity)
            changed = True
    return matched
