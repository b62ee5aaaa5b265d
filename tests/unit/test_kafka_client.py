"""The Kafka client configuration: what a Java or librdkafka properties file says becomes
kafka-python's options; what the hub cannot honour is refused by name, never by value; and
every command that speaks Kafka takes `--client-config`."""

import ssl
from pathlib import Path

import pytest
import typer

from hub.cli import app
from hub.log.kafka_client import ClientConfigError, KafkaConnection
from hub.settings import Settings

SECRET = "s3cr3t-Pa55_word"
CA = """-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUJ2l0ZXN0LWNhLWZvci10aGUtaHViMAoGCCqGSM49BAMC
-----END CERTIFICATE-----
"""


def write(tmp_path: Path, text: str, name: str = "client.properties") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def java_config(tmp_path: Path, ca: Path, extra: str = "") -> Path:
    return write(
        tmp_path,
        "# the hub principal\n"
        "bootstrap.servers=127.0.0.1:9093\n"
        "security.protocol=SASL_SSL\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"
        f'    username="hub" password="{SECRET}";\n'
        "ssl.truststore.type=PEM\n"
        f"ssl.truststore.location={ca}\n" + extra,
    )


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    return write(tmp_path, CA, "ca.pem")


def test_a_java_configuration_gives_tls_and_scram(tmp_path: Path, ca: Path) -> None:
    connection = KafkaConnection.from_file(java_config(tmp_path, ca))
    assert connection.bootstrap == "127.0.0.1:9093"
    assert (connection.protocol, connection.mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (connection.username, connection.password) == ("hub", SECRET)
    assert connection.cafile == ca
    assert SECRET not in repr(connection)
    assert SECRET not in connection.describe()
    assert connection.describe() == "Kafka at 127.0.0.1:9093 (SASL_SSL as hub)"


def test_the_librdkafka_spellings_say_the_same(tmp_path: Path, ca: Path) -> None:
    path = write(
        tmp_path,
        "bootstrap.servers=127.0.0.1:9093\nsecurity.protocol=SASL_SSL\n"
        f"sasl.mechanisms=SCRAM-SHA-512\nsasl.username=hub\nsasl.password={SECRET}\n"
        f"ssl.ca.location={ca}\n",
    )
    assert KafkaConnection.from_file(path) == KafkaConnection.from_file(java_config(tmp_path, ca))


def test_options_carry_the_login_and_a_context_checking_the_hostname(
    tmp_path: Path, ca: Path
) -> None:
    connection = KafkaConnection.from_file(java_config(tmp_path, ca))
    with pytest.raises(ssl.SSLError):  # the fake CA is not a certificate: it is really loaded
        connection.options()
    real = KafkaConnection("127.0.0.1:9093", "SASL_SSL", "PLAIN", "hub", SECRET)
    options = real.options()
    assert options["sasl_plain_username"] == "hub"
    assert options["sasl_plain_password"] == SECRET
    assert options["ssl_context"].check_hostname is True
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_the_command_lines_bootstrap_wins(tmp_path: Path, ca: Path) -> None:
    connection = KafkaConnection.from_file(java_config(tmp_path, ca), "10.0.0.1:9093")
    assert connection.bootstrap == "10.0.0.1:9093"
    settings = Settings(kafka_client_config=java_config(tmp_path, ca))
    assert settings.kafka is not None
    assert settings.kafka.username == "hub"
    assert Settings(kafka_bootstrap=None).kafka is None


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ("ssl.keystore.location=/k.p12\n", "ssl.keystore.location"),
        ("ssl.truststore.type=JKS\n", "ssl.truststore.type"),
        ("security.protocol=SASL_SSLX\n", "security.protocol"),
        ("sasl.mechanism=OAUTHBEARER\n", "sasl.mechanism"),
        ("ssl.endpoint.identification.algorithm=dns\n", "ssl.endpoint.identification.algorithm"),
        (f"sasl.jaas.config=com.example.Login required password={SECRET};\n", "sasl.jaas.config"),
    ],
)
def test_what_the_hub_cannot_honour_is_refused_by_name_never_by_value(
    tmp_path: Path, ca: Path, extra: str, named: str
) -> None:
    with pytest.raises(ClientConfigError) as refused:
        KafkaConnection.from_file(java_config(tmp_path, ca, extra))
    assert named in str(refused.value)
    assert SECRET not in str(refused.value)


def test_a_missing_file_address_or_login_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ClientConfigError, match="cannot read"):
        KafkaConnection.from_file(tmp_path / "absent.properties")
    with pytest.raises(ClientConfigError, match=r"bootstrap\.servers"):
        KafkaConnection.from_file(write(tmp_path, "security.protocol=SASL_SSL\n"))
    no_login = write(
        tmp_path,
        "bootstrap.servers=h:1\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n",
    )
    with pytest.raises(ClientConfigError, match="username and password"):
        KafkaConnection.from_file(no_login, None)
    no_ca = write(
        tmp_path,
        "bootstrap.servers=h:1\nssl.truststore.type=PEM\n"
        f"ssl.truststore.location={tmp_path / 'absent.pem'}\n",
    )
    with pytest.raises(ClientConfigError, match=r"ssl\.truststore\.location"):
        KafkaConnection.from_file(no_ca)


def _commands(group: typer.Typer, prefix: str = "") -> list[tuple[str, list[str]]]:
    found = []
    for info in group.registered_commands:
        name = prefix + (info.name or info.callback.__name__ if info.callback else "")
        params = typer.main.get_command_from_info(
            info, pretty_exceptions_short=False, rich_markup_mode=None
        ).params
        found.append((name, [opt for p in params for opt in getattr(p, "opts", [])]))
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            found += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return found


def test_every_command_that_speaks_kafka_takes_a_client_configuration() -> None:
    commands = _commands(app)
    speaking = [name for name, opts in commands if "--kafka" in opts]
    assert len(speaking) >= 10, speaking  # demo, publish, worker, rejected, kafka, agencies...
    missing = [
        name for name, opts in commands if "--kafka" in opts and "--client-config" not in opts
    ]
    assert missing == []
