"""The web pages: the scanner (an installable offline app), the dashboard and the public
check page a label's QR code opens. Plain server-rendered HTML; the work happens in the
small ES modules under api/static/, which talk to the same REST API as everyone else.

Every page carries a strict Content-Security-Policy (scripts only from this origin, no
inline script or style, nothing from another host) and the other security headers, set
for every answer in one place: api/security.py."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from models.core.errors import InvalidRequest, JejakError, NotFound
from models.core.settings import Settings
from models.custody.handoffs import get_handoff
from models.custody.items import item_trail
from models.custody.scans import TOKEN_PATTERN
from models.log.reads import check_log_id
from models.places.sites import site_names
from models.places.zones import zone_table
from starlette.types import Scope

from api import caching
from api.caching import IMMUTABLE, REVALIDATE
from api.deps import DatabasesDep, SessionDep, SettingsDep, public_read, public_spend, public_wait
from api.pages import i18n

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
# The templates ship with the code: no looking at each file's time on every page (a
# fortieth of a check page's time under a crowd). A changed template needs a restart.
templates.env.auto_reload = False

LANG_COOKIE = "jejak_lang"
LangQuery = Annotated[str | None, Query(pattern="^(id|en)$", description="Page language")]
# What the scanner's service worker keeps for use with no network besides its modules (found
# from scanner.js by their imports): the style, the install manifest and its icons, and the
# libraries loaded on demand (the QR decoder when the camera opens; Ed25519 where the browser
# has none). The dashboard's and the public page's files are not the scanner's to keep.
_SHELL_ROOT = "js/scanner.js"
_SHELL_EXTRA = (
    "jejak.css", "scan.webmanifest", "icons/icon-192.png", "icons/icon-512.png", "icons/jejak.svg",
    "vendor/jsQR.js", "vendor/noble-ed25519.js",
)
_IMPORT = re.compile(r'^import [^;]*?from "\./([\w-]+\.js)";', re.MULTILINE)


@cache
def _zones() -> Markup:
    """What every page carries for its scripts: each province's time zone, as JSON."""
    return htmlsafe_json_dumps(zone_table(), sort_keys=True)  # as |tojson does


@cache
def _words(lang: str) -> tuple[str, bytes]:
    """The words of a language for the pages' scripts (i18n.MESSAGES) as JSON, and the
    address of this version of them. Every page carried them until 2026-12-07: 8 kB
    compressed a page, on 2G, and compressing them was a sixth of a check page's time.
    Now a browser fetches them once and keeps them."""
    body = json.dumps(i18n.MESSAGES[lang], ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return f"/static/words/{lang}-{hashlib.sha256(body).hexdigest()[:12]}.json", body


def _page(request: Request, template: str, lang: str | None, status: int = 200, **context: Any) -> HTMLResponse:
    chosen = i18n.pick(lang, request.cookies.get(LANG_COOKIE))
    messages = i18n.MESSAGES[chosen]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": chosen,
            "other_lang": "en" if chosen == "id" else "id",
            "t": lambda key, **values: messages[key].format(**values),
            "words": _words(chosen)[0],
            "zones": _zones(),
            "when": lambda moment, site: i18n.when(moment, site, chosen),
            "flags": lambda flags: i18n.flags_in_words(flags, chosen),
            **context,
        },
        status_code=status,
    )
    if lang:  # the toggle: remembered for the pages opened later
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/scan", response_class=HTMLResponse)
def scanner(request: Request, lang: LangQuery = None) -> HTMLResponse:
    """The field scanner: sign in, register this phone's key, scan, sign, sync."""
    return _page(request, "scan.html", lang)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, lang: LangQuery = None) -> HTMLResponse:
    """Distribution progress, boxes on the road, alerts, timelines and the log's state."""
    return _page(request, "dashboard.html", lang)


@router.get("/dashboard/accounts", response_class=HTMLResponse)
def accounts(request: Request, lang: LangQuery = None) -> HTMLResponse:
    """Officers' accounts for their area's KPU or PPK: import, enrollment sheets, list, manage."""
    return _page(request, "accounts.html", lang)


@router.get("/enroll", response_class=HTMLResponse)
def enroll(request: Request, lang: LangQuery = None) -> HTMLResponse:
    """Enrolling a phone with the one-time code of the QR (in the URL's fragment, which
    never reaches the server's logs)."""
    return _page(request, "enroll.html", lang)


@router.get("/v/{item_id}", response_class=HTMLResponse)
async def check(
    item_id: str, request: Request, databases: DatabasesDep, settings: SettingsDep, lang: LangQuery = None
) -> Response:
    """The public check page: what a label's QR code opens. No login; rate limited. The
    box's trail is in the page as the server tells it (readable without JavaScript); the
    browser fetches it again with its proofs and checks the label and every proof itself.
    Cacheable for a few seconds, with an ETag of the page's bytes (a 304, free of the rate
    limit, to a client holding it)."""
    # A client holding the page may get its 304 whatever the limits; anyone else is
    # refused before the work if over them.
    if "if-none-match" not in request.headers and (busy := _too_many(request, settings, lang, spend=False)):
        return busy

    try:
        # In the public reads' few threads, as the history is: a crowd on this page held
        # a database connection a thread, past the pool, opened and closed each. A
        # malformed id is refused by the read (a 400 page).
        shown = await public_read(databases, item_id, lambda session: item_trail(session, item_id))
    except JejakError as error:
        missing = error.status == 404
        page: Response = _page(
            request, "message.html", lang, error.status, title="not_found",
            detail="not_found_detail" if missing else "bad_id_detail", item=item_id,
        )
    else:
        page = _cacheable(
            request, _page(request, "check.html", lang, item=shown.item, names=shown.places, trail=shown.records)
        )
        if page.status_code == 304:
            return page
    return _too_many(request, settings, lang) or page


