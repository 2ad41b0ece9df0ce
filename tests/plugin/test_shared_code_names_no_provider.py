"""The plug-in rule: code outside the provider packages (and the sandbox, tests, benchmarks, docs) never names a
provider. Checked on the syntax tree, so comments and docstrings may explain with examples, but no string
literal, identifier, attribute or import does. Templates and static files are checked as text.

The names come from the registry, so a provider added to it is covered without touching this test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from integrations.providers import all_providers

ROOT = Path(__file__).resolve().parents[2]
EXCLUDED_DIRS = {"integrations/providers", "sandbox", "tests", "bench", "docs", ".venv", "node_modules",
                 "var", "staticfiles", "build"}
# Generated history: migrations keep the help texts of their time and are never edited by hand.
EXCLUDED_PARTS = {"migrations"}

# (file, literal) pairs that are not a provider at all, or are documentation rendered from code. Keep it small
# and say why.
ALLOWED = {
    # The street-word table of address matching: "Union Square" -> "union sq", not the POS.
    ("inventory/matching/keys.py", "square"),
}
# Calls whose string arguments are documentation examples shown in the API docs (sample responses).
DOC_EXAMPLE_CALLS = {"OpenApiExample"}
# A deployment smoke test that drives one real provider end to end (webhook signature and all), like tests/.
ALLOWED_FILES = {"scripts/prod_smoke.py"}


def provider_words() -> list[str]:
    words = set()
    for provider in all_providers():
        words.add(provider.key.lower())
        words.add(provider.name.lower())
    return sorted(words)


def shared_python_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if any(rel == d or rel.startswith(d + "/") for d in EXCLUDED_DIRS):
            continue
        if EXCLUDED_PARTS.intersection(path.relative_to(ROOT).parts) or rel in ALLOWED_FILES:
            continue
        files.append(path)
    return sorted(files)


def _docstring_nodes(tree) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                ids.add(id(first.value))
    return ids


def _example_nodes(tree) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in DOC_EXAMPLE_CALLS:
                ids.update(id(inner) for inner in ast.walk(node))
    return ids


def names_in(source: str, words: list[str]) -> list[tuple[int, str]]:
    """(line, text) of every string literal or identifier that contains a provider word."""
    tree = ast.parse(source)
    skip = _docstring_nodes(tree) | _example_nodes(tree)
    pattern = re.compile("|".join(map(re.escape, words)), re.IGNORECASE)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        texts: list[str] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            value = node.value
            texts.append(value.decode("latin-1") if isinstance(value, bytes) else value)
        elif isinstance(node, ast.Name):
            texts.append(node.id)
        elif isinstance(node, ast.Attribute):
            texts.append(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            texts.append(node.name)
        elif isinstance(node, ast.arg):
            texts.append(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            texts.append(node.arg)
        elif isinstance(node, ast.alias):
            texts.extend(filter(None, [node.name, node.asname]))
        elif isinstance(node, ast.ImportFrom) and node.module:
            texts.append(node.module)
        for text in texts:
            if pattern.search(text):
                found.append((getattr(node, "lineno", 0), text))
    return found


def test_the_detector_sees_literals_identifiers_and_imports_but_not_comments_or_docstrings():
    source = '''"""Module docstring: square is fine here."""
# a comment about shopify is fine
from integrations.providers.netsuite import m2m
def f(shop_kind="plain"):
    """Docstring: netsuite."""
    square_total = 1
    return {"x": "https://connect.squareup.com", "k": settings.SHOPIFY_API_VERSION}
'''
    found = {text for _, text in names_in(source, ["square", "shopify", "netsuite"])}
    assert found == {"integrations.providers.netsuite", "square_total", "https://connect.squareup.com",
                     "SHOPIFY_API_VERSION"}


def test_the_detector_knows_every_registered_provider():
    words = provider_words()
    assert len(words) >= 3 and all(words)


@pytest.mark.parametrize("path", shared_python_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shared_python_code_names_no_provider(path):
    rel = path.relative_to(ROOT).as_posix()
    found = [(line, text) for line, text in names_in(path.read_text(), provider_words())
             if not any(rel == file and word in text.lower() for file, word in ALLOWED)]
    assert not found, f"{rel} names a provider outside its package: {found}"


def test_templates_and_static_files_name_no_provider():
    pattern = re.compile("|".join(map(re.escape, provider_words())), re.IGNORECASE)
    found = []
    for folder in ("templates", "static"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in {".html", ".txt", ".js", ".css"}:
                text = re.sub(r"\{#.*?#\}|<!--.*?-->", "", path.read_text(), flags=re.DOTALL)  # comments are fine
                found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not found, found
