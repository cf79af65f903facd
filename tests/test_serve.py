"""``nertag serve`` through HTTP (starlette's TestClient and a real uvicorn server) and through
headless Chromium: the record of ``nertag tag``, refusals as one-line JSON, models loaded once
however many requests race, and a page that marks entities without running the user's markup."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from starlette.testclient import TestClient

import nertag
from cli import main
from nertag.builtin import DEFAULT_CHINESE, DEFAULT_OTHER, builtin_models
from nertag.routing import ModelChoice
from nertag.serve import listen, make_app

BIOGRAPHY = "姚明（30）年1月2日出生于河南省郑州市，祖籍浙江宁波，中国职业篮球运动员。"
REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not {DEFAULT_CHINESE, DEFAULT_OTHER} <= set(builtin_models()), reason="the built-in default models are not installed"
)


def load_like_the_api(name: str) -> Any:
    """What ``nertag.tag`` loads: float32 on the CPU, so confidences match it to the digit."""
    return nertag.load(name, "cpu", "float32")


class CountingLoader:
    """A loader that counts its calls per model and can wrap what it loads."""

    def __init__(self, wrap: Callable[[Any], Any] = lambda tagger: tagger, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self._wrap, self._delay = wrap, delay
        self._lock = threading.Lock()

    def __call__(self, name: str) -> Any:
        with self._lock:
            self.calls.append(name)
        time.sleep(self._delay)  # keeps the load in progress while the other requests arrive
        return self._wrap(load_like_the_api(name))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(make_app(ModelChoice(None, load_like_the_api))) as test_client:
        yield test_client


def cli_line(text: str, *options: str) -> str:
    result = CliRunner().invoke(main, ["tag", "--precision", "float32", *options], input=text + "\n")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_tag_answers_the_record_nertag_tag_writes(client: TestClient) -> None:
    response = client.post("/tag", json={"text": BIOGRAPHY})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.text == cli_line(BIOGRAPHY)  # the same bytes, not merely the same JSON
    record = response.json()
    assert record["model"] == DEFAULT_CHINESE and record["text"] == BIOGRAPHY
    assert record["entities"] == [entity.to_json() for entity in nertag.tag(BIOGRAPHY)]
    found = {(e["text"], e["label"]) for e in record["entities"]}
    assert {("姚明", "PER"), ("河南省", "LOC"), ("郑州市", "LOC")} <= found
    for entity in record["entities"]:
        assert BIOGRAPHY[entity["start"] : entity["end"]] == entity["text"] and 0 <= entity["confidence"] <= 1


def test_min_confidence_leaves_out_what_nertag_tag_leaves_out(client: TestClient) -> None:
    text = "姚明出生于河南省郑州市，在NBA效力于火箭队。"
    everything = client.post("/tag", json={"text": text}).json()["entities"]
    # Halfway between the two lowest (rounded) confidences, so rounding cannot move one across it.
    lowest, next_lowest = sorted({e["confidence"] for e in everything})[:2]
    assert next_lowest - lowest > 0.00015  # exact values lie within 0.00005 of these 4-place roundings
    floor = round((lowest + next_lowest) / 2, 5)
    response = client.post(f"/tag?min_confidence={floor}", json={"text": text})
    assert response.status_code == 200
    assert response.text == cli_line(text, "--min-confidence", str(floor))
    assert response.json()["entities"] == [e for e in everything if e["confidence"] >= floor]
    page = client.post(f"/tag?format=html&min_confidence={floor}", json={"text": text}).text
    assert page.count("<mark") == len(response.json()["entities"])
    for bad in ("1.5", "-0.1", "nan", "high"):
        refused = client.post(f"/tag?min_confidence={bad}", json={"text": text})
        assert refused.status_code == 400 and "min_confidence" in refused.json()["error"]
    with TestClient(make_app(ModelChoice(None, load_like_the_api), min_confidence=floor)) as strict:
        assert strict.post("/tag", json={"text": text}).json()["entities"] == response.json()["entities"]
        assert strict.post("/tag?min_confidence=0", json={"text": text}).json()["entities"] == everything
    with pytest.raises(ValueError, match="min_confidence"):
        make_app(ModelChoice(None, load_like_the_api), min_confidence=2)


def test_each_text_goes_to_its_languages_model(client: TestClient) -> None:
    english = "John Smith flew from Paris to Berlin with Lufthansa."
    record = client.post("/tag", json={"text": english}).json()
    assert record["model"] == DEFAULT_OTHER
    assert json.dumps(record, ensure_ascii=False) + "\n" == cli_line(english)


def test_a_named_model_tags_every_text_and_loads_before_serving() -> None:
    loader = CountingLoader()
    models = ModelChoice(DEFAULT_OTHER, loader)
    models.load_named()
    with TestClient(make_app(models)) as named:
        record = named.post("/tag", json={"text": BIOGRAPHY}).json()
        assert 'lang="en"' in named.get("/").text
    assert loader.calls == [DEFAULT_OTHER]
    assert record["model"] == DEFAULT_OTHER
    assert json.dumps(record, ensure_ascii=False) + "\n" == cli_line(BIOGRAPHY, "--model", DEFAULT_OTHER)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"not json", "expected JSON"),
        (b'{"text": "a"', "expected JSON"),
        (b"\xff\xfe\xfa", "expected JSON"),
        (b"[" * 100_000, "expected JSON"),  # nested past Python's recursion limit, or refused as bad JSON
        (b'["text"]', "got an array"),
        (b'"text"', "got a string"),
        (b'{"txt": "a"}', 'without "text"'),
        (b'{"text": 5}', "text: expected a string, got a number"),
        (b'{"text": null}', "got null"),
        (b'{"text": ["a"]}', "got an array"),
        (b'{"text": "\\ud800"}', "not valid Unicode"),
    ],
)
def test_bad_requests_get_400_with_one_line(client: TestClient, body: bytes, expected: str) -> None:
    response = client.post("/tag", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert expected in error or "nested" in error
    assert "\n" not in error


def test_unknown_format_is_400(client: TestClient) -> None:
    response = client.post("/tag?format=xml", json={"text": "a"})
    assert response.status_code == 400 and "format" in response.json()["error"]


def test_size_limits_answer_413_and_the_server_goes_on() -> None:
    with TestClient(make_app(ModelChoice(None, load_like_the_api), max_chars=10)) as small:
        assert small.post("/tag", json={"text": "姚明" * 5}).status_code == 200
        too_long = small.post("/tag", json={"text": "姚明" * 5 + "。"})
        assert too_long.status_code == 413 and "11 characters" in too_long.json()["error"]
        declared = small.post("/tag", content=b" " * 100_000, headers={"content-type": "application/json"})
        assert declared.status_code == 413 and "bytes" in declared.json()["error"]
        streamed = small.post("/tag", content=iter([b" " * 1000] * 100))  # chunked: no length declared
        assert streamed.status_code == 413 and "bytes" in streamed.json()["error"]
        assert small.post("/tag", json={"text": "宁波"}).status_code == 200


def test_bad_max_chars_is_refused() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        make_app(ModelChoice(None, load_like_the_api), max_chars=0)


@contextlib.contextmanager
def real_server(app: Any) -> Iterator[str]:
    """``app`` under uvicorn in a thread, on a free port of 127.0.0.1."""
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


class OneAtATime:
    """Wraps a tagger to record how many threads are inside ``tag_texts`` at once."""

    def __init__(self, tagger: Any, entered: list[int]) -> None:
        self._tagger, self._entered = tagger, entered
        self._inside = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tagger, name)

    def tag_texts(self, texts: Any) -> Any:
        self._inside += 1
        self._entered.append(self._inside)
        try:
            time.sleep(0.05)  # widens the window two unguarded threads would meet in
            return self._tagger.tag_texts(texts)
        finally:
            self._inside -= 1


def test_concurrent_requests_load_the_model_once_and_enter_it_one_at_a_time() -> None:
    entered: list[int] = []
    loader = CountingLoader(lambda tagger: OneAtATime(tagger, entered), delay=0.5)
    app = make_app(ModelChoice(None, loader))
    assert loader.calls == []  # the page's legend comes from the manifest: nothing loads before a request
    texts = [BIOGRAPHY] + [f"{name}出生于河南省郑州市。" for name in ("王小明", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵雷")]
    expected = [cli_line(text) for text in texts]
    barrier = threading.Barrier(len(texts))
    with real_server(app) as url, httpx.Client(base_url=url, timeout=120) as http:

        def ask(text: str) -> str:
            barrier.wait()
            response = http.post("/tag", json={"text": text})
            assert response.status_code == 200, response.text
            return response.text

        with ThreadPoolExecutor(len(texts)) as pool:
            answers = list(pool.map(ask, texts))
    assert answers == expected
    assert loader.calls == [DEFAULT_CHINESE]
    assert len(entered) == len(texts) and max(entered) == 1


def test_the_event_loop_answers_while_a_model_tags() -> None:
    release = threading.Event()

    class Held:
        def __init__(self, tagger: Any) -> None:
            self._tagger = tagger

        def __getattr__(self, name: str) -> Any:
            return getattr(self._tagger, name)

        def tag_texts(self, texts: Any) -> Any:
            assert release.wait(60)
            return self._tagger.tag_texts(texts)

    app = make_app(ModelChoice(None, CountingLoader(Held)))
    with real_server(app) as url, httpx.Client(base_url=url, timeout=120) as http, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(http.post, "/tag", json={"text": BIOGRAPHY})
        try:
            time.sleep(0.5)
            assert not pending.done()
            assert http.get("/", timeout=10).status_code == 200  # answered while tagging is held
        finally:
            release.set()
        assert pending.result().status_code == 200


def test_page_is_self_contained_with_form_legend_and_a_locked_down_script(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<textarea id="text"' in page and '<button type="submit"' in page and 'id="result"' in page
    legend = re.search(r'<div class="legend">(.*?)</div>', page, re.S)
    assert legend is not None
    labels = set(re.findall(r'data-label="([^"]+)"', legend.group(1)))
    assert labels == set(ModelChoice(None, load_like_the_api).labels())
    assert not re.search(r"\b(src|href)\s*=", page) and "http://" not in page and "https://" not in page
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"script-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy


def test_html_answer_escapes_the_text(client: TestClient) -> None:
    text = '<script>alert(1)</script><img src=x onerror="alert(2)">' + BIOGRAPHY  # Chinese enough to route to zh
    response = client.post("/tag?format=html", json={"text": text})
    assert response.status_code == 200
    fragment = response.text
    assert "<script" not in fragment and "<img" not in fragment
    # The model may mark pieces of the markup (zh-general calls "script" a person): it is only text.
    assert fragment.count("&lt;") == text.count("<") and fragment.count("&gt;") == text.count(">")
    visible = re.sub(r"<[^>]*>", "", re.sub(r'<span class="label">[^<]*</span>', "", fragment))
    assert html.unescape(visible).strip() == text
    assert re.search(r'<mark class="entity" data-label="PER"[^>]*>姚明<span class="label">PER</span></mark>', fragment)


def test_cli_reports_a_bad_model_and_a_busy_port_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(main, ["serve", "--model", str(tmp_path / "missing")])
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("nertag: error:")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        busy = runner.invoke(main, ["serve", "--model", DEFAULT_OTHER, "--port", str(port)])
    assert busy.exit_code == 1 and busy.stderr == f"nertag: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


# --- headless Chromium ---------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@contextlib.contextmanager
def served_by_the_cli(log_path: Path) -> Iterator[str]:
    """``python -m nertag serve`` in a subprocess, as a user starts it; waits until it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen([sys.executable, "-m", "nertag", "serve", "--port", str(port), "--threads", "1"],
                                   cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"nertag serve exited: {log_path.read_text()}"
            assert time.monotonic() < deadline, f"nertag serve did not answer: {log_path.read_text()}"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/", timeout=5).status_code == 200:
                    break
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless Chromium and its driver are not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install 'nertag[test]')")
    from selenium.common.exceptions import SessionNotCreatedException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1000,700",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    try:  # an explicit driver path keeps Selenium Manager from looking for one online
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    except SessionNotCreatedException as error:
        pytest.skip(f"Chromium would not start under chromedriver: {error.msg}")
    try:
        yield driver
    finally:
        driver.quit()


