"""How the hub connects to Kafka: the bootstrap address and a client configuration file.

    connection = KafkaConnection.from_file(Path("/tmp/hub-kafka/hub.properties"))
    KafkaProducer(**connection.options())            # TLS and SCRAM, as the file says

The file is a Kafka client configuration in Java properties format, as a Java client takes it
(`--producer.config`, `--command-config`): `bootstrap.servers`, `security.protocol`,
`sasl.mechanism`, `sasl.jaas.config` (the `ScramLoginModule` or `PlainLoginModule` with its
`username` and `password`), `ssl.truststore.type=PEM` with `ssl.truststore.location` (or
`ssl.truststore.certificates`, the PEM itself), `ssl.endpoint.identification.algorithm`. The
librdkafka spellings of the same (`sasl.mechanisms`, `sasl.username`, `sasl.password`,
`ssl.ca.location`) are taken too, so either file `deploy/kafka/kafka.sh` or
`hub agencies enrol` writes will do. A setting the hub cannot honour (a JKS truststore, a client
certificate, OAUTHBEARER) is refused by name rather than silently dropped; other client tuning
is left to the hub's own choices. Errors name the file and the setting, never a value.
"""

import re
import ssl
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import javaproperties

from hub.log.port import LogError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
_JAAS_OPTION = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))')
_UNSUPPORTED = (
    "ssl.keystore.",  # a client certificate (mutual TLS)
    "sasl.oauthbearer.",
    "sasl.kerberos.",
    "sasl.login.callback.handler.class",
)


class ClientConfigError(LogError):
    """A client configuration file the hub cannot connect with."""

    status = 400
    field = "client config"


@dataclass(frozen=True)
class KafkaConnection:
    """Where a Kafka cluster is and how to authenticate to it; see the module docstring."""

    bootstrap: str
    protocol: str = "PLAINTEXT"
    mechanism: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None
    cadata: str | None = field(default=None, repr=False)
    check_hostname: bool = True

    @classmethod
    def from_file(cls, path: Path, bootstrap: str | None = None) -> "KafkaConnection":
        """The connection a client configuration file describes; `bootstrap` (given on the
        command line) overrides the file's `bootstrap.servers`."""
        try:
            with path.open(encoding="utf-8") as handle:
                props: dict[str, str] = javaproperties.load(handle)
        except OSError as error:
            raise ClientConfigError(
                f"cannot read the client configuration {path}: {error.strerror}"
            ) from None
        except (ValueError, UnicodeDecodeError):
            raise ClientConfigError(
                f"{path}: not a Java properties file (key=value lines, UTF-8)"
            ) from None
        return cls.from_properties(props, str(path), bootstrap)

    @classmethod
    def from_properties(
        cls, props: dict[str, str], where: str, bootstrap: str | None = None
    ) -> "KafkaConnection":
        def bad(name: str, why: str) -> ClientConfigError:
            return ClientConfigError(f"{where}: {name} {why}")

        for name in props:
            if name.startswith(_UNSUPPORTED):
                raise bad(name, "is not supported by the hub's client: connect with SASL")
        address = bootstrap or props.get("bootstrap.servers", "").strip()
        if not address:
            raise bad("bootstrap.servers", "is missing (or give --kafka HOST:PORT)")
        protocol = props.get("security.protocol", "PLAINTEXT").strip().upper()
        if protocol not in PROTOCOLS:
            raise bad("security.protocol", f"must be one of {', '.join(PROTOCOLS)}")
        mechanism = (props.get("sasl.mechanism") or props.get("sasl.mechanisms") or "").strip()
        username, password = props.get("sasl.username"), props.get("sasl.password")
        if "sasl.jaas.config" in props:
            username, password = _jaas_login(props["sasl.jaas.config"], bad)
        sasl = protocol.startswith("SASL_")
        if sasl:
            mechanism = mechanism.upper() or "GSSAPI"
            if mechanism not in MECHANISMS:
                raise bad("sasl.mechanism", f"must be one of {', '.join(MECHANISMS)}")
            if not username or password is None:
                raise bad(
                    "sasl.jaas.config",
                    "is missing or has no username and password (or give sasl.username "
                    "and sasl.password)",
                )
        cafile, cadata = _trust(props, bad)
        algorithm = props.get("ssl.endpoint.identification.algorithm", "https").strip().lower()
        if algorithm not in {"https", ""}:
            raise bad("ssl.endpoint.identification.algorithm", "must be https or empty")
        return cls(
            bootstrap=address,
            protocol=protocol,
            mechanism=mechanism if sasl else None,
            username=username if sasl else None,
            password=password if sasl else None,
            cafile=cafile,
            cadata=cadata,
            check_hostname=algorithm == "https",
        )

    def options(self) -> dict[str, Any]:
        """kafka-python's keyword arguments for this connection (any client class)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.protocol,
        }
        if self.mechanism is not None:
            options |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        if self.protocol in {"SSL", "SASL_SSL"}:
            options["ssl_context"] = self._tls
        return options

    @cached_property
    def _tls(self) -> ssl.SSLContext:
        """The TLS context of every client of this connection: the CA read once."""
        context = ssl.create_default_context(
            cafile=str(self.cafile) if self.cafile else None, cadata=self.cadata
        )
        context.check_hostname = self.check_hostname
        return context

    def describe(self) -> str:
        """For people to read: the address, the protocol and the principal (no password)."""
        who = f" as {self.username}" if self.username else ""
        return f"Kafka at {self.bootstrap} ({self.protocol}{who})"


def _jaas_login(text: str, bad: Any) -> tuple[str | None, str | None]:
    """The `username` and `password` options of a JAAS login module line."""
    module = text.strip().split(None, 1)[0] if text.strip() else ""
    if not module.endswith(("ScramLoginModule", "PlainLoginModule")):
        raise bad("sasl.jaas.config", "must use ScramLoginModule or PlainLoginModule")
    options: dict[str, str] = {}
    for match in _JAAS_OPTION.finditer(text):
        quoted, bare = match.group(2), match.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        options[match.group(1)] = value
    return options.get("username"), options.get("password")


def _trust(props: dict[str, str], bad: Any) -> tuple[Path | None, str | None]:
    """The CA certificates to trust: a PEM file, or PEM text in the file itself."""
    kind = props.get("ssl.truststore.type", "PEM").strip().upper()
    location = props.get("ssl.truststore.location") or props.get("ssl.ca.location")
    inline = props.get("ssl.truststore.certificates")
    if (location or inline) and kind != "PEM" and "ssl.ca.location" not in props:
        raise bad(
            "ssl.truststore.type",
            "must be PEM (export the CA with `keytool -exportcert -rfc`)",
        )
    if location:
        path = Path(location.strip())
        if not path.is_file():
            raise bad("ssl.truststore.location", "names no readable file")
        return path, None
    return None, inline.strip() if inline else None
