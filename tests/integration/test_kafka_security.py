"""The secured broker (deploy/kafka: SASL_SSL with SCRAM-SHA-512, a PLAIN controller listener for
the hub alone, StandardAuthorizer denying whatever no ACL allows), the place's topics and ACLs
(`hub kafka setup`) and agencies enrolled as principals (`hub agencies enrol|revoke`), checked
with kafka-python and with Kafka's own console tools (`kafka.sh run CLASS`) as clients."""

import dataclasses
import logging
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ScramMechanism, UserScramCredentialDeletion
from kafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from hub.enrolment.grants import acls_of, grants
from hub.log.kafka import KafkaLog
from hub.log.kafka_client import KafkaConnection
from hub.settings import REJECTED_TOPIC, TOPIC, inbound_topic, receipts_topic
from tests.conftest import KafkaService
from tests.integration.kafka_principals import (
    PLACE,
    PRODUCER,
    A,
    B,
    C,
    Enrolled,
    acl_command,
    console,
    consume,
    hub_command,
    said,
)


def producer(connection: KafkaConnection) -> KafkaProducer:
    return KafkaProducer(**connection.options(), max_block_ms=15_000, request_timeout_ms=15_000)


def polled_for(consumer: KafkaConsumer, seconds: int) -> None:
    for _ in range(seconds):
        consumer.poll(timeout_ms=1000)


def refused_at_bootstrap(connection: KafkaConnection) -> None:
    """Assert that a client with this connection cannot even start."""
    with pytest.raises(KafkaError):
        KafkaAdminClient(**connection.options(), bootstrap_timeout_ms=5000).close()


def test_nobody_unauthenticated_appends_to_the_hubs_log(kafka: KafkaService) -> None:
    """The attack of the issue: records forged into the log without any credential. On the
    broker as it was (PLAINTEXT, no authorizer) this append succeeded."""
    KafkaLog(kafka.connection, TOPIC).close()  # the log is there, made by the hub
    forger = KafkaConnection(kafka.bootstrap)  # no TLS, no SASL: anyone who can reach the port
    with pytest.raises(KafkaError):
        forge(forger, TOPIC)


def forge(connection: KafkaConnection, topic: str) -> None:
    """One record sent to `topic` with `connection`, waiting for the broker's answer."""
    sending = KafkaProducer(**connection.options(), max_block_ms=10_000)
    try:
        sending.send(topic, key=b"forged", value=b"{}").get(timeout=15)
    finally:
        sending.close(timeout=5)


def test_enrolment_writes_each_configuration_once_and_its_owners_alone(enrolled: Enrolled) -> None:
    for name in (f"{A}.properties", f"{A}.librdkafka.properties"):
        path = enrolled.folder / name
        assert path.stat().st_mode & 0o077 == 0, name
        assert "password" in path.read_text()
    rdkafka = (enrolled.folder / f"{A}.librdkafka.properties").read_text()
    assert f"sasl.username={A}" in rdkafka
    assert "ssl.ca.location=" in rdkafka
    assert "ssl.truststore.type=PEM" in enrolled.java(A).read_text()
    again = hub_command(
        enrolled.kafka,
        "agencies",
        "enrol",
        A,
        "--out",
        str(enrolled.folder / "x"),
        "--place",
        str(PLACE),
    )
    assert again.returncode == 2
    assert "already enrolled" in again.stderr
    listed = hub_command(enrolled.kafka, "agencies", "list", "--place", str(PLACE))
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[1]: line for line in listed.stdout.splitlines() if line.startswith("│")}
    assert rows[A].split("│")[2:4] == [" yes      ", " 8 of 8 "]
    assert rows[C].split("│")[2].strip() == "no"


def test_an_unauthenticated_client_and_a_wrong_password_are_refused(
    enrolled: Enrolled, caplog: pytest.LogCaptureFixture
) -> None:
    good = enrolled.connection(A)
    KafkaAdminClient(**good.options(), bootstrap_timeout_ms=15_000).close()  # the control
    refused_at_bootstrap(KafkaConnection(good.bootstrap))  # PLAINTEXT on the TLS listener
    refused_at_bootstrap(dataclasses.replace(good, protocol="SSL", mechanism=None))  # no SASL
    with caplog.at_level(logging.ERROR, logger="kafka"):
        refused_at_bootstrap(dataclasses.replace(good, password="not-" + (good.password or "")))
    assert "SaslAuthenticationFailedError" in caplog.text
    wrong = enrolled.folder / "wrong.properties"
    text = enrolled.java(A).read_text().replace('password="', 'password="x')
    wrong.write_text(text)
    sent = console(
        enrolled.kafka,
        PRODUCER,
        "--bootstrap-server",
        good.bootstrap,
        "--producer.config",
        str(wrong),
        "--topic",
        inbound_topic(A),
        feed="refused\n",
    )
    assert "SaslAuthenticationException" in said(sent), said(sent)[-2000:]


