"""The service's long-lived parts, wired once for the web app and the CLI alike: the
composition root, which builds the services and closes them at shutdown.

Nothing takes it whole: each endpoint asks api/deps.py for the services it uses, and
each function in models/ takes the ones it uses as arguments, so no module below this
one imports it. Its methods serve the CLI, the scripts and the tests."""

from __future__ import annotations

import models.tables  # noqa: F401  (every table registered before the first session)
from models.accounts.standing import Standings
from models.core.db import Database
from models.core.routing import Databases
from models.core.settings import Settings
from models.custody.device_gaps import GapWatch
from models.custody.devices import DeviceKeys
from models.custody.overdue import Allowance, OverdueWatch
from models.custody.pickups import PickupWatch
from models.log import reads
from models.log.checkpointer import Checkpointer
from models.log.keys import KeyStore
from models.log.sequencer import Sequencer
from models.log.tables import Log
from models.log.tiles import TileStore
from models.log.witnesses import Cosigners, configured_witnesses
from models.places.wilayah import share_sites
from models.webhooks.delivery import Deliverer


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The home database, and those logs routed elsewhere live on (models/core/routing.py).
        self.databases = Databases(Database(settings.database_url), settings.log_databases)
        self.db = self.databases.home
        self.keys = KeyStore(settings.keys_dir, create_missing=not settings.is_production)
        self.standings = Standings(self.db)
        self.tiles = TileStore()
        self.device_keys = DeviceKeys()
        self.sequencer = Sequencer(self.databases, self.tiles)
        self.witnesses = configured_witnesses(settings.witnesses)
        self.cosigners = Cosigners(self.databases, self.tiles, self.witnesses)
        self.checkpointer = Checkpointer(
            self.databases,
            self.tiles,
            self.keys,
            settings.checkpoint_interval,
            on_new_checkpoints=self.cosigners.submit,
        )
        self.overdue = OverdueWatch(self.databases, Allowance.of(settings), settings.not_received_check_interval)
        self.gaps = GapWatch(self.databases, settings.device_gap_hours, settings.not_received_check_interval)
        self.pickups = PickupWatch(self.databases, settings.pickup_minutes, settings.not_received_check_interval)
        self.webhooks = Deliverer(self.db, settings)

    def db_for(self, code: str) -> Database:
        """The database of the log that a log, site or item code belongs to."""
        return self.databases.for_log(code)

    def origin(self, log_id: str) -> str:
        return reads.origin_for(self.settings.host, log_id)

    def create_log(self, log_id: str) -> Log:
        reads.check_log_id(log_id)
        signer = self.keys.log_signer(log_id, self.origin(log_id))
        with self.db_for(log_id).session(write=True) as session:
            return reads.create_log(session, log_id, signer)

    def ensure_log(self, log_id: str) -> Log:
        with self.db_for(log_id).session() as session:
            existing = session.get(Log, reads.check_log_id(log_id))
        return existing or self.create_log(log_id)

    def share_sites(self, regencies: set[str]) -> int:
        """Copy these regencies' sites to the databases their logs live on, if elsewhere."""
        return share_sites(self.databases, self.db, regencies)

    def close(self) -> None:
        self.checkpointer.stop()
        self.overdue.stop()
        self.gaps.stop()
        self.pickups.stop()
        self.webhooks.stop()
        self.cosigners.stop()
        self.sequencer.close()
        self.databases.dispose()
