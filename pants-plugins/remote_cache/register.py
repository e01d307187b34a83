"""Where the remote cache is, and how to authenticate to it, from the environment.

Enabled by pants.remote.toml. Nothing about a particular cache is committed:

    REMOTE_CACHE_ADDRESS        grpc://host:port, or grpcs://host:port for TLS (required)
    REMOTE_CACHE_INSTANCE       the REAPI instance name (default: main)
    REMOTE_CACHE_AUTHORIZATION  the value of an `authorization` header, e.g. `Bearer <token>`,
                                for caches that need one

Pants asks `remote_auth` for the address and headers when remote caching is on. The header
value lives only in this process's memory: it is not an option value, so Pants never logs,
records or fingerprints it. See https://www.pantsbuild.org/2.17/docs/remote-caching.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pants.option.global_options import AuthPluginResult, AuthPluginState

logger = logging.getLogger(__name__)

PLUGIN_NAME = "pants-plugins/remote_cache (REMOTE_CACHE_* environment variables)"


def _unavailable(reason: str) -> AuthPluginResult:
    logger.warning(f"Building without the remote cache: {reason}")
    return AuthPluginResult(
        state=AuthPluginState.UNAVAILABLE, store_headers={}, execution_headers={}, plugin_name=PLUGIN_NAME
    )


def remote_auth(
    initial_execution_headers: Mapping[str, str],
    initial_store_headers: Mapping[str, str],
    options: Any,
    env: Mapping[str, str],
    prior_result: AuthPluginResult | None,
) -> AuthPluginResult:
    address = env.get("REMOTE_CACHE_ADDRESS", "")
    if not address:
        return _unavailable(
            "pants.remote.toml is in use but REMOTE_CACHE_ADDRESS is not set. Set it to "
            "grpc://host:port (or grpcs://host:port for TLS), or drop pants.remote.toml from "
            "PANTS_CONFIG_FILES."
        )
    if not address.startswith(("grpc://", "grpcs://")):
        return _unavailable(f"REMOTE_CACHE_ADDRESS must start with grpc:// or grpcs://, not {address!r}.")
    store_headers = dict(initial_store_headers)
    authorization = env.get("REMOTE_CACHE_AUTHORIZATION")
    if authorization:
        store_headers["authorization"] = authorization
    return AuthPluginResult(
        state=AuthPluginState.OK,
        store_headers=store_headers,
        execution_headers=dict(initial_execution_headers),
        store_address=address,
        instance_name=env.get("REMOTE_CACHE_INSTANCE") or "main",
        plugin_name=PLUGIN_NAME,
    )
