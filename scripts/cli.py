"""The `jejak` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from models.errors import JejakError
from models.settings import get_settings

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
    from models import migrations

    settings = get_settings()
    migrations.upgrade(settings.database_url)
    print(f"database at {migrations.head_revision()}: {_safe_url(settings.database_url)}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from models.runtime import Runtime

    runtime = Runtime(get_settings())
    origin = runtime.origin(args.log)
    if args.action == "create":
        signer = runtime.keys.create_log_key(args.log, origin)
        print(f"created {runtime.keys.log_key_path(args.log)}", file=sys.stderr)
    else:
        signer = runtime.keys.log_signer(args.log, origin)
    print(signer.vkey)
    return 0


def cmd_log_create(args: argparse.Namespace) -> int:
    from models.runtime import Runtime

    runtime = Runtime(get_settings())
    log = runtime.create_log(args.log)
    print(f"{log.id}\t{log.origin}\t{log.verifier_key}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.target == "ingest":
        from scripts import bench_ingest

        return bench_ingest.main(args)
    from scripts import bench_ledger

    return bench_ledger.main(args)


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

    keys = sub.add_parser("keys", help="create or show a log's signing key (prints its verifier key)")
    keys.add_argument("action", choices=["create", "show"])
    keys.add_argument("--log", required=True, help="regency code, e.g. 53.03")
    keys.set_defaults(run=cmd_keys)

    log = sub.add_parser("log", help="manage logs")
    log_sub = log.add_subparsers(dest="log_command", required=True)
    create = log_sub.add_parser("create", help="create a log for a regency")
    create.add_argument("log", help="regency code, e.g. 53.03")
    create.set_defaults(run=cmd_log_create)

    bench = sub.add_parser("bench", help="benchmarks that print figures against baselines")
    bench.add_argument("target", choices=["ledger", "ingest"])
    bench.add_argument("--entries", type=int, default=200_000)
    bench.add_argument("--rounds", type=int, default=3)
    bench.add_argument("--proof-tree", type=int, default=1_000_000)
    bench.add_argument("--proofs", type=int, default=2000)
    bench.add_argument("--database", action="append", help="database URL (repeatable)")
    bench.add_argument("--batch-scans", type=int, default=60_000, help="ingest: scans sent in batches")
    bench.add_argument("--batch", type=int, default=500, help="ingest: scans per batch request")
    bench.add_argument("--batch-clients", type=int, default=4, help="ingest: devices syncing at once")
    bench.add_argument("--single-scans", type=int, default=10_000, help="ingest: one-scan requests")
    bench.add_argument("--clients", type=int, default=32, help="ingest: concurrent one-scan clients")
    bench.add_argument("--workers", type=int, default=2, help="ingest: uvicorn workers")
    bench.set_defaults(run=cmd_bench)
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
