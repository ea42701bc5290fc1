"""A faithful local QuickBooks Online: Accounting API v3, Intuit OAuth 2.0, webhooks.

Start it with ``qb-pipeline emulator`` or, in tests, ``EmulatorServer().start()``.
"""

from qb_pipeline.emulator.backend import Emulator
from qb_pipeline.emulator.config import EmulatorConfig
from qb_pipeline.emulator.server import EmulatorServer

__all__ = ["Emulator", "EmulatorConfig", "EmulatorServer"]
