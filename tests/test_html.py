"""The HTML page: every input line's text survives, entities are marked with a label and colour."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main


class PageReader(HTMLParser):
    """Collects each document's visible text (label badges left out) and its marked entities."""

    def __init__(self) -> None:
        super().__init__()
        self.docs: list[str] = []
        self.marks: list[tuple[str, str]] = []
        self.legend: list[str] = []
        self._in_doc = self._in_label = self._in_legend = False
        self._mark_label: str | None = None
        self._mark_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "div" and values.get("class") == "doc":
            self._in_doc = True
            self.docs.append("")
        elif tag == "div" and values.get("class") == "legend":
            self._in_legend = True
        elif tag == "mark":
            assert "background: #" in (values.get("style") or "")
            self._mark_label, self._mark_text = values.get("data-label"), ""
            if self._in_legend:
                self.legend.append(values.get("data-label") or "")
        elif tag == "span" and values.get("class") == "label":
            self._in_label = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._in_doc = self._in_legend = False
        elif tag == "span":
            self._in_label = False
        elif tag == "mark" and self._in_doc and self._mark_label:
            self.marks.append((self._mark_text, self._mark_label))

    def handle_data(self, data: str) -> None:
        if self._in_doc and not self._in_label:
            self.docs[-1] += data
            self._mark_text += data


def test_html_page_keeps_text_and_marks_entities(en_model_dir: Path) -> None:
    lines = ["John Smith visited New York for Reuters .", "", "a < b & \"c\""]
    result = CliRunner().invoke(main, ["tag", "--model", str(en_model_dir), "--format", "html"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    page = PageReader()
    page.feed(result.stdout)
    assert page.docs == lines
    assert ("John Smith", "PER") in page.marks
    assert set(page.legend) == {"LOC", "MISC", "ORG", "PER"}


def test_control_characters_are_shown_as_signs_the_page_can_carry(en_model_dir: Path) -> None:
    """A parser turns NUL into U+FFFD and CR into a line break: each control character is shown as a
    sign with its code, so the page is valid and no character silently changes."""
    line = "a\x00b\rc\x7fd\x85e\tf"
    result = CliRunner().invoke(main, ["tag", "--model", str(en_model_dir), "--format", "html"], input=line + "\n")
    assert result.exit_code == 0, result.output
    assert not any(c in result.stdout for c in "\x00\r\x7f\x85")
    page = PageReader()
    page.feed(result.stdout)
    assert page.docs == ["a\u2400b\u240dc\u2421dU+0085e\tf"]
    assert '<span class="control" title="U+0000">\u2400</span>' in result.stdout


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BIOGRAPHY = "姚明（30）年1月2日出生于河南省郑州市，祖籍浙江宁波，中国职业篮球运动员。"


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_biography_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "bio.html"
    result = CliRunner().invoke(main, ["tag", "--format", "html", "-o", str(page)], input=BIOGRAPHY + "\n")
    assert result.exit_code == 0, result.output
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    reader = PageReader()
    reader.feed(dom.stdout)
    assert reader.docs == [BIOGRAPHY]
    assert ("姚明", "PER") in reader.marks
    assert {"河南省", "郑州市", "浙江", "宁波"} <= {text for text, label in reader.marks if label == "LOC"}
    shot = tmp_path / "bio.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=900,300", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 1000
