"""Shopify's published Admin GraphQL schema, from the npm registry (never hand-copied).

``@shopify/dev-mcp`` ships one introspection result per Admin API version (``dist/data/admin_<version>.json.gz``).
The package is fetched once with ``npm pack`` at the pinned package version into a cache directory
(``SHELFOPS_SCHEMA_CACHE`` or ``~/.cache/shelfops``) and only the admin schema files are kept; later runs reuse
them. ``make install`` fetches it (``python -m sandbox.shopify.published``) and the tests fetch it when missing; the
sandbox's Shopify schema (``schema.py``) is built from it, and the test suite's judge uses the same files.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema

DEV_MCP_PACKAGE = "@shopify/dev-mcp"
DEV_MCP_VERSION = "1.16.0"  # the newest release shipping admin_2026-10 (pinned so the judge does not move)
# The portal's pinned Admin API version and the one before it (issue 13: validate against both).
PINNED_VERSION = "2026-10"
PREVIOUS_VERSION = "2026-07"
VERSIONS = (PINNED_VERSION, PREVIOUS_VERSION)


def cache_dir() -> Path:
    root = Path(os.environ.get("SHELFOPS_SCHEMA_CACHE") or Path.home() / ".cache" / "shelfops")
    return root / f"shopify-dev-mcp-{DEV_MCP_VERSION}"


def _fetch_package(target: Path) -> None:
    """``npm pack`` the pinned package and keep its admin schema files in ``target`` (atomically)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        try:
            done = subprocess.run(
                ["npm", "pack", f"{DEV_MCP_PACKAGE}@{DEV_MCP_VERSION}", "--silent", "--pack-destination", work],
                capture_output=True, text=True, timeout=300, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"cannot run npm to fetch {DEV_MCP_PACKAGE}: {exc}") from exc
        tarballs = list(Path(work).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            raise RuntimeError(f"npm pack {DEV_MCP_PACKAGE}@{DEV_MCP_VERSION} failed: {done.stderr.strip()[:500]}")
        staging = Path(work) / "schemas"
        staging.mkdir()
        with tarfile.open(tarballs[0]) as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if member.isfile() and member.name.startswith("package/dist/data/admin_") and name.endswith(".gz"):
                    (staging / name).write_bytes(tar.extractfile(member).read())
        if not any(staging.iterdir()):
            raise RuntimeError(f"{DEV_MCP_PACKAGE}@{DEV_MCP_VERSION} has no dist/data/admin_*.json.gz")
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # another process won the race; its copy is as good as ours
                raise


def is_cached() -> bool:
    return cache_dir().is_dir()


def schema_file(version: str, fetch: bool = True) -> Path:
    """The cached introspection file of ``version``, fetched first when missing (unless ``fetch`` is False)."""
    directory = cache_dir()
    if not directory.is_dir():
        if not fetch:
            raise RuntimeError(f"{DEV_MCP_PACKAGE}@{DEV_MCP_VERSION} is not in the cache {directory}")
        _fetch_package(directory)
    path = directory / f"admin_{version}.json.gz"
    if not path.is_file():
        raise RuntimeError(f"{DEV_MCP_PACKAGE}@{DEV_MCP_VERSION} does not publish Admin API {version}")
    return path


@functools.cache
def published_schema(version: str, fetch: bool = True) -> GraphQLSchema:
    with gzip.open(schema_file(version, fetch), "rt", encoding="utf-8") as fh:
        introspection = json.load(fh)
    return build_client_schema(_consistent_deprecations(introspection.get("data", introspection)))


def _consistent_deprecations(introspection: dict) -> dict:
    """Shopify deprecates some implementations of interface fields that the interface itself does not (e.g.
    ``ChannelInformation.id`` vs ``Node.id``). graphql-core refuses such a schema before validating any document,
    so the implementation's flag is cleared; deprecation plays no part in document validation."""
    types = {t["name"]: t for t in introspection["__schema"]["types"]}
    for named in types.values():
        for interface in named.get("interfaces") or []:
            declared = {f["name"]: f for f in types[interface["name"]].get("fields") or []}
            for field in named.get("fields") or []:
                if field.get("isDeprecated") and field["name"] in declared \
                        and not declared[field["name"]].get("isDeprecated"):
                    field["isDeprecated"], field["deprecationReason"] = False, None
    return introspection


if __name__ == "__main__":  # make install: fill the cache (a failure leaves the sandbox on its fallback schema)
    import sys

    try:
        print(f"Shopify Admin schema {PINNED_VERSION}: {schema_file(PINNED_VERSION)}")
    except RuntimeError as exc:
        print(f"Shopify published schema not fetched ({exc}); the sandbox will use its fallback schema",
              file=sys.stderr)
