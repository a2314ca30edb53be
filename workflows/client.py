"""How every process (API, worker, CLI) connects to Temporal."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.runtime import Runtime
from temporalio.service import RetryConfig, RPCError, RPCStatusCode, TLSConfig

from settings import Settings
from workflows.search_attributes import ALL

# A TypeAdapter per type hint for the whole process. The SDK makes a new payload
# converter for every serialization context (each workflow activation, each
# activity), so the pydantic converter's own cache starts empty every time, and
# building an adapter costs milliseconds: ~10% of the worker's CPU in bench.saga.
# An adapter is immutable; sharing it is safe.
_adapter = functools.lru_cache(maxsize=1024)(TypeAdapter)


class _SharedAdaptersJson(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        hint = Any if type_hint is None else type_hint
        try:
            hash(hint)
        except TypeError:  # an unhashable hint: the SDK's own way
            return super().from_payload(payload, type_hint)
        return _adapter(hint).validate_json(payload.data)


class PayloadConverter(CompositePayloadConverter):
    """pydantic's payload converter (temporalio.contrib.pydantic), adapters shared."""

    def __init__(self) -> None:
        json = _SharedAdaptersJson()
        super().__init__(
            *(
                json if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


DATA_CONVERTER = DataConverter(payload_converter_class=PayloadConverter)


async def connect(
    settings: Settings,
    interceptors: Sequence[Interceptor] = (),
    runtime: Runtime | None = None,
    retry: RetryConfig | None = None,
) -> Client:
    """A client; `retry` bounds how long a call retries an unreachable server
    (default: the SDK's, about 10 s)."""
    tls: bool | TLSConfig = False
    if settings.temporal_tls_cert is not None and settings.temporal_tls_key is not None:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    elif settings.temporal_uses_tls:
        tls = True
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls,
        api_key=api_key,
        data_converter=DATA_CONVERTER,
        interceptors=interceptors,
        runtime=runtime,
        retry_config=retry,
    )


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Add the project's search attributes the namespace lacks; their names. Needed on
    the time-skipping test server, and on a dev server whose database file an older
    version made (`--search-attribute` does not add new ones to an existing file)."""
    known: set[str] = set()
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(listed.custom_attributes)
    except RPCError as error:  # the time-skipping test server lists none: add them all
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
    missing = [key for key in ALL if key.name not in known]
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
                    for key in missing
                },
            )
        )
    return [key.name for key in missing]
