"""Reading pglast's JSON parse tree: the node helpers the PostgreSQL modules share.

Owns the shape of a decoded node (typed {"Type": {...}} or an inline struct), the readable
names of the objects a statement acts on (for reasons), the text of literals, DefElem options
as the server reads them, comparing expressions without source locations, and which node
types are leaves (only names and literals inside). Pure functions over the decoded JSON:
must never decide a class (no Risk here), never do I/O, never import the other pg_ modules.
"""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]


def _unwrap(node: Any) -> tuple[str | None, Node]:
    """(node type, fields) of a typed node {"Type": {...}}; (None, node) for an inline struct."""
    if type(node) is not dict:
        return None, {}
    if len(node) == 1:
        for key, body in node.items():
            if type(body) is dict and key[0].isupper():
                return key, body
    return None, node


def _strings(items: Any) -> list[str]:
    """The svals of a list of String nodes (a qualified name)."""
    if type(items) is not list:
        return []
    return [i["String"].get("sval", "") for i in items if type(i) is dict and "String" in i]


def _range_var_name(rv: Node) -> str:
    return ".".join(
        p for p in (rv.get("catalogname"), rv.get("schemaname"), rv.get("relname")) if p
    )


def _name_of(node: Any) -> str:
    """A readable name for an object reference: String, List of names, RangeVar, ..."""
    kind, body = _unwrap(node)
    if kind == "String":
        return str(body.get("sval", ""))
    if kind == "List":
        return ".".join(_name_of(i) for i in body.get("items", []))
    if kind == "RangeVar" or "relname" in body:
        return _range_var_name(body)
    if kind == "ObjectWithArgs" or "objname" in body:
        return ".".join(_strings(body.get("objname"))) + "()"
    if kind == "TypeName" or "names" in body:
        return ".".join(_strings(body.get("names")))
    if kind == "RoleSpec" or "roletype" in body:
        return str(body.get("rolename") or body.get("roletype", "").removeprefix("ROLESPEC_"))
    if kind == "VacuumRelation":
        return _name_of(body.get("relation", {}))
    if kind == "AccessPriv":
        return str(body.get("priv_name", "all"))
    return ""


def _names(nodes: Any) -> str:
    return ", ".join(n for n in map(_name_of, nodes if type(nodes) is list else []) if n)


_NAME_FIELDS = (
    "trigname", "policy_name", "rulename", "idxname", "relation", "view", "sequence", "object",
    "func", "extname", "schemaname", "dbname", "role", "funcname", "defnames", "typeName",
    "domainname", "pubname", "subname", "servername", "fdwname", "tablespacename",
    "conditionname", "amname", "name",
)  # fmt: skip
_NAME_LIST_FIELDS = ("relations", "objects", "rels", "roles", "granted_roles")


def _object_name(body: Node) -> str:
    """The name(s) a statement acts on, for reasons ("CREATE EXTENSION dblink")."""
    for field in _NAME_FIELDS:
        value = body.get(field)
        if isinstance(value, str):
            return value
        if type(value) is list:
            return ".".join(_strings(value))
        if type(value) is dict:
            return _name_of(value)
    for field in _NAME_LIST_FIELDS:
        if type(body.get(field)) is list:
            return _names(body[field])
    return ""


def _const_text(node: Any) -> str | None:
    """The text of a literal (looking through casts); None when not a literal."""
    kind, body = _unwrap(node)
    if kind == "TypeCast":
        return _const_text(body.get("arg"))
    if kind != "A_Const":
        return None
    for field in ("sval", "ival", "fval", "bsval"):
        if field in body:
            return str(body[field].get(field, "" if field != "ival" else 0))
    if "boolval" in body:
        return "true" if body["boolval"].get("boolval") else "false"
    return None


def _defelem(node: Any) -> tuple[str, Any]:
    """(defname, arg node or None) of a DefElem."""
    kind, body = _unwrap(node)
    if kind != "DefElem":
        return "", None
    return str(body.get("defname", "")), body.get("arg")


def _option_is_on(arg: Any) -> bool:
    """An option's boolean value as the server reads it (no value: on); unclear values: on."""
    if arg is None:
        return True
    kind, body = _unwrap(arg)
    if kind == "Integer":
        return bool(body.get("ival", 0) != 0)
    if kind == "Boolean":
        return bool(body.get("boolval", False))
    text = _const_text(arg) if kind != "String" else body.get("sval", "")
    return str(text).lower() not in ("false", "off")


def _shape(node: Any) -> Any:
    """node without source locations, to compare two expressions."""
    if type(node) is dict:
        return {k: _shape(v) for k, v in node.items() if k != "location"}
    if type(node) is list:
        return [_shape(v) for v in node]
    return node


def _contains(node: Any, kinds: frozenset[str]) -> bool:
    """True when a node of one of kinds occurs anywhere in node."""
    if type(node) is dict:
        return any(k in kinds or _contains(v, kinds) for k, v in node.items())
    if type(node) is list:
        return any(_contains(v, kinds) for v in node)
    return False


def _list_items(node: Any) -> list[Any]:
    """The items of a List node (an IN list, BETWEEN's bounds); [] for anything else."""
    items = _unwrap(node)[1].get("items") if node is not None else None
    return items if type(items) is list else []


# Node types that never hold another node worth a look (only names and literals).
_LEAVES = frozenset(
    {"String", "A_Const", "Integer", "Float", "Boolean", "BitString", "A_Star", "ParamRef",
     "SQLValueFunction", "ColumnRef"}
)  # fmt: skip
