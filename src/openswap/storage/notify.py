"""PostgreSQL LISTEN/NOTIFY as the station command channel (`services.station_records.
StationCommandChannel`): every insert into `station_commands` notifies (a trigger, in the
inserting transaction, so only committed commands wake anyone), and each OCPP worker listens
on its own connection and delivers the commands of the stations it holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import psycopg
from sqlalchemy.engine import make_url

from openswap.storage.station_tables import NOTIFY_CHANNEL

log = logging.getLogger("openswap.storage")


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq one (no driver suffix)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class PgCommandChannel:
    """Wake-ups by station id over LISTEN/NOTIFY; reconnects with backoff when the database
    connection drops (the OCPP poll covers what is missed meanwhile)."""

    def __init__(self, url: str, *, channel: str = NOTIFY_CHANNEL) -> None:
        self.url = libpq_url(url)
        self.channel = channel
        self._listen_conn: psycopg.AsyncConnection[object] | None = None
        self._closed = False

    async def publish(self, station_id: str) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute("SELECT pg_notify(%s, %s)", (self.channel, station_id))

    async def listen(self) -> AsyncIterator[str]:
        delay = 0.1
        while not self._closed:
            try:
                conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                self._listen_conn = conn
                async with conn:
                    await conn.execute(f'LISTEN "{self.channel}"')
                    delay = 0.1
                    async for note in conn.notifies():
                        yield note.payload
            except psycopg.Error as exc:
                if self._closed:
                    return
                log.warning("command channel lost: %s; reconnecting", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def close(self) -> None:
        self._closed = True
        if self._listen_conn is not None:
            await self._listen_conn.close()
