"""Signs a new checkpoint for every log that has grown, at least once a second."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from ledger import merkle
from sqlalchemy.exc import IntegrityError

from models.core.periodic import Periodic
from models.core.routing import LogDatabases
from models.log.keys import KeyStore, MissingKey
from models.log.reads import add_checkpoint, log_status
from models.log.tables import Log
from models.log.tiles import TileStore

logger = logging.getLogger(__name__)


class Checkpointer(Periodic):
    name = "checkpointer"

    def __init__(
        self,
        db: LogDatabases,
        tiles: TileStore,
        keys: KeyStore,
        interval: float,
        on_new_checkpoints: Callable[[Iterable[str]], None],
    ) -> None:
        super().__init__(interval)
        self.db = db
        self.tiles = tiles
        self.keys = keys
        # Told which logs have a checkpoint it has not told of yet, whichever process
        # signed it (for the witnesses); must not block.
        self.on_new_checkpoints = on_new_checkpoints
        self._told: dict[str, int] = {}

    def sign_grown_logs(self) -> list[tuple[str, int]]:
        """Sign a checkpoint at the current size of every log that outgrew its last one."""
        signed, statuses = [], []
        for database in self.db.each():
            with database.session() as session:
                statuses += log_status(session)
        grown = [s.log_id for s in statuses if s.size > s.checkpoint_size]
        for log_id in grown:
            try:
                with self.db.for_log(log_id).session(write=True) as session:
                    log = session.get_one(Log, log_id)
                    root = merkle.tree_root(log.size, self.tiles.reader(session, log_id, log.size))
                    # The database says which key: another process may have rotated it.
                    signer = self.keys.log_signer(log_id, log.origin, log.verifier_key)
                    add_checkpoint(session, log, root, signer, size=log.size)
                signed.append((log_id, log.size))
            except IntegrityError:
                pass  # another process signed this size first
            except MissingKey as error:  # one log's key must not hold up the others' checkpoints
                logger.error("log %s gets no checkpoint: %s", log_id, error.detail)
            except LookupError as error:  # nor one log's damaged tree (a restore gone wrong)
                logger.error("log %s gets no checkpoint: %s", log_id, error)
        self._tell({s.log_id: s.checkpoint_size for s in statuses} | dict(signed))
        return signed

    def _tell(self, checkpoint_sizes: dict[str, int]) -> None:
        new = {
            log_id: size
            for log_id, size in checkpoint_sizes.items()
            if size > self._told.get(log_id, -1)
        }
        self._told |= new
        if new:
            self.on_new_checkpoints(new)

    def tick(self) -> list[tuple[str, int]]:
        return self.sign_grown_logs()
