"""The commit and its outcome (docs/PROTOCOL.md, commits): every branch of the classification,
pure, then end to end on moto with the faults injected around the commit client (a reply lost
after DynamoDB applied the commit, a timeout before it, another writer in between)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from cdk_split_store_client import (
    CommitOutcomeUnknownError,
    ConfigurationError,
    ConflictError,
    IndexRow,
    Part,
    SplitStoreClient,
    UnavailableError,
    ValidationError,
)
from cdk_split_store_client.commit import (
    COMMIT_ATTEMPTS,
    Ambiguous,
    Applied,
    CommitView,
    ConditionFailed,
    Refused,
    Verdict,
    classify_commit_error,
    judge_attempt,
    judge_observation,
)
from cdk_split_store_client.codec import ObservedRow

from .conftest import INVOICES, REGION, SESSION, create_store, shared_client
from .fakes import Recorder, client_error, commit_client
from .inspect_store import current_version, raw_row, version_ids

KEY = {"id": "INV-1"}
VIEW = CommitView(token="mine", base_revision=4)
ROW_MINE = {"id": {"S": "INV-1"}, "_rev": {"N": "5"}, "_tok": {"S": "mine"}, "_proto": {"N": "2"}}
ROW_NEXT = {"id": {"S": "INV-1"}, "_rev": {"N": "5"}, "_tok": {"S": "theirs"}, "_proto": {"N": "2"}}
ROW_LATER = {"id": {"S": "INV-1"}, "_rev": {"N": "6"}, "_tok": {"S": "theirs"}, "_proto": {"N": "2"}}
TIMEOUT = ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/")


# ------------------------------------------------------------------------------------------
# judge_observation / judge_attempt: pure, branch by branch


@pytest.mark.parametrize(
    ("current", "any_ambiguous", "expected"),
    [
        (ObservedRow(5, "mine"), False, "landed"),
        (ObservedRow(5, "mine"), True, "landed"),
        (ObservedRow(9, "mine"), True, "landed"),
        (ObservedRow(5, "theirs"), False, "not-landed"),
        (None, False, "not-landed"),
        (ObservedRow(5, "theirs"), True, "not-landed"),
        (ObservedRow(6, "theirs"), True, "unknown"),
        (ObservedRow(4, "theirs"), True, "unknown"),
        (ObservedRow(None, None), True, "unknown"),
        (None, True, "unknown"),
    ],
)
def test_judge_observation(current: ObservedRow | None, any_ambiguous: bool, expected: str) -> None:
    assert judge_observation(VIEW, current, any_ambiguous) == expected


@pytest.mark.parametrize(
    ("result", "earlier_ambiguous", "may_resend", "expected"),
    [
        (Applied(ROW_MINE), False, True, Verdict("landed", item=ROW_MINE)),
        (Applied(ROW_MINE), True, False, Verdict("landed", item=ROW_MINE)),
        (ConditionFailed(ROW_MINE), True, True, Verdict("landed", item=ROW_MINE)),
        (ConditionFailed(ROW_NEXT), False, True, Verdict("not-landed", cause="conflict")),
        (ConditionFailed(None), False, True, Verdict("not-landed", cause="conflict")),
        (ConditionFailed(ROW_NEXT), True, True, Verdict("not-landed", cause="conflict")),
        (ConditionFailed(ROW_LATER), True, True, Verdict("unknown")),
        (ConditionFailed(None), True, True, Verdict("unknown")),
        (Refused(True, TIMEOUT), False, True, Verdict("resend")),
        (Refused(True, TIMEOUT), False, False, Verdict("not-landed", cause="refused")),
        (Refused(False, TIMEOUT), False, True, Verdict("not-landed", cause="refused")),
        (Refused(False, TIMEOUT), True, True, Verdict("verify")),
        (Refused(True, TIMEOUT), True, False, Verdict("verify")),
        (Ambiguous(TIMEOUT), False, True, Verdict("resend")),
        (Ambiguous(TIMEOUT), True, False, Verdict("verify")),
    ],
)
def test_judge_attempt(result: Any, earlier_ambiguous: bool, may_resend: bool, expected: Verdict) -> None:
    assert judge_attempt(VIEW, result, earlier_ambiguous, may_resend) == expected


def test_a_conditional_check_failure_carries_the_row_it_found() -> None:
    error = client_error("ConditionalCheckFailedException", 400, "PutItem", Item=ROW_NEXT)
    assert classify_commit_error(error) == ConditionFailed(ROW_NEXT)


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        (client_error("ValidationException", 400, "PutItem"), Refused, False),
        (client_error("AccessDeniedException", 400, "PutItem"), Refused, False),
        (client_error("ResourceNotFoundException", 400, "PutItem"), Refused, False),
        (client_error("ThrottlingException", 400, "PutItem"), Refused, True),
        (client_error("ProvisionedThroughputExceededException", 400, "PutItem"), Refused, True),
        (client_error("RequestLimitExceeded", 400, "PutItem"), Refused, True),
        (client_error("TransactionConflictException", 400, "PutItem"), Refused, True),
        (client_error("InternalServerError", 500, "PutItem"), Ambiguous, None),
        (client_error("ServiceUnavailable", 503, "PutItem"), Ambiguous, None),
        (client_error("SomethingNew", 400, "PutItem"), Ambiguous, None),
        (client_error("ConditionalCheckFailedException", 500, "PutItem"), Ambiguous, None),
        (TIMEOUT, Ambiguous, None),
        (ConnectionClosedError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"), Ambiguous, None),
        (EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"), Ambiguous, None),
        (RuntimeError("anything else"), Ambiguous, None),
    ],
)
def test_classify_commit_error(error: BaseException, kind: type, retryable: bool | None) -> None:
    result = classify_commit_error(error)
    assert type(result) is kind
    if isinstance(result, Refused):
        assert result.retryable is retryable


# ------------------------------------------------------------------------------------------
# End to end on moto


def writer_store() -> tuple[SplitStoreClient, Recorder, Recorder]:
    """A client whose commit client and S3 client record, and whose pauses take no time."""
    create_store(INVOICES)
    log: list[tuple[str, dict[str, Any]]] = []
    s3 = Recorder(shared_client("s3"), log)
    commit = Recorder(commit_client(), log)
    client = SplitStoreClient(
        INVOICES, s3_client=s3, dynamodb_client=shared_client("dynamodb"), commit_client=commit  # type: ignore[arg-type]
    )
    client._writer.sleep = lambda seconds: None
    return client, s3, commit


def deleted_by_id(s3: Recorder) -> list[str]:
    """VersionIds deleted permanently (DeleteObject with a VersionId)."""
    return [p["VersionId"] for p in s3.calls("DeleteObject") if "VersionId" in p]


def lose_reply_once(commit: Recorder, error: BaseException) -> None:
    """The first commit attempt reaches DynamoDB and is applied; its reply is lost."""
    state = {"done": False}

    def after(params: dict[str, Any], result: Any) -> None:
        if not state["done"]:
            state["done"] = True
            raise error

    commit.after["PutItem"] = after
    commit.after["UpdateItem"] = after


Write = Callable[[SplitStoreClient], Any]
MODES: dict[str, tuple[Write | None, Write]] = {
    "create": (None, lambda c: c.create(KEY, parts={"summary": Part.json("new")})),
    "put with expected_revision": (
        lambda c: c.create(KEY, parts={"summary": Part.json("old")}),
        lambda c: c.put(KEY, parts={"summary": Part.json("new")}, expected_revision=1),
    ),
    "unconditional put": (
        lambda c: c.create(KEY, parts={"summary": Part.json("old")}),
        lambda c: c.put(KEY, parts={"summary": Part.json("new")}),
    ),
    "update_parts": (
        lambda c: c.create(KEY, parts={"summary": Part.json("old")}),
        lambda c: c.update_parts(KEY, parts={"summary": Part.json("new")}),
    ),
    "delete": (
        lambda c: c.create(KEY, parts={"summary": Part.json("old")}),
        lambda c: c.delete(KEY),
    ),
}
LOST_REPLIES = {
    "500": client_error("InternalServerError", 500, "PutItem"),
    "read timeout": TIMEOUT,
    "connection reset": ConnectionClosedError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lost", LOST_REPLIES)
def test_a_reply_lost_after_the_commit_landed_is_a_success_and_destroys_nothing(aws: None, mode: str, lost: str) -> None:
    # GIVEN
    client, s3, commit = writer_store()
    setup, write = MODES[mode]
    before = setup(client) if setup else None
    s3.log.clear()
    lose_reply_once(commit, LOST_REPLIES[lost])
    # WHEN
    result = write(client)
    # THEN the writer answers success (I3), sent the same commit twice, deleted nothing by id (I2)
    attempts = commit.calls("PutItem") + commit.calls("UpdateItem")
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    assert deleted_by_id(s3) == []
    raw = raw_row(INVOICES, KEY)
    assert raw is not None and raw["_rev"] == {"N": "1" if before is None else "2"}
    if mode == "delete":
        assert isinstance(result, IndexRow) and raw.get("_del") == {"BOOL": True}
        assert current_version(INVOICES, KEY, "summary") is None
        assert before.parts["summary"].version_id in version_ids(INVOICES, KEY, "summary")  # type: ignore[union-attr]
    else:
        assert client.get_item(KEY).parts["summary"].json() == "new"  # I1: the committed bytes
        assert current_version(INVOICES, KEY, "summary") == result.parts["summary"].version_id
        if before is not None:
            assert before.parts["summary"].version_id in version_ids(INVOICES, KEY, "summary")


def another_writer_first(commit: Recorder, then: BaseException | None = None) -> list[Any]:
    """Before our first commit attempt, another writer puts the item; our attempt then fails with
    ``then`` without reaching DynamoDB (or goes on, without). Returns the other writer's rows."""
    other = SplitStoreClient(INVOICES, boto3_session=SESSION)
    theirs: list[Any] = []

    def hook(params: dict[str, Any]) -> None:
        if not theirs:
            theirs.append(other.put(KEY, parts={"summary": Part.json("theirs")}))
            if then is not None:
                raise then

    commit.before["PutItem"] = hook
    return theirs


