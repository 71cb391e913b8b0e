"""The announcement queue: order, no overlap, failures, caching; real samples via SDL's disk driver."""

from __future__ import annotations

import array
import http.server
import os
import threading
import time
from pathlib import Path

import pytest

from display.audio import Announcer, AudioCache, AudioError, PygamePlayer
from display.samples import square_wav
from display.state import CallView

RATE = 44100
BLOCK = 441  # 10 ms


def make_call(n: int, url: str | None = None, status: str | None = None) -> CallView:
    return CallView(
        call_id=f"2026-11-26/A{n:03d}#1", number=f"A{n:03d}", counter_number=1,
        counter_name="Gerai 1", audio_url=url, audio_status=status or ("ready" if url else "none"),
    )  # fmt: skip


class FakePlayer:
    """Records what plays and checks that two sounds never play at once."""

    def __init__(self, seconds: float = 0.02, fail_on: set[str] | None = None) -> None:
        self.seconds = seconds
        self.fail_on = fail_on or set()
        self.log: list[str] = []
        self.playing = 0
        self.overlaps = 0

    def load(self, path: Path) -> str:
        if not Path(path).exists() and str(path) != "chime":
            raise AudioError(f"missing {path}")
        return Path(path).name

    def play(self, sound: str) -> None:
        self.playing += 1
        self.overlaps += self.playing > 1
        try:
            if sound in self.fail_on:
                raise AudioError("device busy")
            self.log.append(sound)
            time.sleep(self.seconds)
        finally:
            self.playing -= 1


@pytest.fixture
def clips(tmp_path):
    files = {}
    for name in ("chime", "a1", "a2", "a3"):
        files[name] = tmp_path / f"{name}.wav"
        files[name].write_bytes(b"RIFF")
    return files


def run_announcer(announcer: Announcer, feed, timeout: float = 10.0) -> None:
    announcer.start()
    try:
        feed(announcer)
        deadline = time.monotonic() + timeout
        while not announcer.idle():
            assert time.monotonic() < deadline, "announcer did not finish"
            time.sleep(0.01)
    finally:
        announcer.stop()


def local_fetch(files):
    def fetch(url: str) -> Path:
        name = url.rsplit("/", 1)[-1].split(".")[0]
        if name not in files:
            raise AudioError(f"404 {url}")
        return files[name]

    return fetch


def test_calls_play_in_order_chime_first_repeated_and_never_overlapping(clips):
    player = FakePlayer()
    announcer = Announcer(player, local_fetch(clips), clips["chime"], repeat=2, pause=0.0)

    def feed(a):
        for n in (1, 2, 3):
            a.announce(make_call(n, f"/api/audio/a{n}.wav"))

    run_announcer(announcer, feed)
    assert player.log == ["chime.wav", "a1.wav", "a1.wav", "chime.wav", "a2.wav", "a2.wav",
                          "chime.wav", "a3.wav", "a3.wav"]  # fmt: skip
    assert player.overlaps == 0 and announcer.played == 3


def test_recall_plays_again_but_a_duplicate_call_does_not(clips):
    player = FakePlayer()
    announcer = Announcer(player, local_fetch(clips), clips["chime"])
    recall = CallView(call_id="2026-11-26/A001#2", number="A001", counter_number=1, counter_name="Gerai 1",
                      kind="recall", audio_url="/api/audio/a1.wav", audio_status="ready")  # fmt: skip

    def feed(a):
        a.announce(make_call(1, "/api/audio/a1.wav"))
        a.announce(make_call(1, "/api/audio/a1.wav"))  # the same call id again (a re-delivery)
        a.announce(recall)

    run_announcer(announcer, feed)
    assert player.log == ["chime.wav", "a1.wav", "chime.wav", "a1.wav"]


def test_unfetchable_or_unplayable_audio_does_not_stop_the_next_call(clips):
    player = FakePlayer(fail_on={"a2.wav"})
    announcer = Announcer(player, local_fetch(clips), clips["chime"])

    def feed(a):
        a.announce(make_call(1, "/api/audio/missing.wav"))  # 404: chime only
        a.announce(make_call(2, "/api/audio/a2.wav"))  # the device fails while playing
        a.announce(make_call(3, "/api/audio/a3.wav"))

    run_announcer(announcer, feed)
    assert player.log == ["chime.wav", "chime.wav", "chime.wav", "a3.wav"]


def test_pending_audio_plays_when_announcement_ready_arrives(clips):
    player = FakePlayer()
    announcer = Announcer(player, local_fetch(clips), clips["chime"], audio_wait=5)

    def feed(a):
        a.announce(make_call(1, status="pending"))
        a.announce(make_call(2, "/api/audio/a2.wav"))
        time.sleep(0.2)
        a.audio_ready("2026-11-26/A001#1", "/api/audio/a1.wav")

    run_announcer(announcer, feed)
    assert player.log == ["chime.wav", "a1.wav", "chime.wav", "a2.wav"]


def test_announcement_ready_without_audio_moves_on_at_once(clips):
    player = FakePlayer()
    announcer = Announcer(player, local_fetch(clips), clips["chime"], audio_wait=30)
    started = time.monotonic()

    def feed(a):
        a.announce(make_call(1, status="pending"))
        a.announce(make_call(2, "/api/audio/a2.wav"))
        a.audio_ready("2026-11-26/A001#1", None)  # no engine could speak it

    run_announcer(announcer, feed)
    assert player.log == ["chime.wav", "chime.wav", "a2.wav"]
    assert time.monotonic() - started < 5  # not the 30 s audio_wait


