"""``nertag serve``: a local page to paste text into and see its entities, and a JSON endpoint.

``POST /tag`` with ``{"text": ...}`` answers the JSON line ``nertag tag`` writes for that text (the
same :class:`~nertag.formats.RecordWriter` writes it); ``POST /tag?format=html`` answers the
document as ``--format html`` renders it, which is what the page shows. ``GET /`` is the page:
legend and colours from :mod:`nertag.html`, one inline script, no other assets.

Models load once each (a named one before serving starts, the language defaults on first use), and
tagging runs in a worker thread, one request at a time per model, so the event loop keeps answering
while torch works and no model is entered by two threads at once.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import math
import socket
import threading
from html import escape
from typing import TYPE_CHECKING, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .errors import NertagError
from .formats import RecordWriter
from .html import label_colours, page_end, page_start, render_document
from .records import TaggedText
from .routing import ModelChoice

if TYPE_CHECKING:
    from .tagger import Tagger

log = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 100_000
# The longest JSON spelling of one character is a surrogate pair of \u escapes (12 bytes), so a body
# this much longer than the character limit cannot hold an acceptable text and is refused unread.
_BYTES_PER_CHAR = 12
_BODY_SLACK = 1024

_SCRIPT = """
const form = document.getElementById("tag-form");
const input = document.getElementById("text");
const status = document.getElementById("status");
const result = document.getElementById("result");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  status.textContent = "tagging\\u2026";
  try {
    const response = await fetch("tag?format=html", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text: input.value}),
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({error: response.statusText}));
      status.textContent = `error ${response.status}: ${answer.error}`;
      return;
    }
    // The server escapes every piece of the text it marks up (nertag.html), so no markup of the
    // user's survives into the page.
    result.innerHTML = await response.text();
    status.textContent = "";
  } catch (error) {
    status.textContent = `error: ${error}`;
  }
});
"""

_FORM = """<style>
#tag-form textarea {{ width: 100%; box-sizing: border-box; font: inherit; line-height: 1.5; }}
#tag-form button {{ font: inherit; padding: 0.2em 1.2em; }}
#status {{ color: #a00; min-height: 1em; }}
</style>
<form id="tag-form">
<textarea id="text" name="text" rows="6" placeholder="{placeholder}" autofocus></textarea>
<button type="submit" id="submit">Tag</button>
</form>
<div id="status" role="status"></div>
<div id="result"></div>
<script>{script}</script>
"""


class RequestError(Exception):
    """A request the endpoint refuses: ``status`` and a one-line reason for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class TaggingService:
    """Tags one text at a time per model, loading each model once however many requests race for it.

    A single lock guards choosing and loading (rare, and cheap once loaded); a lock per model keeps
    two threads out of the same network while different models tag side by side.
    """

    def __init__(self, models: ModelChoice) -> None:
        self.models = models
        self._choosing = threading.Lock()
        self._in_use: dict[str, threading.Lock] = {}

    def tag(self, text: str) -> tuple[str, TaggedText]:
        """(model name, tagged text) for ``text``, routed as ``nertag tag`` routes a line. Blocks:
        run it in a worker thread."""
        with self._choosing:
            name = next(iter(self.models.group([text])))
            tagger: Tagger = self.models.tagger(name)
            lock = self._in_use.setdefault(name, threading.Lock())
        with lock:
            return name, tagger.tag_texts([text])[0]


