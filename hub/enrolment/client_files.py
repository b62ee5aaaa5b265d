"""An enrolled agency's two client configuration files, written once and its alone.

    paths = write_client_files(Path("enrolled"), "police-north", password, hub_connection)
    # enrolled/police-north.properties            Java clients: --producer.config, Kafka Connect
    # enrolled/police-north.librdkafka.properties  librdkafka: kcat -F, confluent-kafka
    # enrolled/ca.pem                              the CA the broker's certificate is signed by

Both carry the broker's address, SASL_SSL with SCRAM-SHA-512 and the agency's password, and
trust the CA the hub itself trusts (copied beside them: the files name it by absolute path, so
move the three together and edit the two paths). Nothing is overwritten: the password is shown
nowhere else, so a file already there means an enrolment already made.
"""

import os
from pathlib import Path

from hub.log.kafka_client import KafkaConnection
from schemas.errors import HubError

CA_FILE = "ca.pem"
MECHANISM = "SCRAM-SHA-512"


def client_file_paths(out: Path, agency: str) -> tuple[Path, Path]:
    """Where the agency's Java and librdkafka configurations go."""
    return out / f"{agency}.properties", out / f"{agency}.librdkafka.properties"


def check_free(out: Path, agency: str) -> None:
    """Refuse an enrolment whose files are already there (nothing is overwritten)."""
    for path in client_file_paths(out, agency):
        if path.exists():
            raise HubError(
                f"{path} already exists: an agency's credentials are written once; revoke "
                "the agency and move the old files away to enrol it again",
                field="out",
            )


def write_client_files(
    out: Path, agency: str, password: str, hub: KafkaConnection
) -> tuple[Path, Path]:
    """Write the agency's two configurations (0600, each opened to be made, never replaced:
    `check_free` first says why) and the CA beside them."""
    out.mkdir(parents=True, exist_ok=True)
    ca = _copy_ca(out, hub)
    protocol = "SASL_SSL" if hub.protocol in {"SSL", "SASL_SSL"} else "SASL_PLAINTEXT"
    java = [
        f"# {agency} on the Shared Outcomes Hub's broker: publish to hub.inbound.{agency}.v1,",
        f"# read receipts from hub.receipts.{agency}.v1 (consumer groups {agency}.*).",
        "# The password is in no other place: keep this file its owner's alone.",
        f"bootstrap.servers={hub.bootstrap}",
        f"security.protocol={protocol}",
        f"sasl.mechanism={MECHANISM}",
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{agency}" password="{password}";',
    ]
    rdkafka = [
        f"# {agency} on the Shared Outcomes Hub's broker, for librdkafka clients.",
        "# The password is in no other place: keep this file its owner's alone.",
        f"bootstrap.servers={hub.bootstrap}",
        f"security.protocol={protocol}",
        f"sasl.mechanisms={MECHANISM}",
        f"sasl.username={agency}",
        f"sasl.password={password}",
    ]
    if ca is not None:
        java += ["ssl.truststore.type=PEM", f"ssl.truststore.location={ca}"]
        rdkafka += [f"ssl.ca.location={ca}"]
    if not hub.check_hostname:
        java += ["ssl.endpoint.identification.algorithm="]
        rdkafka += ["ssl.endpoint.identification.algorithm=none"]
    paths = client_file_paths(out, agency)
    for path, lines in zip(paths, (java, rdkafka), strict=True):
        _write_once(path, "\n".join(lines) + "\n")
    return paths


def _copy_ca(out: Path, hub: KafkaConnection) -> Path | None:
    """The CA certificate(s) the hub trusts, as `out/ca.pem` (readable: it is no secret)."""
    if hub.protocol not in {"SSL", "SASL_SSL"}:
        return None
    if hub.cafile is not None:
        text = hub.cafile.read_text(encoding="ascii")
    elif hub.cadata is not None:
        text = hub.cadata
    else:
        return None  # the system's CAs: the agency's machine trusts the same
    ca = (out / CA_FILE).resolve()
    if not ca.exists() or ca.read_text(encoding="ascii") != text:
        ca.write_text(text, encoding="ascii")
        ca.chmod(0o644)
    return ca


def _write_once(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
