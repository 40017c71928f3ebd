"""Fixtures for the documents tests: a KYC-ready user, both storages, file counting."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from django.core.files.storage import storages
from django.test import override_settings
from moto.server import ThreadedMotoServer

from documents.storage import STORAGE_ALIAS
from tests.admin.conftest import (  # noqa: F401 - the operator personas, as fixtures here
    compliance,
    compliance_user,
    groups,
    staff_no_group,
    support,
    support_user,
)
from tests.factories import AccountHolderFactory
from users.models import AccountHolder, Address, AddressType, Identification

S3_BUCKET = "onboard-test-documents"


def kyc_ready_user(program: Any, **overrides: Any) -> AccountHolder:
    """A user with every KYC prerequisite: title, gender, primary id with country, address."""
    values: dict[str, Any] = {"program": program, "title": "Ms", "gender": "F"}
    values.update(overrides)
    user = AccountHolderFactory(**values)
    number = f"E{user.pk:07d}"
    Identification.objects.create(
        user=user,
        program=program,
        is_primary=True,
        id_type="passport",
        number=number,
        issue_date=date(2020, 1, 1),
        expiry_date=date(2035, 1, 1),
        country_of_issue="SGP",
    )
    Address.objects.create(
        user=user, type=AddressType.RESIDENTIAL, address_1="1 Main St", country="SGP"
    )
    return user


@pytest.fixture
def user_a(program_a: Any) -> AccountHolder:
    return kyc_ready_user(program_a)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's stand-alone S3-protocol server on a free loopback port, for the whole run."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=S3_BUCKET)
    yield endpoint
    server.stop()


def s3_settings(endpoint: str) -> dict[str, Any]:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "location": "kyc",
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "access_key": "testing",
            "secret_key": "testing",
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }


@pytest.fixture(params=["local", "s3"])
def document_store(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """Run the test against the local file system storage, then against moto's S3."""
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_server")
        with override_settings(
            STORAGES={**settings.STORAGES, STORAGE_ALIAS: s3_settings(endpoint)}
        ):
            yield "s3"
    else:
        yield "local"


def stored_names() -> set[str]:
    """Every file in the documents storage (to prove a refusal left nothing behind)."""
    storage = storages[STORAGE_ALIAS]
    names: set[str] = set()

    def walk(path: str) -> None:
        dirs, files = storage.listdir(path)
        for name in files:
            names.add(f"{path}/{name}" if path else name)
        for d in dirs:
            walk(f"{path}/{d}" if path else d)

    walk("")
    return names
