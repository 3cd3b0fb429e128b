"""Who said what, on generated dialogue: espeak-ng voices mixed as a head-worn microphone hears them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from egomem.media.decode import load_audio
from egomem.perception.records import Box, FaceObservation, FrameObservation, Utterance, Word
from egomem.perception.speakers import WEARER, VoiceAnalyzer, WearerVoice, attribute_speakers, near_field
from pipelines import lifegen
from pipelines.ingest import Ingestor, Outcome

FRIEND_VOICE = "en+f2"  # a woman across the table
CASHIER_VOICE = "en-us+m1"  # a man at the counter; the wearer keeps lifegen's (male) voice
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=1)))

SCRIPT = (
    ("friend", "Good morning. Can you buy some bread on your way home?"),
    (lifegen.WEARER, "Sure, I will buy some bread."),
    ("cashier", "What can I get you today?"),
    (lifegen.WEARER, "Some apples and honey, please."),
    ("friend", "Remember to call the doctor today."),
    (lifegen.WEARER, "Right, I will."),
    ("cashier", "That will be five euros."),
)
PEOPLE = {
    "friend": lifegen.Person("friend", "Friend", None, (), FRIEND_VOICE, known=True),
    "cashier": lifegen.Person("cashier", "Cashier", None, (), CASHIER_VOICE, known=False),
}


def _scene(said: tuple[tuple[str, str], ...], people: tuple[str, ...] = ()) -> lifegen.RecordingSpec:
    lines, end = lifegen._lay_out_lines(START, said)
    home = lifegen.PLACES["home"]
    return lifegen.RecordingSpec(
        "clip.mp4", "video", 1, "morning", START, end, home, people, lines, home.sign, (), lifegen.DEVICE, True
    )


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, list[Utterance], list[str]]:
    """SCRIPT as lifegen mixes it (a head-worn mic), decoded to 16 kHz by ffmpeg like any recording;
    the utterances at the times lifegen placed each line (no recogniser involved), and who said each."""
    spec = _scene(SCRIPT)
    wav = tmp_path_factory.mktemp("dialogue") / "dialogue.wav"
    lifegen._write_wav(wav, lifegen.speech_track(spec, PEOPLE))
    offset = lambda moment: (moment - START).total_seconds()
    utterances = [Utterance(offset(line.start), offset(line.end), line.text) for line in spec.lines]
    return load_audio(wav), utterances, [line.speaker for line in spec.lines]


def _frames(utterances: list[Utterance], who: list[str], faces: dict[str, tuple[str, str | None]]) -> list[FrameObservation]:
    """A frame a second; while someone in `faces` speaks, their face (identity id, name) is in view."""
    end = utterances[-1].end_s + 1
    frames = []
    for t in np.arange(0.0, end, 1.0):
        speaking = [w for u, w in zip(utterances, who) if u.start_s - 0.3 <= t <= u.end_s + 0.3]
        seen = [faces[w] for w in speaking if w in faces]
        observations = [FaceObservation(Box(0, 0, 10, 10), np.zeros(128, np.float32), i, n, 0.3) for i, n in seen]
        frames.append(FrameObservation(float(t), t == 0.0, 0.0, observations))
    return frames


def test_the_wearer_is_told_from_others_and_other_voices_apart(dialogue) -> None:
    audio, utterances, who = dialogue
    result = attribute_speakers(utterances, audio)
    said = [u.speaker for u in result.utterances]
    by = {w: {s for s, x in zip(said, who) if x == w} for w in (lifegen.WEARER, "friend", "cashier")}
    assert by["me"] == {WEARER}, said
    assert len(by["friend"]) == 1 and len(by["cashier"]) == 1, said  # one label per voice...
    assert by["friend"] != by["cashier"] and WEARER not in by["friend"] | by["cashier"], said  # ...and different ones
    assert by["friend"] | by["cashier"] == {"speaker 2", "speaker 3"}  # nobody in view: numbered, never named
    assert result.wearer_found and result.voices == 3 and [u.text for u in result.utterances] == [u.text for u in utterances]


def test_a_segment_running_across_turns_is_cut_where_the_speaker_changes(dialogue) -> None:
    """Whisper's batched decoder gives one segment per VAD chunk, which often spans several turns."""
    audio, utterances, who = dialogue
    words = []
    for u in utterances:  # each line's words spread over its span, as word timestamps would place them
        tokens = u.text.split()
        step = (u.end_s - u.start_s) / len(tokens)
        words += [Word(u.start_s + k * step, u.start_s + (k + 1) * step, token, 0.9) for k, token in enumerate(tokens)]
    whole = Utterance(utterances[0].start_s, utterances[-1].end_s, " ".join(u.text for u in utterances), tuple(words))
    result = attribute_speakers([whole], audio)
    assert result.split == 1
    assert [u.text for u in result.utterances] == [u.text for u in utterances]  # every line its own turn again
    said = [u.speaker for u in result.utterances]
    assert [s == WEARER for s in said] == [w == lifegen.WEARER for w in who], said
    assert len({s for s, w in zip(said, who) if w == "friend"} | {s for s, w in zip(said, who) if w == "cashier"}) == 2, said


