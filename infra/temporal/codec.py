"""The payload codec: everything the service sends through Temporal (workflow inputs and
results, update, signal and query arguments and results, activity inputs and results,
memos, the headers that carry the actor, failure messages) is sealed with AES-256-GCM
before it leaves the process, so Temporal (its database, its UI, its CLI) holds only
ciphertext.

A sealed payload is `binary/encrypted` with the id of the key that sealed it (keys rotate:
see `infra/temporal/keys.py`) and, when it was sealed for one workflow, that workflow's
id: the id is authenticated with the ciphertext (GCM's associated data), so a payload
sealed for one city cannot be replayed to another.

What does not open under our keys is not ours: plain JSON from the stock `temporal` CLI,
a payload altered or sealed for another workflow, one sealed by the operators' codec
endpoint (which anyone signed in as an operator may call, so what it seals is never taken
as input). Such a payload is refused, and how matters: a codec that raises while the
worker decodes a workflow task fails the whole task, and Temporal retries it (measured:
a forged update blocked the city's updates for about 20 s, a forged signal wedged the
workflow for good). So the codec hands the workflow a refusal in the payload's place, and
the payload converter raises it where the payload is used: a forged update is rejected
before its validator (nothing recorded), a forged signal is dropped, a forged start fails
its own workflow at once. A payload under a key id we do not hold is a configuration
error (a key removed too early), not an attack to be refused for good: it raises an error
naming the key id, and the workflow task waits for the key to come back."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    EncodingPayloadConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)
from temporalio.exceptions import ApplicationError

from infra.temporal.keys import KeyConfigError, PayloadKeys

ENCODING = b"binary/encrypted"  # as Temporal's samples name it
KEY_ID = "encryption-key-id"
BOUND_TO = "wwc-workflow-id"  # the workflow a payload was sealed for (authenticated)
SEALED_BY = "wwc-sealed-by"  # inside the envelope: who sealed it, when not the service
BY_ENDPOINT = b"codec-endpoint"
REFUSED = "binary/wwc-refused"  # what a payload that is not ours becomes, for the converter
REASON = "wwc-refusal"
UNKNOWN_KEY = b"unknown-key"
NOT_OURS = b"not-ours"
NONCE_BYTES = 12
UNAUTHENTICATED = "unauthenticated"


class UnknownPayloadKey(KeyConfigError):
    """A payload sealed under a key id this process does not hold."""


def _aad(workflow_id: str | None) -> bytes:
    return b"wwc-payload-v1\x00" + (workflow_id or "").encode()


def _refusal(reason: bytes, message: str) -> Payload:
    return Payload(metadata={"encoding": REFUSED.encode(), REASON: reason},
                   data=message.encode())


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """Seals and opens payloads with the key ring. `foreign="refuse"` (clients and
    workers) turns a payload that is not ours into a refusal; `foreign="pass"` (the codec
    endpoint, which only shows payloads to an operator) leaves it as it is. `sealer` marks
    what it seals as sealed by someone other than the service (the endpoint)."""

    def __init__(self, keys: PayloadKeys, *, foreign: Literal["refuse", "pass"] = "refuse",
                 sealer: bytes | None = None, workflow_id: str | None = None) -> None:
        self.keys = keys
        self.foreign = foreign
        self.sealer = sealer
        self.workflow_id = workflow_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}
        self._sealing_id = keys.encrypting.encode()

    def __repr__(self) -> str:
        return f"EncryptionCodec(keys={self.keys!r}, foreign={self.foreign!r})"

    def with_context(self, context: SerializationContext) -> EncryptionCodec:
        """The same codec, sealing for (and checking payloads against) the workflow the
        SDK says a payload belongs to."""
        workflow_id = None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = context.workflow_id
        if workflow_id == self.workflow_id:
            return self
        bound = object.__new__(EncryptionCodec)
        bound.__dict__.update(self.__dict__)
        bound.workflow_id = workflow_id
        return bound

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == ENCODING:
            return payload  # already sealed (by this codec, for a header or a memo)
        inner = payload
        if self.sealer is not None:
            inner = Payload()
            inner.CopyFrom(payload)
            inner.metadata[SEALED_BY] = self.sealer
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.keys.encrypting].encrypt(
            nonce, inner.SerializeToString(), _aad(self.workflow_id))
        metadata = {"encoding": ENCODING, KEY_ID: self._sealing_id}
        if self.workflow_id:
            metadata[BOUND_TO] = self.workflow_id.encode()
        return Payload(metadata=metadata, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        metadata = payload.metadata
        if metadata.get("encoding") != ENCODING:
            return self._foreign(payload, NOT_OURS,
                                 "a payload not sealed by this service (plain data from "
                                 "outside it) is not accepted")
        key_id = metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            return self._foreign(payload, UNKNOWN_KEY,
                                 f"a payload is sealed with key {key_id!r}, which this "
                                 f"process does not hold (it holds {', '.join(self.keys.ids)}"
                                 "): add that key to WWC_PAYLOAD_KEYS_FILE or "
                                 "WWC_PAYLOAD_KEYS (see README, Security)")
        bound = metadata[BOUND_TO].decode(errors="replace") if BOUND_TO in metadata else None
        if bound and self.workflow_id and bound != self.workflow_id:
            return self._foreign(payload, NOT_OURS,
                                 "a payload sealed for another workflow is not accepted")
        data = payload.data
        try:
            opened = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _aad(bound))
            inner = Payload.FromString(opened)
        except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
            return self._foreign(payload, NOT_OURS,
                                 f"a payload does not open with key {key_id!r}: it was "
                                 "altered, or not sealed by this service")
        if self.foreign == "refuse" and inner.metadata.get(SEALED_BY) == BY_ENDPOINT:
            return _refusal(NOT_OURS, "a payload sealed by the codec endpoint is never "
                                      "taken as input")
        return inner

    def _foreign(self, payload: Payload, reason: bytes, message: str) -> Payload:
        return payload if self.foreign == "pass" else _refusal(reason, message)


class _RefusedPayloadConverter(EncodingPayloadConverter):
    """Raises, where a payload is used, the refusal the codec put in its place: an
    `unauthenticated` ApplicationError (a forged update is rejected, a forged start fails
    its workflow, a forged signal is dropped), or `UnknownPayloadKey` (the workflow task
    waits for the key)."""

    @property
    def encoding(self) -> str:
        return REFUSED

    def to_payload(self, value: Any) -> Payload | None:
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        message = payload.data.decode(errors="replace")
        if payload.metadata.get(REASON) == UNKNOWN_KEY:
            raise UnknownPayloadKey(message)
        raise ApplicationError(message, "refused", type=UNAUTHENTICATED, non_retryable=True)


class SealedPayloadConverter(PydanticPayloadConverter):
    """The pydantic converter (one model per argument, as everywhere in the service), and
    the refusals of the codec."""

    def __init__(self) -> None:
        super().__init__()
        self._set_converters(*self.converters.values(), _RefusedPayloadConverter())


def sealed_data_converter(keys: PayloadKeys) -> DataConverter:
    """What every client, worker and replayer of the service uses: pydantic models,
    sealed with `keys`; failures' messages and stack traces sealed with them (the failure
    converter moves them into the failure's sealed attributes)."""
    return DataConverter(payload_converter_class=SealedPayloadConverter,
                         payload_codec=EncryptionCodec(keys),
                         failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
