"""A Hub model's first Run in a real browser: the app starts with an empty Hugging Face cache, ``HF_ENDPOINT`` at the
loopback Hub stand-in (tests/hub_standin.py, throttled so the download lasts seconds) and page downloads allowed.
Run shows the size, then a progress bar; Cancel download stops it mid-file with one line and leaves no partial
file; Run again downloads and answers. No host but 127.0.0.1 is contacted.

The tiny test CLIP's weights carry an unused 3 MB tensor: huggingface_hub moves the bar (and sees Cancel) once per
1 MiB read (components.models.supply.CHUNK_BYTES), so the file must span a few of them.
"""
from __future__ import annotations

import re

import pytest
from hub_checkpoints import CHECKPOINTS, build_all
from hub_standin import HubStandin

from . import (
    MAIN,
    assert_no_exception,
    launch_chromium,
    main_text,
    open_page,
    screenshot,
    select_only,
    start_app,
    stop_app,
    tab,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLIP = "clip_vit_b_32"
REPO = CHECKPOINTS[CLIP].repo
RATE = 400_000.0  # bytes per second: the 3.2 MB of weights take ~8 s
PADDING = 750_000  # float32 values in the unused tensor (3 MB)
# every text the progress bars of the page show, recorded as it changes (the size line lasts a fraction of a second)
RECORD_BARS = """() => {
  window.__bars = [];
  new MutationObserver(() => document.querySelectorAll('[data-testid="stProgress"]').forEach(bar => {
    const text = bar.innerText.trim();
    if (text && window.__bars[window.__bars.length - 1] !== text) window.__bars.push(text);
  })).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    import torch
    from safetensors.torch import load_file, save_file

    layout = build_all(tmp_path_factory.mktemp("download-hub"), [CLIP])
    weights = layout.folder(CLIP) / "model.safetensors"
    save_file({**load_file(weights), "padding.unused": torch.zeros(PADDING)}, weights, metadata={"format": "pt"})
    with HubStandin({REPO: layout.folder(CLIP)}, rate=RATE) as standin:
        yield standin


@pytest.fixture(scope="module")
def online_app(hub, tmp_path_factory):
    """The app with the stand-in as its Hub, an empty cache and page downloads allowed."""
    workdir = tmp_path_factory.mktemp("download-app")
    home = workdir / "hf_home"
    server = start_app(workdir, {
        "MODEL_EXPLORER_OFFLINE": "0", "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0", "HF_ENDPOINT": hub.url, "HF_HOME": str(home), "HF_HUB_CACHE": str(home / "hub"),
        "HF_HUB_DISABLE_TELEMETRY": "1", "MODEL_EXPLORER_ALLOW_DOWNLOADS": "1", "MODEL_EXPLORER_MODELS_DIR": "",
        "NO_PROXY": "127.0.0.1"})
    try:
        yield server, home / "hub"
    finally:
        stop_app(server)


def bars(page) -> list[str]:
    return page.evaluate("() => window.__bars")


def test_first_run_shows_size_and_progress_cancel_leaves_nothing_then_run_again_answers(hub, online_app,
                                                                                         playwright_instance):
    server, cache = online_app
    folder = hub.repos[REPO]
    size = (folder / "model.safetensors").stat().st_size
    total = f"{sum(f.stat().st_size for f in folder.iterdir()) / 1e6:,.1f} MB"
    browser = launch_chromium(playwright_instance)
    try:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        runs = open_page(page, server.base_url + "/multimodal")
        tab(page, "Samples")
        runs.do(lambda: page.locator(MAIN).get_by_role("button", name="chelsea", exact=True).click())
        select_only(page, "Models", "CLIP ViT-B/32")
        page.evaluate(RECORD_BARS)
        run = page.locator(MAIN).get_by_role("button", name="Run", exact=True)
        run.click()
        moving = re.compile(rf"Downloading CLIP ViT-B/32: [12]\.\d MB of {re.escape(total)}, [\d.]+ MB/s, \d+ s left")
        wait_until(page, lambda: any(moving.search(text) for text in bars(page)), "bytes moving", timeout=60_000)
        seen = bars(page)
        assert any(text.startswith(f"Downloading CLIP ViT-B/32 ({total}) from the Hub") for text in seen), seen
        page.locator(MAIN).get_by_role("button", name=re.compile("Cancel download")).click()
        line = wait_until(page, lambda: [t for t in page.locator(MAIN).get_by_text("was cancelled").all_inner_texts()
                                         if t.strip()], "the cancelled line", timeout=30_000)
        assert len(line) == 1 and "\n" not in line[0].strip(), line
        assert_no_exception(page, "after Cancel download")
        screenshot(page, "download-cancelled")
        snapshot = cache / f"models--{REPO.replace('/', '--')}" / "snapshots"
        wait_until(page, lambda: not list(cache.rglob("*.incomplete")), "the partial file removed", timeout=15_000)
        assert not list(snapshot.rglob("model.safetensors")), "a half file is in the snapshot"
        cut_short = hub.sent[f"/{REPO}/model.safetensors"]

        runs.do(lambda: run.click(), timeout=120_000)
        page.locator(f"{MAIN} .js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
        assert "real weights" in main_text(page)
        assert "was cancelled" not in main_text(page)
        assert_no_exception(page, "after the second Run")
        assert next(snapshot.rglob("model.safetensors")).stat().st_size == size
        assert 0 < cut_short < size  # cancelled mid-file
        gets = [rng for method, path, rng in hub.requests if method == "GET" and path.endswith("/model.safetensors")]
        assert gets == ["", ""], gets  # the second Run fetched the weights anew, from their first byte
        screenshot(page, "download-done")
    finally:
        browser.close()