def test_a_voice_is_given_the_face_in_view_while_it_speaks(dialogue) -> None:
    audio, utterances, who = dialogue
    # The friend is enrolled (named); the cashier is an identity nobody named yet.
    frames = _frames(utterances, who, {"friend": ("id-rose", "rose_leslie"), "cashier": ("person-3", None)})
    said = [u.speaker for u in attribute_speakers(utterances, audio, frames).utterances]
    expected = {"me": WEARER, "friend": "rose_leslie", "cashier": "person-3"}
    assert said == [expected[w] for w in who]


def test_one_face_in_view_the_whole_time_names_only_the_voice_it_goes_with(dialogue) -> None:
    audio, utterances, who = dialogue
    keep = [i for i, w in enumerate(who) if w != "cashier"]  # the friend and the wearer only
    two = [utterances[i] for i in keep]
    frames = [FrameObservation(float(t), False, 0.0, [FaceObservation(Box(0, 0, 9, 9), np.zeros(128, np.float32), "id-rose", "rose_leslie")])
              for t in range(int(two[-1].end_s) + 2)]  # fmt: skip
    said = [u.speaker for u in attribute_speakers(two, audio, frames).utterances]
    assert said == [WEARER if who[i] == "me" else "rose_leslie" for i in keep]
    # With two other voices and the same face in view throughout, the picture cannot tell which spoke.
    said = [u.speaker for u in attribute_speakers(utterances, audio, frames).utterances]
    assert "rose_leslie" not in said and said.count(WEARER) == who.count("me")


def test_silence_a_single_utterance_and_a_blip_do_not_crash_or_invent_a_speaker(dialogue) -> None:
    audio, utterances, _ = dialogue
    silent = np.zeros(16000 * 3, np.float32)
    result = attribute_speakers([Utterance(0.5, 2.5, "hello")], silent)
    assert [u.speaker for u in result.utterances] == [None] and result.unmeasured == 1 and not result.wearer_found
    lone = attribute_speakers(utterances[:1], audio)  # one voice, nothing to compare it with
    assert [u.speaker for u in lone.utterances] == [None] and lone.voices == 1
    blip = Utterance(utterances[0].start_s, utterances[0].start_s + 0.05, "uh")  # too short to measure
    mixed = attribute_speakers([blip, *utterances], audio).utterances
    assert mixed[0].speaker is None and mixed[2].speaker == WEARER
    assert attribute_speakers([], audio).utterances == []
    assert near_field([-20.0, -21.0, -19.5]) == []  # one talker at one distance: no wearer claimed


def test_pitch_is_measured_in_semitones_above_55_hz() -> None:
    t = np.arange(16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 110 * t) + 0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    voice = VoiceAnalyzer().voice_print(tone, 0.0, 1.0)
    assert voice is not None and voice.pitch_st == pytest.approx(12.0, abs=0.3)  # 110 Hz, not its octave


