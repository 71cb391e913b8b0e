"""Engines, the audio cache and the fallback chain. gTTS is stubbed at its network boundary."""

from __future__ import annotations

import array
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest
import requests

from server.tts import (
    AudioCache,
    EspeakEngine,
    GttsEngine,
    SynthesisError,
    SynthesisTimeout,
    Synthesizer,
    call_with_deadline,
)
from server.voice import Announcer

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "Nomor antrean A dua belas, silakan ke gerai lima."


class FakeEngine:
    """An engine that counts its calls and can fail or be slow."""

    def __init__(self, name="fake", ext="wav", offline=True, fail=False, delay=0.0):
        self.name, self.ext, self.offline = name, ext, offline
        self.voice = "v1"
        self.fail, self.delay = fail, delay
        self.texts: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.texts.append(text)
        time.sleep(self.delay)
        if self.fail:
            raise SynthesisError(f"{self.name} is broken")
        return f"{self.name}:{text}".encode()


def make_call(number="A012", kind="call", counter_number=5, spoken="gerai lima") -> dict:
    return {
        "call_id": f"2026-11-26/{number}#1",
        "kind": kind,
        "ticket": {"id": f"2026-11-26/{number}", "number": number, "prefix": "A"},
        "service": {"code": "ktp", "name": "KTP Elektronik", "agency": "dukcapil"},
        "counter": {
            "number": counter_number,
            "name": f"Gerai {counter_number}",
            "spoken_name": spoken,
        },
    }


def make_announcer(tmp_path, run_background=None, **settings):
    notes: list[dict] = []
    announcer = Announcer(
        {"engine": "gtts", "deadline_s": 0.3, "prepare_recall": False, **settings},
        tmp_path / "cache",
        notes.append,
        run_background or (lambda fn: fn()),
    )
    return announcer, notes


def wav_stats(data: bytes) -> tuple[float, float, float]:
    """Duration in seconds, RMS and peak (0-1) of 16-bit mono WAV bytes."""
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        samples = array.array("h", w.readframes(w.getnframes()))
        duration = w.getnframes() / w.getframerate()
    rms = (sum(s * s for s in samples) / len(samples)) ** 0.5 / 32768
    peak = max(abs(s) for s in samples) / 32768
    return duration, rms, peak


# --- the offline voice --------------------------------------------------------------------------


