"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``, which ``.ci/run``
installs) opens the page ``kfp-tune report`` writes, as a person would from the file, and the
test checks that every plot decodes and shows, that nothing is fetched from outside the file, and
that the page logs no error. A screenshot of the whole page is kept as the test's artifact.

Chromium is driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``: the
browser reads commands on fd 3 and answers on fd 4), so no port and no extra package is needed.
Without Chromium the test fails rather than skips: CI must not pass without having looked.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import shutil
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from test_report_views import write_experiment

from kfp_tune.report_views import TIMELINE_TITLE

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--remote-debugging-pipe", "--window-size=1280,900",
]
DEADLINE_S = 120.0
"""A bound on the whole conversation with the browser, so a hung browser fails the test instead
of hanging it (never a wait for something to happen: every wait is for a message)."""

VIEWS = [
    "Objective per trial", "Parameters against the objective", "Parallel coordinates",
    "Objective over each trial's reports", "Parameter importance", TIMELINE_TITLE,
]

PAGE_FACTS = """
(async () => {
  const images = [...document.images];
  await Promise.all(images.map(i => i.decode().catch(() => null)));
  // the heading an image is under: the last h2 before it
  const heading = i => [...document.querySelectorAll('h2')].filter(h => h.compareDocumentPosition(i) & Node.DOCUMENT_POSITION_FOLLOWING).pop().textContent;
  return {
    images: images.map(i => ({alt: i.alt, heading: heading(i), complete: i.complete, naturalWidth: i.naturalWidth,
      naturalHeight: i.naturalHeight, shownWidth: i.getBoundingClientRect().width,
      shownHeight: i.getBoundingClientRect().height, src: i.src})),
    headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
    notes: [...document.querySelectorAll('p.note')].map(p => p.textContent),
    rows: document.querySelectorAll('tbody tr').length,
    scripts: document.scripts.length,
  };
})()
"""


