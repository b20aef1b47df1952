"""A single-node Apache Kafka (KRaft, broker + controller) on 127.0.0.1, for development and tests.

The jars come from Maven Central through a tiny pom and ``mvn dependency:copy-dependencies`` and are
cached under ``~/.cache/wisetrader/kafka-<version>`` (``WISETRADER_KAFKA_CACHE`` overrides). Each broker
gets free ports chosen at start and its own log directory, so several can run side by side.

    python -m wisetrader.devtools.kafka fetch        # download the jars once
    python -m wisetrader.devtools.kafka run          # start, print the bootstrap address, stop on Ctrl-C

Needs Java 17+ and Maven on PATH.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

KAFKA_VERSION = "4.4.0"
# log4j-slf4j2-impl routes the broker's slf4j logging to log4j2 (kafka_2.13 brings log4j-core);
# slf4j-api is pinned to 2.x because Maven's nearest-wins would otherwise pick kafka's 1.7.
LOG4J_VERSION = "2.25.2"
SLF4J_VERSION = "2.0.17"

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>wisetrader.devtools</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>{slf4j}</version></dependency>
  </dependencies>
</project>
"""

# Warnings only, except the line that says the server is up (our readiness signal).
LOG4J2_YAML = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""
READY_MARKER = "Kafka Server started"

JVM_OPTS = ["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]


class KafkaError(RuntimeError):
    pass


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "wisetrader" / f"kafka-{KAFKA_VERSION}"
    return Path(os.environ.get("WISETRADER_KAFKA_CACHE", default))


def fetch_jars(root: Path | None = None) -> Path:
    """Download Kafka's runtime jars once; returns the directory holding them."""
    root = root or cache_dir()
    jars = root / "jars"
    done = root / ".complete"
    if done.exists():
        return jars
    for tool in ("mvn", "java"):
        if shutil.which(tool) is None:
            raise KafkaError(f"{tool} is not on PATH (Kafka needs Java 17+ and Maven to fetch its jars)")
    root.mkdir(parents=True, exist_ok=True)
    (root / "pom.xml").write_text(POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION, slf4j=SLF4J_VERSION))
    staging = Path(tempfile.mkdtemp(prefix="jars.", dir=root))
    cmd = ["mvn", "-q", "-B", "-f", str(root / "pom.xml"), "dependency:copy-dependencies"]
    cmd += [f"-DoutputDirectory={staging}", "-DincludeScope=runtime"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise KafkaError(f"mvn failed to fetch Kafka {KAFKA_VERSION}:\n{result.stdout}\n{result.stderr}")
    # Rename into place so a concurrent or interrupted fetch never leaves a half-filled directory in use.
    try:
        staging.rename(jars)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process won the race
    done.touch()
    return jars


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


class KafkaBroker:
    """One KRaft node on 127.0.0.1; ``start()``/``stop()`` may repeat (a restart keeps data and ports)."""

    def __init__(self, workdir: Path | None = None, *, partitions: int = 3) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="wisetrader-kafka-"))
        self.partitions = partitions
        self.port = 0
        self.controller_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._jars: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.workdir / "broker.log"

    def _java(self, main: str, *args: str) -> list[str]:
        assert self._jars is not None
        log_cfg = self.workdir / "log4j2.yaml"
        return [
            "java",
            *JVM_OPTS,
            f"-Dlog4j2.configurationFile={log_cfg}",
            "-cp",
            f"{self._jars}/*",
            main,
            *args,
        ]

    def _configure(self) -> Path:
        self.port, self.controller_port = free_port(), free_port()
        data = self.workdir / "data"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(data),
            "num.partitions": str(self.partitions),
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "group.min.session.timeout.ms": "1000",  # lets tests detect a killed consumer quickly
            "num.network.threads": "2",
            "num.io.threads": "2",
            "log.flush.interval.messages": "9223372036854775807",
        }
        path = self.workdir / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.workdir / "log4j2.yaml").write_text(LOG4J2_YAML)
        return path

    def start(self, timeout_s: float = 90.0, attempts: int = 3) -> None:
        if self._process is not None:
            return
        self._jars = fetch_jars()
        config = self.workdir / "server.properties"
        fresh = not config.exists()
        for attempt in range(1, attempts + 1 if fresh else 2):
            if fresh:
                self._format()
            try:
                self._launch(config, timeout_s)
                return
            except KafkaError as exc:
                # Ports are picked free, but another process may bind one before the broker does.
                if not fresh or attempt == attempts or "Address already in use" not in str(exc):
                    raise
                config.unlink()
                shutil.rmtree(self.workdir / "data", ignore_errors=True)

    def _format(self) -> None:
        config = self._configure()
        # "--cluster-id=ID", not "-t ID": one id in 64 starts with "-", which argparse takes for an option.
        fmt = self._java(
            "kafka.tools.StorageTool", "format", f"--cluster-id={_cluster_id()}", "-c", str(config)
        )
        result = subprocess.run(fmt, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise KafkaError(f"formatting the KRaft log dir failed:\n{result.stdout}\n{result.stderr}")

    def _launch(self, config: Path, timeout_s: float) -> None:
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                self._java("kafka.Kafka", str(config)),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(offset, timeout_s)

    def _wait_ready(self, offset: int, timeout_s: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise KafkaError(f"Kafka exited during start; see {self.log_file}:\n{self._tail()}")
            with self.log_file.open("rb") as f:
                f.seek(offset)
                if READY_MARKER.encode() in f.read():
                    return
            time.sleep(0.1)
        self.stop()
        raise KafkaError(f"Kafka not ready after {timeout_s:.0f}s; see {self.log_file}:\n{self._tail()}")

    def _tail(self) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-30:])

    def stop(self, timeout_s: float = 30.0) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it hangs. Data and ports are kept for a restart."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def cleanup(self) -> None:
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    if command == "fetch":
        print(fetch_jars())
        return 0
    if command == "run":
        broker = KafkaBroker()
        try:
            broker.start()
            print(
                f"Kafka {KAFKA_VERSION} ready: bootstrap {broker.bootstrap} (Ctrl-C stops and cleans up)",
                flush=True,
            )
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            broker.cleanup()
        return 0
    print("usage: python -m wisetrader.devtools.kafka [fetch|run]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