def make_app(
    models: ModelChoice, max_chars: int = DEFAULT_MAX_CHARS, extra_labels: Sequence[str] = (), min_confidence: float = 0.0
) -> Starlette:
    """The page and the endpoint over ``models`` (load a named model first, so a bad one fails
    before serving). Texts longer than ``max_chars`` characters are refused with 413.
    ``extra_labels``: labels the models' dictionaries and rules add, for the legend and colours.
    Entities less probable than ``min_confidence`` are left out, as ``nertag tag --min-confidence``
    does; a request may set its own with ``?min_confidence=P``."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"max_chars: expected an int >= 1, got {max_chars!r}")
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) or not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence: expected a number from 0 to 1, got {min_confidence!r}")
    service = TaggingService(models)
    labels = sorted({*models.labels(), *extra_labels})
    colours = label_colours(labels)
    page, policy = _page(models, labels, max_chars)
    max_bytes = _BYTES_PER_CHAR * max_chars + _BODY_SLACK

    async def show_page(request: Request) -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})

    async def tag(request: Request) -> Response:
        output_format = request.query_params.get("format", "jsonl")
        try:
            if output_format not in ("jsonl", "html"):
                raise RequestError(400, f"format: expected jsonl or html, got {output_format!r}")
            floor = _confidence_floor(request.query_params.get("min_confidence"), min_confidence)
            text = _text_of(await _read_body(request, max_bytes), max_chars)
            name, tagged = await run_in_threadpool(service.tag, text)
        except RequestError as refused:
            return _error(refused.status, str(refused))
        except (NertagError, OSError) as error:  # a default model that is not installed, say
            log.error("nertag serve: %s", error)
            return _error(500, str(error))
        kept = [e for e in tagged.entities if e.confidence is None or e.confidence >= floor]
        if output_format == "html":
            return HTMLResponse(render_document(tagged.text, kept, colours))
        line = io.StringIO()
        RecordWriter(line, "jsonl").write(name, tagged, kept)
        return Response(line.getvalue(), media_type="application/json")

    async def unexpected(request: Request, error: Exception) -> Response:
        # The server logs the traceback; the client gets JSON like every other answer.
        return _error(500, f"internal error: {type(error).__name__}")

    routes = [Route("/", show_page, methods=["GET"]), Route("/tag", tag, methods=["POST"])]
    return Starlette(routes=routes, exception_handlers={Exception: unexpected})


def _confidence_floor(given: str | None, default: float) -> float:
    """A request's ``min_confidence``, or the server's when it gives none; 400 for anything but a number from 0 to 1."""
    if given is None:
        return default
    try:
        floor = float(given)
    except ValueError:
        floor = math.nan
    if not 0.0 <= floor <= 1.0:
        raise RequestError(400, f"min_confidence: expected a number from 0 to 1, got {given!r}")
    return floor


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status)


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refused (413) as soon as it is known to pass ``max_bytes``: from its declared
    length before reading, or while it streams in."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(413, f"request body of {int(declared)} bytes; the limit is {max_bytes}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise RequestError(413, f"request body over {max_bytes} bytes")
    return bytes(body)


def _text_of(body: bytes, max_chars: int) -> str:
    """The ``text`` of a JSON body ``{"text": ...}``, checked."""
    try:
        payload = json.loads(body)
    except ValueError as error:  # bad JSON and bad UTF-8 alike
        raise RequestError(400, f'body: expected JSON {{"text": ...}}: {error}') from None
    except RecursionError:
        raise RequestError(400, "body: JSON nested too deeply") from None
    if not isinstance(payload, dict):
        raise RequestError(400, f'body: expected a JSON object {{"text": ...}}, got {_json_kind(payload)}')
    if "text" not in payload:
        raise RequestError(400, 'body: expected a JSON object {"text": ...}, got one without "text"')
    text = payload["text"]
    if not isinstance(text, str):
        raise RequestError(400, f"text: expected a string, got {_json_kind(text)}")
    if len(text) > max_chars:
        raise RequestError(413, f"text of {len(text)} characters; the limit is {max_chars} (nertag serve --max-chars)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # JSON can spell a lone surrogate; no file nertag tags holds one
        raise RequestError(400, f"text: not valid Unicode: {error.reason} at character {error.start}") from None
    return text


def _json_kind(value: object) -> str:
    """What JSON calls ``value``'s type, for error messages read by people who wrote JSON."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    kinds = {str: "a string", int: "a number", float: "a number", list: "an array", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


def _page(models: ModelChoice, labels: list[str], max_chars: int) -> tuple[str, str]:
    """The page and the Content-Security-Policy that lets it run its own inline script and nothing
    else: no other scripts, no fetches but to this server, no assets from anywhere."""
    chinese = models.named is None or getattr(getattr(models.tagger(models.named), "config", None), "token_unit", "") == "char"
    placeholder = f"Text to tag, up to {max_chars:,} characters"
    body = _FORM.format(placeholder=escape(placeholder), script=_SCRIPT)
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    policy = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
              "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
    return page_start(labels, chinese) + body + page_end(), policy


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (0: any free port), bound here rather than inside uvicorn
    so that a port in use or an unknown host is one clear error before anything else starts."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once after a stop
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


def run(app: Starlette, sock: socket.socket, model: str | None) -> None:
    """Serve ``app`` on ``sock`` until Ctrl-C or SIGTERM, which uvicorn turns into a graceful stop."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    address = f"[{host}]" if ":" in host else host
    log.info("nertag: serving %s at http://%s:%d/ (Ctrl-C stops)", model or "the default model of each text's language", address, port)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)).run(sockets=[sock])
