"""The commit sequence every write follows (put in its three modes, update_parts, delete).

1. **Read** the state of the key (one consistent ``GetItem``) and check the operation's
   precondition against it, before anything is put.
2. **Put the parts** (``PutObject`` each, in parallel), keeping each ``VersionId``.
3. **Deadline**: a writer past ``writer_deadline_ms`` never commits; it deletes its own
   versions (by ``VersionId``: no commit was sent) and raises :class:`DeadlineExceededError`.
4. **Commit** with one conditional ``PutItem`` or ``UpdateItem`` whose condition is "the row
   is still the state read", carrying a fresh commit token, sent without the SDK's automatic
   retry: the protocol resends the *same* commit itself, so it knows every attempt it sent.
5. **Judge** the outcome: landed, proven not landed, or unknown (:func:`judge_attempt`).
6. **Act**: landed: retire the parts the new state no longer pins (delete markers, then a
   re-check); not landed: delete this writer's own versions by ``VersionId`` (they were never
   committed) and raise :class:`ConflictError` (an unconditional write starts again from the
   read); unknown: delete nothing, raise :class:`CommitOutcomeUnknownError`.

A writer permanently deletes only its own versions whose commit is proven not to have landed.
docs/PROTOCOL.md (sections 4 and 5) gives every rule with its reason.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Union

from botocore.exceptions import ClientError

from ._aws import describe, error_code, http_status
from ._limits import LIMITS
from .codec import (
    PROTOCOL_ATTRIBUTE,
    REVISION_ATTRIBUTE,
    TOKEN_ATTRIBUTE,
    AttributeValue,
    Item,
    LiveRow,
    NoRow,
    ObservedRow,
    RowState,
    decode_state,
    marshal_key,
    observe_row,
)
from .config import StoreConfig
from .errors import (
    CommitOutcomeUnknownError,
    ConflictError,
    DeadlineExceededError,
    SplitStoreError,
    UnavailableError,
    ValidationError,
)
from .keys import part_key
from .models import KeyValue, PartPin

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

logger = logging.getLogger("cdk_split_store_client")

COMMIT_ATTEMPTS = LIMITS.commit_attempts
"""Attempts of one commit (the same token and condition), while the writer deadline allows."""


# ----------------------------------------------------------------------------------------
# Tokens and conditions


def new_commit_token() -> str:
    """A fresh commit token: 16 random bytes, base64url (22 characters)."""
    return secrets.token_urlsafe(16)


def next_revision(state: RowState) -> int:
    """The revision the commit after ``state`` writes: it grows for ever, across deletes."""
    return 1 if isinstance(state, NoRow) else state.revision + 1


def state_condition(config: StoreConfig, state: RowState, names: dict[str, str], values: dict[str, AttributeValue]) -> str:
    """The condition "the row is still ``state``", adding the names and values it uses:

    - no row: ``attribute_not_exists(#pk)``;
    - a version 2 row or tombstone: ``#tok = :state_tok`` (tokens are unique, so the token names the state);
    - a version 1 row: ``#rev = :state_rev AND attribute_not_exists(#tok) AND attribute_not_exists(#proto)``.
    """
    if isinstance(state, NoRow):
        names["#pk"] = config.partition_key.name
        return "attribute_not_exists(#pk)"
    names["#tok"] = TOKEN_ATTRIBUTE
    if state.token is not None:
        values[":state_tok"] = {"S": state.token}
        return "#tok = :state_tok"
    names["#rev"] = REVISION_ATTRIBUTE
    names["#proto"] = PROTOCOL_ATTRIBUTE
    values[":state_rev"] = {"N": str(state.revision)}
    return "#rev = :state_rev AND attribute_not_exists(#tok) AND attribute_not_exists(#proto)"


# ----------------------------------------------------------------------------------------
# Judging a commit's outcome (pure functions)


@dataclass(frozen=True)
class CommitView:
    """What identifies one commit: its token and the revision of the state it conditions on (0: no row)."""

    token: str
    base_revision: int


@dataclass(frozen=True)
class Applied:
    """DynamoDB answered success: this attempt applied the commit."""

    item: Item | None = None


@dataclass(frozen=True)
class ConditionFailed:
    """ConditionalCheckFailed: this attempt did not apply; ``current`` is the row it found (None: no row)."""

    current: Item | None = None


@dataclass(frozen=True)
class Refused:
    """A definite refusal (a 4xx other than the condition): this attempt did not apply."""

    retryable: bool
    error: BaseException


@dataclass(frozen=True)
class Ambiguous:
    """A timeout, a reset, a 5xx, anything else: this attempt may or may not have applied."""

    error: BaseException


AttemptResult = Union[Applied, ConditionFailed, Refused, Ambiguous]


@dataclass(frozen=True)
class Verdict:
    """What to do after an attempt, or how the commit ended.

    - ``landed``: the commit landed, exactly once (``item``: the committed row, if known);
    - ``not-landed``: it did not land and never will (``cause``: another state came first, or DynamoDB refused it);
    - ``unknown``: it cannot be told; delete nothing;
    - ``resend``: send the same commit again (same token, same condition);
    - ``verify``: no more attempts; read the row once and judge it with :func:`judge_observation`.
    """

    kind: Literal["landed", "not-landed", "unknown", "resend", "verify"]
    item: Item | None = None
    cause: Literal["conflict", "refused"] | None = None
    error: BaseException | None = field(default=None, compare=False)


def judge_observation(view: CommitView, current: ObservedRow | None, any_ambiguous: bool) -> Literal["landed", "not-landed", "unknown"]:
    """Judges a row observed after the commit was sent (the row a failed condition returned, or a
    consistent read): ours if it carries our token; otherwise not landed if no attempt was
    ambiguous, or if the row is at the revision right after the state we conditioned on (that
    state's one successor is someone else's, and states never repeat, so our condition can
    never hold again); otherwise unknown (ours may have landed and been superseded)."""
    if current is not None and current.token == view.token:
        return "landed"
    if not any_ambiguous:
        return "not-landed"
    if current is not None and current.revision == view.base_revision + 1:
        return "not-landed"
    return "unknown"


def judge_attempt(view: CommitView, result: AttemptResult, earlier_ambiguous: bool, may_resend: bool) -> Verdict:
    """Judges one attempt of a commit. ``earlier_ambiguous``: an earlier attempt of this commit
    may have applied. ``may_resend``: attempts and the writer deadline allow another attempt."""
    if isinstance(result, Applied):
        return Verdict("landed", item=result.item)
    if isinstance(result, ConditionFailed):
        judged = judge_observation(view, observe_row(result.current), earlier_ambiguous)
        if judged == "landed":
            return Verdict("landed", item=result.current)
        return Verdict("not-landed", cause="conflict") if judged == "not-landed" else Verdict("unknown")
    if isinstance(result, Refused):
        if result.retryable and may_resend:
            return Verdict("resend")
        if not earlier_ambiguous:
            return Verdict("not-landed", cause="refused", error=result.error)
        return Verdict("verify")
    return Verdict("resend") if may_resend else Verdict("verify")


DEFINITE_REFUSALS = frozenset(
    {
        "ValidationException",
        "SerializationException",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "AccessDeniedException",
        "ResourceNotFoundException",
        "TransactionConflictException",
        "ReplicatedWriteConflictException",
        "ItemCollectionSizeLimitExceededException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "ExpiredTokenException",
    }
)
"""DynamoDB error codes that say a request was refused before anything was applied."""

RETRYABLE_REFUSALS = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "ReplicatedWriteConflictException",
    }
)
"""Refusals after which the same commit may succeed: throttling and transaction conflicts."""


def classify_commit_error(error: BaseException) -> AttemptResult:
    """One commit attempt's failure as an :data:`AttemptResult`. Only an answer DynamoDB itself
    gave (a 4xx with one of its refusal codes) proves the attempt did not apply; everything else,
    an unknown 4xx included, is ambiguous."""
    code = error_code(error)
    status = http_status(error)
    is_4xx = status is not None and 400 <= status < 500
    if isinstance(error, ClientError) and is_4xx and code == "ConditionalCheckFailedException":
        current: Any = error.response.get("Item")
        return ConditionFailed(current=current)
    if isinstance(error, ClientError) and is_4xx and code in DEFINITE_REFUSALS:
        return Refused(retryable=code in RETRYABLE_REFUSALS, error=error)
    return Ambiguous(error=error)


# ----------------------------------------------------------------------------------------
# The sequence


@dataclass(frozen=True)
class PreparedPart:
    """A part to put, validated."""

    name: str
    s3_key: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class CreatedVersion:
    """An S3 object version this writer created."""

    part: str
    s3_key: str
    version_id: str


@dataclass(frozen=True)
class CommitRequest:
    """The commit a write sends: one conditional ``PutItem`` or ``UpdateItem``, and the parts to
    retire once it landed."""

    operation: Literal["PutItem", "UpdateItem"]
    params: dict[str, Any]
    retire: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteSpec:
    """What one write operation tells the sequence."""

    operation: str
    """The operation's name in messages and logs."""
    key: Mapping[str, KeyValue]
    parts: Sequence[PreparedPart]
    rounds: int
    """Rounds of the whole sequence: more than 1 only for unconditional writes, which start again
    from the read when another writer's commit came first."""
    check: Callable[[RowState], None]
    """The precondition on the state read; raises (404, 409) before anything is put."""
    build: Callable[[RowState, str, dict[str, PartPin]], CommitRequest]
    """The commit for the state read, this commit's token and the pins of the parts put; its
    condition must be :func:`state_condition` of that state."""
    conflict: Callable[[RowState, int], str]
    """The 409 message when another writer's commit came first (after that many rounds)."""


@dataclass(frozen=True)
class LandedWrite:
    """A write that landed: the state it replaced and the item it committed."""

    state: RowState
    item: Item


@dataclass(frozen=True)
class _Written:
    pins: dict[str, PartPin]
    created: list[CreatedVersion]
    unknown_versions: bool = False
    """An upload needed more than one attempt: a failed attempt (a timeout, a lost reply, a 5xx)
    may have stored a version whose id this writer never got, so compensation cannot promise
    that none of its versions is left current."""


class Writer:
    """Runs the commit sequence with a store's clients."""

    def __init__(
        self,
        config: StoreConfig,
        *,
        s3: S3Client,
        dynamodb: DynamoDBClient,
        commit: DynamoDBClient,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        retry_delay: float = 0.05,
    ) -> None:
        self.config = config
        self.s3 = s3
        self.dynamodb = dynamodb
        self.commit = commit
        self.clock = clock
        self.sleep = sleep
        self.retry_delay = retry_delay

    # -- the sequence -------------------------------------------------------------------

    def run(self, spec: WriteSpec) -> LandedWrite:
        """Read, check, put, deadline, commit, judge; then retire, clean up or leave alone."""
        deadline = self.config.writer_deadline_ms / 1000.0
        # Set once a version of ours may be left current (a failed compensation, an upload that
        # may have stored a version we never got the id of): "not committed" is then a 503, since
        # a 409 promises that none of the write's versions is left current (I3).
        leftovers = False
        for round_ in range(1, spec.rounds + 1):
            start = self.clock()
            # 1. The state, and the precondition, before anything is put.
            state = self.read_state(spec.key, f"read before the {spec.operation}")
            spec.check(state)
            # 2. The parts.
            written = self._put_parts(spec)
            leftovers = leftovers or written.unknown_versions
            # 3. The deadline: a writer past it never commits (the reconciler relies on it).
            elapsed = self.clock() - start
            if elapsed > deadline:
                self.compensate(written.created)
                raise DeadlineExceededError(
                    f"write of {dict(spec.key)!r} ran {elapsed * 1000:.0f} ms, past the writer deadline of "
                    f"{self.config.writer_deadline_ms:g} ms: abandoned and compensated, nothing was committed; retry"
                )
            # 4.-5. Commit and judge.
            token = new_commit_token()
            request = spec.build(state, token, written.pins)
            outcome = self._commit_and_judge(spec, CommitView(token, next_revision(state) - 1), request, start)
            # 6. Act on it.
            if outcome.kind == "landed":
                assert outcome.item is not None
                self.retire(spec.key, request.retire)
                return LandedWrite(state=state, item=outcome.item)
            if outcome.kind == "unknown":
                logger.error(
                    "commit outcome unknown: nothing deleted; the reconciler keeps these versions if the commit landed "
                    "and removes them if not (operation %s, key %r, versions %r)",
                    spec.operation,
                    dict(spec.key),
                    [(c.s3_key, c.version_id) for c in written.created],
                )
                raise CommitOutcomeUnknownError(
                    f"the {spec.operation} of {dict(spec.key)!r} may or may not have been committed (the answer was lost); "
                    "read the item to see which, then retry if needed"
                )
            # Not landed, proven: this writer's versions were never committed and never will be.
            leftovers = not self.compensate(written.created) or leftovers
            if outcome.cause == "refused":
                raise self._refusal(spec.operation, outcome.error)
            if round_ < spec.rounds:
                # Full jitter, so that writers racing on one item do not collide again in lockstep.
                self.sleep(random.random() * self.retry_delay * 2**round_)
                continue
            if leftovers:
                raise UnavailableError(
                    f"the {spec.operation} of {dict(spec.key)!r} was not committed (another write came first), and an "
                    "uploaded part may still be current until the reconciler removes it; retry"
                )
            raise ConflictError(spec.conflict(state, round_))
        raise AssertionError("unreachable: the last round returns or raises")

    def read_state(self, key: Mapping[str, KeyValue], what: str) -> RowState:
        """The state of a key: one consistent GetItem, decoded."""
        try:
            out = self.dynamodb.get_item(TableName=self.config.table_name, Key=marshal_key(self.config, key), ConsistentRead=True)
        except Exception as e:
            logger.warning("%s failed: %s", what, describe(e))
            raise UnavailableError(f"{what} failed ({error_code(e)}): nothing was committed; retry") from e
        item: Any = out.get("Item")
        return decode_state(self.config, item)

    def _put_parts(self, spec: WriteSpec) -> _Written:
        """PutObject every part in parallel; on any failure, delete (by VersionId) the ones that landed."""
        if not spec.parts:
            return _Written({}, [])
        unknown_versions = False

        def put(part: PreparedPart) -> tuple[PreparedPart, Any]:
            return part, self.s3.put_object(
                Bucket=self.config.bucket_name, Key=part.s3_key, Body=part.body, ContentType=part.content_type
            )

        pins: dict[str, PartPin] = {}
        created: list[CreatedVersion] = []
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=min(len(spec.parts), 16), thread_name_prefix="split-store-put") as pool:
            futures = [pool.submit(put, part) for part in spec.parts]
            for future in futures:
                try:
                    part, out = future.result()
                except Exception as e:  # noqa: BLE001 - the first failure is reported, every success compensated
                    failure = failure or e
                    continue
                if out.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0:
                    unknown_versions = True
                version_id = out.get("VersionId")
                if not version_id or version_id == "null":
                    failure = failure or UnavailableError(
                        f"bucket {self.config.bucket_name} returned no VersionId: S3 versioning must be enabled; nothing was committed"
                    )
                    continue
                created.append(CreatedVersion(part.name, part.s3_key, version_id))
                pins[part.name] = PartPin(version_id, out.get("ETag", ""), len(part.body), part.content_type)
        if failure is not None:
            self.compensate(created)
            if isinstance(failure, SplitStoreError):
                raise failure
            logger.warning("S3 PutObject of the %s failed: %s", spec.operation, describe(failure))
            raise UnavailableError(f"S3 PutObject of the {spec.operation} failed ({error_code(failure)}): nothing was committed; retry") from failure
        return _Written(pins, created, unknown_versions)

    def _commit_and_judge(self, spec: WriteSpec, view: CommitView, request: CommitRequest, start: float) -> Verdict:
        """Sends the commit, resends it while allowed, and judges every answer."""
        deadline = self.config.writer_deadline_ms / 1000.0
        any_ambiguous = False
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            result = self._attempt(request)
            may_resend = attempt < COMMIT_ATTEMPTS and self.clock() - start <= deadline
            verdict = judge_attempt(view, result, any_ambiguous, may_resend)
            if isinstance(result, Ambiguous):
                any_ambiguous = True
            if isinstance(result, (Refused, Ambiguous)):
                logger.warning(
                    "commit attempt %d of the %s of %r failed (%s, then %s): %s",
                    attempt,
                    spec.operation,
                    dict(spec.key),
                    type(result).__name__,
                    verdict.kind,
                    describe(result.error),
                )
            if verdict.kind == "resend":
                self.sleep(random.random() * self.retry_delay * 2**attempt)
                # The pause may have crossed the deadline: then no new attempt, only a look at the row.
                if self.clock() - start <= deadline:
                    continue
                return self._verify(spec, view)
            if verdict.kind == "verify":
                return self._verify(spec, view)
            if verdict.kind == "landed" and verdict.item is None:
                return self._verify(spec, view)
            return verdict
        return self._verify(spec, view)

    def _attempt(self, request: CommitRequest) -> AttemptResult:
        """One attempt: exactly one HTTP request (the commit client never retries by itself)."""
        try:
            if request.operation == "PutItem":
                self.commit.put_item(**request.params, ReturnValuesOnConditionCheckFailure="ALL_OLD")
                return Applied(item=request.params["Item"])
            out: Any = self.commit.update_item(
                **request.params, ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD"
            )
            return Applied(item=out.get("Attributes"))
        except Exception as e:  # noqa: BLE001 - every failure is classified
            return classify_commit_error(e)

    def _verify(self, spec: WriteSpec, view: CommitView) -> Verdict:
        """After the last attempt: one consistent read (one attempt: the commit client never
        retries) decides, or the outcome is unknown."""
        try:
            out = self.commit.get_item(
                TableName=self.config.table_name, Key=marshal_key(self.config, spec.key), ConsistentRead=True
            )
        except Exception as e:  # noqa: BLE001 - an unreadable row leaves the outcome unknown
            logger.warning("could not read the row to learn whether the commit landed: %s", describe(e))
            return Verdict("unknown")
        item: Any = out.get("Item")
        judged = judge_observation(view, observe_row(item), True)
        if judged == "landed" and item is not None:
            return Verdict("landed", item=item)
        return Verdict("not-landed", cause="conflict") if judged == "not-landed" else Verdict("unknown")

    def _refusal(self, operation: str, error: BaseException | None) -> SplitStoreError:
        """The 4xx DynamoDB gave instead of applying the commit, as the caller's error."""
        code = error_code(error) if error is not None else "Error"
        logger.warning("DynamoDB refused the %s's commit: %s", operation, describe(error) if error else code)
        if code == "ValidationException":
            return ValidationError(
                f"DynamoDB refused the {operation}'s commit (ValidationException): the index row is not storable, "
                "for example larger than 400 KB; nothing was committed"
            )
        return UnavailableError(f"DynamoDB refused the {operation}'s commit ({code}): nothing was committed; retry")

    # -- clean-up and retirement --------------------------------------------------------

    def compensate(self, created: Sequence[CreatedVersion]) -> bool:
        """Deletes exactly the versions this writer created, by VersionId: they are proven never
        committed. Failures are logged, never raised (the reconciler is the backstop). True when
        every delete succeeded."""
        cleaned = True
        for version in created:
            try:
                self.s3.delete_object(Bucket=self.config.bucket_name, Key=version.s3_key, VersionId=version.version_id)
            except Exception as e:  # noqa: BLE001 - logged; the reconciler removes the version later
                cleaned = False
                logger.error(
                    "compensation failed: the reconciler will remove this never-committed version (%s, %s): %s",
                    version.s3_key,
                    version.version_id,
                    describe(e),
                )
        return cleaned

    def retire(self, key: Mapping[str, KeyValue], parts: Sequence[str]) -> None:
        """After a commit that removed parts: a delete marker on each (the last pinned version
        becomes noncurrent and expires with the retention window; it is never deleted). Then the
        row is read again, and our marker is removed (by its VersionId) from every part the row
        pins again: another writer re-added it meanwhile, and the marker may hide its version."""
        placed: list[tuple[str, str, str]] = []
        for part in parts:
            s3_key = part_key(self.config, key, part)
            try:
                out = self.s3.delete_object(Bucket=self.config.bucket_name, Key=s3_key)
            except Exception as e:  # noqa: BLE001 - a part left current is harmless to readers
                logger.warning(
                    "could not retire a removed part: its last version stays current (never deleted; harmless to readers) (%s): %s",
                    s3_key,
                    describe(e),
                )
                continue
            if out.get("VersionId"):
                placed.append((part, s3_key, out["VersionId"]))
        if not placed:
            return
        try:
            state = self.read_state(key, "re-check after retiring parts")
        except SplitStoreError as e:
            logger.warning("could not re-check the row after retiring parts, the reconciler will: %s", e)
            return
        pinned = state.row.parts if isinstance(state, LiveRow) else {}
        for part, s3_key, marker in placed:
            if part not in pinned:
                continue
            try:
                self.s3.delete_object(Bucket=self.config.bucket_name, Key=s3_key, VersionId=marker)
            except Exception as e:  # noqa: BLE001 - logged; the reconciler's marker event repairs it
                logger.error(
                    "could not remove a delete marker that hides a pinned version, the reconciler will (%s, %s): %s",
                    s3_key,
                    marker,
                    describe(e),
                )