def test_ingested_clip_stores_who_said_each_quote(make_runtime, shared_data: Path, tmp_path: Path) -> None:
    """The real path: a generated clip (face pasted in, voices mixed by lifegen) through the Ingestor."""
    from egomem.people import enroll_photos

    rose = shared_data / "faces" / "train" / "rose_leslie"
    friend = lifegen.Person("rose_leslie", "Rose Leslie", rose / "img2.jpg", (rose / "img1.jpg",), FRIEND_VOICE, known=True)
    said = tuple(("rose_leslie" if who == "friend" else who, text) for who, text in SCRIPT if who != "cashier")
    spec = _scene(said, ("rose_leslie",))  # one still frame with her face pasted in, the dialogue over it
    lines = spec.lines
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    lifegen.render_recording(spec, {"rose_leslie": friend}, tmp_path, scratch)

    rt = make_runtime(tmp_path / "home")
    enroll_photos(rt.faces, rt.identities, "rose_leslie", list(friend.enrol_photos))
    [result] = Ingestor(rt).ingest([tmp_path / "clip.mp4"])
    assert result.outcome is Outcome.INGESTED, result.message
    stage = next(s for s in result.stages if s.stage == "speakers")
    assert stage.ran and "wearer's voice found" in stage.detail, stage.detail
    quotes = [q for e in rt.store.events() for q in e.quotes]
    assert quotes
    for q in quotes:  # each quote against the line it mostly overlaps
        line = max(lines, key=lambda ln: (min(q.end, ln.end) - max(q.start, ln.start)).total_seconds())
        assert q.speaker == (WEARER if line.speaker == lifegen.WEARER else "rose_leslie"), (q.text, q.speaker, line.text)


def _lines_of(dialogue, speaker: str) -> list[Utterance]:
    _, utterances, who = dialogue
    return [u for u, w in zip(utterances, who) if w == speaker]


def test_the_wearer_alone_is_known_by_their_voice_on_the_device(dialogue) -> None:
    audio, utterances, who = dialogue
    learned = attribute_speakers(utterances, audio)
    assert learned.wearer_by == "level" and len(learned.wearer_prints) == who.count(lifegen.WEARER)
    voice = WearerVoice.learned(None, learned.wearer_prints)
    assert voice is not None and voice.utterances == who.count(lifegen.WEARER)

    mine = _lines_of(dialogue, lifegen.WEARER)  # a voice memo: nobody else speaks
    alone = attribute_speakers(mine, audio)
    assert [u.speaker for u in alone.utterances] == [None] * len(mine)  # no contrast: level alone cannot say
    memo = attribute_speakers(mine, audio, wearer_voice=voice)
    assert [u.speaker for u in memo.utterances] == [WEARER] * len(mine)
    assert memo.wearer_by == "profile" and memo.wearer_prints == ()  # a profile match never teaches the profile
    assert "learned earlier" in memo.describe()

    # Someone else alone is not the wearer: the friend sounds different; the cashier's voice is as
    # deep as the wearer's but arrives from a metre away.
    for other in ("friend", "cashier"):
        theirs = attribute_speakers(_lines_of(dialogue, other), audio, wearer_voice=voice)
        assert WEARER not in [u.speaker for u in theirs.utterances], other
    # Even as loud as the wearer (leaning in to the microphone), the friend's voice is not theirs.
    leaning_in = audio * 10 ** (-lifegen.OTHERS_GAIN_DB / 20)
    theirs = attribute_speakers(_lines_of(dialogue, "friend"), leaning_in, wearer_voice=voice)
    assert WEARER not in [u.speaker for u in theirs.utterances]
    # The wearer's own voice at a distance (10 dB down: a recording played back across the room) is not claimed.
    far = attribute_speakers(mine, audio * 10 ** (-10 / 20), wearer_voice=voice)
    assert WEARER not in [u.speaker for u in far.utterances]


