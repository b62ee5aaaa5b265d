"""The demo on Kafka: each synthetic agency enrolled on the broker and publishing its extract
as itself, to its own inbound topic, with a gateway in this process checking every event into
the log and answering each with a receipt.

    runs = publish_through_gateway(hub, place, agencies, advance)   # one AgencyRun each

Each agency's client configuration is written once into the agencies' folder (`kafka/`, beside
their extracts: the hub keeps no agency's password) and used again by a later demo; an agency
enrolled on the broker whose file is not there is refused by name (`hub agencies revoke` it
first). Every agency waits for the receipts of all it sent, so each run's counts are the hub's
own answers, as `hub publish` reports them.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from connectors.publish import AgencyRun
from hub.agency.publish import publish_over_kafka
from hub.bootstrap import Runtime, open_gateway
from hub.demo.agencies import AgenciesFolder
from hub.enrolment.broker import Broker
from hub.enrolment.client_files import client_file_paths
from hub.log.kafka_client import KafkaConnection
from hub.settings import Settings
from schemas.errors import HubError
from schemas.place import Place

RECEIPTS_WITHIN_S = 300.0
"""How long an agency waits for the receipts of its extract."""


def publish_through_gateway(
    hub: Runtime, place: Place, agencies: AgenciesFolder, advance: Callable[[int], None]
) -> list[AgencyRun]:
    """Every agency of `place` enrolled (where it is not yet) and its extract published as
    itself through the gateway; see the module docstring."""
    settings = hub.settings
    connection = settings.kafka
    if connection is None:
        raise HubError("the demo publishes through the gateway only on Kafka", field="kafka")
    enrolled = agencies.root / "kafka"
    with Broker(connection) as broker:
        broker.setup(place, settings)
        for agency in place.agencies:
            if not client_file_paths(enrolled, agency.slug)[0].exists():
                broker.enrol(place, agency.slug, enrolled)
    pseudonymiser = load_pseudonymiser(agencies.place_key)
    runs = []
    with gateway_in_thread(settings, "demo"):
        for agency in place.agencies:
            java, _ = client_file_paths(enrolled, agency.slug)
            own = KafkaConnection.from_file(java, settings.kafka_bootstrap)
            mapping = load_mapping(agencies.mapping(agency.slug), place)
            connector = CsvConnector(mapping, place, pseudonymiser)
            extract = agencies.extract(agency.slug)
            run, _ = publish_over_kafka(
                own, connector, extract, True, RECEIPTS_WITHIN_S, agency.sector, advance
            )
            if run.unanswered:
                raise HubError(
                    f"the gateway did not answer {run.unanswered:,} of {agency.slug}'s events "
                    f"within {RECEIPTS_WITHIN_S:g} s",
                    field="gateway",
                )
            runs.append(run)
    return runs


@contextmanager
def gateway_in_thread(settings: Settings, instance: str) -> Iterator[None]:
    """A gateway of the settings running in a thread while the block runs; a failure of it
    is raised when the block ends."""
    stopping = threading.Event()
    failed: list[BaseException] = []
    with open_gateway(settings, instance) as gateway:

        def run() -> None:
            try:
                gateway.run(stopping.is_set)
            except BaseException as error:  # raised in the caller's thread below
                failed.append(error)

        thread = threading.Thread(target=run, name="demo-gateway", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stopping.set()
            thread.join(timeout=60)
    if failed:
        raise failed[0]