def _cacheable(request: Request, page: HTMLResponse) -> Response:
    """A public page with its ETag and Cache-Control, or a 304. It is in the visitor's
    language (the cookie): shared caches keep one copy per cookie (Vary), and none of a
    page that sets it."""
    sets_cookie = "set-cookie" in page.headers
    return caching.conditional(request, page, caching.PRIVATE if sets_cookie else caching.SHORT_LIVED, vary="Cookie")


@router.get("/v/m/{log_id}/{handoff_id}", response_class=HTMLResponse)
def check_truckload(
    log_id: str, handoff_id: str, request: Request, session: SessionDep, settings: SettingsDep, lang: LangQuery = None
) -> HTMLResponse:
    """The public check page of a truckload: what a manifest's or a berita acara's QR
    code opens. No login; rate limited. The browser fetches the truckload's entries and
    checks them, and the manifest or receipt in the fragment, itself."""
    if busy := _too_many(request, settings, lang):
        return busy
    try:
        if len(handoff_id) > 64 or not re.fullmatch(TOKEN_PATTERN, handoff_id):
            raise InvalidRequest(f"{handoff_id!r} is not a handoff id")
        handoff = get_handoff(session, check_log_id(log_id), handoff_id)
    except JejakError as error:
        missing = error.status == 404
        return _page(
            request, "message.html", lang, error.status, title="truck_not_found",
            detail="truck_not_found_detail" if missing else "truck_bad_id_detail", item=handoff_id,
        )
    names = site_names(session, {handoff.from_site, handoff.to_site})
    return _page(request, "truckload.html", lang, handoff=handoff, names=names)


def error_page(request: Request, status: int) -> HTMLResponse | None:
    """What a public check path (/v/…) answers when it fails, a wrong address or a bad
    parameter among them: a page in the reader's language, not problem+json. They are
    opened from a QR code by anyone; the API's paths keep their problems."""
    if request.url.path != "/v" and not request.url.path.startswith("/v/"):
        return None
    asked = request.query_params.get("lang")
    detail = "error_unavailable" if status >= 500 else "error_page_detail"
    return _page(
        request, "message.html", asked if asked in i18n.LANGUAGES else None, status,
        title="error_page", detail=detail, item=str(status),
    )


def _too_many(request: Request, settings: Settings, lang: str | None, spend: bool = True) -> HTMLResponse | None:
    """The public pages' limits: a page saying when to come back, or None (and the
    request counted, unless `spend` is False: the caller counts a full answer itself)."""
    wait = public_wait(request, settings)
    if not wait:
        if spend:
            public_spend(request, settings)
        return None
    response = _page(request, "message.html", lang, 429, title="too_many", detail="too_many")
    response.headers["Retry-After"] = str(wait)
    return response


def _modules(root: str) -> list[str]:
    """`root` and every module it imports, directly or not (static/js/*.js)."""
    found, todo = [root], [root]
    while todo:
        source = (STATIC / todo.pop()).read_text(encoding="utf-8")
        for name in _IMPORT.findall(source):
            if f"js/{name}" not in found:
                found.append(f"js/{name}")
                todo.append(f"js/{name}")
    return found


@cache
def _shell() -> tuple[str, list[str]]:
    """The static assets the scanner needs offline, and a version that changes with any
    of them (so a new deployment replaces the cached copy)."""
    files = sorted(STATIC / name for name in {*_modules(_SHELL_ROOT), *_SHELL_EXTRA})
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(STATIC).as_posix().encode() + b"\0" + path.read_bytes())
    words = [_words(lang)[0] for lang in i18n.LANGUAGES]  # named by their version
    digest.update("\0".join(words).encode())
    return digest.hexdigest()[:16], [f"/static/{p.relative_to(STATIC).as_posix()}" for p in files] + words


@router.get("/static/words/{name}")
def words(name: str) -> Response:
    """A language's words for the pages' scripts, kept for good under this version's
    address. An older version's address (a page cached before a deployment) gets
    today's words, revalidated each time."""
    lang = name.partition("-")[0]
    if lang not in i18n.LANGUAGES:
        raise NotFound(f"there are no words for {name!r}")
    address, body = _words(lang)
    current = address.rpartition("/")[2] == name
    return Response(body, media_type="application/json", headers={"Cache-Control": IMMUTABLE if current else REVALIDATE})


@router.get("/scan/sw.js")
def service_worker() -> Response:
    """The scanner's service worker, told its version and what to precache; its scope is
    the scanner page."""
    version, assets = _shell()
    preamble = f"const VERSION = {json.dumps(version)};\nconst SHELL = {json.dumps(['/scan', *assets])};\n"
    return Response(
        preamble + (STATIC / "sw.js").read_text(encoding="utf-8"),
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/scan", "Cache-Control": "no-cache"},
    )


# Served by type whatever this machine's mime.types says: the modules as JavaScript, the
# manifest as one, the vendored libraries' licences (*.LICENSE: suffixes are looked up in
# lower case) as text.
for _media_type, _suffix in (
    ("text/javascript", ".js"), ("application/manifest+json", ".webmanifest"), ("text/plain", ".license")
):
    mimetypes.add_type(_media_type, _suffix)


class Assets(StaticFiles):
    """The pages' modules, styles, icons and vendored libraries (with their licences),
    mounted at /static: nothing outside the directory, no directory listings."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        # Revalidated on each use (ETag): the service worker keeps the offline copy.
        response.headers["Cache-Control"] = "no-cache"
        return response


static = Assets(directory=STATIC)