def test_an_ambiguous_commit_followed_by_another_writer_is_proven_not_landed(aws: None) -> None:
    # GIVEN our first attempt times out before reaching DynamoDB, and another writer commits meanwhile
    client, s3, commit = writer_store()
    client.create(KEY, parts={"summary": Part.json("v1")})
    s3.log.clear()
    theirs = another_writer_first(commit, then=TIMEOUT)
    # WHEN our conditional put resends and finds the state that followed ours is someone else's
    with pytest.raises(ConflictError):
        client.put(KEY, parts={"summary": Part.json("ours")}, expected_revision=1)
    # THEN our version was deleted by id (never committed); theirs is current and pinned
    ours = [p for p in s3.calls("PutObject")]
    assert len(ours) == 1 and len(deleted_by_id(s3)) == 1
    assert deleted_by_id(s3)[0] not in {theirs[0].parts["summary"].version_id}
    assert client.get_item(KEY).parts["summary"].json() == "theirs"
    assert current_version(INVOICES, KEY, "summary") == theirs[0].parts["summary"].version_id


def test_an_unconditional_put_that_was_proven_not_landed_starts_again(aws: None) -> None:
    client, s3, commit = writer_store()
    client.create(KEY, parts={"summary": Part.json("v1")})
    another_writer_first(commit, then=TIMEOUT)
    row = client.put(KEY, parts={"summary": Part.json("ours")})
    assert row.revision == 3
    assert client.get_item(KEY).parts["summary"].json() == "ours"


