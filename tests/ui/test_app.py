"""The web app (``spectrostyle app``): its handlers without a browser, then the page in a real browser.

The browser test (marked ``browser``) starts ``spectrostyle app`` on a free localhost port, drives Debian's
Chromium (``/usr/bin/chromium``, installed by ``scripts/setup.sh --dev``; Playwright never downloads a browser)
headless through the page: pick the examples, blend by the fastest method present, check the result's duration,
upload files that are refused. It saves a screenshot of the result page in ``tests/artifacts/`` (or
``$SPECTROSTYLE_ARTIFACTS``); with ``SPECTROSTYLE_README_SCREENSHOT=1`` also as ``docs/app-screenshot.png``.
It fails, rather than skips, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

try:
    import gradio as gr
except ImportError:  # pragma: no cover - the set-up installs the app extra
    pytest.fail("the app tests need Gradio: run `bash scripts/setup.sh --dev` (or pip install -e '.[app,dev]')",
                pytrace=False)

from spectrostyle.core.errors import InputError
from spectrostyle.data.examples import example_path
from spectrostyle.methods.registry import METHODS
from spectrostyle.store import ShippedModel, shipped_models
from spectrostyle.ui import app_blend as app_module
from spectrostyle.ui.app import Handlers, build_app, launch
from spectrostyle.ui.app_blend import Limits, MethodSpec, blend, check_sound, method_settings, usable_methods
from spectrostyle.ui.cli.main import main
from tests.conftest import requires_shipped

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SPECTROSTYLE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("SPECTROSTYLE_ARTIFACTS", REPO / "tests" / "artifacts"))
SAMPLE_RATE = 16_000
NOTE_SECONDS = 4.0  # every shipped example note


def fastest_settings(spec: MethodSpec) -> dict:
    """Settings that make the method quick: Slow with 5 steps; the others as they are."""
    return {"steps": 5} if "steps" in spec.controls else {}


def write_tone(path: Path, seconds: float, rate: int = 8000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, subtype="PCM_16")
    return path


@pytest.fixture
def not_audio(tmp_path) -> Path:
    path = tmp_path / "notes.wav"  # named like audio, so the browser's own file-type filter lets it through
    path.write_text("a text file with a .wav name, not a sound\n", encoding="utf-8")
    return path


def fake_shipped(*pairs: tuple[str, str]) -> list[ShippedModel]:
    return [ShippedModel(name=name, kind=kind, path=Path(f"/nowhere/{kind}-{name}.json"), description={})
            for kind, name in pairs]


# ---------------------------------------------------------------------------------------------- handlers


def test_methods_offered_follow_the_registry_and_the_shipped_models(monkeypatch):
    monkeypatch.setattr(app_module, "shipped_models", lambda: fake_shipped(("audio_cnn", "default")))
    assert [s.name for s in usable_methods()] == ["gatys"]
    monkeypatch.setattr(app_module, "shipped_models", lambda: fake_shipped(
        ("audio_cnn", "default"), ("adain_decoder", "default"), ("fast_transformer", "flute"),
        ("fast_transformer", "keyboard")))
    assert [s.name for s in usable_methods()] == ["adain", "fast", "gatys"]  # fastest first
    fast = next(s for s in usable_methods() if s.name == "fast")
    assert [value for _, value in app_module.model_choices(fast)] == ["flute", "keyboard"]
    monkeypatch.setattr(app_module, "shipped_models", lambda: fake_shipped(("adain_decoder", "default")))
    assert [s.name for s in usable_methods()] == ["adain"]  # Slow needs the audio CNN


def test_a_registered_method_that_cannot_be_imported_is_not_offered(monkeypatch):
    monkeypatch.setitem(METHODS, "cyclegan", "spectrostyle.not_written_yet:CycleGanMethod")
    monkeypatch.setattr(app_module, "shipped_models", lambda: fake_shipped(
        ("audio_cnn", "default"), ("cyclegan_generator", "flute-keyboard")))
    assert [s.name for s in usable_methods()] == ["gatys"]


def test_the_real_registry_offers_at_least_the_slow_method():
    names = [s.name for s in usable_methods()]
    assert "gatys" in names and all(name in METHODS for name in names)
    for kind, name in (("adain_decoder", "default"), ("fast_transformer", None)):
        if any(m.kind == kind and (name is None or m.name == name) for m in shipped_models()):
            assert kind.split("_")[0] in names


def test_a_good_sound_is_read_at_16_khz():
    audio = check_sound(example_path("flute", 60), Limits())
    assert audio.dtype == np.float32 and len(audio) == NOTE_SECONDS * SAMPLE_RATE


@pytest.mark.parametrize("case, expected", [
    ("none", "choose a content sound: upload or record one, or pick a shipped example"),
    ("not audio", "the content sound 'notes.wav' is not a readable audio file"),
    ("too long", "the content sound 'long.wav' is 12.0 s long, over the limit of 10 s"),
    ("too big", "the content sound 'big.wav' is 1.1 MB, over the limit of 1 MB"),
    ("empty", "the content sound 'empty.wav' is empty (0 bytes)"),
])
def test_refused_sounds_get_one_line_naming_the_file_not_the_server_path(tmp_path, not_audio, case, expected):
    paths = {"none": None, "not audio": not_audio, "too long": write_tone(tmp_path / "long.wav", 12.0),
             "too big": write_tone(tmp_path / "big.wav", 72.0), "empty": tmp_path / "empty.wav"}
    (tmp_path / "empty.wav").touch()
    with pytest.raises(InputError) as caught:
        check_sound(paths[case], Limits(max_seconds=10, max_mb=1), "content sound")
    message = str(caught.value)
    assert message.startswith(expected) and "\n" not in message and str(tmp_path) not in message


def test_limits_must_be_positive():
    with pytest.raises(InputError, match="duration limit"):
        Limits(max_seconds=0)
    with pytest.raises(InputError, match="size limit"):
        Limits(max_mb=-1)


def test_settings_take_only_the_methods_own_controls():
    gatys = MethodSpec("gatys", "Slow", "", controls=("steps", "style_weight"))
    assert method_settings(gatys, alpha=0.3, steps=5.0, style_weight=100, model="x") == \
        {"seed": 0, "steps": 5, "style_weight": 100.0}
    with pytest.raises(InputError, match="style weight"):
        method_settings(gatys, steps=5, style_weight=-1)
    adain = MethodSpec("adain", "AdaIN", "", controls=("alpha",), model_kind="adain_decoder")
    settings = method_settings(adain, alpha=0.5, steps=60)
    assert settings["alpha"] == 0.5 and "steps" not in settings


def test_instrument_to_instrument_models_offer_their_directions(monkeypatch):
    monkeypatch.setattr(app_module, "shipped_models", lambda: fake_shipped(
        ("cyclegan_generator", "flute-keyboard"), ("pix2pix_generator", "flute-keyboard")))
    specs = {s.name: s for s in usable_methods()}
    assert {"cyclegan", "pix2pix"} <= set(specs)
    cyclegan, pix2pix = specs["cyclegan"], specs["pix2pix"]
    assert app_module.model_choices(cyclegan) == [("flute <-> keyboard", "flute-keyboard")]
    assert app_module.model_choices(pix2pix) == [("flute -> keyboard", "flute-keyboard")]  # one way only
    assert app_module.direction_choices(cyclegan, "flute-keyboard") == [("flute -> keyboard", "a2b"),
                                                                        ("keyboard -> flute", "b2a")]
    assert method_settings(cyclegan, model="flute-keyboard", direction="b2a", alpha=0.5) == \
        {"seed": 0, "model": "flute-keyboard", "direction": "b2a"}
    assert method_settings(pix2pix, model=None, direction="b2a") == {"seed": 0, "model": "flute-keyboard"}
    with pytest.raises(InputError, match="no shipped cyclegan_generator model named 'oboe-flute'"):
        method_settings(cyclegan, model="oboe-flute")
    assert app_module.style_label(cyclegan) == "Style sound (not used by CycleGAN)"


def test_upload_of_a_non_audio_file_is_cleared_with_a_message(tmp_path, not_audio):
    handlers = Handlers(Limits(), out_dir=tmp_path / "out")
    with pytest.warns(UserWarning, match="not a readable audio file"):  # gr.Warning outside a page: a warning
        value, note, pick = handlers.on_upload(str(not_audio), "content sound")
    assert value is None and note.startswith("⚠ the content sound 'notes.wav' is not a readable audio file")
    value, note, _ = handlers.on_upload(str(example_path("keyboard", 60)), "style sound")
    assert note.endswith(": 4.00 s")


def test_picking_an_example_puts_its_file_in_the_input(tmp_path):
    handlers = Handlers(Limits(), out_dir=tmp_path)
    label = next(e.label for e in handlers.examples if e.family == "keyboard" and e.pitch == 60)
    path, note = handlers.on_example(label)
    assert Path(path) == example_path("keyboard", 60) and label in note


def test_blend_of_the_examples_by_the_fastest_method(tmp_path):
    handlers = Handlers(Limits(), threads=1, out_dir=tmp_path / "out")
    spec = handlers.methods[0]
    wav, content_picture, style_picture, result_picture, caption = handlers.on_blend(
        str(example_path("flute", 60)), str(example_path("keyboard", 60)), spec.name,
        **fastest_settings(spec), style_weight=3000.0, alpha=1.0)
    audio, rate = sf.read(wav, dtype="float32")
    assert rate == SAMPLE_RATE and len(audio) == NOTE_SECONDS * SAMPLE_RATE and 0.01 < np.abs(audio).max() <= 0.98
    assert Path(wav).parent == tmp_path / "out" and Path(wav).name.startswith("flute_")
    assert content_picture.shape == result_picture.shape == (256, 256) and content_picture.dtype == np.uint8
    assert (style_picture is None) == (not spec.uses_style)
    assert "4.00 s (16 kHz mono) made in" in caption and "flute" in caption


def test_the_page_keeps_the_contents_pitch_when_asked(tmp_path, monkeypatch):
    asked = []
    real = app_module.transfer

    def recorded(*args, **kwargs):
        asked.append(kwargs.get("keep_pitch"))
        return real(*args, **kwargs)

    monkeypatch.setattr(app_module, "transfer", recorded)
    handlers = Handlers(Limits(), threads=1, out_dir=tmp_path)
    spec = handlers.methods[0]
    for value in (0.0, 1.0):
        wav = handlers.on_blend(str(example_path("flute", 60)), str(example_path("keyboard", 60)), spec.name,
                                **fastest_settings(spec), keep_pitch=value)[0]
        assert Path(wav).exists()
    assert asked == [0.0, 1.0]  # 0 is asked for too: the feed-forward methods' default is 1
    assert any(getattr(block, "elem_id", None) == "keep-pitch" for block in build_app(out_dir=tmp_path).blocks.values())


@pytest.mark.parametrize("content, method, expected", [
    ("not audio", None, "the content sound 'notes.wav' is not a readable audio file"),
    ("flute", "no-such-method", "choose a method"),
    (None, None, "choose a content sound"),
])
def test_blend_errors_are_one_line_page_messages(tmp_path, not_audio, content, method, expected):
    handlers = Handlers(Limits(), out_dir=tmp_path)
    paths = {"not audio": str(not_audio), "flute": str(example_path("flute", 60)), None: None}
    with pytest.raises(gr.Error) as caught:
        handlers.on_blend(paths[content], str(example_path("keyboard", 60)), method or handlers.methods[0].name,
                          steps=5)
    assert caught.value.message.startswith(expected) and "\n" not in caught.value.message
    assert not caught.value.print_exception


def test_an_unexpected_failure_is_one_line_in_the_page_and_a_traceback_in_the_log(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory\nmore detail")

    monkeypatch.setattr(app_module, "transfer", broken)
    handlers = Handlers(Limits(), out_dir=tmp_path)
    with pytest.raises(gr.Error) as caught:
        handlers.on_blend(str(example_path("flute", 60)), str(example_path("keyboard", 60)),
                          handlers.methods[0].name, steps=5)
    assert caught.value.message == "the blend failed (RuntimeError: out of memory); the server's log has the details"
    assert "Traceback" in capsys.readouterr().err


def test_the_page_queues_blends_one_at_a_time(tmp_path):
    demo = build_app(out_dir=tmp_path)
    blends = [fn for fn in demo.fns.values() if fn.api_name == "blend"]
    assert len(blends) == 1 and blends[0].concurrency_limit == 1 and blends[0].queue
    assert demo._queue.max_size == app_module.QUEUE_SIZE
    ids = {block.elem_id for block in demo.blocks.values()}
    assert {"content-audio", "style-audio", "content-example", "style-example", "method", "blend", "result-audio",
            "content-spectrogram", "style-spectrogram", "result-spectrogram"} <= ids
    assert demo.analytics_enabled is False


def test_cli_refuses_a_bad_port_and_a_missing_gradio(capsys, monkeypatch):
    assert main(["app", "--port", "70000"]) == 2
    monkeypatch.setitem(sys.modules, "gradio", None)  # as if the app extra were not installed
    assert main(["app"]) == 2
    assert "pip install 'spectrostyle[app]'" in capsys.readouterr().err


def test_a_port_in_use_is_a_one_line_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(InputError, match=f"cannot serve on 127.0.0.1:{port}"):
            launch("127.0.0.1", port, block=False, announce=lambda line: None)


# ---------------------------------------------------------------------------------------------- browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """``spectrostyle app`` in a subprocess on a free localhost port, as a user starts it (its output to a file,
    so that a full pipe never stalls it)."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    log = log_path.open("w", encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "spectrostyle", "--threads", "1", "app", "--port", str(port)],  # default limits
        stdout=log, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO / "tests",
        # Ctrl-C as in a terminal even when the suite runs as a background job (a shell starts those with SIGINT
        # ignored, children inherit that, and the app then could not be stopped by the SIGINT below)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        if server.poll() is not None:
            pytest.fail(f"spectrostyle app exited with {server.returncode}: {log_path.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"spectrostyle app did not answer at {url} within 90 s", pytrace=False)
        time.sleep(0.3)
    yield url
    server.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()
    output = log_path.read_text(encoding="utf-8")
    assert f"open {url} in a browser" in output
    assert "Traceback" not in output, output
    assert server.returncode == 130 and output.rstrip().endswith("spectrostyle: interrupted"), output


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser test needs Playwright: run `bash scripts/setup.sh --dev`", pytrace=False)
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"the browser test needs Chromium at {CHROMIUM}: run `bash scripts/setup.sh --dev` (it "
                    "apt-installs Debian's chromium), or set SPECTROSTYLE_CHROMIUM", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


def pick(page, dropdown_id: str, label: str) -> None:
    page.locator(f"#{dropdown_id} input").click()
    page.locator(f"#{dropdown_id}").get_by_role("option", name=label, exact=True).click()


def upload(page, audio_id: str, path: Path) -> None:
    clear = page.locator(f"#{audio_id} button[aria-label='Clear']")
    if clear.count():
        clear.first.click()
    page.locator(f"#{audio_id} input[type='file']").set_input_files(str(path))


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_browser_blend_and_refused_uploads(app_url, browser, tmp_path):
    from playwright.sync_api import expect

    spec = usable_methods()[0]  # the fastest method present: the page's default
    outside: list[str] = []

    def local_only(route):  # the page must work offline: anything not from the app is blocked and recorded
        url = route.request.url
        if url.startswith(app_url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.route("**/*", local_only)
    started = time.perf_counter()
    page.goto(app_url)
    run = page.get_by_role("button", name="Blend")
    expect(run).to_be_enabled()
    loaded = time.perf_counter() - started

    # the examples: keyboard as content, flute as style
    pick(page, "content-example", "keyboard C4 (MIDI 60)")
    pick(page, "style-example", "flute C4 (MIDI 60)")
    for audio_id, family in (("content-audio", "keyboard"), ("style-audio", "flute")):
        expect(page.locator(f"#{audio_id} a[download]")).to_have_attribute("href", re.compile(
            family + r"_\w+-060-100\.wav$"))
    expect(page.locator("#content-note")).to_contain_text("keyboard C4")
    expect(page.locator("#style-note")).to_contain_text("flute C4")
    expect(page.locator("#method")).to_contain_text(spec.title)
    page.locator("#method").get_by_text(spec.title, exact=True).click()
    if "steps" in spec.controls:
        steps = page.locator("#steps input[type='number']")
        steps.fill("5")
        steps.press("Enter")

    clicked = time.perf_counter()
    run.click()
    result_link = page.locator("#result-audio a[download]")
    expect(result_link).to_have_count(1, timeout=90_000)
    blended = time.perf_counter() - clicked
    expect(page.locator("#result-caption")).to_contain_text("4.00 s (16 kHz mono) made in")
    for picture in ("content", "style", "result"):
        if picture != "style" or spec.uses_style:
            expect(page.locator(f"#{picture}-spectrogram img")).to_be_visible()
    response = page.request.get(result_link.get_attribute("href"))
    assert response.ok
    audio, rate = sf.read(io.BytesIO(response.body()), dtype="float32")
    assert rate == SAMPLE_RATE and len(audio) / rate == pytest.approx(NOTE_SECONDS, abs=0.02)
    expect(page.locator("#result-audio")).to_contain_text("0:04")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "app-result.png"
    page.screenshot(path=str(screenshot), full_page=True)
    if os.environ.get("SPECTROSTYLE_README_SCREENSHOT"):
        (REPO / "docs").mkdir(exist_ok=True)
        shutil.copyfile(screenshot, REPO / "docs" / "app-screenshot.png")

    # refused uploads: a message in the page, the input cleared
    content_note = page.locator("#content-note")
    write_tone(tmp_path / "long.wav", 65.0)  # 1 MB, over the default 60 s
    write_tone(tmp_path / "big.wav", 250.0, rate=44_100)  # 21 MB, over the default 20 MB
    (tmp_path / "notes.wav").write_text("a text file with a .wav name, not a sound\n", encoding="utf-8")
    upload(page, "content-audio", tmp_path / "notes.wav")
    expect(content_note).to_contain_text("the content sound 'notes.wav' is not a readable audio file")
    expect(page.locator(".toast-body").filter(has_text="not a readable audio file")).to_be_visible()
    expect(page.locator("#content-audio a[download]")).to_have_count(0)
    (tmp_path / "notes.txt").write_text("not a sound either\n", encoding="utf-8")
    upload(page, "content-audio", tmp_path / "notes.txt")  # refused by the page itself, by its file type
    expect(page.locator(".toast-body").filter(has_text="Invalid file type")).to_contain_text("notes.txt")
    upload(page, "content-audio", tmp_path / "long.wav")
    expect(content_note).to_contain_text("the content sound 'long.wav' is 65.0 s long, over the limit of 60 s")
    upload(page, "content-audio", tmp_path / "big.wav")
    expect(page.locator(".toast-body").filter(has_text="exceed the maximum allowed size")).to_contain_text("big.wav")
    expect(page.locator("#content-audio a[download]")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "app-refused-upload.png"), full_page=True)

    # blending without a content sound: the message in the page, no traceback
    run.click()
    expect(page.locator(".toast-body").filter(has_text="choose a content sound")).to_be_visible()
    assert "Traceback" not in page.content()
    assert outside == [], f"the page tried to reach the internet: {outside}"
    context.close()
    print(f"\npage loaded in {loaded:.1f} s; {spec.name} blend in {blended:.1f} s from the click; "
          f"screenshot: {screenshot}")



@requires_shipped("pix2pix_generator", "flute-keyboard")
def test_the_app_plays_a_stereo_recording_back_full_band_and_pictures_the_whole_band(tmp_path):
    from tests.core.test_studio import stereo_recording

    content = tmp_path / "stereo.wav"
    sf.write(content, stereo_recording(2.0), 44_100)
    made = blend(content, None, "pix2pix", out_dir=tmp_path / "out")
    audio, rate = sf.read(made.wav)
    assert rate == 44_100 and audio.shape == (88_200, 2)
    assert "44.1 kHz stereo" in made.caption
    assert made.content_image.shape[0] == made.result_image.shape[0] == 512  # 2048-sample frames: 0-22 kHz


@requires_shipped("adain_decoder", "default")
def test_the_instrument_handler_builds_a_zip_and_plays_a_scale(tmp_path):
    import zipfile

    from spectrostyle.ui.app_blend import make_instrument

    made = make_instrument("flute", example_path("keyboard", 60), "adain", keys="60-66", out_dir=tmp_path)
    names = zipfile.ZipFile(made.archive).namelist()
    assert "flute-adain/flute-adain.sfz" in names and "flute-adain/flute-adain.sf2" in names
    assert sum(n.endswith(".flac") for n in names) == 3  # roots 60, 63, 66
    scale, rate = sf.read(made.preview)
    assert rate == 44_100 and scale.shape[1] == 2 and np.abs(scale).max() > 0.5
    assert "3 samples" in made.caption
    with pytest.raises(InputError, match="instrument family"):
        make_instrument("kazoo", None, "pix2pix", out_dir=tmp_path)


@requires_shipped("adain_decoder", "default")
def test_the_blend_takes_an_alpha_curve():
    spec = next(s for s in usable_methods() if s.name == "adain")
    assert method_settings(spec, alpha=0.5, alpha_curve=" 0:0,2:1 ")["alpha_curve"] == "0:0,2:1"
    assert "alpha_curve" not in method_settings(spec, alpha=0.5, alpha_curve="  ")
