"""EmulatorServer: the emulator on a real loopback socket in a background thread.

Tests, benchmarks and the demo start it, read ``url``, and stop it by this handle (after
moto's ThreadedMotoServer). Port 0 picks a free port.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn

from qb_pipeline.emulator.app import build_app
from qb_pipeline.emulator.backend import Emulator
from qb_pipeline.emulator.config import EmulatorConfig

logger = logging.getLogger(__name__)


class EmulatorServer:
    """Start/stop a uvicorn server around an :class:`Emulator`."""

    def __init__(
        self,
        emulator: Emulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: EmulatorConfig | None = None,
        log_level: str = "warning",
    ) -> None:
        self.emulator = emulator or Emulator(config)
        self.host = host
        self._requested_port = port
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the emulator is not running")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:53211 (API under /v3, OAuth at Intuit's paths)."""
        return f"http://{self.host}:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid_configuration"

    def start(self, timeout: float = 15.0) -> EmulatorServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        sock.listen(2048)
        self._socket = sock
        config = uvicorn.Config(
            build_app(self.emulator),
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="qbo-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        self.emulator.webhooks.start()
        logger.info("QBO emulator serving at %s", self.url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.emulator.webhooks.stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