class DevTools:
    """A Chromium process and its DevTools protocol over the pipe: commands, their replies, and
    every event that came before them."""

    def __init__(self, profile: Path) -> None:
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} is missing: the report's browser test needs Debian's chromium (apt-get install -y chromium; .ci/run does)")
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # the browser's ends moved above 9, so that none is already fd 3 or 4 (closed below)
        commands_read, replies_write = (_moved_up(fd) for fd in (commands_read, replies_write))
        # the browser wants the pipe on fds 3 and 4: bash (whose redirections take any fd number,
        # dash's only 0-9) puts them there, then becomes Chromium
        script = f'exec "$0" "$@" 3<&{commands_read} 4>&{replies_write} {commands_read}<&- {replies_write}>&-'
        self.log = profile.parent / "chromium.log"  # a file, not a pipe: its chatter must never block it
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                ["bash", "-c", script, CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                pass_fds=(commands_read, replies_write), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        os.close(commands_read)
        os.close(replies_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self._deadline = time.monotonic() + DEADLINE_S

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self._deadline - time.monotonic()
            ready, _, _ = select.select([self._replies], [], [], max(left, 0))
            if not ready:
                pytest.fail(f"Chromium did not answer within {DEADLINE_S} s")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                pytest.fail(f"Chromium closed the DevTools pipe; the end of its log:\n{self.log.read_text(errors='replace')[-3000:]}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its reply, keeping the events that arrive meanwhile."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            command["sessionId"] = session
        os.write(self._commands, json.dumps(command).encode() + b"\0")
        while True:
            message = self._message()
            if message.get("id") == self._next_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        """The first event ``method`` of the session, already received or the next to come."""
        for event in self.events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        while True:
            event = self._message()
            self.events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return event

    def close(self) -> None:
        with contextlib.suppress(OSError):  # it may have gone already
            os.write(self._commands, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._commands, self._replies):
            os.close(fd)


def _moved_up(fd: int) -> int:
    """The same pipe end as a descriptor numbered 10 or more (the old number closed)."""
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


def _png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height from its header, after checking that it is one."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page ``kfp-tune report`` writes for a 60-trial experiment (some failed, some stopped
    early, two still running), every view with something to show."""
    from kfp_tune.cli import main

    root = tmp_path_factory.mktemp("browser")
    written = write_experiment(root / "store", trials=60, seed=7, running=2)
    assert main(["report", written.name, "--store", str(root / "store"), "-o", str(root / "out")]) == 0
    return root / "out" / f"{written.name}.html"


def test_the_report_renders_in_chromium(report_file: Path, tmp_path: Path) -> None:
    import base64

    from PIL import Image

    browser = DevTools(tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session)
        browser.send("Page.navigate", session, url=report_file.as_uri())
        browser.wait_for("Page.loadEventFired", session)
        facts = browser.send("Runtime.evaluate", session, expression=PAGE_FACTS, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in facts, facts
        page = facts["result"]["value"]
        size = browser.send("Page.getLayoutMetrics", session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = browser.send("Page.captureScreenshot", session, format="png", captureBeyondViewport=True, clip=clip)
    finally:
        browser.close()

    # every plot is there, decoded at the size its PNG says, and shown on the page
    assert [i["heading"] for i in page["images"]] == VIEWS and page["notes"] == []
    assert all(i["alt"] and i["alt"] != i["heading"] for i in page["images"])  # what it shows, in words
    for image in page["images"]:
        encoded = base64.b64decode(image["src"].split(",", 1)[1])
        assert image["complete"] and (image["naturalWidth"], image["naturalHeight"]) == _png_size(encoded), image["alt"]
        assert image["naturalWidth"] > 0 and image["shownWidth"] > 0, image["alt"]
    assert page["headings"][0] == "Best 20 of 60 trials" and page["headings"][1 : len(VIEWS) + 1] == VIEWS and page["headings"][-1] == "Trials"
    assert page["rows"] == 20 + 60 and page["scripts"] == 0  # the best 20 first, then every trial

    # nothing but the file itself and its data: URIs was loaded, and nothing went wrong
    requested = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(url == report_file.as_uri() or url.startswith("data:") for url in requested), requested
    failures = [e for e in browser.events if e.get("method") in ("Runtime.exceptionThrown", "Network.loadingFailed")]
    failures += [e for e in browser.events if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert", "warning")]
    failures += [e for e in browser.events if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning")]
    assert failures == []

    # the screenshot: the artifact to look at, a real PNG of the whole page with the plots' colours in it
    png = base64.b64decode(shot["data"])
    artifact = tmp_path / "report-screenshot.png"
    artifact.write_bytes(png)
    print(f"screenshot of the report in Chromium: {artifact}")
    width, height = _png_size(png)
    assert (width, height) == (round(size["width"]), round(size["height"]))
    assert height > sum(i["shownHeight"] for i in page["images"])  # the whole page, not the window
    with Image.open(io.BytesIO(png)) as picture:
        picture.load()
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 256  # plots drawn, not a blank page


def _open_page(browser: DevTools, url: str, width: int = 1280, height: int = 900) -> str:
    """A new tab showing ``url`` at a ``width`` x ``height`` CSS px viewport, loaded: its session."""
    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    browser.send("Page.enable", session)
    browser.send("Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1, mobile=False)
    browser.send("Page.navigate", session, url=url)
    browser.wait_for("Page.loadEventFired", session)
    return session


def _evaluate(browser: DevTools, session: str, expression: str) -> Any:
    found = browser.send("Runtime.evaluate", session, expression=expression, returnByValue=True)
    assert "exceptionDetails" not in found, found
    return found["result"]["value"]


HOST_FACTS = """
(() => {
  const facts = () => {
    const body = getComputedStyle(document.body), table = getComputedStyle(document.getElementById('host-table'));
    const cell = getComputedStyle(document.getElementById('host-cell'));
    return {margin: body.margin, font: body.fontFamily, tableFont: table.fontSize, collapse: table.borderCollapse,
            cellBorder: cell.borderTopWidth, cellPadding: cell.paddingLeft};
  };
  const before = facts();
  document.getElementById('output').innerHTML = REPORT;
  const cell = getComputedStyle(document.querySelector('#output td'));
  return {before, after: facts(), reportCell: {border: cell.borderTopWidth, padding: cell.paddingLeft},
          heading: document.querySelector('#output h1').getBoundingClientRect().left};
})()
"""


def test_the_report_shown_inside_a_notebook_page_restyles_nothing_of_it(tmp_path: Path) -> None:
    """display(HTML(html_report(...))) puts the page inside the notebook's own (innerHTML): its
    style rules, page-wide before (body's margin and font, every table, cell and image), now
    apply inside the report only. The report still styles itself there, and, as a file of its
    own, keeps its 24 px margins."""
    from kfp_tune.reports import html_report, load_report

    written = write_experiment(tmp_path / "store", trials=4, seed=3)
    report = html_report(load_report(written.store, written.name))
    (tmp_path / "report.html").write_text(report, encoding="utf-8")
    host = tmp_path / "host.html"
    host.write_text(
        "<!DOCTYPE html><html><head><style>body{margin:0;font-family:serif}</style></head><body>"
        '<table id="host-table"><tr><td id="host-cell">the notebook\'s own table</td></tr></table><div id="output"></div></body></html>',
        encoding="utf-8",
    )
    browser = DevTools(tmp_path / "profile")
    try:
        inside = _evaluate(browser, _open_page(browser, host.as_uri()), HOST_FACTS.replace("REPORT", json.dumps(report)))
        alone = _evaluate(browser, _open_page(browser, (tmp_path / "report.html").as_uri()), """
          (() => { const h = document.querySelector('h1').getBoundingClientRect(), body = getComputedStyle(document.body);
                   return {left: h.left, top: h.top, font: getComputedStyle(document.querySelector('h1')).fontFamily, margin: body.margin}; })()""")
    finally:
        browser.close()
    assert inside["after"] == inside["before"] and inside["before"]["margin"] == "0px", inside
    assert inside["reportCell"] == {"border": "1px", "padding": "8px"} and inside["heading"] == 16  # its own margin, inside the host's none
    assert (alone["left"], alone["top"], alone["font"]) == (24, 24, "sans-serif"), alone


TABLE_FACTS = """
(() => {
  const heads = [...document.querySelectorAll('thead th')].map(th => [th.textContent, th.getBoundingClientRect().right]);
  const names = [...document.querySelectorAll('tbody th.trial')].map(td => {
    const range = document.createRange(); range.selectNodeContents(td);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
  });
  return {heads, names, width: document.documentElement.clientWidth, scrolls: document.documentElement.scrollWidth};
})()
"""


@pytest.mark.parametrize("width", [800, 1280])
def test_with_twelve_parameters_the_objective_stays_in_view_and_names_on_one_line(tmp_path: Path, width: int) -> None:
    """12 parameters made a trial table 1,807 px wide with the objective its last column, off
    screen at 1280 px, and each trial's name broken over three lines. Now the status and the
    metrics come first, a name keeps to one line, and the table scrolls by itself: the page is
    no wider than the window."""
    from kfp_tune import search, tune
    from kfp_tune.reports import html_report, load_report
    from kfp_tune.stores import LocalStore

    space = {f"param_number_{k}": search.double(0.0, 1.0) for k in range(1, 13)}
    tune(lambda p: {"loss": sum(p.values()), "accuracy": 1 / (1 + sum(p.values()))}, space, objective_metric_name="loss",
         additional_metric_names=["accuracy"], max_trial_count=3, algorithm="random", algorithm_settings={"random_state": 5},
         store=str(tmp_path / "store"), name="many-params")
    page = tmp_path / "many-params.html"
    page.write_text(html_report(load_report(LocalStore(tmp_path / "store"), "many-params")), encoding="utf-8")
    browser = DevTools(tmp_path / "profile")
    try:
        facts = _evaluate(browser, _open_page(browser, page.as_uri(), width=width), TABLE_FACTS)
    finally:
        browser.close()
    heads = dict(facts["heads"])
    assert [h for h, _ in facts["heads"]][:4] == ["trial", "status", "loss", "accuracy"] and len(heads) == 16
    assert heads["accuracy"] <= facts["width"] <= width, facts  # the metrics in view (the width less a scroll bar)
    assert facts["names"] == [1, 1, 1] and facts["scrolls"] == facts["width"], facts