def test_an_agency_writes_its_own_inbound_topic_and_nothing_else(enrolled: Enrolled) -> None:
    agency = producer(enrolled.connection(A))
    try:
        agency.send(inbound_topic(A), key=b"k", value=b"{}").get(timeout=30)
        for topic in (inbound_topic(B), TOPIC, REJECTED_TOPIC, receipts_topic(A)):
            with pytest.raises(TopicAuthorizationFailedError):
                agency.send(topic, key=b"k", value=b"{}").get(timeout=30)
    finally:
        agency.close()


def test_an_agency_reads_its_own_receipts_and_nothing_else(enrolled: Enrolled) -> None:
    hub = producer(enrolled.kafka.connection)
    for topic in (receipts_topic(A), receipts_topic(B), TOPIC):
        hub.send(topic, key=b"k", value=b"{}").get(timeout=30)
    hub.close()
    reader = KafkaConsumer(**enrolled.connection(A).options(), group_id=None)
    try:
        own = TopicPartition(receipts_topic(A), 0)
        assert reader.end_offsets([own])[own] >= 1
        reader.assign([own])
        reader.seek(own, 0)
        got = [m for _ in range(10) for m in reader.poll(timeout_ms=1000).get(own, [])]
        assert got, "the agency read none of its receipts"
    finally:
        reader.close()
    for topic in (receipts_topic(B), TOPIC):
        other = KafkaConsumer(**enrolled.connection(A).options(), group_id=None)
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                other.end_offsets([TopicPartition(topic, 0)])
        finally:
            other.close()
    other_group = KafkaConsumer(
        receipts_topic(A), **enrolled.connection(A).options(), group_id=f"{B}.receipts"
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            polled_for(other_group, 10)
    finally:
        other_group.close()
    read = consume(enrolled, A, receipts_topic(B), f"{A}.console")
    assert "TopicAuthorizationException" in said(read), said(read)[-2000:]


def test_nothing_but_the_hub_changes_an_acl_or_a_credential(enrolled: Enrolled) -> None:
    admin = KafkaAdminClient(**enrolled.connection(A).options())
    try:
        result = admin.create_acls([grants(A)[0].acl(B)])
        assert not result["succeeded"]
        assert result["failed"] == [ClusterAuthorizationFailedError]  # kafka-python's shape
        errors = admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion(B, ScramMechanism.SCRAM_SHA_512)]
        )
        assert "ALTER" in (errors[B] or "")
        with pytest.raises(TopicAuthorizationFailedError):
            admin.create_topics({"hub.inbound.forged.v1": {"num_partitions": 1}})
    finally:
        admin.close()
    # On the broker listener through Kafka's own AclCommand, as the agency:
    added = acl_command(
        enrolled.kafka, "--bootstrap-server", enrolled.kafka.bootstrap, enrolled.java(A)
    )
    assert "ClusterAuthorizationException" in said(added), said(added)[-2000:]
    run = enrolled.kafka.run
    if run is None or not (run / "controller").exists():
        pytest.skip("the controller listener's address is not known for this broker")
    controller = (run / "controller").read_text().strip()
    password = enrolled.connection(A).password
    as_agency = enrolled.folder / "agency-controller.properties"
    as_agency.write_text(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{A}" password="{password}";\n'
    )
    anonymous = enrolled.folder / "anonymous.properties"
    anonymous.write_text("security.protocol=PLAINTEXT\nrequest.timeout.ms=5000\n")
    for config, refusal in ((as_agency, "SaslAuthenticationException"), (anonymous, "Exception")):
        tried = acl_command(enrolled.kafka, "--bootstrap-controller", controller, config)
        assert refusal in said(tried), said(tried)[-2000:]
    listed = acl_command(  # the control: the hub itself may, on the controller listener
        enrolled.kafka,
        "--bootstrap-controller",
        controller,
        run / "hub-controller.properties",
        *("--list", "--topic", TOPIC),
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    hub = KafkaAdminClient(**enrolled.kafka.connection.options())
    try:
        acls, _ = hub.describe_acls(acls_of())
    finally:
        hub.close()
    assert not [acl for acl in acls if acl.resource_pattern.resource_name == TOPIC]


def test_a_revoked_agency_is_refused_and_its_open_connection_ends(enrolled: Enrolled) -> None:
    made = hub_command(
        enrolled.kafka, "agencies", "enrol", C, "--out", str(enrolled.folder), "--place", str(PLACE)
    )
    assert made.returncode == 0, made.stderr
    connection = enrolled.connection(C)
    open_producer = producer(connection)
    try:
        open_producer.send(inbound_topic(C), value=b"{}").get(timeout=30)
        revoked = hub_command(enrolled.kafka, "agencies", "revoke", C)
        assert revoked.returncode == 0, revoked.stderr
        assert "credential deleted, 8 ACLs deleted" in revoked.stdout
        refused_at_bootstrap(connection)
        # The broker's connections.max.reauth.ms (30 s) ends the session already open.
        deadline = time.monotonic() + 90
        while True:
            try:
                open_producer.send(inbound_topic(C), value=b"{}").get(timeout=20)
            except KafkaError:
                break
            assert time.monotonic() < deadline, "the revoked agency's connection still writes"
            time.sleep(2)
    finally:
        open_producer.close(timeout=5)
