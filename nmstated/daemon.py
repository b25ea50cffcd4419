"""The daemon: arguments, logging, and the ordered start and stop of its parts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from dbus_fast import BusType, RequestNameReply
from dbus_fast.aio import MessageBus

import nmstated
from nmstated.backends.networkmanager.client import NetworkManagerClient
from nmstated.current import CurrentStateReader
from nmstated.engine import Engine
from nmstated.monitor import KernelMonitor
from nmstated.service.boundary import track_callers
from nmstated.service.job import export_job, unexport_job
from nmstated.service.manager import MANAGER_PATH, ManagerInterface

log = logging.getLogger("nmstated")

BUS_NAME = "org.nmstate"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="nmstated", description="Declarative host networking over D-Bus (org.nmstate)."
    )
    parser.add_argument(
        "--bus-address",
        help="system bus address (default: $DBUS_SYSTEM_BUS_ADDRESS, else the system bus)",
    )
    parser.add_argument(
        "--run-dir", type=Path, default=Path("/run/nmstated"), help="runtime state directory"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: info)",
    )
    parser.add_argument("--version", action="version", version=nmstated.__version__)
    return parser.parse_args(argv)


def setup_logging(level: str) -> None:
    handler: logging.Handler
    if os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"):
        from systemd.journal import JournalHandler

        handler = JournalHandler(SYSLOG_IDENTIFIER="nmstated")
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("nmstated: %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # pyroute2 logs every netlink message at debug level: far too much to be useful.
    logging.getLogger("pyroute2").setLevel(max(logging.INFO, logging.root.level))


def sd_notify(state: str) -> None:
    if not os.environ.get("NOTIFY_SOCKET"):
        return
    from systemd.daemon import notify

    notify(state)


class Daemon:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stopping = asyncio.Event()

    async def run(self) -> int:
        bus = await MessageBus(bus_address=self.args.bus_address, bus_type=BusType.SYSTEM).connect()
        nm = NetworkManagerClient(bus)
        reader = CurrentStateReader(nm)
        monitor = KernelMonitor()
        engine = Engine(nm, reader, monitor)
        try:
            await reader.start()
            await monitor.start()
            try:
                backend = f"NetworkManager {await nm.version()}"
            except Exception as err:  # NetworkManager may start after us
                log.warning("NetworkManager not reachable yet: %s", err)
                backend = "NetworkManager"
            await reader.read_dict()  # the first state read, before we say ready
            engine.on_job_created.append(lambda job: export_job(bus, job))
            engine.on_job_forgotten.append(lambda job: unexport_job(bus, job))
            engine.start()
            track_callers(bus, MANAGER_PATH)
            bus.export(MANAGER_PATH, ManagerInterface(engine, backend))
            reply = await bus.request_name(BUS_NAME)
            if reply != RequestNameReply.PRIMARY_OWNER:
                log.error(
                    "the name %s is already owned (%s); is nmstated running?", BUS_NAME, reply
                )
                return 1
            self.args.run_dir.mkdir(parents=True, exist_ok=True)
            log.info("nmstated %s serving %s (%s)", nmstated.__version__, BUS_NAME, backend)
            sd_notify("READY=1")
            await self.stopping.wait()
            log.info("stopping")
            sd_notify("STOPPING=1")
            await bus.release_name(BUS_NAME)
            return 0
        finally:
            await engine.close()
            await monitor.close()
            reader.close()
            bus.disconnect()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.log_level)

    async def runner() -> int:
        daemon = Daemon(args)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, daemon.stopping.set)
        return await daemon.run()

    try:
        return asyncio.run(runner())
    except (ConnectionError, FileNotFoundError, OSError) as err:
        log.error("cannot start: %s", err)
        return 1
