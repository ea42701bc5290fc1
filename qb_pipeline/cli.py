"""The ``qb-pipeline`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from qb_pipeline import settings

if TYPE_CHECKING:
    from datetime import datetime

log = logging.getLogger("qb_pipeline.cli")


def _emulator_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emulator", help="serve a local QuickBooks Online (API, OAuth, webhooks)")
    p.add_argument("--host", default=settings.DEFAULT_EMULATOR_HOST)
    p.add_argument(
        "--port", type=int, default=settings.DEFAULT_EMULATOR_PORT, help="0 picks a free port"
    )
    p.add_argument("--companies", type=int, default=1, help="how many companies (realms)")
    p.add_argument("--size", choices=settings.EMULATOR_SIZES, default="tiny")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--multi-currency",
        type=int,
        default=1,
        metavar="N",
        help="how many of the companies are multi-currency (default 1)",
    )
    p.add_argument("--client-id", default="emulator-client-id")
    p.add_argument("--client-secret", default="emulator-client-secret")
    p.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="allowed OAuth redirect URI (repeatable; none = any loopback URI)",
    )
    p.add_argument("--no-limits", action="store_true", help="lift QBO's throttles")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--error-rate", type=float, default=0.0, help="probability of a 500 per call")
    p.add_argument("--webhook-url", action="append", default=[])
    p.add_argument("--webhook-format", choices=("legacy", "cloudevents"), default="legacy")
    p.add_argument("--webhook-verifier", default="emulator-verifier-token")
    p.add_argument("--webhook-dir", type=Path, help="also write webhook deliveries here")
    p.add_argument("--truth-dir", type=Path, help="write each company's ground truth here")
    p.add_argument("--info-file", type=Path, help="write realms and URLs as JSON here once serving")


def _vault_parser(sub: argparse._SubParsersAction) -> None:
    vault = sub.add_parser("vault", help="the token vault (encrypted OAuth tokens)")
    commands = vault.add_subparsers(dest="vault_command", required=True)
    commands.add_parser(
        "rotate-key",
        help="new current key (key file mode) and re-encrypt every connection's tokens under it",
    )


def run_vault(args: argparse.Namespace) -> int:
    """``qb-pipeline vault rotate-key``: re-encrypt every connection under the current key."""
    from qb_pipeline.store import Store
    from qb_pipeline.vault import Keyring, VaultError, rotate_key

    try:
        store = Store.from_url()
        keyring = Keyring.load()
        count = rotate_key(store, keyring)
    except VaultError as exc:
        print(f"qb-pipeline vault {args.vault_command}: {exc}", file=sys.stderr)
        return 1
    store.close()
    print(f"re-encrypted {count} connection(s) under key {keyring.current_id}")
    return 0


def _connect_parsers(sub: argparse._SubParsersAction) -> None:
    connect = sub.add_parser(
        "connect", help="authorize a QuickBooks company (OAuth code flow) and store its tokens"
    )
    connect.add_argument("--realm-id", help="company to pick (the emulator honours it)")
    connect.add_argument(
        "--port", type=int, help="loopback callback port (default: QB_REDIRECT_URI's, else free)"
    )
    connect.add_argument("--timeout", type=float, default=300.0, help="seconds to wait")
    connect.add_argument(
        "--open-with-httpx",
        "--follow",
        dest="follow",
        action="store_true",
        help="follow the authorization URL automatically (the emulator consents; tests, demo)",
    )
    sub.add_parser("connections", help="list realms: status, token expiry, open alerts")


def run_connect(args: argparse.Namespace) -> int:
    """``qb-pipeline connect``: print the URL, await the callback, store the tokens."""
    from qb_pipeline.qbo.auth import OAuthConfigError
    from qb_pipeline.qbo.errors import QBOError
    from qb_pipeline.qbo.loopback import connect_realm
    from qb_pipeline.qbo.tokens import refresh_deadline
    from qb_pipeline.vault import VaultError

    def announce(url: str) -> None:
        print(f"Open this URL to authorize qb-pipeline:\n  {url}", flush=True)

    try:
        record = connect_realm(
            realm_hint=args.realm_id,
            port=args.port,
            timeout=args.timeout,
            follow=args.follow,
            announce=announce,
        )
    except OAuthConfigError as exc:
        print(f"qb-pipeline connect: {exc}", file=sys.stderr)
        return 2
    except (QBOError, VaultError, OSError) as exc:
        print(f"qb-pipeline connect: {exc}", file=sys.stderr)
        return 1
    name = f" ({record.company_name})" if record.company_name else ""
    print(
        f"connected realm {record.realm_id}{name}: access token until "
        f"{_when(record.access_expires_at)}, refresh token until {_when(refresh_deadline(record))}"
    )
    return 0


def run_connections(args: argparse.Namespace) -> int:
    """``qb-pipeline connections``: one line per realm, then the open alerts."""
    from qb_pipeline.qbo.tokens import refresh_deadline
    from qb_pipeline.store import Store

    store = Store.from_url()
    try:
        records, alerts = store.connections.list(), store.alerts.open()
    finally:
        store.close()
    if not records:
        print("no connections yet: run `qb-pipeline connect`")
    else:
        print(f"{'realm':<20} {'status':<13} {'access until':<17} {'refresh until':<17} company")
    for record in records:
        status = record.status + ("*" if record.status_reason else "")
        print(
            f"{record.realm_id:<20} {status:<13} {_when(record.access_expires_at):<17} "
            f"{_when(refresh_deadline(record)):<17} {record.company_name}"
        )
    for record in records:
        if record.status_reason:
            print(f"* {record.realm_id}: {record.status_reason}")
    print(f"open alerts: {len(alerts)}")
    for alert in alerts:
        print(f"  [{alert.severity}] {alert.realm_id} {alert.kind}: {alert.message}")
    return 0


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + "Z" if moment else "-"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qb-pipeline", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    _emulator_parser(sub)
    _vault_parser(sub)
    _connect_parsers(sub)
    demo = sub.add_parser("demo", help="emulator + demo companies + OAuth connect + summary")
    demo.add_argument("--companies", type=int, default=3)
    demo.add_argument("--size", choices=settings.EMULATOR_SIZES, default="demo")
    ui = sub.add_parser("ui", help="emulator with the demo companies connected + dagster dev")
    ui.add_argument("--port", type=int, default=settings.DEFAULT_EMULATOR_PORT)
    return parser


def _emulator_config(args: argparse.Namespace):
    from qb_pipeline.emulator.config import EmulatorConfig, OAuthClient, WebhookConfig

    config = EmulatorConfig(
        clients=[
            OAuthClient(
                args.client_id, args.client_secret, list(args.redirect_uri), args.webhook_verifier
            )
        ],
        webhooks=WebhookConfig(
            urls=list(args.webhook_url),
            verifier_token=args.webhook_verifier,
            payload_format=args.webhook_format,
            files_dir=args.webhook_dir,
        ),
    )
    config.limits.enabled = not args.no_limits
    config.faults.latency_ms, config.faults.jitter_ms = args.latency_ms, args.jitter_ms
    config.faults.error_500_rate = args.error_rate
    return config


def run_emulator(args: argparse.Namespace) -> int:
    from qb_pipeline.emulator import Emulator, EmulatorServer

    started = time.monotonic()
    emulator = Emulator(_emulator_config(args))
    server = EmulatorServer(emulator, host=args.host, port=args.port).start()
    print(f"QBO emulator at {server.url} (generating {args.companies} x {args.size})", flush=True)
    for index in range(args.companies):
        books = emulator.create_realm(
            size=args.size, seed=args.seed + index, multi_currency=index < args.multi_currency
        )
        truth = emulator.ground_truth.get(books.realm_id)
        if args.truth_dir and truth is not None:
            args.truth_dir.mkdir(parents=True, exist_ok=True)
            truth.to_json(args.truth_dir / f"{books.realm_id}.json")
        counts = books.counts()
        name = books.read("CompanyInfo", "1")["CompanyName"]
        print(
            f"  realm {books.realm_id}  {name}: "
            f"{sum(counts.values())} objects ({counts.get('Invoice', 0)} invoices)",
            flush=True,
        )
    info = {
        "url": server.url,
        "api_base": f"{server.url}/v3",
        "discovery_url": server.discovery_url,
        "client_id": args.client_id,
        "realms": emulator.realm_ids(),
        "ready_seconds": round(time.monotonic() - started, 2),
    }
    print(
        f"serving in {info['ready_seconds']} s; OAuth discovery: {server.discovery_url}\n"
        f"client_id={args.client_id}  API base: {info['api_base']}  back door: "
        f"{server.url}/_emulator/realms\nCtrl-C to stop.",
        flush=True,
    )
    if args.info_file:
        args.info_file.write_text(json.dumps(info, indent=2))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "emulator":
        return run_emulator(args)
    if args.command == "vault":
        return run_vault(args)
    if args.command == "connect":
        return run_connect(args)
    if args.command == "connections":
        return run_connections(args)
    if args.command == "demo":
        from qb_pipeline.demo import run

        return run(args.companies, args.size)
    if args.command == "ui":
        from qb_pipeline.demo import run_ui

        return run_ui(port=args.port)
    return 2


if __name__ == "__main__":
    sys.exit(main())