def test_offline_voice_makes_real_speech():
    short = EspeakEngine().synthesize(SENTENCE)
    longer = EspeakEngine().synthesize("Panggilan ulang, " + SENTENCE)
    duration, rms, peak = wav_stats(short)
    assert 2.0 <= duration <= 6.0  # nine words at 150 words a minute, give or take pauses
    assert 0.03 <= rms <= 0.5  # speech, not silence, not noise at full scale
    assert 0.2 <= peak < 1.0  # audible and not clipped
    # Not truncated: two more words make it longer by a plausible amount.
    assert 0.5 <= wav_stats(longer)[0] - duration <= 2.5


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed (make setup)")
def test_offline_voice_passes_sox(tmp_path):
    path = tmp_path / "call.wav"
    path.write_bytes(EspeakEngine().synthesize(SENTENCE))
    duration = float(
        subprocess.run(
            ["sox", "--i", "-D", str(path)], capture_output=True, text=True, check=True
        ).stdout
    )
    stat = subprocess.run(
        ["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True
    ).stderr
    rms = float(re.search(r"RMS\s+amplitude:\s+([\d.]+)", stat).group(1))
    peak = float(re.search(r"Maximum amplitude:\s+([\d.]+)", stat).group(1))
    assert 2.0 <= duration <= 6.0
    assert 0.03 <= rms <= 0.5
    assert 0.2 <= peak < 1.0


def test_offline_voice_variant_changes_the_audio():
    plain = EspeakEngine("id").synthesize("gerai lima")
    female = EspeakEngine("id+f3").synthesize("gerai lima")
    assert plain != female
    assert EspeakEngine("id").voice != EspeakEngine("id+f3").voice  # so they are cached apart


def test_unknown_espeak_voice_is_a_synthesis_error():
    with pytest.raises(SynthesisError, match="no voice"):
        EspeakEngine("zz-nope").synthesize("satu")
    # The library is still usable afterwards.
    assert wav_stats(EspeakEngine("id").synthesize("satu"))[0] > 0.2


def test_repeat_says_the_clip_again_after_a_gap(tmp_path):
    once = Synthesizer(AudioCache(tmp_path), EspeakEngine(), repeat=1)
    twice = Synthesizer(AudioCache(tmp_path), EspeakEngine(), repeat=2)
    one, two = once.synthesize(SENTENCE), twice.synthesize(SENTENCE)
    assert one.key != two.key
    d1 = wav_stats((tmp_path / f"{one.key}.wav").read_bytes())[0]
    d2 = wav_stats((tmp_path / f"{two.key}.wav").read_bytes())[0]
    assert d2 == pytest.approx(2 * d1 + 0.8, abs=0.05)


EVENTLET_SCRIPT = """
import eventlet
eventlet.monkey_patch()
import sys, time
import server.tts as tts
if sys.argv[1] == "unprotected":
    tts.run_blocking = lambda fn: fn()   # what the code would do without the tpool hand-off
engine = tts.EspeakEngine()
engine.synthesize("siap")
gaps, state = [], {"stop": False}
def ticker():
    last = time.perf_counter()
    while not state["stop"]:
        eventlet.sleep(0.002)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
thread = eventlet.spawn(ticker)
eventlet.sleep(0.02)
start = time.perf_counter()
engine.synthesize("Nomor antrean A dua belas, silakan ke gerai lima. " * 25)
took = time.perf_counter() - start
state["stop"] = True
thread.wait()
print(took, max(gaps))
"""


@pytest.mark.parametrize("mode", ["protected", "unprotected"])
def test_offline_synthesis_does_not_stall_eventlet(mode):
    out = subprocess.run(
        [sys.executable, "-c", EVENTLET_SCRIPT, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    took, worst_gap = map(float, out.split())
    assert took > 0.05, "the text was too short to tell"
    if mode == "protected":
        assert worst_gap < took / 2, f"event loop stalled {worst_gap:.3f} s of {took:.3f} s"
    else:  # the control: this test would notice a blocking call
        assert worst_gap > took * 0.8


PRIORITY_SCRIPT = """
import eventlet
eventlet.monkey_patch()
import os, threading
import server.tts as tts
def me():
    tid = threading.get_native_id()
    return tid, os.getpriority(os.PRIO_PROCESS, tid)
loop = me()
helper = tts.run_blocking(me)
again = tts.run_blocking(me)
print(*loop, *helper, *again, *me())
"""


def test_eventlet_helper_threads_run_below_the_event_loop():
    """Synthesis in eventlet's real threads yields the CPU to the loop that serves the screens."""
    from server.tts import HELPER_NICE

    out = subprocess.run([sys.executable, "-c", PRIORITY_SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout  # fmt: skip
    loop_tid, loop_nice, tid, nice, again_tid, again_nice, _, loop_after = map(int, out.split())
    assert tid != loop_tid  # a real helper thread
    assert nice == loop_nice + HELPER_NICE and loop_after == loop_nice
    if again_tid == tid:  # the same helper again: lowered once, not twice
        assert again_nice == nice


# --- the fallback chain -------------------------------------------------------------------------


@pytest.fixture
def gtts_stream(monkeypatch):
    """Replace gTTS's network call; set .behaviour to 'fail', 'hang' or 'ok'."""
    import gtts

    state = {"behaviour": "ok", "calls": 0, "release": threading.Event()}

    def stream(self):
        state["calls"] += 1
        if state["behaviour"] == "fail":
            raise gtts.tts.gTTSError("Failed to connect. Probable cause: Unknown")
        if state["behaviour"] == "hang":
            state["release"].wait(10)
        yield b"ID3fake-mp3-" + self.text.encode()

    monkeypatch.setattr(gtts.gTTS, "stream", stream)
    yield state
    state["release"].set()  # let an abandoned "hanging" thread end


def test_gtts_speaks_when_it_works(tmp_path, gtts_stream):
    announcer, notes = make_announcer(tmp_path)
    answer = announcer.announce(make_call())
    assert answer["status"] == "pending" and answer["audio_url"] is None
    assert notes[0]["audio_url"].endswith(".mp3")
    key = notes[0]["audio_url"].rsplit("/", 1)[1]
    assert (tmp_path / "cache" / key).read_bytes() == b"ID3fake-mp3-" + SENTENCE.encode()
    assert announcer.status()["last_call"]["engine"] == "gtts"


def test_offline_voice_speaks_when_gtts_raises(tmp_path, gtts_stream, caplog):
    gtts_stream["behaviour"] = "fail"
    announcer, notes = make_announcer(tmp_path)
    answer = announcer.announce(make_call())
    assert answer["status"] == "pending"
    assert notes == [
        {"call_id": "2026-11-26/A012#1", "audio_url": notes[0]["audio_url"], "text": SENTENCE}
    ]
    assert notes[0]["audio_url"].endswith(".wav")
    status = announcer.status()
    assert status["failures"] == {"gtts": 1}
    assert status["last_call"]["engine"] == "espeak"
    assert "gTTSError" in status["last_error"]["error"]
    assert "gtts could not speak" in caplog.text


def test_offline_voice_speaks_when_gtts_hangs_past_its_deadline(tmp_path, gtts_stream):
    gtts_stream["behaviour"] = "hang"
    announcer, notes = make_announcer(tmp_path, deadline_s=0.3)
    started = time.perf_counter()
    announcer.announce(make_call())
    elapsed = time.perf_counter() - started
    assert 0.3 <= elapsed < 5.0  # waited for the deadline, not for the 10 s hang
    assert notes[0]["audio_url"].endswith(".wav")
    assert "SynthesisTimeout" in announcer.status()["last_error"]["error"]


def test_a_late_gtts_answer_is_kept_for_next_time(tmp_path, gtts_stream):
    gtts_stream["behaviour"] = "hang"
    announcer, _ = make_announcer(tmp_path, deadline_s=0.2)
    announcer.announce(make_call())
    gtts_stream["release"].set()
    gtts_key = AudioCache.key("gtts", "id@com", SENTENCE)
    deadline = time.monotonic() + 5
    while not (tmp_path / "cache" / f"{gtts_key}.mp3").exists():
        assert time.monotonic() < deadline, "the late gTTS answer was not cached"
        time.sleep(0.02)


def test_gtts_failure_at_the_outermost_network_boundary(tmp_path, monkeypatch):
    """The real gTTS code runs; only requests' send is replaced by a dead network."""
    sent = []

    def no_network(self, request, **kwargs):
        sent.append(request.url)
        raise requests.exceptions.ConnectionError("Name or service not known")

    monkeypatch.setattr(requests.Session, "send", no_network)
    announcer, notes = make_announcer(tmp_path)
    announcer.announce(make_call())
    assert sent and "translate.google.com" in sent[0]
    assert notes[0]["audio_url"].endswith(".wav")


def test_after_a_failure_gtts_is_skipped_until_the_cooldown_ends(tmp_path):
    now = [1000.0]
    gtts = FakeEngine("gtts", "mp3", offline=False, fail=True)
    espeak = FakeEngine("espeak", "wav")
    synth = Synthesizer(AudioCache(tmp_path), gtts, espeak, cooldown_s=60, clock=lambda: now[0])
    assert synth.synthesize("satu").engine == "espeak"
    assert synth.synthesize("dua").engine == "espeak"
    assert gtts.texts == ["satu"]  # "dua" went straight to the offline voice
    assert synth.status()["preferred_available"] is False
    # While cooling down, an offline clip in the cache is good enough: ready at once.
    assert synth.lookup("dua").engine == "espeak"
    now[0] += 61
    gtts.fail = False
    assert synth.lookup("dua") is None  # gTTS deserves its chance again
    assert synth.synthesize("dua").engine == "gtts"
    assert gtts.texts == ["satu", "dua"]


def test_a_cache_hit_never_synthesises_again(tmp_path):
    engine = FakeEngine()
    synth = Synthesizer(AudioCache(tmp_path), engine)
    first = synth.synthesize(SENTENCE)
    second = synth.synthesize(SENTENCE)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert first.key == second.key
    assert synth.lookup(SENTENCE).key == first.key
    assert engine.texts == [SENTENCE]
    # A new Synthesizer over the same folder (a restart) uses the files too.
    again = Synthesizer(AudioCache(tmp_path), engine).synthesize(SENTENCE)
    assert again.from_cache and engine.texts == [SENTENCE]


def test_the_same_text_asked_twice_at_once_is_synthesised_once(tmp_path):
    engine = FakeEngine(delay=0.2)
    synth = Synthesizer(AudioCache(tmp_path), engine)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(synth.synthesize("tiga"))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.texts == ["tiga"]
    assert sorted(r.from_cache for r in results) == [False, True, True]


def test_when_every_engine_fails_the_call_still_goes_out_without_audio(tmp_path, monkeypatch):
    monkeypatch.setattr(
        EspeakEngine,
        "synthesize",
        lambda self, text: (_ for _ in ()).throw(SynthesisError("espeak broke")),
    )
    announcer, notes = make_announcer(tmp_path, engine="espeak")
    answer = announcer.announce(make_call())
    assert answer["status"] == "pending"
    assert notes == [{"call_id": "2026-11-26/A012#1", "audio_url": None, "text": SENTENCE}]
    assert announcer.status()["calls"]["silent"] == 1


def test_call_with_deadline_returns_and_raises():
    assert call_with_deadline(lambda: 42, 1) == 42
    with pytest.raises(ZeroDivisionError):
        call_with_deadline(lambda: 1 / 0, 1)
    with pytest.raises(SynthesisTimeout):
        call_with_deadline(lambda: time.sleep(1), 0.05)


# --- the cache ----------------------------------------------------------------------------------


def test_cache_key_depends_on_engine_voice_and_text():
    keys = {
        AudioCache.key("espeak", "id", "satu"),
        AudioCache.key("gtts", "id", "satu"),
        AudioCache.key("espeak", "id+f3", "satu"),
        AudioCache.key("espeak", "id", "dua"),
    }
    assert len(keys) == 4
    assert AudioCache.key("espeak", "id", "satu") == AudioCache.key("espeak", "id", "satu")


def test_cache_writes_are_atomic_and_leave_no_temporary_files(tmp_path, monkeypatch):
    cache = AudioCache(tmp_path)
    key = AudioCache.key("e", "v", "t")
    cache.write(key, "wav", b"old")
    cache.write(key, "wav", b"new")
    assert cache.find(key, "wav").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.wav"]

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        cache.write(key, "wav", b"newer")
    assert cache.find(key, "wav").read_bytes() == b"new"  # the old file is whole
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.wav"]


def test_cache_refuses_names_that_are_not_its_own(tmp_path):
    cache = AudioCache(tmp_path)
    for key, ext in [("../../etc/passwd", "wav"), ("ABCDEF" * 6, "wav"), ("a" * 32, "ogg")]:
        with pytest.raises(ValueError):
            cache.path(key, ext)
    empty = AudioCache.key("e", "v", "t")
    (tmp_path / f"{empty}.wav").write_bytes(b"")  # remains of a crash: a miss, not a clip
    assert cache.find(empty, "wav") is None


# --- the Announcer --------------------------------------------------------------------------------


def test_announce_returns_at_once_and_synthesis_runs_in_the_background(tmp_path):
    jobs = []
    announcer, notes = make_announcer(tmp_path, engine="espeak", run_background=jobs.append)
    jobs.clear()  # the warm-up
    answer = announcer.announce(make_call())
    assert answer == {"text": SENTENCE, "audio_url": None, "status": "pending"}
    assert notes == [] and len(jobs) == 1
    jobs.pop()()
    assert notes[0]["audio_url"].endswith(".wav")
    assert announcer.announce(make_call())["audio_url"] == notes[0]["audio_url"]


def test_prepared_audio_makes_the_call_ready(tmp_path, monkeypatch):
    announcer, notes = make_announcer(tmp_path, engine="espeak")
    counters = [
        {"number": 5, "spoken_name": "gerai lima"},
        {"number": 6, "spoken_name": "gerai enam"},
    ]
    announcer.prepare(announcer.texts_for_ticket("A012", counters))
    spoken = []
    monkeypatch.setattr(EspeakEngine, "synthesize", lambda self, text: spoken.append(text))
    answer = announcer.announce(make_call(counter_number=6, spoken="gerai enam"))
    assert answer["status"] == "ready" and answer["audio_url"].endswith(".wav")
    assert spoken == [] and notes == []
    assert announcer.status()["calls"]["ready"] == 1


def test_a_first_call_prepares_its_recall(tmp_path):
    announcer, _ = make_announcer(tmp_path, engine="espeak", prepare_recall=True)
    announcer.announce(make_call())
    assert announcer.announce(make_call(kind="recall"))["status"] == "ready"


def test_disabled_voice_answers_none_and_does_no_work(tmp_path):
    jobs = []
    announcer, _ = make_announcer(tmp_path, enabled=False, run_background=jobs.append)
    assert announcer.announce(make_call()) == {
        "text": SENTENCE,
        "audio_url": None,
        "status": "none",
    }
    announcer.prepare([SENTENCE])
    assert jobs == []


def test_a_call_the_template_cannot_fill_still_gets_a_text(tmp_path):
    announcer, _ = make_announcer(tmp_path, engine="espeak")
    call = make_call()
    call["ticket"]["number"] = "???"
    answer = announcer.announce(call)
    assert answer == {"text": "??? Gerai 5", "audio_url": None, "status": "none"}


def test_update_settings_applies_or_changes_nothing(tmp_path):
    announcer, _ = make_announcer(tmp_path, engine="espeak")
    announcer.update_settings({"engine": "espeak", "number_mode": "digits"})
    assert announcer.text_for(make_call()).startswith("Nomor antrean A nol satu dua")
    with pytest.raises(ValueError, match=r"voice\.template"):
        announcer.update_settings({"template": "{nomor}"})
    assert announcer.settings["number_mode"] == "digits"


def test_admin_counters_survive_a_settings_change(tmp_path, gtts_stream):
    gtts_stream["behaviour"] = "fail"
    announcer, _ = make_announcer(tmp_path)
    announcer.announce(make_call())
    announcer.update_settings({"engine": "espeak", "voice": "id+f3"})
    status = announcer.status()
    assert status["failures"] == {"gtts": 1} and status["calls"]["ready_later"] == 1
    assert status["engine"] == "espeak" and status["voice"] == "id+f3"


def test_status_says_which_engine_spoke(tmp_path, gtts_stream):
    gtts_stream["behaviour"] = "fail"
    announcer, _ = make_announcer(tmp_path)
    announcer.announce(make_call())
    status = announcer.status()
    assert status["engine"] == "gtts"
    assert status["last_call"]["engine"] == "espeak"
    assert status["synthesized"] == {"espeak": 1}  # the call; the warm-up is not counted
    assert status["calls"]["pending"] == 1 and status["calls"]["ready_later"] == 1


# --- the real thing, where the internet is --------------------------------------------------


def _reachable(host: str, port: int = 443) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.mark.network
def test_gtts_really_speaks_indonesian():
    if not _reachable("translate.google.com"):
        pytest.skip("translate.google.com is unreachable from this machine")
    data = GttsEngine(timeout_s=10).synthesize(SENTENCE)
    # An MP3 starts with an ID3 tag or a frame sync; a few seconds of speech is well over 10 kB.
    assert data[:3] == b"ID3" or data[0] == 0xFF
    assert len(data) > 10_000


# --- python -m server.sounds build ---------------------------------------------------------------


def test_catalogue_texts_cover_every_counter_and_prefix_it_calls():
    from server.sounds import catalogue_texts
    from server.voice import validate_voice_settings

    config = {
        "services": [{"code": "ktp", "prefix": "A"}, {"code": "samsat", "prefix": "PK"}],
        "counters": [
            {"number": 1, "spoken_name": "gerai satu", "services": ["ktp"]},
            {"number": 5, "spoken_name": "gerai lima", "services": ["ktp", "samsat"]},
        ],
    }
    texts = catalogue_texts(config, validate_voice_settings({}), count=2)
    assert len(texts) == 6
    assert "Nomor antrean pe ka dua, silakan ke gerai lima." in texts
    assert not any("pe ka" in t and "gerai satu" in t for t in texts)
    digits = catalogue_texts(config, validate_voice_settings({"number_mode": "digits"}), count=1)
    assert "Nomor antrean A nol nol satu, silakan ke gerai satu." in digits


def test_sounds_build_fills_the_cache_the_server_reads(tmp_path):
    from server.sounds import main

    config = tmp_path / "config.yaml"
    config.write_text(
        "services: [{code: ktp, prefix: A}]\n"
        "counters: [{number: 1, spoken_name: gerai satu, services: [ktp]}]\n"
        "voice: {engine: espeak}\n"
    )
    cache_dir = tmp_path / "cache"
    assert (
        main(["build", "--config", str(config), "--count", "3", "--cache-dir", str(cache_dir)]) == 0
    )
    assert len(list(cache_dir.glob("*.wav"))) == 3
    announcer, _ = make_announcer(tmp_path, engine="espeak")  # over tmp_path / "cache"
    call = make_call("A003", spoken="gerai satu")
    assert announcer.announce(call)["status"] == "ready"


def test_sounds_build_names_a_bad_setting(tmp_path, capsys):
    from server.sounds import main

    config = tmp_path / "config.yaml"
    config.write_text("voice: {template: 'Nomor {nomor}'}\n")
    with pytest.raises(SystemExit) as info:
        main(["build", "--config", str(config)])
    assert info.value.code == 2
    assert "voice.template: unknown field {nomor}" in capsys.readouterr().err


def test_synthesis_runs_in_two_lanes_whatever_the_burst(tmp_path):
    """Calls never queue behind preparations, and a burst of tickets starts no more workers."""
    workers = []
    announcer, _ = make_announcer(tmp_path, run_background=workers.append, enabled=False)
    done = []
    for i in range(50):
        announcer._submit("prepare", lambda i=i: done.append(("prepare", i)))
    announcer._submit("calls", lambda: done.append(("call", 0)))
    assert len(workers) == 2  # one per lane, not one per job
    workers[1]()  # the calls lane runs first although it was submitted last
    assert done == [("call", 0)]
    workers[0]()
    assert [i for kind, i in done if kind == "prepare"] == list(range(50))
    announcer._submit("prepare", lambda: done.append(("prepare", 50)))
    assert len(workers) == 3  # the drained lane's worker ended; a new job starts a new one


def test_preparation_waits_its_turn_but_a_call_does_not(tmp_path):
    """Ahead-of-time synthesis starts prepare_after_s after it was asked for (the screens first);
    a job asked for long ago runs at once, and the calls lane never waits."""
    slept: list[float] = []
    announcer = Announcer({"engine": "gtts", "prepare_recall": False}, tmp_path / "cache",
                          lambda note: None, lambda fn: fn(), prepare_after_s=0.25,
                          sleep=slept.append)  # fmt: skip
    done = []
    announcer._submit("prepare", lambda: done.append("prepare"))
    assert done == ["prepare"] and len(slept) == 1 and 0.2 < slept[0] <= 0.25
    announcer._submit("calls", lambda: done.append("call"))
    assert done == ["prepare", "call"] and len(slept) == 1
    workers = []
    late = Announcer({"engine": "gtts", "enabled": False}, tmp_path / "late", lambda note: None, workers.append,
                     prepare_after_s=0.05, sleep=slept.append)  # fmt: skip
    late._submit("prepare", lambda: done.append("late"))
    time.sleep(0.06)  # the worker starts after the job's start time
    workers[0]()
    assert done[-1] == "late" and len(slept) == 1
