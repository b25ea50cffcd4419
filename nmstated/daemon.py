"""The daemon: arguments, configuration, and the ordered start and stop of its parts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from dbus_fast import BusType, DBusError, RequestNameReply
from dbus_fast.aio import MessageBus

import nmstated
from nmstated.backends.networkmanager.client import NetworkManagerClient
from nmstated.config import DEFAULT_CONFIG_PATH, LOG_LEVELS, DaemonConfig, load_config
from nmstated.current import CurrentStateReader
from nmstated.engine import Engine
from nmstated.errors import InvalidArgument
from nmstated.logs import setup_logging
from nmstated.monitor import KernelMonitor
from nmstated.sdnotify import QueueStatus, Watchdog, notify, watchdog_interval
from nmstated.service.boundary import track_callers
from nmstated.service.interface import publish_kernel_changes
from nmstated.service.job import export_jobs
from nmstated.service.manager import MANAGER_PATH, ManagerInterface
from nmstated.service.object_manager import ObjectManagerBus
from nmstated.service.polkit import Authorizer
from nmstated.signals import SignalHub

log = logging.getLogger(__name__)

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
        "--config",
        type=Path,
        help=f"configuration file (default: {DEFAULT_CONFIG_PATH}, if it exists)",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        help="log verbosity (default: [logging] level of the configuration, else info)",
    )
    parser.add_argument("--version", action="version", version=nmstated.__version__)
    return parser.parse_args(argv)


class Daemon:
    def __init__(self, args: argparse.Namespace, config: DaemonConfig) -> None:
        self.args = args
        self.config = config
        self.stopping = asyncio.Event()

    async def run(self) -> int:
        bus = await ObjectManagerBus(
            bus_address=self.args.bus_address, bus_type=BusType.SYSTEM
        ).connect()
        nm = NetworkManagerClient(bus)
        monitor = KernelMonitor()
        reader = CurrentStateReader(nm, monitor.snapshot)
        hub = SignalHub(monitor, coalesce_window=self.config.coalesce_window)
        engine = Engine(
            nm,
            reader,
            monitor,
            run_dir=self.args.run_dir,
            max_queue=self.config.queue_length,
            history=self.config.job_history,
        )
        monitor.current_job = lambda: engine.running_job_id
        authorizer = Authorizer(bus)
        status = QueueStatus(engine)
        interval = watchdog_interval()
        watchdog = Watchdog(interval) if interval else None
        try:
            if watchdog is not None:
                watchdog.start()
            await reader.start()
            await monitor.start()
            hub.start()
            try:
                backend = f"NetworkManager {await nm.version()}"
            except Exception as err:  # NetworkManager may start after us
                log.warning("NetworkManager not reachable yet: %s", err)
                backend = "NetworkManager"
            await reader.read_dict()  # the first state read, before we say ready
            export_jobs(bus, engine, authorizer)
            await engine.start()  # rolls back a checkpoint a killed predecessor left
            track_callers(bus, MANAGER_PATH)
            manager = ManagerInterface(
                engine,
                backend,
                authorizer,
                default_rollback_timeout=self.config.rollback_timeout,
            )
            bus.export(MANAGER_PATH, manager)
            publish_kernel_changes(bus, hub, manager)
            if not await self._own_name(bus):
                return 1
            self.args.run_dir.mkdir(parents=True, exist_ok=True)
            log.info("nmstated %s serving %s (%s)", nmstated.__version__, BUS_NAME, backend)
            notify("READY=1")
            status.update()
            if await self._bus_lost(bus):
                # Without the bus nobody can reach us: exit so the service manager restarts us.
                log.error("lost the connection to the system bus; exiting")
                notify("STOPPING=1", "STATUS=lost the bus")
                await engine.close()
                return 1
            log.info("stopping")
            notify("STOPPING=1", "STATUS=stopping")
            await engine.close()  # rolls back an active job before the name goes
            await bus.release_name(BUS_NAME)
            return 0
        finally:
            await engine.close()
            hub.close()
            await monitor.close()
            reader.close()
            if watchdog is not None:
                await watchdog.close()
            bus.disconnect()

    async def _own_name(self, bus: MessageBus) -> bool:
        try:
            reply = await bus.request_name(BUS_NAME)
        except DBusError as err:  # the bus policy lets only root own it
            log.error("cannot own %s: %s", BUS_NAME, err.text)
            return False
        if reply != RequestNameReply.PRIMARY_OWNER:
            log.error("the name %s is already owned (%s); is nmstated running?", BUS_NAME, reply)
            return False
        return True

    async def _bus_lost(self, bus: MessageBus) -> bool:
        """Wait for a stop request or the end of the bus connection; True if the bus went."""
        stop = asyncio.ensure_future(self.stopping.wait())
        lost = asyncio.ensure_future(bus.wait_for_disconnect())  # type: ignore[no-untyped-call]
        try:
            await asyncio.wait({stop, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stop, lost):
                task.cancel()
            await asyncio.gather(stop, lost, return_exceptions=True)
        return lost.done() and not lost.cancelled() and not self.stopping.is_set()


def read_config(path: Path | None) -> tuple[DaemonConfig, str]:
    """The configuration, or the defaults and the one line saying what is wrong."""
    try:
        return load_config(path), ""
    except InvalidArgument as err:
        return DaemonConfig(), err.message


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config, problem = read_config(args.config)
    setup_logging(args.log_level or config.log_level)
    if problem:
        log.error("%s; using the built-in defaults", problem)

    async def runner() -> int:
        daemon = Daemon(args, config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, daemon.stopping.set)
        return await daemon.run()

    try:
        return asyncio.run(runner())
    except (ConnectionError, FileNotFoundError, OSError) as err:
        log.error("cannot start: %s", err)
        return 1
