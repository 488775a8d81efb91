"""Fixtures of the ingest tests: databases on every backend (tests/storage/support.py), the
machine's Mosquitto (skipped with a reason when it is down) and a private Mosquitto with
persistence that a test may restart."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.storage.support import BACKENDS, Database, open_backend

BROKER = ("127.0.0.1", 1883)


@pytest.fixture(scope="session", params=BACKENDS)
def session_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    yield from open_backend(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture
def db(session_db: Database) -> Database:
    session_db.reset()
    return session_db


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def broker() -> tuple[str, int]:
    if not reachable(*BROKER):
        pytest.skip(
            "Mosquitto is not reachable on 127.0.0.1:1883 "
            "(start it: mosquitto -d -c /etc/mosquitto/mosquitto.conf)"
        )
    return BROKER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivateBroker:
    """A Mosquitto of the test's own, with persistence in a temp directory."""

    binary: str
    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Started as root, mosquitto drops to its own user: let it write its persistence file.
        self.directory.chmod(0o777)
        conf = self.directory / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.directory}/\n"
            "max_queued_messages 0\n"
        )
        self.process = subprocess.Popen(
            [self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("private mosquitto did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: mosquitto writes its persistence file
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def private_broker() -> Iterator[PrivateBroker]:
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary is None:
        pytest.skip("the mosquitto binary is not installed")
    # Not pytest's tmp_path: its parents are private, and a mosquitto started as root drops to
    # its own user, which must reach the directory to write its persistence file.
    directory = Path(tempfile.mkdtemp(prefix="openswap-mosquitto-"))
    b = PrivateBroker(binary, directory, free_port())
    try:
        b.start()
        yield b
    finally:
        b.stop()
        shutil.rmtree(directory, ignore_errors=True)