def test_an_ambiguous_commit_superseded_before_the_resend_is_unknown_and_deletes_nothing(aws: None) -> None:
    # GIVEN our commit lands, its reply is lost, and another writer commits before our resend
    client, s3, commit = writer_store()
    other = SplitStoreClient(INVOICES, boto3_session=SESSION)
    client.create(KEY, parts={"summary": Part.json("v1")})
    s3.log.clear()

    def landed_then_superseded(params: dict[str, Any], result: Any) -> None:
        commit.after.pop("PutItem")
        other.put(KEY, parts={"summary": Part.json("theirs")})
        raise TIMEOUT

    commit.after["PutItem"] = landed_then_superseded
    # WHEN
    with pytest.raises(CommitOutcomeUnknownError) as raised:
        client.put(KEY, parts={"summary": Part.json("ours")}, expected_revision=1)
    # THEN a retryable 503, and our version (committed at revision 2) is kept (I2)
    assert raised.value.status == 503 and raised.value.retryable
    assert deleted_by_id(s3) == []
    ours = s3.calls("PutObject")
    assert len(ours) == 1
    assert raw_row(INVOICES, KEY)["_rev"] == {"N": "3"}  # type: ignore[index]
    assert len(version_ids(INVOICES, KEY, "summary")) == 3


