"""The payload codec and its keys: what it seals opens only under our keys, for the
workflow it was sealed for; whatever is not ours becomes a refusal the converter raises
where the payload is used; key material never shows."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext
from temporalio.exceptions import ApplicationError

from domain import commands
from infra.platform.config import Settings
from infra.platform.errors import Refused
from infra.temporal.codec import (
    BOUND_TO,
    ENCODING,
    KEY_ID,
    REFUSED,
    EncryptionCodec,
    UnknownPayloadKey,
    sealed_data_converter,
)
from infra.temporal.keys import (
    KeyConfigError,
    configured_keys,
    ensure_embedded_keys,
    ensure_key_file,
    new_key_line,
    parse_keys,
    read_key_file,
    rotate_key_file,
)

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(32, 64))).decode()
RING = parse_keys(f"a: {KEY_A}", source="test")


def city(workflow_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)


async def test_a_payload_round_trips_sealed_for_its_workflow() -> None:
    converter = sealed_data_converter(RING).with_context(city("city/us-a"))
    command = commands.Withdraw(reason="moving on")
    [sealed] = await converter.encode([command])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"a"
    assert sealed.metadata[BOUND_TO] == b"city/us-a"
    assert b"moving on" not in sealed.data
    assert await converter.decode([sealed], [commands.Withdraw]) == [command]
    # An activity of the same workflow opens it too (the SDK's context for activities).
    activity = EncryptionCodec(RING).with_context(ActivitySerializationContext(
        namespace="default", activity_id="1", activity_type="x", activity_task_queue="q",
        workflow_id="city/us-a", workflow_type="City", is_local=True))
    assert (await activity.decode([sealed]))[0].metadata["encoding"] == b"json/plain"


async def test_plain_json_from_outside_is_refused_where_it_is_used() -> None:
    converter = sealed_data_converter(RING).with_context(city("city/us-a"))
    forged = Payload(metadata={"encoding": b"json/plain"},
                     data=b'{"reviewer": "r@x.test", "affiliations": []}')
    [opened] = await converter.payload_codec.decode([forged])  # type: ignore[union-attr]
    assert opened.metadata["encoding"] == REFUSED.encode()
    with pytest.raises(ApplicationError) as refused:
        await converter.decode([forged], [commands.AssignReviewer])
    assert refused.value.type == "unauthenticated"
    assert refused.value.non_retryable


async def test_a_payload_sealed_for_another_workflow_or_altered_is_refused() -> None:
    codec = EncryptionCodec(RING)
    [sealed] = await codec.with_context(city("city/us-a")).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b"{}")])
    [elsewhere] = await codec.with_context(city("city/us-b")).decode([sealed])
    assert elsewhere.metadata["encoding"] == REFUSED.encode()
    rebound = Payload()
    rebound.CopyFrom(sealed)
    rebound.metadata[BOUND_TO] = b"city/us-b"  # the binding is authenticated
    [moved] = await codec.with_context(city("city/us-b")).decode([rebound])
    assert moved.metadata["encoding"] == REFUSED.encode()
    altered = Payload()
    altered.CopyFrom(sealed)
    altered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    [broken] = await codec.decode([altered])
    assert broken.metadata["encoding"] == REFUSED.encode()
    stub = Payload()
    stub.CopyFrom(sealed)
    stub.data = b"short"  # not even a nonce
    [short] = await codec.decode([stub])
    assert short.metadata["encoding"] == REFUSED.encode()


async def test_an_unknown_key_id_is_named_and_the_key_never_is() -> None:
    other = parse_keys(f"b: {KEY_B}", source="test")
    [sealed] = await EncryptionCodec(other).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    with pytest.raises(UnknownPayloadKey) as unknown:
        await sealed_data_converter(RING).decode([sealed], [int])
    assert "'b'" in str(unknown.value)
    assert "holds a" in str(unknown.value)
    assert KEY_A not in str(unknown.value)
    assert KEY_B not in str(unknown.value)


async def test_what_the_codec_endpoint_seals_is_shown_but_never_taken_as_input() -> None:
    endpoint = EncryptionCodec(RING, foreign="pass", sealer=b"codec-endpoint")
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"reason": "x"}')
    [minted] = await endpoint.encode([plain])
    [service_view] = await EncryptionCodec(RING).decode([minted])
    assert service_view.metadata["encoding"] == REFUSED.encode()
    [shown] = await endpoint.decode([minted])
    assert shown.data == plain.data
    # The endpoint shows a plain payload as it is (the stock CLI's input in a history).
    assert await endpoint.decode([plain]) == [plain]


async def test_rotation_keeps_old_payloads_readable(tmp_path: Path) -> None:
    path = tmp_path / "payload.keys"
    assert ensure_key_file(path)
    assert not ensure_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = read_key_file(path)
    [old] = await EncryptionCodec(before).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    new_id = rotate_key_file(path)
    after = read_key_file(path)
    assert after.encrypting == new_id
    assert after.ids == (new_id, *before.ids)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [new] = await EncryptionCodec(after).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    assert new.metadata[KEY_ID] == new_id.encode()
    assert (await EncryptionCodec(after).decode([old]))[0].data == b"1"


def test_key_text_forms_and_their_errors() -> None:
    lines = parse_keys(f"# comment\nb: {KEY_B}\na: {KEY_A}\n", source="file")
    assert (lines.encrypting, lines.ids) == ("b", ("b", "a"))
    assert parse_keys(f"a:{KEY_A},b:{KEY_B}", source="env").ids == ("a", "b")
    marked = parse_keys(f'{{"encrypting": "a", "keys": {{"b": "{KEY_B}", "a": "{KEY_A}"}}}}',
                        source="json")
    assert marked.encrypting == "a"
    short = base64.b64encode(b"too short").decode()
    for text, problem in [("", "no key"), ("a " + KEY_A, "KEY_ID: BASE64"),
                          (f"a: {short}", "has 9 bytes"), ("a: !!!", "not valid base64"),
                          (f"a: {KEY_A}\na: {KEY_B}", "listed twice"),
                          (f"bad id: {KEY_A}", "key id 'bad id'"),
                          (f'{{"encrypting": "c", "keys": {{"a": "{KEY_A}"}}}}', "'c'")]:
        with pytest.raises(KeyConfigError, match=problem) as error:
            parse_keys(text, source="WWC_PAYLOAD_KEYS")
        assert KEY_A not in str(error.value)
        assert KEY_B not in str(error.value)
    assert KEY_A not in repr(RING)
    assert "a" in repr(RING)
    assert new_key_line("k9").startswith("k9: ")


def test_settings_never_show_the_keys() -> None:
    settings = Settings(payload_keys=f"a: {KEY_A}")
    assert KEY_A not in repr(settings)
    assert KEY_A not in str(settings)


def test_the_embedded_stack_makes_its_key_and_refuses_a_temporal_database_from_before(
        tmp_path: Path) -> None:
    fresh = Settings(data_dir=tmp_path / "new")
    ensure_embedded_keys(fresh)
    assert stat.S_IMODE((tmp_path / "new" / "payload.keys").stat().st_mode) == 0o600
    assert configured_keys(fresh).ids == read_key_file(tmp_path / "new" / "payload.keys").ids
    old = tmp_path / "old"
    old.mkdir()
    (old / "temporal.db").write_bytes(b"")  # written before payloads were sealed
    with pytest.raises(Refused, match="wwc recover"):
        ensure_embedded_keys(Settings(data_dir=old))
    assert not (old / "payload.keys").exists()
    # Without the embedded stack, no key is made up: one must be configured.
    with pytest.raises(KeyConfigError, match="WWC_PAYLOAD_KEYS_FILE"):
        configured_keys(Settings(data_dir=tmp_path / "cluster"))
