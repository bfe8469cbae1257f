"""One permission policy: every action the API offers, who may take it (roles), what an
integrator's token must carry for it (scope), and where (the jurisdiction rule), in one
table, judged by one function. An endpoint names its action (`Permit("...")` in
api/deps.py) and nothing else about who may call it; checks that need the target (an
item's destination, a handoff's ends) call `permit` again with `at=`.

Scans are one action, `events.submit`: each scan is then judged on its own by the custody
rules (models/custody.py), at its site and level. Acknowledging an alert has rules of
its own on top of the table (`permit_acknowledgement`): segregation of duties.

Pure: no database, no HTTP. Refusals are `Forbidden`, worded for the people refused."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.accounts.actor import Actor, Role
from models.core.errors import Forbidden
from models.custody.rules import SCANNING_ROLES
from models.places.sites import regency_of, within


class Reach(enum.Enum):
    """Where an action may be taken: the jurisdiction rule."""

    NONE = "none"
    LOG = "the actor's own regency log (a national account names one)"
    TARGET = "within the actor's jurisdiction"
    OWNER = "the actor's own; for the roles listed, within their jurisdiction"


@dataclass(frozen=True)
class Rule:
    what: str  # in the people's words: "a kpps account may not <what>"
    roles: frozenset[Role]
    reach: Reach
    scope: str | None = None  # what an integrator's token must carry
    on: str = ""  # what the jurisdiction rule is judged on, in words


EVERYONE = frozenset(Role)
# Those the custody rules let scan: custodians at their own level, and escorts.
SCANNERS = frozenset(Role(role) for role in SCANNING_ROLES)
# Those who hold ballot boxes at a site: nobody closes an alert at a site in their custody.
CUSTODIANS = frozenset({Role.KPU, Role.PPK, Role.PPS, Role.KPPS})
SUPERVISORS = frozenset({Role.ADMIN, Role.KPU, Role.PPK, Role.AUDITOR, Role.INTEGRATOR})
KPU_ADMIN = frozenset({Role.ADMIN, Role.KPU})
# Who administers accounts, and whose: only roles below one's own (permit_account).
MANAGED: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset({Role.KPU, Role.PPK, Role.PPS, Role.KPPS, Role.ESCORT, Role.AUDITOR}),
    Role.KPU: frozenset({Role.PPK, Role.PPS, Role.KPPS, Role.ESCORT}),
    Role.PPK: frozenset({Role.PPS, Role.KPPS}),
}
ACCOUNT_MANAGERS = frozenset(MANAGED)
ACCOUNT = "the account's jurisdiction, and only roles below the actor's"
DESTINATION = "the item's destination"
SITE = "the site asked for"
LISTED = "lists only what is at or bound for the jurisdiction"

POLICY: dict[str, Rule] = {
    "items.register": Rule("register items", KPU_ADMIN, Reach.TARGET, on="each item's destination"),
    "items.list": Rule("list items", EVERYONE, Reach.NONE, "items:read", LISTED),
    "items.read": Rule("read items", EVERYONE, Reach.TARGET, "items:read", DESTINATION),
    "labels.print": Rule("print labels", KPU_ADMIN, Reach.TARGET, on=f"{DESTINATION}, or a sheet's site"),
    "labels.reprint": Rule("reprint labels", KPU_ADMIN, Reach.TARGET, on=DESTINATION),
    "sites.add": Rule("add polling stations", KPU_ADMIN, Reach.TARGET, on="the new polling station"),
    "devices.register": Rule("register scanning devices", SCANNERS, Reach.LOG),
    "devices.list": Rule("list your devices", EVERYONE, Reach.NONE, on="lists the actor's own devices"),
    "devices.revoke": Rule("revoke other people's devices", KPU_ADMIN, Reach.OWNER, on="the device's log"),
    "events.submit": Rule(
        "submit scans", SCANNERS, Reach.NONE, on="each scan is judged by the custody rules, at its site and level"
    ),
    "events.list": Rule("list custody events", EVERYONE, Reach.LOG, "events:read", LISTED),
    "events.receipt": Rule(
        "fetch scan receipts", EVERYONE, Reach.TARGET, "events:read", "the event's site or its item's destination"
    ),
    "exports.epcis": Rule("export events as EPCIS", EVERYONE, Reach.LOG, "events:read", LISTED),
    "exports.events_csv": Rule("export events as CSV", EVERYONE, Reach.LOG, "events:read", LISTED),
    "exports.custody_csv": Rule("export custody as CSV", EVERYONE, Reach.TARGET, "items:read", SITE),
    "exports.item_report": Rule("print an item's custody report", EVERYONE, Reach.TARGET, "items:read", DESTINATION),
    "exports.area_report": Rule("print an area's custody report", EVERYONE, Reach.TARGET, "items:read", SITE),
    "handoffs.read": Rule("read handoffs", EVERYONE - {Role.INTEGRATOR}, Reach.TARGET, on="either end of the handoff"),
    "handoffs.close": Rule("close handoffs", CUSTODIANS, Reach.TARGET, on="the receiving end"),
    # A stock-take (issue 25): read by whoever oversees the site, closed by its custodians.
    "stocktakes.read": Rule(
        "read stock-takes", EVERYONE - {Role.ESCORT}, Reach.TARGET, "items:read", "the site counted"
    ),
    "stocktakes.close": Rule("close stock-takes", CUSTODIANS, Reach.TARGET, on="the site counted"),
    # Completeness per TPS (issue 25): the area's officers, Bawaslu and Polres auditors.
    "completeness.read": Rule(
        "read completeness", SUPERVISORS | {Role.PPS}, Reach.TARGET, "items:read", "the area (default: the jurisdiction)"
    ),
    # The convoy picture (issue 25): the police, and those who dispatch and oversee; an
    # escort is shown only the convoys that name them.
    "convoys.read": Rule(
        "follow convoys", frozenset({Role.ADMIN, Role.KPU, Role.PPK, Role.AUDITOR, Role.ESCORT, Role.INTEGRATOR}),
        Reach.TARGET, "items:read", "the area (default: the jurisdiction); an escort sees the convoys naming them",
    ),
    # After the count (issue 25): is every box back, and the boxes found where unexpected.
    "returns.read": Rule(
        "reconcile returns", SUPERVISORS, Reach.TARGET, "items:read", "the regency or district (default: the jurisdiction)"
    ),
    "orphans.read": Rule("list orphan boxes", SUPERVISORS, Reach.TARGET, "events:read", "the area (default: the jurisdiction)"),
    "alerts.list": Rule("list alerts", SUPERVISORS, Reach.LOG, "alerts:read", LISTED),
    "alerts.acknowledge": Rule(
        "acknowledge alerts", frozenset({Role.KPU, Role.PPK, Role.AUDITOR}), Reach.TARGET,
        on="the alert's site or item (a regency's account: its whole log); then *Who may acknowledge what*",
    ),
    "stats.progress": Rule(
        "follow distribution progress", SUPERVISORS, Reach.TARGET, "items:read", "the area (default: the jurisdiction)"
    ),
    "logs.export": Rule(
        "export whole logs", frozenset({Role.ADMIN, Role.KPU, Role.AUDITOR, Role.INTEGRATOR}), Reach.LOG, "logs:read"
    ),
    "audit.read": Rule(
        "read the audit trail", frozenset({Role.ADMIN, Role.AUDITOR}), Reach.NONE,
        on="lists the records that concern the jurisdiction",
    ),
    # A KPU manages its regency's officers, a PPK its district's (permit_account); an admin anyone.
    "users.import": Rule(
        "import officers", ACCOUNT_MANAGERS, Reach.TARGET, on="each row's jurisdiction, and only roles below the actor's"
    ),
    "users.list": Rule("list accounts", ACCOUNT_MANAGERS, Reach.NONE, on="lists the accounts within the jurisdiction"),
    "users.unlock": Rule("unlock accounts", ACCOUNT_MANAGERS, Reach.TARGET, on=ACCOUNT),
    "users.disable": Rule("disable accounts", ACCOUNT_MANAGERS, Reach.TARGET, on=ACCOUNT),
    "users.enable": Rule("enable accounts", ACCOUNT_MANAGERS, Reach.TARGET, on=ACCOUNT),
    "users.reset": Rule("reset accounts or their enrollment codes", ACCOUNT_MANAGERS, Reach.TARGET, on=ACCOUNT),
    "users.enrollment_sheet": Rule(
        "print enrollment sheets", ACCOUNT_MANAGERS, Reach.TARGET, on=f"{SITE}; only roles below the actor's"
    ),
    "users.end_period": Rule(
        "disable an election period's accounts", KPU_ADMIN, Reach.NONE,
        on="the period's accounts within the jurisdiction, of roles below the actor's",
    ),
    "me.password": Rule("change their own password", EVERYONE, Reach.NONE, on="the actor's own account"),
    "me.export": Rule("export their own data", EVERYONE, Reach.NONE, on="the actor's own account"),
    "webhooks.manage": Rule(
        "manage webhooks", frozenset({Role.ADMIN, Role.KPU, Role.INTEGRATOR}), Reach.TARGET, "webhooks:manage",
        "the subscription's jurisdiction (an integrator: only its own subscriptions)",
    ),
}  # fmt: skip


def permit(
    actor: Actor,
    action: str,
    *,
    at: str | Sequence[str | None] | None = None,
    log: str | None = None,
    owner: uuid.UUID | None = None,
) -> None:
    """Refuse (Forbidden) unless the table lets the actor take `action`: their role, an
    integrator's scope, and, when given, the target `at` (one code, or several of which
    one must be in the jurisdiction: a handoff's two ends) and the `log` worked in.
    Without `at`, only what can be judged before the target is known is checked; the
    owner (`owner`, the actor's own device) may always act on what is theirs."""
    rule = POLICY[action]
    if rule.reach is Reach.OWNER and (at is None or owner == actor.id):
        return
    if actor.role not in rule.roles:
        allowed = ", ".join(sorted(r.value for r in rule.roles))
        raise Forbidden(f"{_article(actor.role)} {actor.role} account may not {rule.what} (allowed: {allowed})", code="role_not_allowed")
    if actor.role is Role.INTEGRATOR and rule.scope is not None and rule.scope not in actor.scopes:
        raise Forbidden(f"this token lacks the scope {rule.scope}, which is needed to {rule.what}", code="scope_missing")
    if log is not None and actor.jurisdiction and log != regency_of(actor.jurisdiction):
        raise Forbidden(f"log {log} is outside your jurisdiction {actor.jurisdiction}", code="outside_jurisdiction")
    if at is not None:
        codes = [at] if isinstance(at, str) else [code for code in at if code]
        if not any(within(code, actor.jurisdiction) for code in codes):
            raise Forbidden(f"{codes[0]} is outside your jurisdiction {actor.jurisdiction or 'national'}", code="outside_jurisdiction")


def permit_account(actor: Actor, action: str, role: Role, jurisdiction: str) -> None:
    """Refuse (Forbidden) unless the actor may take `action` on an account of `role` at
    `jurisdiction`: the table, the account within the actor's jurisdiction, and its role
    below the actor's (a PPK manages PPS and KPPS, never another PPK nor a KPU)."""
    permit(actor, action, at=jurisdiction or None)
    if jurisdiction == "" and actor.jurisdiction:
        raise Forbidden(f"a national account is outside your jurisdiction {actor.jurisdiction}")
    if role not in MANAGED.get(actor.role, frozenset()):
        managed = ", ".join(sorted(r.value for r in MANAGED.get(actor.role, frozenset()))) or "none"
        raise Forbidden(f"{_article(actor.role)} {actor.role} account manages only these roles' accounts: {managed}")


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"


# -- Acknowledging alerts: segregation of duties ----------------------------------------


@dataclass(frozen=True)
class AlertFacts:
    """What the acknowledgement rules need to know of an alert."""

    log_id: str  # the regency's code
    site: str | None
    item: str | None
    critical: bool


def permit_acknowledgement(alert: AlertFacts, actor: Actor, cited: Mapping[int, str | None]) -> None:
    """Refuse (Forbidden) unless the actor may acknowledge the alert. `cited` maps each
    entry the alert cites to the id of the actor who made it (None: no one named).

    - The table: a KPU, PPK or auditor whose jurisdiction holds the alert.
    - Nobody acknowledges an alert that cites an entry they made.
    - A critical alert: the regency's KPU; at the KPU's own warehouse, which the KPU
      holds, the regency's auditor (Bawaslu) instead.
    - Nobody acknowledges an alert at a site in their custody (a custodian's own site)."""
    permit(actor, "alerts.acknowledge", at=(alert.site, alert.item, alert.log_id))
    mine = sorted(index for index, maker in cited.items() if maker == str(actor.id))
    if mine:
        entries = ", ".join(str(index) for index in mine)
        raise Forbidden(
            f"you made entry {entries} that this alert cites: another official must acknowledge it",
            code="ack_own_entry",
        )
    if alert.critical:
        if alert.site == alert.log_id:
            if (actor.role, actor.jurisdiction) != (Role.AUDITOR, alert.log_id):
                raise Forbidden(
                    f"a critical alert at the KPU's own warehouse {alert.site} is acknowledged "
                    f"by the regency's Bawaslu (an auditor of {alert.log_id})",
                    code="ack_critical_role",
                )
        elif (actor.role, actor.jurisdiction) != (Role.KPU, alert.log_id):
            raise Forbidden(f"a critical alert is acknowledged by the KPU of {alert.log_id}", code="ack_critical_role")
    if actor.role in CUSTODIANS and alert.site is not None and alert.site == actor.jurisdiction:
        raise Forbidden(
            f"this alert is at {alert.site}, a site in your custody: another official "
            "(your superior or Bawaslu) must acknowledge it",
            code="ack_own_site",
        )


def markdown_table() -> str:
    """The table as the README shows it (tests/test_authorization.py keeps them equal)."""
    lines = ["| action | roles | integrator scope | where |", "|---|---|---|---|"]
    for action, rule in POLICY.items():
        roles = "every role" if rule.roles == EVERYONE else ", ".join(sorted(r.value for r in rule.roles))
        if rule.reach is Reach.OWNER:
            roles = f"the owner; {roles}"
        where = f"{rule.reach.value}: {rule.on}" if rule.on else rule.reach.value
        lines.append(f"| `{action}` | {roles} | {f'`{rule.scope}`' if rule.scope else '–'} | {where} |")
    return "\n".join(lines)
