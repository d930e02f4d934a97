"""A real browser reads the report page of a tiny run: headless Chromium renders it, and what it shows is checked.

Two real tiny runs (the baseline, and one with a planted change: another pruning loss weight) score an evaluation
file whose first query and context carry markup. Chromium dumps the DOM as it built it (with a probe script that
the test adds to a copy of the page, since the page itself has none) and takes a screenshot.

The browser: Debian's `chromium-headless-shell` (`apt-get install chromium-headless-shell`; scripts/setup-env.sh
installs it where it runs as root), `chromium`, or the binary PRUNING_CHROMIUM names. Without one the test skips and
says how to install it, except where PRUNING_REQUIRE_BROWSER=1 (scripts/test.sh, so CI), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from pruning.cli.baseline import main as baseline_main
from tests.harness.helpers import EASY, tiny_data, tiny_run

pytestmark = pytest.mark.slow

INSTALL = (
    "install it with `apt-get install chromium-headless-shell` (Debian) or set PRUNING_CHROMIUM to a Chromium binary"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
PROBE = (
    "<script>window.addEventListener('load', () => {"
    "const imgs = [...document.images];"
    "document.body.dataset.images = imgs.length;"
    "document.body.dataset.loaded = imgs.filter(i => i.complete && i.naturalWidth > 0).length;"
    "document.body.dataset.alerts = String(window.__alerts || 0);"
    "});</script>"
)
# counts any alert() the page's data might run; the page's CSP forbids inline scripts, so the probe copy drops it
ALERT_TRAP = "<script>window.__alerts = 0; window.alert = () => { window.__alerts += 1; };</script>"


def _browser() -> str | None:
    named = os.environ.get("PRUNING_CHROMIUM")
    if named:
        return named
    return next((p for p in map(shutil.which, ("chromium-headless-shell", "chromium", "chromium-browser")) if p), None)


def _png_rows(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered bytes of each row of an 8-bit RGB(A) PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = prev[x], prev[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


@pytest.fixture(scope="module")
def report(tmp_path_factory, tiny_backbone_dir) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("report_browser")
    items = json.loads(EASY.read_text(encoding="utf-8"))
    items[0]["query"] = "<script>alert('query')</script>" + items[0]["query"]
    items[0]["contexts"][0] = "</table><img src=x onerror=\"alert('context')\">" + items[0]["contexts"][0]
    evil = root / "pruning_data_easy_ja.json"
    evil.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    data = tiny_data(root / "data")
    base = tiny_run(root, tiny_backbone_dir, data, "base", 1, eval_file=evil)
    changed = tiny_run(root, tiny_backbone_dir, data, "changed", 1, eval_file=evil, pruning_weight=0.2)
    assert baseline_main(["capture", str(base), "-o", str(root / "base.json")]) == 0
    page = root / "report.html"
    code = baseline_main(
        ["compare", str(changed), str(root / "base.json"), "--report", str(page), "--output-json", str(root / "c.json")]
    )
    assert code == 1, "the planted change must fail the comparison"
    return page, json.loads((root / "c.json").read_text())


def test_chromium_renders_the_report(report, tmp_path):
    browser = _browser()
    if browser is None:
        if os.environ.get("PRUNING_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no Chromium for the report test: {INSTALL}")
        pytest.skip(f"no Chromium: {INSTALL}")
    page, comparison = report
    html = page.read_text(encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(
        html.replace("<head>", "<head>" + ALERT_TRAP, 1).replace("</body>", PROBE + "</body>", 1), encoding="utf-8"
    )
    probed.write_text(probed.read_text(encoding="utf-8").replace("default-src 'none';", "script-src 'unsafe-inline';"))
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run(
        [browser, *FLAGS, *profile, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    images = html.count('<img src="data:image/svg+xml')
    assert images >= 3
    assert f'data-images="{images}"' in dom and f'data-loaded="{images}"' in dom, "a picture did not load"
    assert 'data-alerts="0"' in dom, "markup from the evaluation file ran"
    assert "&lt;script&gt;alert('query')&lt;/script&gt;" in dom and "onerror=\"alert('context')\"" not in dom
    assert 'class="verdict fail" id="verdict">FAIL: ' in dom
    for check in comparison["checks"]:  # the setup rows are listed under "What else differs", without the prefix
        name = check["name"].removeprefix("setup: ")
        assert f"<td>{name.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</td>" in dom, name
    assert "Is the change real?" in dom and "contexts that moved most" in dom

    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *FLAGS, *profile, "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    width, height, rows = _png_rows(shot)
    assert (width, height) == (1280, 2400)
    distinct = {row[i : i + 3] for row in rows[::8] for i in range(0, len(row), 3 * 16)}
    assert len(distinct) > 20, "the screenshot is (nearly) blank"
