"""Pre-generate announcement audio for a hall: `python -m server.sounds build --config config.yaml`.

Every counter times the first N numbers of each prefix it calls, through the same fallback chain as
the server (so with the internet once, the natural gTTS voice is cached for the days without it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from panggil_common.yaml_file import YamlFileError, read_mapping
from server import announce
from server.tts import SynthesisError, Synthesizer
from server.voice import build_synthesizer, text_settings, validate_voice_settings

log = logging.getLogger(__name__)


def catalogue_texts(
    config: dict,
    settings: dict,
    count: int,
    width: int = 3,
    recall: bool = False,
) -> list[str]:
    """Every sentence the hall's counters can say for numbers 1..count of the prefixes they call.

    Ticket numbers are zero-padded to `width` digits as the kiosk prints them, which matters only
    when numbers are read digit by digit.
    """
    prefixes = {s["code"]: s["prefix"] for s in config.get("services") or []}
    kinds = ("call", "recall") if recall else ("call",)
    shape = text_settings(settings)
    texts: dict[str, None] = {}  # ordered and without duplicates
    for counter in config.get("counters") or []:
        for code in counter.get("services") or []:
            if code not in prefixes:
                raise ValueError(f"counter {counter.get('number')} calls unknown service {code!r}")
            for n in range(1, count + 1):
                number = f"{prefixes[code]}{n:0{width}d}"
                for text in announce.texts_for_ticket(number, [counter], shape, kinds=kinds):
                    texts[text] = None
    return list(texts)


def pregenerate(
    synth: Synthesizer,
    texts: Iterable[str],
    jobs: int = 4,
    on_done: Callable[[], None] = lambda: None,
) -> Counter:
    """Synthesise every text into the cache; returns how many each engine made (or "cache",
    "failed")."""
    outcome: Counter = Counter()

    def one(text: str) -> str:
        try:
            spoken = synth.synthesize(text)
        except SynthesisError as exc:
            log.error("could not prepare %r: %s", text, exc)
            return "failed"
        return "cache" if spoken.from_cache else spoken.engine

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(one, texts):
            outcome[result] += 1
            on_done()
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.sounds", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="pre-generate announcements into the audio cache")
    build.add_argument("--config", type=Path, default=Path("config.yaml"))
    build.add_argument(
        "--count", type=int, help="numbers per prefix (default: voice.pregenerate_count)"
    )
    build.add_argument("--width", type=int, default=3, help="digits of a ticket number (A012: 3)")
    build.add_argument("--recall", action="store_true", help="also the recall sentences")
    build.add_argument("--engine", choices=("gtts", "espeak"), help="override voice.engine")
    build.add_argument("--cache-dir", type=Path, help="override voice.cache_dir")
    build.add_argument("--jobs", type=int, default=4, help="syntheses at once (default 4)")
    build.add_argument("--dry-run", action="store_true", help="only count the sentences")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    try:
        config = read_mapping(args.config)
        voice = dict(config.get("voice") or {})
        if args.engine:
            voice["engine"] = args.engine
        if args.cache_dir:
            voice["cache_dir"] = str(args.cache_dir)
        settings = validate_voice_settings(voice)
        count = settings["pregenerate_count"] if args.count is None else args.count
        texts = catalogue_texts(config, settings, count, args.width, args.recall)
    except (YamlFileError, ValueError, KeyError, TypeError) as exc:
        parser.exit(2, f"error: {exc}\n")

    cache_dir = Path(settings["cache_dir"])
    print(f"{len(texts)} sentences -> {cache_dir} (engine {settings['engine']})")
    if args.dry_run:
        return 0
    from tqdm import tqdm

    synth = build_synthesizer(settings, cache_dir)
    with tqdm(total=len(texts), unit="clip") as bar:
        outcome = pregenerate(synth, texts, max(1, args.jobs), bar.update)
    print("done: " + ", ".join(f"{name} {n}" for name, n in sorted(outcome.items())))
    return 1 if outcome["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