def test_the_wearers_voice_profile_accumulates_and_is_kept_per_device(dialogue, tmp_path: Path) -> None:
    from egomem.store.voices import UNKNOWN_DEVICE, WearerVoiceBook

    audio, utterances, _ = dialogue
    prints = attribute_speakers(utterances, audio).wearer_prints
    book = WearerVoiceBook(tmp_path / "wearer_voice.json")
    assert book.get("glasses-01") is None and book.learn("glasses-01", ()) is None
    first = book.learn("glasses-01", prints[:2])
    second = book.learn("glasses-01", prints[2:])
    assert first is not None and second is not None and second.utterances == len(prints)
    whole = WearerVoice.learned(None, prints)
    assert second.level_dbfs == pytest.approx(whole.level_dbfs, abs=1e-6)  # a running mean: the same as all at once
    assert np.allclose(second.timbre, whole.timbre, atol=1e-5)
    book.learn(None, prints[:1])

    reopened = WearerVoiceBook(tmp_path / "wearer_voice.json")  # kept across runs
    assert reopened.get("glasses-01") == second and reopened.get(None) == reopened.get(UNKNOWN_DEVICE) is not None
    assert reopened.get("phone") is None  # another microphone, another level: learned on its own
    assert reopened.forget("glasses-01") == ["glasses-01"] and reopened.get("glasses-01") is None
    assert set(WearerVoiceBook(tmp_path / "wearer_voice.json").voices()) == {UNKNOWN_DEVICE}


def test_ingest_learns_the_wearers_voice_and_names_them_in_a_later_memo(make_runtime, dialogue, tmp_path: Path) -> None:
    """Through the Ingestor: a conversation teaches egomem the wearer's voice; a voice memo then gets it."""
    spec = _scene(SCRIPT)
    memo_spec = _scene(tuple((w, text) for w, text in SCRIPT if w == lifegen.WEARER))
    lifegen._write_wav(tmp_path / "conversation.wav", lifegen.speech_track(spec, PEOPLE))
    lifegen._write_wav(tmp_path / "memo.wav", lifegen.speech_track(memo_spec, PEOPLE))

    rt = make_runtime(tmp_path / "home")
    conversation, memo = Ingestor(rt).ingest([tmp_path / "conversation.wav", tmp_path / "memo.wav"])
    assert conversation.outcome is Outcome.INGESTED and memo.outcome is Outcome.INGESTED, (conversation.message, memo.message)
    detail = lambda result: next(s.detail for s in result.stages if s.stage == "speakers")
    assert "louder than the rest" in detail(conversation) and "learned earlier" in detail(memo), detail(memo)
    assert (tmp_path / "home" / "wearer_voice.json").is_file()
    memo_quotes = [q for e in memo.events for q in e.quotes]
    assert memo_quotes and {q.speaker for q in memo_quotes} == {WEARER}


def test_an_unreadable_voice_file_is_reported_and_loses_nothing(make_runtime, tmp_path: Path) -> None:
    from egomem.errors import StoreError
    from egomem.store.voices import WearerVoiceBook

    home = tmp_path / "home"
    home.mkdir()
    (home / "wearer_voice.json").write_text("{not json")
    with pytest.raises(StoreError, match="delete it to learn the voice afresh"):
        WearerVoiceBook(home / "wearer_voice.json")

    lifegen._write_wav(tmp_path / "conversation.wav", lifegen.speech_track(_scene(SCRIPT), PEOPLE))
    [result] = Ingestor(make_runtime(home)).ingest([tmp_path / "conversation.wav"])
    assert result.outcome is Outcome.INGESTED, result.message
    stage = next(s for s in result.stages if s.stage == "speakers")
    assert stage.ran and "wearer's voice found (louder than the rest)" in stage.detail and "cannot be read" in stage.detail
    assert {q.speaker for e in result.events for q in e.quotes} >= {WEARER}  # attribution went on without the file
    assert (home / "wearer_voice.json").read_text() == "{not json"  # left for the person to look at, not overwritten
