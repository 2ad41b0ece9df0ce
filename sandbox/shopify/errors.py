"""Validation errors in the shape Shopify's GraphQL server (graphql-ruby) answers them.

graphql-core finds the same problems as Shopify (the schema is Shopify's published one) but words them its own way.
The two a client meets most are reworded as Shopify words them (a real answer: "Argument 'after' on Field
'products' has an invalid value (1). Expected type 'String'.", path ``["query", "products", "after"]``,
extensions ``{"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": "after"}``):

- an argument literal the argument's type refuses (``productVariants(sortKey: UPDATED_AT)``);
- a field the type does not have (``Field 'available' doesn't exist on type 'InventoryLevel'``, code
  ``undefinedField``).

Any other problem keeps graphql-core's message with its locations (HTTP 200, ``errors`` and no ``data``, as
Shopify answers a document it refuses).
"""

from __future__ import annotations

import re

from graphql import GraphQLError, GraphQLSchema
from graphql.language import FieldNode, OperationDefinitionNode, print_ast
from graphql.language.location import get_location
from graphql.type import get_named_type

UNDEFINED_FIELD = re.compile(r"^Cannot query field '(\w+)' on type '(\w+)'")


def _where(node) -> dict:
    where = get_location(node.loc.source, node.loc.start)
    return {"line": where.line, "column": where.column}


def _walk(selection_set, parent, path):
    """(field node, its path, the field's definition or None) for every field of a selection set, depth first."""
    for sel in selection_set.selections if selection_set else []:
        if not isinstance(sel, FieldNode):
            continue
        definition = getattr(parent, "fields", {}).get(sel.name.value) if parent is not None else None
        here = [*path, sel.alias.value if sel.alias else sel.name.value]
        yield sel, here, definition
        yield from _walk(sel.selection_set, get_named_type(definition.type) if definition else None, here)


def _fields(schema: GraphQLSchema, document):
    for op in document.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        root = schema.mutation_type if op.operation.value == "mutation" else schema.query_type
        name = f"{op.operation.value} {op.name.value}" if op.name else op.operation.value
        yield from _walk(op.selection_set, root, [name])


def shopify_errors(schema: GraphQLSchema, document, problems: list[GraphQLError]) -> list[dict]:
    fields = list(_fields(schema, document))
    answer = []
    for problem in problems:
        formatted = {"message": problem.message, "locations": problem.formatted.get("locations", [])}
        node = (problem.nodes or [None])[0]
        for field, path, definition in fields:
            if node is field and (match := UNDEFINED_FIELD.match(problem.message)):
                formatted.update(message=f"Field '{match[1]}' doesn't exist on type '{match[2]}'", path=path,
                                 extensions={"code": "undefinedField", "typeName": match[2], "fieldName": match[1]})
                break
            argument = next((a for a in field.arguments or () if a.value is node), None) if node is not None else None
            if argument is not None and definition is not None and argument.name.value in definition.args:
                name = argument.name.value
                formatted.update(
                    locations=[_where(field)],  # Shopify points at the field, not at the value
                    message=f"Argument '{name}' on Field '{field.name.value}' has an invalid value "
                            f"({print_ast(argument.value)}). Expected type '{definition.args[name].type}'.",
                    path=[*path, name],
                    extensions={"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": name})
                break
        answer.append(formatted)
    return answer
