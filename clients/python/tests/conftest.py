"""Fixtures: a store on moto's in-process DynamoDB and versioned S3 (no server, no network)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from typing import Any, Final, Literal

import boto3
import pytest
from moto import mock_aws

from cdk_split_store_client import IndexConfig, KeyAttribute, SplitStoreClient, StoreConfig

REGION: Final = "eu-west-1"

SESSION = boto3.session.Session(
    aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing", region_name=REGION
)
"""One boto3 session for the whole run: its clients share the loaded service models."""


@functools.cache
def shared_client(service: Literal["s3", "dynamodb"]) -> Any:
    """One client per service for the whole run. moto serves whichever mock is active (each test
    has its own), so a client made once is as good as a fresh one, and much cheaper."""
    return SESSION.client(service)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's AWS, with dummy credentials so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def create_store(config: StoreConfig) -> None:
    """The table and the versioned bucket of a store, as the construct creates them."""
    dynamodb = shared_client("dynamodb")
    attributes = {a.name: a.type for a in config.key_attributes}
    key_schema = [{"AttributeName": config.partition_key.name, "KeyType": "HASH"}]
    if config.sort_key:
        key_schema.append({"AttributeName": config.sort_key.name, "KeyType": "RANGE"})
    indexes: list[dict[str, Any]] = []
    for index in config.indexes:
        attributes[index.partition_key.name] = index.partition_key.type
        schema = [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
        if index.sort_key:
            attributes[index.sort_key.name] = index.sort_key.type
            schema.append({"AttributeName": index.sort_key.name, "KeyType": "RANGE"})
        indexes.append({"IndexName": index.name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}})
    params: dict[str, Any] = {
        "TableName": config.table_name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        params["GlobalSecondaryIndexes"] = indexes
    dynamodb.create_table(**params)
    s3 = shared_client("s3")
    s3.create_bucket(Bucket=config.bucket_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=config.bucket_name, VersioningConfiguration={"Status": "Enabled"})


INVOICES = StoreConfig(
    table_name="Invoices",
    bucket_name="invoices-parts",
    partition_key=KeyAttribute("id"),
    indexes=(IndexConfig("byCustomer", KeyAttribute("customer"), KeyAttribute("issuedAt")),),
)

LEDGER = StoreConfig(
    table_name="Ledger",
    bucket_name="ledger-parts",
    partition_key=KeyAttribute("tenant"),
    sort_key=KeyAttribute("number", "N"),
)


@pytest.fixture
def store(aws: None) -> SplitStoreClient:
    """A client of the invoices store (partition key ``id``, index ``byCustomer``)."""
    create_store(INVOICES)
    return SplitStoreClient(INVOICES, boto3_session=SESSION)


@pytest.fixture
def ledger(aws: None) -> SplitStoreClient:
    """A client of the ledger store (``tenant`` S + ``number`` N)."""
    create_store(LEDGER)
    return SplitStoreClient(LEDGER, boto3_session=SESSION)


def etag(body: bytes) -> str:
    return '"' + hashlib.md5(body).hexdigest() + '"'
