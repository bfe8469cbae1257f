"""What each problem `code` means, served as the page its `type` URI names
(`/problems/{code}`, RFC 9457 §3.1.1). Every code the service answers with is here
(tests/test_problem_types.py reads the sources for them): add a new one with its meaning."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from models.core.errors import NotFound

PATH = "/problems"

# code → (the usual status, what it means and what to do)
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "invalid_request": (
        400,
        "A parameter or the body does not have the documented shape; `errors` lists where. Fix it and send again.",
    ),
    "invalid_cursor": (400, "The cursor is not one this service gave out: start the list again without it."),
    "invalid_item_list": (400, "The items to register (JSON or CSV) cannot be read; nothing was registered."),
    "time_without_zone": (400, "A time needs its zone (RFC 3339: Z or ±HH:MM)."),
    "log_required": (422, "A national account names the regency log it means: log=53.03."),
    "area_required": (422, "A national account names the area it means."),
    "not_signed_in": (401, "No bearer token: sign in (POST /api/v1/auth/token) and send Authorization: Bearer …."),
    "invalid_token": (
        401,
        "The token has expired, was revoked (account disabled, password or client secret changed) or is forged: sign in again.",
    ),
    "forbidden": (403, "This account may not do this."),
    "role_not_allowed": (403, "The account's role may not take this action (README, *Who may do what*)."),
    "scope_missing": (
        403,
        "An integrator's token lacks the scope the operation needs: the account needs it, and the token must ask for it.",
    ),
    "outside_jurisdiction": (403, "The target is outside the account's jurisdiction."),
    "own_account": (403, "An account may not manage itself (disable, enable, reset): another administrator does."),
    "wrong_password": (403, "The current password given to change it is wrong."),
    "account_disabled": (403, "The account is disabled: its KPU or PPK may enable it."),
    "account_gone": (403, "The account of this token no longer exists."),
    "import_refused": (
        422,
        "The officers' file has errors, listed row by row in `errors`: nothing was imported; fix them and import again.",
    ),
    "code_unknown": (410, "The enrollment code is not known: check it against the sheet, or ask for a new one."),
    "code_spent": (410, "The enrollment code was already used: a code enrolls one phone once; ask for a new one."),
    "code_revoked": (410, "The enrollment code was revoked (a newer one was issued): use the newest sheet."),
    "code_expired": (410, "The enrollment code has expired: ask the PPK or KPU for a new one."),
    "ack_critical_role": (403, "A critical alert is acknowledged by a KPU officer or an administrator."),
    "ack_own_site": (403, "An alert about one's own site is acknowledged by someone else."),
    "ack_own_entry": (403, "An alert raised by one's own scan is acknowledged by someone else."),
    "not_found": (404, "No such thing."),
    "log_not_found": (404, "No such log on this server."),
    "item_not_found": (404, "No such item, or not in a log this server keeps."),
    "site_not_found": (404, "No such site."),
    "handoff_not_found": (404, "No such truckload."),
    "device_not_found": (404, "No such device."),
    "alert_not_found": (404, "No such alert."),
    "webhook_not_found": (404, "No such webhook subscription (or not yours)."),
    "user_not_found": (404, "No such account."),
    "method_not_allowed": (405, "The path does not take this method: Allow lists those it does."),
    "conflict": (409, "Conflicts with what is recorded."),
    "raced": (409, "Another request recorded the same thing a moment ago: reload and decide again."),
    "user_exists": (409, "An account of this name exists."),
    "handoff_closed": (409, "The truckload is closed: nothing joins it any more."),
    "device_revoked": (409, "The device was revoked."),
    "alert_acknowledged": (409, "The alert was acknowledged already."),
    "not_yet": (409, "Recorded; what was asked for follows in a moment: ask again after Retry-After."),
    "body_too_large": (413, "The body is larger than JEJAK_MAX_BODY_BYTES: send an offline batch in several requests."),
    "account_locked": (
        423,
        "Too many wrong passwords in a row: wait Retry-After seconds, or ask an administrator to unlock it.",
    ),
    "rate_limited": (429, "Too many requests from this address or account: wait Retry-After seconds."),
    "unavailable": (503, "The service cannot answer now: retry after Retry-After seconds."),
    "database_unavailable": (503, "The database is unreachable: retry after Retry-After seconds."),
    "disk_full": (
        507,
        "The database disk is full: nothing was recorded; keep it and send again after Retry-After seconds.",
    ),
    "error": (500, "An error without a more precise code."),
}


def type_uri(code: str) -> str:
    """A problem's `type`: relative, so it stays the same whatever the deployment's
    public URL, and resolves to this service's page about it."""
    return f"{PATH}/{code}"


router = APIRouter(include_in_schema=False)


def _page(title: str, body: str) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>{body}</body></html>'
    )
    return HTMLResponse(html, headers={"Cache-Control": "public, max-age=3600"})


def _entry(code: str) -> str:
    status, meaning = PROBLEM_TYPES[code]
    return (
        f'<dt id="{code}"><a href="{type_uri(code)}"><code>{code}</code></a> ({status})</dt><dd>{escape(meaning)}</dd>'
    )


@router.get(PATH)
def problem_types() -> HTMLResponse:
    """Every problem code, what it means and what to do."""
    entries = "".join(_entry(code) for code in sorted(PROBLEM_TYPES))
    intro = (
        "<h1>Jejak problem types</h1><p>Errors are RFC 9457 <code>application/problem+json</code>. "
        "Branch on <code>code</code> (the last segment of <code>type</code>); <code>detail</code> is prose "
        "and may be reworded.</p>"
    )
    return _page("Jejak problem types", f"{intro}<dl>{entries}</dl>")


@router.get(PATH + "/{code}")
def problem_type(code: str) -> HTMLResponse:
    """One problem code's page: what its `type` URI names."""
    if code not in PROBLEM_TYPES:
        raise NotFound(f"there is no problem type {code}: {PATH} lists them")
    return _page(
        f"Jejak problem: {code}",
        f'<h1><code>{code}</code></h1><dl>{_entry(code)}</dl><p><a href="{PATH}">All problem types</a></p>',
    )
