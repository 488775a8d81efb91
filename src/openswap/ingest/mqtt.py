"""MQTT ingest: subscribe to `openswap/{station}/{pack}/bms` (QoS 1, persistent session), batch
messages by size and time, hand each batch to the ingest use case, and acknowledge the batch's
messages only after the use case returned (the readings are committed and acted upon).

The client uses MQTT 5 with a fixed client id, `clean_start=False` and a session expiry, so the
broker keeps the subscription and queues messages while the subscriber is away; manual acks mean
a message is acknowledged only once durable: if the process dies first, the broker redelivers it
(the store is idempotent on (serial, time), so redelivery is harmless). A failing batch is held
and retried with back-off, never acknowledged and never dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from openswap.services.health import IngestItem, IngestResult

log = logging.getLogger("openswap.ingest.mqtt")

TOPIC_PREFIX = "openswap"
TOPIC_SUFFIX = "bms"
TOPIC_FILTER = f"{TOPIC_PREFIX}/+/+/{TOPIC_SUFFIX}"
MAX_RECEIVE = 65_535  # in-flight QoS 1 messages the broker may send us unacknowledged


def bms_topic(station_id: str, serial: str) -> str:
    """The topic a station publishes one pack's BMS readings on."""
    return f"{TOPIC_PREFIX}/{station_id}/{serial}/{TOPIC_SUFFIX}"


def parse_topic(topic: str) -> tuple[str, str] | None:
    """(station id, pack serial) of a BMS topic, or None when the topic is not one."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != TOPIC_PREFIX or parts[3] != TOPIC_SUFFIX:
        return None
    if not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "openswap-health-ingest"
    topic: str = TOPIC_FILTER
    batch_size: int = 2_000
    batch_wait_s: float = 0.2  # a batch goes when full or when its first message is this old
    session_expiry_s: int = 7 * 86_400  # how long the broker keeps our session while we are away
    keepalive_s: int = 30
    username: str | None = None
    password: str | None = None
    retry_max_s: float = 30.0

    @staticmethod
    def from_url(url: str, **changes: Any) -> MqttSettings:
        """Settings from `mqtt://[user:password@]host[:port]`."""
        u = urlparse(url)
        if u.scheme not in ("mqtt", "tcp"):
            raise ValueError(f"not an mqtt:// URL: {url!r}")
        return MqttSettings(
            host=u.hostname or "127.0.0.1",
            port=u.port or 1883,
            username=u.username,
            password=u.password,
            **changes,
        )


@dataclass(frozen=True, slots=True)
class _Message:
    mid: int
    qos: int
    topic: str
    payload: bytes
    received: float  # time.monotonic()


@dataclass(slots=True)
class IngestStats:
    messages: int = 0
    batches: int = 0
    acked: int = 0
    failures: int = 0
    last_result: IngestResult | None = None


class MqttIngest:
    """The subscriber: `start()` connects and runs in background threads, `stop()` flushes the
    pending batch and disconnects. `ingest` is `HealthService.ingest` (or any callable with
    its signature); `on_batch` (tests, benchmarks) sees each batch's messages after their ack."""

    def __init__(
        self,
        ingest: Callable[[Sequence[IngestItem]], IngestResult],
        settings: MqttSettings | None = None,
        *,
        on_batch: Callable[[Sequence[IngestItem], IngestResult], None] | None = None,
    ) -> None:
        self.settings = settings or MqttSettings()
        self._ingest = ingest
        self._on_batch = on_batch
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._worker: threading.Thread | None = None
        self.stats = IngestStats()
        s = self.settings
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if s.username is not None:
            self.client.username_pw_set(s.username, s.password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe

    # paho callbacks run on its network thread: keep them short
    def _on_connect(
        self, client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(self.settings.topic, qos=1)
        log.info("MQTT connected to %s:%s", self.settings.host, self.settings.port)

    def _on_subscribe(
        self, _client: mqtt.Client, _ud: Any, _mid: int, _codes: Any, _props: Any
    ) -> None:
        self._connected.set()  # subscribed: from now on nothing published is missed

    def _on_disconnect(
        self, _client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT disconnected (%s); reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue.put(_Message(msg.mid, msg.qos, msg.topic, bytes(msg.payload), time.monotonic()))

    def start(self, wait_s: float = 10.0) -> None:
        s = self.settings
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = s.session_expiry_s
        props.ReceiveMaximum = MAX_RECEIVE
        self.client.reconnect_delay_set(min_delay=1, max_delay=int(s.retry_max_s))
        self.client.connect_async(
            s.host, s.port, keepalive=s.keepalive_s, clean_start=False, properties=props
        )
        self.client.loop_start()
        self._worker = threading.Thread(target=self._run, name="mqtt-ingest", daemon=True)
        self._worker.start()
        if wait_s > 0 and not self._connected.wait(wait_s):
            log.warning("MQTT not connected after %.0f s; still trying", wait_s)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        """Start and block until interrupted (Ctrl-C), then stop cleanly."""
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def _next_batch(self) -> list[_Message]:
        s = self.settings
        try:
            first = self._queue.get(timeout=0.05)
        except queue.Empty:
            return []
        batch = [first]
        deadline = first.received + s.batch_wait_s
        while len(batch) < s.batch_size:
            left = deadline - time.monotonic()
            try:
                batch.append(
                    self._queue.get_nowait() if left <= 0 else self._queue.get(timeout=left)
                )
            except queue.Empty:
                break
            if left <= 0 and self._queue.empty():
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if not batch:
                if self._stop.is_set():
                    return
                continue
            self._process(batch)

    def _process(self, batch: list[_Message]) -> None:
        items = []
        for m in batch:
            ids = parse_topic(m.topic)
            station, serial = ids if ids is not None else (None, None)
            items.append(IngestItem(m.payload, f"mqtt:{m.topic}", station, serial))
        delay = 0.5
        while True:
            try:
                result = self._ingest(items)
                break
            except Exception:  # the database is away: hold the batch, never ack it
                self.stats.failures += 1
                if self._stop.is_set():
                    return  # unacknowledged: the broker redelivers it to the next session
                log.exception("ingest of %d messages failed; retrying in %.1f s", len(items), delay)
                time.sleep(delay)
                delay = min(delay * 2, self.settings.retry_max_s)
        for m in batch:
            if m.qos > 0:
                self.client.ack(m.mid, m.qos)
        self.stats.messages += len(batch)
        self.stats.batches += 1
        self.stats.acked += sum(1 for m in batch if m.qos > 0)
        self.stats.last_result = result
        if self._on_batch is not None:
            self._on_batch(items, result)


__all__ = [
    "TOPIC_FILTER",
    "IngestStats",
    "MqttIngest",
    "MqttSettings",
    "bms_topic",
    "parse_topic",
]
