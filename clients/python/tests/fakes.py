"""Wrappers around moto-backed boto3 clients that record, hold back or break calls, for the
failures and orderings moto cannot produce by itself."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from .conftest import SESSION


def client_error(code: str, status: int, operation: str, **extra: Any) -> ClientError:
    """A botocore ClientError as the SDK raises it for an AWS error answer."""
    response: Any = {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": status}, **extra}
    return ClientError(response, operation)


@functools.cache
def commit_client() -> Any:
    """A DynamoDB client that sends each request once, as a commit client must (one for the run)."""
    return SESSION.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))


class Recorder:
    """Wraps a client: every call is logged (operation name, parameters) and may be intercepted.

    ``before[operation]`` runs before the real call with the parameters; it may raise (the call
    then never reaches moto) or return a value (returned instead of calling moto).
    ``after[operation]`` runs after the real call with the parameters and the result; it may
    raise (the call DID reach moto: a lost reply) or return a replacement result.
    """

    def __init__(self, client: Any, log: list[tuple[str, dict[str, Any]]] | None = None) -> None:
        self.client = client
        self.log: list[tuple[str, dict[str, Any]]] = [] if log is None else log
        self.before: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self.after: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self.lock = threading.Lock()

    def calls(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.log if name == operation]

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.client, name)
        if not callable(real) or name.startswith("_") or name in ("generate_presigned_url", "get_paginator", "can_paginate"):
            return real
        operation = self.client.meta.method_to_api_mapping.get(name, name)

        def call(**params: Any) -> Any:
            with self.lock:
                self.log.append((operation, params))
            hook = self.before.get(operation)
            if hook is not None:
                replaced = hook(params)
                if replaced is not None:
                    return replaced
            result = real(**params)
            after = self.after.get(operation)
            if after is not None:
                replaced = after(params, result)
                if replaced is not None:
                    return replaced
            return result

        return call
