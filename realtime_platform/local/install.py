"""Fetching the platform's services from Maven Central into the state folder.

Maven's local repository (~/.m2) is the download cache, so a second install downloads nothing.
Each step is skipped when its target folder already holds a completed install (a marker file).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import requests

from realtime_platform.config import PlatformSettings
from realtime_platform.local.paths import MAVEN_POMS, StatePaths, state_paths

# The Trino server tarball carries ~60 plugins; only these are unpacked.
TRINO_PLUGINS = ("hive", "pinot")
MARKER = ".installed"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"


def log(message: str) -> None:
    print(f"[install] {message}", flush=True)


def _extract(tar: tarfile.TarFile, target: Path) -> None:
    """Unpacks an archive, refusing members that would land outside `target`: tarfile's "data" filter
    where this Python has it (3.11.4+; Debian 12 ships 3.11.2), else the same check by hand."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, filter="data")
        return
    root = target.resolve()
    for member in tar.getmembers():
        path = root / member.name
        link = (path.parent / member.linkname) if member.issym() else path
        if not (path.resolve().is_relative_to(root) and link.resolve().is_relative_to(root)):
            raise RuntimeError(f"archive member {member.name} would be unpacked outside {target}")
    tar.extractall(target)  # every member checked above


def maven(cfg: PlatformSettings) -> Path:
    """`mvn` from PATH, else Apache Maven `maven_version` fetched from Maven Central once (its SHA-512
    checked against the one Central publishes) into the downloads folder."""
    on_path = shutil.which("mvn")
    if on_path:
        return Path(on_path)
    version = cfg.versions.maven
    home = state_paths(cfg).dist / f"apache-maven-{version}"
    if not _done(home):
        url = f"{MAVEN_CENTRAL}/org/apache/maven/apache-maven/{version}/apache-maven-{version}-bin.tar.gz"
        log(f"Apache Maven {version} from Maven Central (no mvn on PATH)")
        published = requests.get(f"{url}.sha512", timeout=30)
        published.raise_for_status()
        expected = published.text.split()[0].lower()
        home.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile() as archive:
            digest = hashlib.sha512()
            with requests.get(url, stream=True, timeout=60) as response:
                response.raise_for_status()
                for chunk in response.iter_content(1 << 20):
                    digest.update(chunk)
                    archive.write(chunk)
            if digest.hexdigest() != expected:
                raise RuntimeError(f"{url}: SHA-512 {digest.hexdigest()} is not the published {expected}")
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:  # one folder: apache-maven-<version>/
                _extract(tar, home.parent)
        _mark(home)
    return home / "bin" / "mvn"


def _mvn(cfg: PlatformSettings, *args: str) -> None:
    """Runs Maven in batch mode, showing only its download lines (the progress) and errors."""
    from realtime_platform.local.jvm import find_java_home

    cmd = [str(maven(cfg)), "-B", "--no-snapshot-updates", f"-Dmaven.repo.local={maven_local_repository()}", *args]
    env = {**os.environ, "JAVA_HOME": str(find_java_home(minimum=17))}
    tail: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as process:
        assert process.stdout is not None  # stdout=PIPE
        for line in process.stdout:
            tail = [*tail, line][-60:]
            if line.startswith(("Downloaded from", "[ERROR]")):
                print("   " + line.rstrip()[:160], flush=True)
    if process.returncode:
        sys.stderr.write("".join(tail))
        raise subprocess.CalledProcessError(process.returncode, cmd)


def _done(target: Path) -> bool:
    return (target / MARKER).exists()


def _mark(target: Path) -> None:
    (target / MARKER).write_text("ok\n")


def maven_local_repository() -> Path:
    """Maven's download cache; MAVEN_REPO_LOCAL moves it (e.g. to measure a cold install)."""
    override = os.environ.get("MAVEN_REPO_LOCAL")
    return Path(override) if override else Path.home() / ".m2" / "repository"


def fetch_artifact(cfg: PlatformSettings, coordinates: str) -> Path:
    """Downloads one artifact (group:artifact:version[:type[:classifier]]) and returns its path."""
    group, artifact, version, *rest = coordinates.split(":")
    kind = rest[0] if rest else "jar"
    classifier = rest[1] if len(rest) > 1 else None
    name = f"{artifact}-{version}" + (f"-{classifier}" if classifier else "") + f".{kind}"
    path = maven_local_repository() / group.replace(".", "/") / artifact / version / name
    if not path.exists():
        log(f"downloading {coordinates}")
        _mvn(cfg, "dependency:get", "-Dtransitive=false", f"-Dartifact={group}:{artifact}:{version}:{kind}"
             + (f":{classifier}" if classifier else ""))
    return path


def copy_dependencies(cfg: PlatformSettings, pom: Path, target: Path, properties: dict[str, str]) -> None:
    """Resolves a pom's runtime dependencies (transitively) into target/lib."""
    lib = target / "lib"
    defines = [f"-D{key}={value}" for key, value in properties.items()]
    _mvn(cfg, "-f", str(pom), "dependency:copy-dependencies", "-DincludeScope=runtime",
         f"-DoutputDirectory={lib}", *defines)


def install_kafka(cfg: PlatformSettings, paths: StatePaths) -> Path:
    target = paths.dist / f"kafka-{cfg.versions.kafka}"
    if not _done(target):
        log(f"Kafka {cfg.versions.kafka} (broker + Connect) from Maven Central")
        copy_dependencies(cfg, MAVEN_POMS / "kafka" / "pom.xml", target,
                          {"kafka.version": cfg.versions.kafka, "log4j.version": cfg.versions.log4j})
        _mark(target)
    return target