def test_every_attempt_timing_out_leaves_the_outcome_unknown(aws: None) -> None:
    client, s3, commit = writer_store()
    client.create(KEY, parts={"summary": Part.json("v1")})
    s3.log.clear()

    def timeout(params: dict[str, Any]) -> None:
        raise TIMEOUT

    commit.before["PutItem"] = timeout
    with pytest.raises(CommitOutcomeUnknownError):
        client.put(KEY, parts={"summary": Part.json("v2")}, expected_revision=1)
    assert len(commit.calls("PutItem")) == COMMIT_ATTEMPTS
    assert deleted_by_id(s3) == []


def test_the_last_attempt_landing_is_found_by_the_verification_read(aws: None) -> None:
    client, s3, commit = writer_store()
    client.create(KEY, parts={"summary": Part.json("v1")})
    calls = {"n": 0}

    def timeout_until_the_last(params: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] < COMMIT_ATTEMPTS:
            raise TIMEOUT

    def lose_the_last_reply(params: dict[str, Any], result: Any) -> None:
        raise TIMEOUT

    commit.before["PutItem"] = timeout_until_the_last
    commit.after["PutItem"] = lose_the_last_reply
    row = client.put(KEY, parts={"summary": Part.json("v2")}, expected_revision=1)
    assert row.revision == 2
    assert client.get_item(KEY).parts["summary"].json() == "v2"


def test_a_failed_verification_read_leaves_the_outcome_unknown(aws: None) -> None:
    client, s3, commit = writer_store()
    client.create(KEY, parts={"summary": Part.json("v1")})
    s3.log.clear()

    def timeout(params: dict[str, Any]) -> None:
        raise TIMEOUT

    def fail_the_verification(params: dict[str, Any]) -> None:
        raise client_error("InternalServerError", 500, "GetItem")

    commit.before["PutItem"] = timeout
    commit.before["GetItem"] = fail_the_verification
    with pytest.raises(CommitOutcomeUnknownError):
        client.put(KEY, parts={"summary": Part.json("v2")}, expected_revision=1)
    # The verification is one read, on the client that never retries by itself.
    assert len(commit.calls("GetItem")) == 1
    assert deleted_by_id(s3) == []


def test_a_conflict_whose_compensation_failed_is_a_503_not_a_409(aws: None) -> None:
    # GIVEN another writer wins, and our version cannot be deleted
    client, s3, commit = writer_store()
    client.create(KEY, parts={"summary": Part.json("v1")})
    another_writer_first(commit)

    def refuse_version_deletes(params: dict[str, Any]) -> None:
        if "VersionId" in params:
            raise client_error("InternalError", 500, "DeleteObject")

    s3.before["DeleteObject"] = refuse_version_deletes
    # WHEN / THEN: a 409 would promise that none of our versions is current; it may be
    with pytest.raises(UnavailableError) as raised:
        client.put(KEY, parts={"summary": Part.json("ours")}, expected_revision=1)
    assert raised.value.code == "Unavailable"
    assert client.get_item(KEY).parts["summary"].json() == "theirs"


