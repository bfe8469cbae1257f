"""The `jejak` command line."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.jws import public_jwk, thumbprint
from models.core.errors import InvalidRequest, JejakError
from models.core.settings import get_settings

if TYPE_CHECKING:
    from models.runtime import Runtime

Command = Callable[[argparse.Namespace], int]


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from models.core import migrations

    settings = get_settings()
    # The home database, then each that JEJAK_LOG_DATABASES routes logs to.
    for url in dict.fromkeys([settings.database_url, *(url for _, url in settings.log_databases)]):
        migrations.upgrade(url)
        print(f"database at {migrations.head_revision()}: {_safe_url(url)}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from models.runtime import Runtime

    runtime = Runtime(get_settings())
    keys = runtime.keys
    if args.action == "rotate":
        return _rotate(runtime, args)
    if args.log:
        origin = runtime.origin(args.log)
        if args.action == "create":
            signer = keys.create_log_key(args.log, origin)
            print(f"created {keys.log_key_path(args.log)}", file=sys.stderr)
        else:
            signer = keys.log_signer(args.log, origin)
        print(signer.vkey)  # the checkpoint verifier key, name+keyid+base64
        return 0
    path = keys.label_key_path(args.label) if args.label else keys.token_key_path()
    if args.action == "create":
        key = keys.create_ed25519(path)
        print(f"created {path}", file=sys.stderr)
    else:
        key = keys.label_key(args.label) if args.label else keys.token_key()
    public = key.public_key()
    print(json.dumps({**public_jwk(public), "kid": thumbprint(public)}))  # the public JWK
    return 0


def _rotate(runtime: Runtime, args: argparse.Namespace) -> int:
    from models import rotation

    if args.log:
        done = rotation.rotate_log_key(runtime.sequencer, runtime.keys, runtime.tiles, args.log)
    elif args.label:
        done = rotation.rotate_label_key(runtime.sequencer, runtime.keys, args.label)
    else:
        done = rotation.rotate_token_key(runtime.keys, runtime.db)
    if done.key != "token" and done.index is None:
        print("finished a rotation that was interrupted after the log recorded it", file=sys.stderr)
    elif done.index is not None:
        print(f"rotated: log entry {done.index} publishes the new key; retired {done.retired}", file=sys.stderr)
    else:
        print(f"rotated: retired {done.retired}", file=sys.stderr)
    if done.key == "log":
        print(done.current)  # the new checkpoint verifier key
        return 0
    key = runtime.keys.label_key(args.label) if args.label else runtime.keys.token_key()
    print(json.dumps({**public_jwk(key.public_key()), "kid": done.current}))
    return 0


def cmd_log_create(args: argparse.Namespace) -> int:
    from models.runtime import Runtime

    runtime = Runtime(get_settings())
    log = runtime.create_log(args.log)
    print(f"{log.id}\t{log.origin}\t{log.verifier_key}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.target == "verify":
        from scripts import bench_verify

        return bench_verify.main(args)
    if args.target == "ingest":
        from scripts import bench_ingest

        return bench_ingest.main(args)
    if args.target == "growth":
        from scripts import bench_growth

        return bench_growth.main(args)
    if args.target == "reads":
        from scripts import bench_reads

        return bench_reads.main(args)
    if args.target == "manifest":
        from scripts import bench_manifest

        return bench_manifest.main(args)
    if args.target == "onboarding":
        from scripts import bench_onboarding

        return bench_onboarding.main(args)

    if args.target == "stock":
        from scripts import bench_stock

        return bench_stock.main(args)

    from scripts import bench_ledger

    return bench_ledger.main(args)


def cmd_witness(args: argparse.Namespace) -> int:
    from scripts import witness

    return witness.main(args)


def cmd_sites_import(args: argparse.Namespace) -> int:
    from models.places.wilayah import SHIPPED, import_areas, regencies_in_provinces

    directory = Path(args.dir) if args.dir else SHIPPED
    regencies = set(args.regency or [])
    if args.province:
        regencies |= regencies_in_provinces(directory, args.province)
    with _runtime() as runtime:
        started = time.perf_counter()
        with runtime.db.session(write=True) as session:
            counts = import_areas(session, directory, regencies=regencies or None, progress=print)
        print(f"imported in {time.perf_counter() - started:.1f} s: {counts.summary()}")
        _ensure_logs(runtime, counts.regencies)
    return 0


def cmd_sites_import_tps(args: argparse.Namespace) -> int:
    from models.places.wilayah import import_tps

    with _runtime() as runtime:
        with runtime.db.session(write=True) as session:
            counts = import_tps(session, args.file)
        print(counts.summary())
        _ensure_logs(runtime, counts.regencies)
    return 0


def _ensure_logs(runtime: Runtime, regencies: set[str]) -> None:
    """Each regency's custody is recorded in its own log: make sure it has one, and that
    its sites are where it lives."""
    from models.log.reads import every_log

    missing = sorted(regencies - {log.id for log in every_log(runtime.databases)})
    for done, regency in enumerate(missing, 1):
        runtime.ensure_log(regency)
        if done % 100 == 0:
            print(f"logs: {done:,} of {len(missing):,} created")
    print(f"logs: {len(missing):,} created, {len(regencies) - len(missing):,} already there")
    if copied := runtime.share_sites(regencies):
        print(f"sites: {copied:,} copied to the databases of routed logs")


def cmd_user_add(args: argparse.Namespace) -> int:
    from models.accounts.actor import Role
    from models.accounts.users import create_user

    try:
        role = Role(args.role)
    except ValueError:
        raise InvalidRequest(f"--role is one of {', '.join(Role)}, not {args.role!r}") from None
    password = _read_password(args.password_stdin)
    with _runtime() as runtime, runtime.db.session(write=True) as session:
        user = create_user(
            session,
            username=args.username,
            password=password,
            role=role,
            jurisdiction=args.jurisdiction,
            full_name=args.full_name,
            nrp=args.nrp,
            scopes=frozenset(args.scopes.split()),
        )
        print(f"created {role} {user.username} ({user.jurisdiction or 'national'}): {user.id}")
    return 0


def cmd_user_secret(args: argparse.Namespace) -> int:
    """`jejak user secret USERNAME`: a new client secret, shown once."""
    from models.accounts import clients
    from models.accounts.users import get_user

    with _runtime() as runtime, runtime.db.session(write=True) as session:
        secret = clients.new_secret(session, None, get_user(session, args.username))
    print(f"client_id={args.username}")
    print(f"client_secret={secret}")
    print("shown only now: keep it; tokens issued under an earlier secret are refused within a second", file=sys.stderr)
    return 0


def cmd_user_standing(args: argparse.Namespace) -> int:
    """`jejak user unlock|disable|enable USERNAME`: recorded as by no one signed in."""
    from models.accounts import users

    change, done = {
        "unlock": (users.unlock, "unlocked {}"),
        "disable": (users.disable, "disabled {}: its tokens are refused within a second"),
        "enable": (users.enable, "enabled {}"),
    }[args.user_command]
    with _runtime() as runtime, runtime.db.session(write=True) as session:
        change(session, None, users.get_user(session, args.username))
    print(done.format(args.username))
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from models.accounts.users import change_password, get_user

    password = _read_password(args.password_stdin)
    with _runtime() as runtime, runtime.db.session(write=True) as session:
        change_password(session, None, get_user(session, args.username), password)
    print(f"password of {args.username} changed: its old tokens are refused within a second")
    return 0


def cmd_user_import(args: argparse.Namespace) -> int:
    """`jejak user import FILE`: officers from a CSV, judged whole (README "Onboarding
    officers"); with --sheets DIR, the enrollment QR sheets of the new accounts, one PDF
    per village (PPS and its KPPS) or district, written there."""
    from datetime import timedelta

    from models.accounts.onboarding import ImportRefused, import_officers
    from scripts.sheets import write_sheets

    text = Path(args.file).read_text(encoding="utf-8-sig")
    with _runtime() as runtime, runtime.db.session(write=not args.dry_run) as session:
        lifetime = timedelta(days=runtime.settings.enrollment_code_days)
        try:
            done = import_officers(session, None, text, period=args.period, code_lifetime=lifetime, dry_run=args.dry_run)
        except ImportRefused as refused:
            for error in refused.errors:
                print(f"row {error.row}, {error.field}: {error.message}", file=sys.stderr)
            raise
        if args.sheets and not args.dry_run:
            codes = {made["username"]: made["code"] for made in done.created}
            for path, count in write_sheets(session, runtime.settings.public_url, codes, lifetime, Path(args.sheets)):
                print(f"{path}: {count} officers")
    verb = "would create" if args.dry_run else "created"
    print(f"{verb} {len(done.created)} accounts, {len(done.unchanged)} unchanged")
    return 0


def cmd_user_sheet(args: argparse.Namespace) -> int:
    """`jejak user sheet SITE --out FILE`: new codes for the site's accounts not yet enrolled, printed."""
    from datetime import timedelta

    from models.accounts.administration import enrollment_sheet
    from scripts.sheets import write_sheets

    with _runtime() as runtime, runtime.db.session(write=True) as session:
        lifetime = timedelta(days=runtime.settings.enrollment_code_days)
        sheet = enrollment_sheet(session, None, args.site, lifetime)
        codes = {user.username: code for user, code in sheet.rows}
        write_sheets(session, runtime.settings.public_url, codes, lifetime, Path(args.out).parent,
                     name=Path(args.out).name, site=args.site)  # fmt: skip
    print(f"{len(sheet.rows)} codes issued and printed to {args.out}; earlier codes of these accounts are revoked")
    return 0


def cmd_user_reset(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from models.accounts import administration

    with _runtime() as runtime, runtime.db.session(write=True) as session:
        user = administration.managed_user(session, None, "users.reset", args.username)
        code = administration.reset(session, None, user, timedelta(days=runtime.settings.enrollment_code_days))
    print(f"{args.username}: its password and tokens no longer work; new enrollment code {code}")
    return 0


def cmd_user_end_period(args: argparse.Namespace) -> int:
    from models.accounts.administration import end_period

    with _runtime() as runtime, runtime.db.session(write=args.apply) as session:
        found = [user.username for user in end_period(session, None, args.period, dry_run=not args.apply)]
    for username in found:
        print(username)
    print(f"{'disabled' if args.apply else 'would disable (dry run; --apply to do it)'} {len(found)} accounts")
    return 0


def _read_password(from_stdin: bool) -> str:
    """Never from argv: a command line shows in `ps` and in the shell's history."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise InvalidRequest("the two passwords differ")
    if not password:
        raise InvalidRequest("no password given")
    return password


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from scripts.seed_demo import seed

    with _runtime() as runtime:
        seed(runtime, if_empty=args.if_empty)
    return 0


@contextmanager
def _runtime() -> Iterator[Runtime]:
    from models.runtime import Runtime

    runtime = Runtime(get_settings())
    try:
        yield runtime
    finally:
        runtime.close()


def cmd_export(args: argparse.Namespace) -> int:
    from models.log.export import write_export

    out = Path(args.out)
    with _runtime() as runtime, runtime.db_for(args.log).session() as session, out.open("xb") as file:
        size = write_export(session, args.log, file)
    print(f"{out}: log {args.log} at its checkpoint of {size:,} entries", file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from models.core import migrations
    from scripts.logsource import SourceError
    from scripts.restore import log_copies, report, restore_copy

    settings = get_settings()
    migrations.upgrade(settings.database_url)
    with _runtime() as runtime:
        try:
            for source in log_copies(args.from_mirror):
                with source:
                    print(report(restore_copy(runtime, source)))
        except SourceError as error:
            print(f"jejak: {error}", file=sys.stderr)
            return 1
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from scripts.backup import backup

    out = Path(args.out)
    manifest = backup(get_settings(), out)
    print(f"{out}: {manifest.database} database in {manifest.file}, keys in keys/, {len(manifest.logs)} logs")
    for log_id in manifest.keys_missing:
        print(f"jejak: WARNING: the backup holds no key that log {log_id} signs with (rotated meanwhile, "
              "or missing): back it up again, or find the key", file=sys.stderr)
    return 1 if manifest.keys_missing else 0


def cmd_mirror(args: argparse.Namespace) -> int:
    from scripts.mirror import mirror

    directory = Path(args.dir)
    while True:
        failures = mirror(directory, args.location, args.key or [])
        if not args.every:
            return 1 if failures else 0
        time.sleep(args.every)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="jejak", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API and pages with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply the database migrations")
    migrate.set_defaults(run=cmd_migrate)

    keys = sub.add_parser(
        "keys", help="create, show or rotate a signing key; prints its public half (never the private)"
    )
    keys.add_argument("action", choices=["create", "show", "rotate"])
    which = keys.add_mutually_exclusive_group(required=True)
    which.add_argument("--log", help="a log's checkpoint key, by regency code, e.g. 53.03")
    which.add_argument("--label", help="a KPU's label key, by regency code")
    which.add_argument("--token", action="store_true", help="the access-token key")
    keys.set_defaults(run=cmd_keys)

    log = sub.add_parser("log", help="manage logs")
    log_sub = log.add_subparsers(dest="log_command", required=True)
    create = log_sub.add_parser("create", help="create a log for a regency")
    create.add_argument("log", help="regency code, e.g. 53.03")
    create.set_defaults(run=cmd_log_create)

    bench = sub.add_parser("bench", help="benchmarks that print figures against baselines")
    bench.add_argument("target", choices=["ledger", "ingest", "reads", "verify", "growth", "manifest", "onboarding", "stock"])
    bench.add_argument("--entries", type=int, default=200_000)
    bench.add_argument(
        "--rounds", type=int, default=3, help="ledger, verify, ingest, reads, manifest: rounds, medians reported"
    )
    bench.add_argument("--boxes", type=int, default=200, help="manifest: boxes in the truckload")
    bench.add_argument("--officers", type=int, default=10_000, help="onboarding: officers imported (500 a district)")
    bench.add_argument("--read-boxes", type=int, default=5000, help="reads: boxes in the log, each with a trail")
    bench.add_argument("--readers", type=int, default=64, help="reads: concurrent clients")
    bench.add_argument("--requests", type=int, default=6000, help="reads: requests a round to each read")
    bench.add_argument("--proof-tree", type=int, default=1_000_000)
    bench.add_argument("--proofs", type=int, default=2000)
    bench.add_argument("--database", action="append", help="database URL (repeatable)")
    bench.add_argument("--batch-scans", type=int, default=60_000, help="ingest: scans sent in batches")
    bench.add_argument("--batch", type=int, default=500, help="ingest: scans per batch request")
    bench.add_argument("--batch-clients", type=int, default=4, help="ingest: devices syncing at once")
    bench.add_argument("--single-scans", type=int, default=15_000, help="ingest: one-scan requests")
    bench.add_argument(
        "--incident-scans", type=int, default=10_000, help="ingest: incident scans sent in batches, each raising an alert"
    )
    bench.add_argument("--clients", type=int, default=32, help="ingest: concurrent one-scan clients")
    bench.add_argument(
        "--prefill", type=int, nargs="+", metavar="N",
        help="ingest: the whole run once per N on a log first holding N entries of a realistic log, "
        "the figures side by side with their ratio (e.g. 10000 1000000)",
    )  # fmt: skip
    bench.add_argument(
        "--profile", type=Path, help="ingest: py-spy the service's workers in round 1, collapsed stacks into this folder"
    )
    bench.add_argument("--workers", type=int, default=2, help="ingest, reads: uvicorn workers; growth: verify processes")
    bench.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="growth: log sizes measured at"
    )
    bench.add_argument("--province", default="53", help="stock: the province whose completeness and convoys are timed")
    bench.add_argument("--villages", type=int, help="stock: only the first N villages of each district")
    bench.add_argument("--election", choices=["pemilu", "pilkada"], default="pemilu", help="stock: the kit of each TPS")
    bench.add_argument("--stocktake-boxes", type=int, default=2000, help="stock: boxes in the stock-take closed")
    bench.add_argument("--stocktake-rounds", type=int, default=3, help="stock: stock-takes scanned and closed")
    bench.set_defaults(run=cmd_bench)
    sites = sub.add_parser("sites", help="import administrative areas and polling stations")
    sites_sub = sites.add_subparsers(dest="sites_command", required=True)
    areas = sites_sub.add_parser(
        "import", help="import regencies (KPU), districts (PPK) and villages (PPS); creates their logs"
    )
    areas.add_argument(
        "--dir", help="folder with regencies.csv, districts.csv, villages.csv (default: scripts/wilayah)"
    )
    areas.add_argument(
        "--regency", action="extend", nargs="+", metavar="CODE", help="only these regencies, e.g. 53.03"
    )
    areas.add_argument(
        "--province", action="extend", nargs="+", metavar="CODE", help="only these provinces, e.g. 53"
    )
    areas.set_defaults(run=cmd_sites_import)
    tps = sites_sub.add_parser(
        "import-tps", help="import polling stations from a CSV: code,village,number,kerawanan,lat,lon"
    )
    tps.add_argument("file")
    tps.set_defaults(run=cmd_sites_import_tps)

    user = sub.add_parser("user", help="manage user accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser(
        "add", help="create a user; the password comes from stdin or a prompt, never the command line"
    )
    add.add_argument("--username", required=True)
    add.add_argument(
        "--role", required=True, help="admin, kpu, ppk, pps, kpps, escort, auditor or integrator"
    )
    add.add_argument(
        "--jurisdiction", required=True, help='a site code like 53.03, or "" (national: admin, auditor, integrator)'
    )
    add.add_argument("--full-name", default="")
    add.add_argument("--nrp", help="a police officer's registration number (escorts)")
    add.add_argument("--scopes", default="", help='integrators, e.g. "items:read events:read"')
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    add.set_defaults(run=cmd_user_add)
    for name, says in [
        ("unlock", "let an account locked by wrong passwords sign in again now"),
        ("disable", "stop an account: no sign-in, and its tokens are refused within a second"),
        ("enable", "let a disabled account sign in again"),
    ]:
        standing = user_sub.add_parser(name, help=says)
        standing.add_argument("username")
        standing.set_defaults(run=cmd_user_standing)
    secret = user_sub.add_parser(
        "secret",
        help="give a service account a new client secret (OAuth client_credentials; its username is the client_id), "
        "shown once; the earlier one stops working",
    )
    secret.add_argument("username")
    secret.set_defaults(run=cmd_user_secret)
    passwd = user_sub.add_parser(
        "passwd", help="set an account's password (stdin or a prompt); its old tokens are refused within a second"
    )
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    passwd.set_defaults(run=cmd_user_passwd)
    imported = user_sub.add_parser(
        "import", help="import officers from a CSV (name,role,jurisdiction,nik,nrp,phone), judged whole"
    )
    imported.add_argument("file")
    imported.add_argument("--period", help="the election period the accounts serve, e.g. pemilu-2029")
    imported.add_argument("--dry-run", action="store_true", help="judge the file; create nothing")
    imported.add_argument("--sheets", help="a folder: write the enrollment QR sheets (PDF per village/district) there")
    imported.set_defaults(run=cmd_user_import)
    sheet = user_sub.add_parser("sheet", help="issue new codes for a site's accounts not yet enrolled, as a PDF")
    sheet.add_argument("site")
    sheet.add_argument("--out", required=True)
    sheet.set_defaults(run=cmd_user_sheet)
    reset = user_sub.add_parser("reset", help="end an account's password and tokens; print a new enrollment code")
    reset.add_argument("username")
    reset.set_defaults(run=cmd_user_reset)
    ended = user_sub.add_parser("end-period", help="disable every account of an election period (dry run unless --apply)")
    ended.add_argument("period")
    ended.add_argument("--apply", action="store_true")
    ended.set_defaults(run=cmd_user_end_period)

    witness = sub.add_parser("witness", help="a C2SP tlog-witness that cosigns logs' checkpoints")
    witness_sub = witness.add_subparsers(dest="witness_command", required=True)
    wserve = witness_sub.add_parser("serve", help="serve POST /add-checkpoint (needs no Jejak database)")
    wserve.add_argument("--key", required=True, help="the witness's private key file")
    wserve.add_argument(
        "--log", action="append", required=True, metavar="VKEY",
        help="a log's checkpoint verifier key, name+keyid+base64 (repeatable)",
    )
    wserve.add_argument("--state", required=True, help="SQLite file of the last checkpoint cosigned per log")
    wserve.add_argument("--host", default="127.0.0.1")
    wserve.add_argument("--port", type=int, default=7380)
    wserve.set_defaults(run=cmd_witness)
    wkey = witness_sub.add_parser("key", help="the witness's cosigning key")
    wkey.add_argument("action", choices=["create"])
    wkey.add_argument("name", help="the witness's name, e.g. bawaslu.go.id/saksi")
    wkey.add_argument("--out", required=True, help="where to write the private key (never overwritten)")
    wkey.set_defaults(run=cmd_witness)

    export = sub.add_parser(
        "export", help="write a log's export bundle (.tar.gz) that `jejak verify` checks offline"
    )
    export.add_argument("log", help="regency code, e.g. 53.03")
    export.add_argument("--out", required=True, help="the bundle file to write (never overwritten)")
    export.set_defaults(run=cmd_export)

    restore = sub.add_parser(
        "restore", help="rebuild a fresh database from a mirror or export bundle (needs the log keys' backup)"
    )
    restore.add_argument(
        "--from-mirror", required=True, metavar="DIR",
        help="a mirror directory (every log in it), one log's copy, or an export bundle",
    )
    restore.set_defaults(run=cmd_restore)

    backup = sub.add_parser(
        "backup", help="copy the database (SQLite online backup, or pg_dump -Fc) and the keys into a new directory"
    )
    backup.add_argument("--out", required=True, metavar="DIR", help="where to write the backup (new, or empty)")
    backup.set_defaults(run=cmd_backup)

    mirror = sub.add_parser(
        "mirror", help="keep a complete, checked copy of logs in a directory (ledger/ and HTTP only)"
    )
    mirror.add_argument(
        "location", nargs="+",
        help="a log's tiles URL (https://host/logs/53.03), a server URL for all its logs, or another mirror",
    )
    mirror.add_argument("--dir", required=True, help="the mirror directory; each log in DIR/<log>/")
    mirror.add_argument(
        "--key", action="append", metavar="VKEY",
        help="a log's checkpoint verifier key to pin (repeatable); a copy stays pinned to the key it was made with",
    )
    mirror.add_argument("--every", type=float, metavar="SECONDS", help="keep mirroring, a pass every SECONDS")
    mirror.set_defaults(run=cmd_mirror)

    from scripts import verify

    check = sub.add_parser(
        "verify", help="check a log (URL, mirror or bundle) with its verifier key alone; exit 1 on any failure"
    )
    verify.add_arguments(check)
    check.set_defaults(run=verify.command)

    from scripts import simulate

    election = sub.add_parser(
        "simulate", help="an election from the wilayah data, driven through a server's API; prints figures"
    )
    simulate.add_arguments(election)
    election.set_defaults(run=simulate.main)

    demo = sub.add_parser("seed-demo", help="load the Timor Tengah Utara demo (development only)")
    demo.add_argument("--if-empty", action="store_true", help="do nothing if the demo's log has items")
    demo.set_defaults(run=cmd_seed_demo)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (JejakError, FileExistsError, ValueError) as error:
        print(f"jejak: {getattr(error, 'detail', error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