MARKS = """return Array.from(document.querySelectorAll('#result mark')).map(
  (mark) => [mark.firstChild.textContent, mark.dataset.label, getComputedStyle(mark).backgroundColor]);"""
DOC_TEXT = """const doc = document.querySelector('#result .doc').cloneNode(true);
doc.querySelectorAll('.label').forEach((badge) => badge.remove());
return doc.textContent;"""


def submit(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    before = driver.execute_script("return document.getElementById('result').innerHTML;")
    driver.find_element(By.ID, "submit").click()
    WebDriverWait(driver, 120).until(
        lambda d: d.execute_script("return document.getElementById('result').innerHTML;") != before
        or d.find_element(By.ID, "status").text.startswith("error")
    )
    assert not driver.find_element(By.ID, "status").text, driver.find_element(By.ID, "status").text


def test_page_in_headless_chromium_marks_entities_and_runs_no_user_markup(browser: Any, tmp_path: Path) -> None:
    with served_by_the_cli(tmp_path / "serve.log") as url:
        browser.get(url + "/")
        legend = browser.execute_script("return Array.from(document.querySelectorAll('.legend mark')).map((m) => m.dataset.label);")
        assert {"PER", "LOC", "ORG"} <= set(legend)

        submit(browser, BIOGRAPHY)
        assert browser.execute_script(DOC_TEXT) == BIOGRAPHY
        marks = browser.execute_script(MARKS)
        found = {(text, label) for text, label, _ in marks}
        assert ("姚明", "PER") in found
        assert {"河南省", "郑州市", "浙江", "宁波"} <= {text for text, label in found if label == "LOC"}
        colours = {label: colour for _, label, colour in marks}
        assert colours["PER"] != colours["LOC"] and all(c.startswith("rgb(") for c in colours.values())
        shot = tmp_path / "serve.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 5000

        hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">' + BIOGRAPHY
        submit(browser, hostile)
        assert browser.execute_script(DOC_TEXT) == hostile  # shown as text
        assert browser.execute_script("return window.pwned === undefined && !document.querySelector('#result img, #result script');")
        # The page marks what the model finds in the markup-laden text, whatever that is.
        from nertag import load
        from nertag.routing import default_model_name

        expected = [(e.text, e.label) for e in load(default_model_name(hostile), precision="auto").tag(hostile)]
        assert expected and [(text, label) for text, label, _ in browser.execute_script(MARKS)] == expected