def test_a_conflict_after_an_upload_that_was_retried_is_a_503_not_a_409(aws: None) -> None:
    # GIVEN an S3 client whose first PutObject is answered 500 (the SDK retries it), so a version
    # may exist that the writer never got the id of
    create_store(INVOICES)
    other = SplitStoreClient(INVOICES, boto3_session=SESSION)
    other.create(KEY, parts={"summary": Part.json("v1")})
    s3 = SESSION.client("s3")
    sends: list[str] = []

    def first_put_fails(request: Any, **kwargs: Any) -> Any:
        sends.append(request.url)
        if len(sends) == 1:
            other.put(KEY, parts={"summary": Part.json("theirs")})  # commits between our read and our commit
            headers: Any = {}
            return AWSResponse(request.url, 500, headers, _Raw(b"<Error><Code>InternalError</Code></Error>"))
        return None

    s3.meta.events.register_first("before-send.s3.PutObject", first_put_fails)
    client = SplitStoreClient(INVOICES, boto3_session=SESSION, s3_client=s3)
    client._writer.sleep = lambda seconds: None
    # WHEN a conditional put on revision 1 loses to the other writer
    with pytest.raises(UnavailableError) as raised:
        client.put(KEY, parts={"summary": Part.json("ours")}, expected_revision=1)
    # THEN
    assert raised.value.code == "Unavailable" and len(sends) == 2
    assert client.get_item(KEY).parts["summary"].json() == "theirs"


def test_a_commit_past_the_deadline_is_not_resent_but_verified(aws: None) -> None:
    client, s3, commit = writer_store()
    client.create(KEY, parts={"summary": Part.json("v1")})
    commit.log.clear()
    now = [0.0]
    client._writer.clock = lambda: now[0]

    def lost_and_late(params: dict[str, Any], result: Any) -> None:
        now[0] += 60.0
        raise TIMEOUT

    commit.after["PutItem"] = lost_and_late
    row = client.put(KEY, parts={"summary": Part.json("v2")}, expected_revision=1)
    assert len(commit.calls("PutItem")) == 1  # no resend past the deadline: one verification read
    assert row.revision == 2


def test_a_refused_commit_is_compensated_and_reported(aws: None) -> None:
    client, s3, commit = writer_store()

    def refuse(params: dict[str, Any]) -> None:
        raise client_error("ValidationException", 400, "PutItem")

    commit.before["PutItem"] = refuse
    with pytest.raises(ValidationError):
        client.create(KEY, parts={"summary": Part.json(1)})
    assert version_ids(INVOICES, KEY, "summary") == set()
    assert raw_row(INVOICES, KEY) is None

    def deny(params: dict[str, Any]) -> None:
        raise client_error("AccessDeniedException", 400, "PutItem")

    commit.before["PutItem"] = deny
    with pytest.raises(UnavailableError):
        client.create(KEY, parts={"summary": Part.json(1)})
    assert version_ids(INVOICES, KEY, "summary") == set()


def test_a_throttled_commit_is_sent_again(aws: None) -> None:
    client, s3, commit = writer_store()
    throttled: list[bool] = []

    def throttle_once(params: dict[str, Any]) -> None:
        if not throttled:
            throttled.append(True)
            raise client_error("ThrottlingException", 400, "PutItem")

    commit.before["PutItem"] = throttle_once
    row = client.create(KEY, parts={"summary": Part.json(1)})
    assert row.revision == 1 and len(commit.calls("PutItem")) == 2