def test_pending_audio_that_never_comes_gives_chime_only(clips):
    player = FakePlayer()
    announcer = Announcer(player, local_fetch(clips), clips["chime"], audio_wait=0.2)

    def feed(a):
        a.announce(make_call(1, status="pending"))
        a.announce(make_call(2, "/api/audio/a2.wav"))
        a.announce(make_call(3))  # status none: chime and text only

    run_announcer(announcer, feed)
    assert player.log == ["chime.wav", "chime.wav", "a2.wav", "chime.wav"]


def test_missing_chime_file_falls_back(clips, tmp_path):
    class WithFallback(FakePlayer):
        def chime_fallback(self):
            return "ding-dong"

    player = WithFallback()
    announcer = Announcer(player, local_fetch(clips), tmp_path / "nope.wav")
    run_announcer(announcer, lambda a: a.announce(make_call(1, "/api/audio/a1.wav")))
    assert player.log == ["ding-dong", "a1.wav"]


# --- the real thing: pygame.mixer writing samples through SDL's disk audio driver -----------


@pytest.fixture
def disk_audio(tmp_path, monkeypatch):
    import pygame

    out = tmp_path / "speaker.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(out))
    if pygame.mixer.get_init():
        pygame.mixer.quit()
    player = PygamePlayer(frequency=RATE)
    assert pygame.mixer.get_init() == (RATE, -16, 2)
    yield player, out
    pygame.mixer.quit()


def levels(raw: bytes) -> list[int]:
    """Peak amplitude of each 10 ms block of the interleaved stereo output."""
    samples = array.array("h")
    samples.frombytes(raw[: len(raw) // 2 * 2])
    step = BLOCK * 2
    return [
        max((abs(v) for v in samples[i : i + step]), default=0)
        for i in range(0, len(samples), step)
    ]


def runs(values: list[int]) -> list[int]:
    """Consecutive blocks of one level, silence dropped: the sequence of sounds heard."""
    heard: list[int] = []
    previous = 0
    for value in values:
        if value and value != previous:
            heard.append(value)
        previous = value
    return heard


def test_real_samples_come_out_in_order_without_overlap(disk_audio, tmp_path):
    import pygame

    player, out = disk_audio
    chime = square_wav(tmp_path / "chime.wav", 1000, 0.15)
    clips = {f"a{n}": square_wav(tmp_path / f"a{n}.wav", 1000 + 2000 * n, 0.2) for n in (1, 2)}
    announcer = Announcer(player, local_fetch(clips), chime, repeat=2, pause=0.1)

    def feed(a):
        # Both calls arrive at once: the second must wait for the first to finish.
        a.announce(make_call(1, "/api/audio/a1.wav"))
        a.announce(make_call(2, "/api/audio/a2.wav"))

    run_announcer(announcer, feed)
    time.sleep(0.1)
    pygame.mixer.quit()  # flushes the disk driver's file
    found = levels(out.read_bytes())
    assert set(found) <= {0, 1000, 3000, 5000}, "two sounds overlapped (their levels add up)"
    assert runs(found) == [1000, 3000, 3000, 1000, 5000, 5000]
    # Every sound played to its end: 0.15 s chime x2, 0.2 s announcements x4 = 1.1 s of sound.
    loud = sum(1 for value in found if value) * BLOCK / RATE
    assert 1.05 <= loud <= 1.2


def test_real_mixer_plays_the_built_in_chime(disk_audio, tmp_path):
    import pygame

    player, out = disk_audio
    announcer = Announcer(player, local_fetch({}), None)
    run_announcer(announcer, lambda a: a.announce(make_call(1)))
    pygame.mixer.quit()
    found = levels(out.read_bytes())
    assert sum(1 for value in found if value > 1000) * BLOCK / RATE > 1.0  # about 1.35 s ding-dong


# --- the disk cache --------------------------------------------------------------------------


@pytest.fixture
def audio_server(tmp_path):
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path.startswith("/api/audio/ok"):
                body = b"RIFF-fake-audio"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_cache_fetches_once_and_keeps_the_file(audio_server, tmp_path):
    url, hits = audio_server
    cache = AudioCache(url, tmp_path / "cache")
    first = cache.fetch("/api/audio/ok-1.mp3")
    second = cache.fetch("/api/audio/ok-1.mp3")
    assert first == second and first.read_bytes() == b"RIFF-fake-audio" and first.suffix == ".mp3"
    assert hits == ["/api/audio/ok-1.mp3"]
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.endswith(".part")]


def test_cache_reports_missing_audio_and_unreachable_servers(audio_server, tmp_path):
    url, _ = audio_server
    with pytest.raises(AudioError, match="404"):
        AudioCache(url, tmp_path / "c").fetch("/api/audio/gone.mp3")
    with pytest.raises(AudioError):
        AudioCache("http://127.0.0.1:9", tmp_path / "c").fetch("/api/audio/ok.mp3")


def test_cache_keeps_only_the_newest_files(audio_server, tmp_path):
    url, _ = audio_server
    cache = AudioCache(url, tmp_path / "c", keep=3)
    for n in range(6):
        path = cache.fetch(f"/api/audio/ok-{n}.mp3")
        os.utime(path, (n, n))  # make the order of age explicit
    assert len(list((tmp_path / "c").iterdir())) == 3