def install_debezium(cfg: PlatformSettings, paths: StatePaths) -> Path:
    """Unpacks the connector's plugin archive into a folder on Connect's plugin.path."""
    plugins = paths.dist / f"connect-plugins-debezium-{cfg.versions.debezium}"
    if not _done(plugins):
        log(f"Debezium Postgres connector {cfg.versions.debezium}")
        archive = fetch_artifact(cfg, f"io.debezium:debezium-connector-postgres:{cfg.versions.debezium}:tar.gz:plugin")
        plugins.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            _extract(tar, plugins)
        _mark(plugins)
    return plugins


def install_pinot(cfg: PlatformSettings, paths: StatePaths) -> Path:
    target = paths.dist / f"pinot-{cfg.versions.pinot}"
    if not _done(target):
        log(f"Apache Pinot {cfg.versions.pinot} from Maven Central")
        copy_dependencies(cfg, MAVEN_POMS / "pinot" / "pom.xml", target, {"pinot.version": cfg.versions.pinot})
        _mark(target)
    # The compiler of the transform check (transform_check.py), beside Pinot's jars, not among them.
    compiler = fetch_artifact(cfg, f"org.eclipse.jdt:ecj:{cfg.versions.ecj}")
    (target / "tools").mkdir(exist_ok=True)
    shutil.copyfile(compiler, target / "tools" / "ecj.jar")
    return target


def jmx_exporter_agent(cfg: PlatformSettings) -> Path:
    """The Prometheus JMX exporter's java agent jar (publishes a JVM's metrics over HTTP)."""
    return fetch_artifact(cfg, f"io.prometheus.jmx:jmx_prometheus_javaagent:{cfg.versions.jmx_exporter}")


def s3proxy_jar(cfg: PlatformSettings) -> Path:
    """S3Proxy as one runnable jar (the release's jar-with-dependencies on Maven Central)."""
    return fetch_artifact(cfg, f"org.gaul:s3proxy:{cfg.versions.s3proxy}:jar:jar-with-dependencies")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_trino(cfg: PlatformSettings, paths: StatePaths) -> Path:
    target = paths.dist / f"trino-server-{cfg.versions.trino}"
    if not _done(target):
        log(f"Trino {cfg.versions.trino} server (~820 MB once; cached in Maven's repository)")
        tarball = fetch_artifact(cfg, f"io.trino:trino-server:{cfg.versions.trino}:tar.gz")
        actual = _sha256(tarball)
        if actual != cfg.versions.trino_server_sha256:
            raise RuntimeError(
                f"checksum mismatch for {tarball}: SHA-256 {actual}, versions.env TRINO_SERVER_SHA256 "
                f"{cfg.versions.trino_server_sha256}. After changing TRINO_VERSION, set TRINO_SERVER_SHA256 to the "
                "published checksum of that release; otherwise delete the file and retry.")
        # Unpacked whole with tar, then trimmed: the tarball stores jars as hard links across plugin
        # folders, so extracting only some folders breaks those links.
        log(f"unpacking, keeping bin, lib and plugins {', '.join(TRINO_PLUGINS)}")
        shutil.rmtree(target, ignore_errors=True)
        scratch = paths.dist / f".unpack-trino-{cfg.versions.trino}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        subprocess.run(["tar", "-xzf", str(tarball), "-C", str(scratch), "--strip-components=1"], check=True)
        target.mkdir(parents=True)
        for keep in ("bin", "lib"):
            (scratch / keep).rename(target / keep)
        (target / "plugin").mkdir()
        for plugin in TRINO_PLUGINS:
            (scratch / "plugin" / plugin).rename(target / "plugin" / plugin)
        shutil.rmtree(scratch)
        _mark(target)
    return target


def install_trino_cli(cfg: PlatformSettings, paths: StatePaths, java_home: Path) -> Path:
    """A `trino` command in .state/bin, backed by io.trino:trino-cli from Maven Central."""
    jar = fetch_artifact(cfg, f"io.trino:trino-cli:{cfg.versions.trino}:jar:executable")
    launcher = paths.bin / "trino"
    # org.jline.terminal.dumb=true: without a terminal (a script, a pipe), JLine falls back to a dumb
    # one silently instead of printing "Unable to create a system terminal"; at a terminal it still
    # opens the system one.
    launcher.write_text(
        "#!/bin/sh\n"
        f'exec "{java_home}/bin/java" -Dorg.jline.terminal.dumb=true --enable-native-access=ALL-UNNAMED '
        f'-jar "{jar}" --server "${{TRINO_URL:-{cfg.trino.url}}}" "$@"\n'
    )
    launcher.chmod(0o755)
    return launcher


def install_all(cfg: PlatformSettings, services: set[str] | None = None) -> None:
    """Installs what the named services need (all when None)."""
    from realtime_platform.local.jvm import find_java_home

    def wanted(*names: str) -> bool:
        return services is None or bool(services.intersection(names))

    paths = state_paths(cfg)
    paths.create()
    if wanted("kafka", "connect"):
        install_kafka(cfg, paths)
    if wanted("connect"):
        install_debezium(cfg, paths)
    if wanted("pinot", "pinot-zookeeper"):
        install_pinot(cfg, paths)
        jmx_exporter_agent(cfg)
    if wanted("object-store"):
        s3proxy_jar(cfg)
    if wanted("trino"):
        install_trino(cfg, paths)
        install_trino_cli(cfg, paths, find_java_home(minimum=24))
    log("services installed")


if __name__ == "__main__":
    from realtime_platform.config import settings

    install_all(settings())
    sys.exit(0)