def test_a_refusal_after_an_ambiguous_attempt_is_judged_by_the_row(aws: None) -> None:
    client, s3, commit = writer_store()
    state = {"n": 0}

    def applied_then_lost(params: dict[str, Any], result: Any) -> None:
        state["n"] += 1
        if state["n"] == 1:
            raise TIMEOUT

    def deny_the_resend(params: dict[str, Any]) -> None:
        if state["n"] >= 1:
            raise client_error("AccessDeniedException", 400, "PutItem")

    commit.after["PutItem"] = applied_then_lost
    commit.before["PutItem"] = deny_the_resend
    row = client.create(KEY, parts={"summary": Part.json(1)})
    assert row.revision == 1
    assert client.get_item(KEY).parts["summary"].json() == 1


# ------------------------------------------------------------------------------------------
# No SDK retry on commits


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self._body


def answer_500(sends: list[str]) -> Any:
    """A before-send handler that counts HTTP requests and answers each with a 500."""

    def handler(request: Any, **kwargs: Any) -> AWSResponse:
        sends.append(request.url)
        body = b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}'
        headers: Any = {"x-amzn-RequestId": "injected"}
        return AWSResponse(request.url, 500, headers, _Raw(body))

    return handler


def test_each_commit_attempt_is_exactly_one_http_request(aws: None) -> None:
    # GIVEN a commit client whose every PutItem request is answered 500 (moto still applies the
    # first one, so this is also "applied, then the reply lost", every time)
    create_store(INVOICES)
    commit = boto3.client("dynamodb", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    sends: list[str] = []
    commit.meta.events.register_first("before-send.dynamodb.PutItem", answer_500(sends))
    client = SplitStoreClient(INVOICES, dynamodb_client=shared_client("dynamodb"), commit_client=commit)
    client._writer.sleep = lambda seconds: None
    # WHEN
    row = client.create(KEY, parts={"summary": Part.json(1)})
    # THEN one HTTP request per protocol attempt, and the verification read found the commit
    assert len(sends) == COMMIT_ATTEMPTS
    assert row.revision == 1


def test_a_retrying_client_would_send_a_commit_several_times(aws: None) -> None:
    # The control of the test above: the counter counts HTTP requests, and the SDK's default
    # client resends a 500 by itself.
    create_store(INVOICES)
    retrying = boto3.client("dynamodb", region_name=REGION, config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    sends: list[str] = []
    retrying.meta.events.register_first("before-send.dynamodb.PutItem", answer_500(sends))
    with pytest.raises(Exception):
        retrying.put_item(TableName=INVOICES.table_name, Item={"id": {"S": "x"}})
    assert len(sends) == 3


@pytest.mark.parametrize(
    "config",
    [None, Config(retries={"max_attempts": 1}), Config(retries={"total_max_attempts": 2})],
)
def test_a_commit_client_that_retries_by_itself_is_refused(aws: None, config: Config | None) -> None:
    commit = boto3.client("dynamodb", region_name=REGION, config=config)
    with pytest.raises(ConfigurationError) as raised:
        SplitStoreClient(INVOICES, dynamodb_client=shared_client("dynamodb"), commit_client=commit)
    assert "total_max_attempts" in str(raised.value)


def test_a_dynamodb_client_without_a_commit_client_is_refused(aws: None) -> None:
    with pytest.raises(ConfigurationError):
        SplitStoreClient(INVOICES, dynamodb_client=shared_client("dynamodb"))


def test_the_clients_it_builds_have_timeouts_and_a_commit_client_without_retries(aws: None) -> None:
    client = SplitStoreClient(INVOICES, boto3_session=SESSION)
    commit: Any = client._writer.commit.meta.config
    dynamodb: Any = client._writer.dynamodb.meta.config
    s3: Any = client._writer.s3.meta.config
    assert commit.retries["total_max_attempts"] == 1
    assert (commit.read_timeout, dynamodb.read_timeout, s3.read_timeout) == (5.0, 5.0, 10.0)
    assert s3.connect_timeout == 3.0
