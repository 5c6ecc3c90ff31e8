"""IAM checked against the calls a rehearsal makes.

Three parts: a recorder that sees every botocore call made in the process and notes its IAM action,
resource ARN and acting role; the identity policies of a role read from infra/ with their Terraform
expressions resolved from inputs the caller supplies; and IAM's evaluation of the one against the
other. A call no policy allows, or that has no known IAM mapping, comes back as a Denial.

    recorder = Recorder(account_id="123456789012").install()
    recorder.clients_created_by("moto.stepfunctions", "state_machine[olist]")
    with recorder.acting_as("mwaa"):
        ...  # run the DAG
    policies = {"mwaa": role_policy("mwaa", MWAA_INPUTS), ...}
    denials = evaluate(recorder.calls, policies)
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import botocore.session
import hcl2

INFRA = Path(__file__).resolve().parents[3] / "infra"

# Role label -> (module under infra/modules, aws_iam_role name). A role made with for_each is
# addressed as label[key], e.g. "state_machine[olist]".
ROLES = {
    "mwaa": ("mwaa", "execution"),
    "state_machine": ("orchestration", "state_machine"),
    "scheduler": ("orchestration", "scheduler"),
    "glue_job": ("glue", "job"),
    "glue_crawler": ("glue", "crawler"),
    "redshift_copy": ("redshift", "copy"),
    "arrival_gate": ("ingestion", "gate"),
}


class MissingInputs(KeyError):
    """The inputs lack values a role's policies need; `names` lists them all."""

    def __init__(self, role: str, names: list[str]):
        self.names = names
        super().__init__(f"role {role}: supply {', '.join(names)}")


# --- Terraform expressions -------------------------------------------------------------------
# python-hcl2 hands attribute values over as "${...}" templates; this evaluates the subset the
# policies use: references, literals, templates, function calls, conditionals, comparisons and
# for expressions.

_TOKEN = re.compile(
    r"\s+|(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w-]*)"
    r"|(?P<op>==|!=|>=|<=|&&|\|\||=>|\.\.\.|\[\*\]|[-+*/%<>!?:.,()\[\]{}=])"
)


def _skip_string(text: str, i: int) -> int:
    """Index after the string literal opening at text[i] (a quote); interpolations may nest."""
    i += 1
    while text[i] != '"':
        if text[i] == "\\":
            i += 2
        elif text.startswith("${", i):
            i = _close_brace(text, i + 2)
        else:
            i += 1
    return i + 1


def _close_brace(text: str, i: int) -> int:
    """Index after the brace closing an interpolation whose body starts at text[i]."""
    depth = 1
    while depth:
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        i += 1
    return i


def _tokens(text: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(text):
        if text[i] == '"':
            j = _skip_string(text, i)
            out.append(("str", text[i + 1 : j - 1]))
            i = j
            continue
        m = _TOKEN.match(text, i)
        if not m:
            raise SyntaxError(f"cannot read {text[i:]!r}")
        if m.lastgroup:
            out.append((m.lastgroup, m.group()))
        i = m.end()
    return out + [("end", "")]


class _Parser:
    _BINARY = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]

    def __init__(self, text: str):
        self.toks, self.i = _tokens(text), 0

    def peek(self, k: int = 0) -> str:
        return self.toks[self.i + k][1]

    def take(self, expected: str | None = None) -> tuple[str, str]:
        tok = self.toks[self.i]
        if expected is not None and tok[1] != expected:
            raise SyntaxError(f"expected {expected!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def expr(self):
        cond = self.binary(0)
        if self.peek() == "?":
            self.take()
            yes = self.expr()
            self.take(":")
            return ("cond", cond, yes, self.expr())
        return cond

    def binary(self, level: int):
        if level == len(self._BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.toks[self.i][0] == "op" and self.peek() in self._BINARY[level]:
            op = self.take()[1]
            left = ("bin", op, left, self.binary(level + 1))
        return left

    def unary(self):
        if self.peek() in ("!", "-"):
            return ("unary", self.take()[1], self.unary())
        node = self.primary()
        while True:
            if self.peek() == ".":
                self.take()
                node = ("attr", node, self.take()[1])
            elif self.peek() == "[*]":
                self.take()
                names = []
                while self.peek() == ".":
                    self.take()
                    names.append(self.take()[1])
                node = ("splat", node, names)
            elif self.peek() == "[":
                self.take()
                node = ("index", node, self.expr())
                self.take("]")
            else:
                return node

    def primary(self):
        kind, text = self.take()
        if kind == "num":
            return ("lit", float(text) if "." in text else int(text))
        if kind == "str":
            return ("tpl", text)
        if kind == "name":
            if text in ("true", "false", "null"):
                return ("lit", {"true": True, "false": False, "null": None}[text])
            if self.peek() == "(":
                self.take()
                args = []
                while self.peek() != ")":
                    args.append(self.expr())
                    if self.peek() == ",":
                        self.take()
                self.take(")")
                return ("call", text, args)
            return ("ref", text)
        if text == "(":
            node = self.expr()
            self.take(")")
            return node
        if text in ("[", "{"):
            close = "]" if text == "[" else "}"
            if self.peek() == "for":
                return self.for_expr(close)
            items = []
            while self.peek() != close:
                if close == "]":
                    items.append(self.expr())
                else:
                    bare = self.toks[self.i][0] == "name" and self.peek(1) in ("=", ":")
                    key = ("lit", self.take()[1]) if bare else self.expr()
                    self.take()  # "=" or ":"
                    items.append((key, self.expr()))
                if self.peek() == ",":
                    self.take()
            self.take(close)
            return ("list", items) if close == "]" else ("obj", items)
        raise SyntaxError(f"unexpected {text!r}")

    def for_expr(self, close: str):
        self.take("for")
        names = [self.take()[1]]
        if self.peek() == ",":
            self.take()
            names.append(self.take()[1])
        self.take("in")
        coll = self.expr()
        self.take(":")
        key = None
        if close == "}":
            key = self.expr()
            self.take("=>")
        value = self.expr()
        cond = None
        if self.peek() == "if":
            self.take()
            cond = self.expr()
        self.take(close)
        return ("for", names, coll, key, value, cond)


def _str(v) -> str:
    return {True: "true", False: "false"}.get(v, str(v)) if isinstance(v, bool) else str(v)


_FUNCTIONS = {
    "concat": lambda *ls: [x for lst in ls for x in lst],
    "merge": lambda *ds: {k: v for d in ds for k, v in d.items()},
    "length": len,
    "keys": lambda d: sorted(d),
    "values": lambda d: [d[k] for k in sorted(d)],
    "toset": lambda xs: sorted(set(xs), key=str),
    "tolist": list,
    "tomap": dict,
    "flatten": lambda xs: [y for x in xs for y in (x if isinstance(x, list) else [x])],
    "distinct": lambda xs: list(dict.fromkeys(xs)),
    "contains": lambda xs, v: v in xs,
    "lookup": lambda m, k, *d: m[k] if k in m or not d else d[0],
    "join": lambda sep, xs: sep.join(_str(x) for x in xs),
    "replace": lambda s, a, b: (
        re.sub(a[1:-1], b, s) if len(a) > 1 and a[0] == a[-1] == "/" else s.replace(a, b)
    ),
    "lower": str.lower,
    "upper": str.upper,
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "jsondecode": json.loads,
}
_OPS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


class _NS:
    """A reference prefix (var.redshift, data.aws_region.current, ...) resolved one name at a time."""

    def __init__(self, resolve, parts: tuple[str, ...]):
        self.resolve, self.parts = resolve, parts

    def attr(self, name: str):
        return self.resolve(self.parts + (name,))


def _attr(obj, name: str, where: str):
    if isinstance(obj, _NS | _Resource):
        return obj.attr(name)
    if isinstance(obj, dict) and name in obj:
        return obj[name]
    raise KeyError(f"{where}: no attribute {name!r}")


def _items(coll) -> list[tuple]:
    return list(coll.items()) if isinstance(coll, dict) else list(enumerate(coll))


@functools.lru_cache(maxsize=32)
def _parse_module(path: str, _stamp: tuple) -> dict[str, list]:
    """Every top-level block kind of a module, merged over its files (cached while unchanged)."""
    merged: dict[str, list] = {}
    options = hcl2.SerializationOptions(strip_string_quotes=True)
    for tf in sorted(Path(path).glob("*.tf")):
        for kind, items in hcl2.loads(tf.read_text(), serialization_options=options).items():
            if isinstance(items, list):
                merged.setdefault(kind, []).extend(items)
    return merged


class _Module:
    """One module under infra/modules: its blocks, and the caller's inputs for its references."""

    def __init__(self, path: Path, inputs: dict):
        self.path, self.inputs, self._locals = path, inputs, {}
        merged = _parse_module(
            str(path), tuple(p.stat().st_mtime_ns for p in sorted(path.glob("*.tf")))
        )
        self.variables = {k: v for e in merged.get("variable", []) for k, v in e.items()}
        self.locals = {k: v for e in merged.get("locals", []) for k, v in e.items()}
        self.blocks = {
            (kind, t, n): body
            for kind in ("resource", "data")
            for e in merged.get(kind, [])
            for t, named in e.items()
            for n, body in named.items()
        }

    # Values: python-hcl2 gives strings (templates), lists, dicts and scalars.
    def value(self, raw, scope: dict | None = None):
        scope = scope or {}
        if isinstance(raw, str):
            return self.template(raw, scope)
        if isinstance(raw, list):
            return [self.value(x, scope) for x in raw]
        if isinstance(raw, dict):
            return {k: self.value(v, scope) for k, v in raw.items() if not k.startswith("__")}
        return raw

    def template(self, text: str, scope: dict):
        parts, i = [], 0
        while (j := text.find("${", i)) >= 0:
            if j > 0 and text[j - 1] == "$":  # "$${" is a literal "${"
                parts.append(text[i : j - 1] + "${")
                i = j + 2
                continue
            end = _close_brace(text, j + 2)
            parts.append(text[i:j])
            parts.append(("expr", text[j + 2 : end - 1]))
            i = end
        parts.append(text[i:])
        parts = [p for p in parts if p != ""]
        if len(parts) == 1 and isinstance(parts[0], tuple):
            return self.eval(_Parser(parts[0][1]).expr(), scope)
        return "".join(
            _str(self.eval(_Parser(p[1]).expr(), scope))
            if isinstance(p, tuple)
            else p.replace('\\"', '"').replace("\\\\", "\\")
            for p in parts
        )

    def eval(self, node, scope: dict):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "tpl":
            return self.template(node[1], scope)
        if kind == "ref":
            return self.root(node[1], scope)
        if kind == "attr":
            return _attr(self.eval(node[1], scope), node[2], self.path.name)
        if kind == "index":
            return self.eval(node[1], scope)[self.eval(node[2], scope)]
        if kind == "splat":
            out = []
            for item in self.eval(node[1], scope):
                for name in node[2]:
                    item = _attr(item, name, self.path.name)
                out.append(item)
            return out
        if kind == "call":
            return _FUNCTIONS[node[1]](*(self.eval(a, scope) for a in node[2]))
        if kind == "cond":
            return self.eval(node[2] if self.eval(node[1], scope) else node[3], scope)
        if kind == "unary":
            v = self.eval(node[2], scope)
            return (not v) if node[1] == "!" else -v
        if kind == "bin":
            a = self.eval(node[2], scope)
            if node[1] in ("&&", "||"):
                return (
                    (a and self.eval(node[3], scope))
                    if node[1] == "&&"
                    else (a or self.eval(node[3], scope))
                )
            return _OPS[node[1]](a, self.eval(node[3], scope))
        if kind == "list":
            return [self.eval(x, scope) for x in node[1]]
        if kind == "obj":
            return {_str(self.eval(k, scope)): self.eval(v, scope) for k, v in node[1]}
        if kind == "for":
            _, names, coll, key, value, cond = node
            out_list, out_obj = [], {}
            for k, v in _items(self.eval(coll, scope)):
                inner = {
                    **scope,
                    **dict(zip(names, (v,) if len(names) == 1 else (k, v), strict=True)),
                }
                if cond is not None and not self.eval(cond, inner):
                    continue
                if key is None:
                    out_list.append(self.eval(value, inner))
                else:
                    out_obj[_str(self.eval(key, inner))] = self.eval(value, inner)
            return out_list if key is None else out_obj
        raise SyntaxError(kind)

    def root(self, name: str, scope: dict):
        if name in scope:
            return scope[name]
        if name == "var":
            return _NS(self._input_or_default, ("var",))
        if name == "local":
            return _NS(lambda parts: self.local(parts[1]), ("local",))
        if name == "data":
            return _NS(self._data, ("data",))
        if any(t == name for _, t, _ in self.blocks):
            return _NS(lambda parts: self.resource(parts[0], parts[1]), (name,))
        raise KeyError(f"{self.path.name}: unknown reference {name!r}")

    def _input(self, parts: tuple[str, ...]):
        path = ".".join(parts)
        if path in self.inputs:
            return self.inputs[path]
        if any(k.startswith(path + ".") for k in self.inputs):
            return _NS(self._input, parts)
        raise KeyError(path)

    def _input_or_default(self, parts: tuple[str, ...]):
        try:
            return self._input(parts)
        except KeyError:
            variable = self.variables.get(parts[1], {})
            if len(parts) == 2 and "default" in variable:
                return self.value(variable["default"])
            raise

    def local(self, name: str):
        if f"local.{name}" in self.inputs:  # a value the caller knows (or that needs a function
            return self.inputs[f"local.{name}"]  # this evaluator does not have)
        if name not in self._locals:
            self._locals[name] = self.value(self.locals[name])
        return self._locals[name]

    def _data(self, parts: tuple[str, ...]):
        if len(parts) < 4:
            return _NS(self._data, parts)
        known = {
            ("aws_caller_identity", "account_id"): "account_id",
            ("aws_region", "region"): "region",
            ("aws_region", "name"): "region",
        }
        if (parts[1], parts[3]) == ("aws_partition", "partition"):
            return self.inputs.get("partition", "aws")
        return self.inputs[known.get((parts[1], parts[3]), ".".join(parts))]

    def resource(self, type_: str, name: str):
        label = f"{type_}.{name}"
        if label in self.inputs:
            return self.inputs[label]
        body = self.blocks[("resource", type_, name)]
        if "for_each" in body:
            each = self.value(body["for_each"])
            each = each if isinstance(each, dict) else {v: v for v in each}
            return {
                k: _Resource(
                    self, type_, name, body, {"each": {"key": k, "value": v}}, f'{label}["{k}"]'
                )
                for k, v in each.items()
            }
        if "count" in body:
            return [
                _Resource(self, type_, name, body, {"count": {"index": i}}, f"{label}[{i}]")
                for i in range(self.value(body["count"]))
            ]
        return _Resource(self, type_, name, body, {}, label)


# ARNs of the resources the policies refer to, derived from their own arguments as AWS forms
# them. A secret's ARN ends in six random characters AWS appends: "??????" stands for them.
_DERIVED = {
    "aws_s3_bucket": {"arn": "arn:{partition}:s3:::{bucket}", "id": "{bucket}"},
    "aws_sns_topic": {"arn": "arn:{partition}:sns:{region}:{account_id}:{name}", "id": "{arn}"},
    "aws_sqs_queue": {"arn": "arn:{partition}:sqs:{region}:{account_id}:{name}"},
    "aws_secretsmanager_secret": {
        "arn": "arn:{partition}:secretsmanager:{region}:{account_id}:secret:{name}-??????"
    },
    "aws_iam_role": {"arn": "arn:{partition}:iam::{account_id}:role/{name}", "id": "{name}"},
    "aws_sfn_state_machine": {
        "arn": "arn:{partition}:states:{region}:{account_id}:stateMachine:{name}"
    },
    "aws_glue_job": {"arn": "arn:{partition}:glue:{region}:{account_id}:job/{name}"},
    "aws_glue_crawler": {"arn": "arn:{partition}:glue:{region}:{account_id}:crawler/{name}"},
    "aws_cloudwatch_log_group": {
        "arn": "arn:{partition}:logs:{region}:{account_id}:log-group:{name}"
    },
}


class _Resource:
    def __init__(self, module: _Module, type_: str, name: str, body: dict, scope: dict, label: str):
        self.module, self.type, self.name, self.body, self.scope, self.label = (
            module,
            type_,
            name,
            body,
            scope,
            label,
        )

    def attr(self, attr: str):
        inputs = self.module.inputs
        if f"{self.label}.{attr}" in inputs:
            return inputs[f"{self.label}.{attr}"]
        if attr in self.body and attr not in ("for_each", "count"):
            return self.module.value(self.body[attr], self.scope)
        form = _DERIVED.get(self.type, {}).get(attr)
        if form is None:
            raise KeyError(f"{self.label}.{attr}")
        fields = set(re.findall(r"\{(\w+)\}", form))
        known = {"partition": inputs.get("partition", "aws")}
        return form.format(
            **{
                f: known[f]
                if f in known
                else inputs[f]
                if f in ("region", "account_id")
                else self.attr(f)
                for f in fields
            }
        )


# --- policies of a role ----------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (test, variable, values)


@dataclass
class Policy:
    role: str
    statements: list[Statement]
    documents: list[str]  # where the statements come from, for messages
    notes: list[str] = field(default_factory=list)  # attachments that could not be read

    def without(self, sid: str) -> Policy:
        """A copy without statement `sid` (to show what that statement allows)."""
        kept = [s for s in self.statements if s.sid != sid]
        assert len(kept) < len(self.statements), f"{self.role} has no statement {sid}"
        return Policy(self.role, kept, self.documents, self.notes)


def _as_tuple(v) -> tuple[str, ...]:
    return tuple(_str(x) for x in (v if isinstance(v, list) else [v]))


def _role_label(role: str) -> tuple[str, str, str, str | None]:
    m = re.fullmatch(r"([\w-]+)(?:\[([^\]]+)\])?", role)
    if not m or m.group(1) not in ROLES:
        raise KeyError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return (*ROLES[m.group(1)], m.group(1), m.group(2))


def _attachments(mod: _Module, role_name: str, key: str | None) -> Iterator[tuple[str, dict]]:
    """(policy expression, scope) of every policy attached to aws_iam_role.<role_name>[key]."""
    ref = re.compile(rf"aws_iam_role\.{role_name}(\[[^\]]*\])?\.(id|name|arn)\b")
    for (kind, type_, _name), body in mod.blocks.items():
        if kind != "resource":
            continue
        if type_ == "aws_iam_role" and _name == role_name:
            for inline in body.get("inline_policy", []):
                yield inline["policy"], {}
        if type_ not in ("aws_iam_role_policy", "aws_iam_role_policy_attachment"):
            continue
        if not ref.search(_str(body.get("role", ""))):
            continue
        scopes = [{}]
        if "for_each" in body:
            each = mod.value(body["for_each"])
            if key not in each:  # one policy per instance: the label must name the instance
                raise KeyError(
                    f"{type_}.{_name} has one policy per key of {sorted(each)}; got {key!r}"
                )
            scopes = [{"each": {"key": key, "value": each[key]}}]
        elif "count" in body:
            scopes = [{"count": {"index": i}} for i in range(mod.value(body["count"]))]
        for scope in scopes:
            yield body.get("policy") or body["policy_arn"], scope


def _document(mod: _Module, expr: str, scope: dict) -> tuple[str, dict, dict] | str:
    """(name, body, scope) of the aws_iam_policy_document an attachment's expression names."""
    m = re.fullmatch(
        r"\$\{(?:data\.aws_iam_policy_document|aws_iam_policy)\.([\w-]+)(\[.*?\])?\.(json|arn)\}",
        expr,
    )
    if not m:
        return f"{expr} (not a policy document of the module)"
    name, index = m.group(1), m.group(2)
    if m.group(3) == "arn":  # an aws_iam_policy of the module: its document
        return _document(mod, mod.blocks[("resource", "aws_iam_policy", name)]["policy"], scope)
    body = mod.blocks[("data", "aws_iam_policy_document", name)]
    inner = {}
    if "for_each" in body:
        k = mod.value("${" + index[1:-1] + "}", scope)
        inner = {"each": {"key": k, "value": mod.value(body["for_each"])[k]}}
    return (f"{name}[{inner['each']['key']}]" if inner else name), body, inner


def _statements(mod: _Module, body: dict, scope: dict) -> list[Statement]:
    raw = [(s, scope) for s in body.get("statement", [])]
    for dyn in body.get("dynamic", []):
        if "statement" in dyn:
            d = dyn["statement"]
            it = d.get("iterator", "statement")
            for k, v in _items(mod.value(d["for_each"], scope)):
                raw.extend((c, {**scope, it: {"key": k, "value": v}}) for c in d["content"])
    out = []
    for n, (s, sc) in enumerate(raw):

        def get(key, sc=sc, s=s):
            return None if key not in s else _as_tuple(mod.value(s[key], sc))

        conditions = tuple(
            (
                mod.value(c["test"], sc),
                mod.value(c["variable"], sc),
                _as_tuple(mod.value(c["values"], sc)),
            )
            for c in s.get("condition", [])
        )
        out.append(
            Statement(
                sid=mod.value(s.get("sid", f"#{n}"), sc),
                effect=mod.value(s.get("effect", "Allow"), sc),
                actions=get("actions") or (),
                not_actions=get("not_actions"),
                resources=get("resources") or (),
                not_resources=get("not_resources"),
                conditions=conditions,
            )
        )
    return out


_REFS = re.compile(r"(?<![\w.])(var|local|data|aws_\w+)\.([\w-]+)((?:\.[\w-]+)*)")


def required_inputs(role: str, infra: Path = INFRA) -> dict[str, str]:
    """Every input the role's policies refer to, read from the module: name -> where it is used
    ("default" when the module's variable has one, so supplying it is optional)."""
    module, role_name, _, _ = _role_label(role)
    mod = _Module(infra / "modules" / module, {})
    seen, found = set(), {}

    def scan(raw, where):
        if id(raw) in seen:
            return
        seen.add(id(raw))
        for root, name, rest in _REFS.findall(json.dumps(raw)):
            if root == "var":
                var = mod.variables.get(name, {})
                found.setdefault(f"var.{name}{rest}", "default" if "default" in var else where)
                if isinstance(var.get("default"), str):
                    scan(var["default"], where)
            elif root == "local" and name in mod.locals:
                scan(mod.locals[name], f"local.{name}")
            elif root == "data":
                kind = name + rest
                if kind.startswith("aws_caller_identity"):
                    found.setdefault("account_id", where)
                elif kind.startswith("aws_region"):
                    found.setdefault("region", where)
            elif ("resource", root, name) in mod.blocks:
                scan(mod.blocks[("resource", root, name)], f"{root}.{name}")

    for (kind, type_, name), body in mod.blocks.items():
        if (
            kind == "resource"
            and type_.startswith("aws_iam_role")
            and re.search(rf"aws_iam_role\.{role_name}\b", json.dumps(body.get("role", "")))
        ):
            scan(body, f"{type_}.{name}")
            for m in re.finditer(r"aws_iam_policy_document\.([\w-]+)", json.dumps(body)):
                scan(mod.blocks[("data", "aws_iam_policy_document", m.group(1))], m.group(1))
    return dict(sorted(found.items()))


def _supplied(name: str, inputs: dict) -> bool:
    return any(name == k or name.startswith(k + ".") or k.startswith(name + ".") for k in inputs)


def role_policy(role: str, inputs: dict, infra: Path = INFRA) -> Policy:
    """The identity policies of `role` (a ROLES label) as attached in its module, resolved with
    `inputs`: {"account_id", "region", ["partition"], "var.<name>[.<attr>]": value,
    ["<resource type>.<name>.<attr>": value to override a derived one]}."""
    module, role_name, _, key = _role_label(role)
    missing = [
        n
        for n, w in required_inputs(role, infra).items()
        if w != "default" and not _supplied(n, inputs)
    ]
    if missing:
        raise MissingInputs(role, missing)
    mod = _Module(infra / "modules" / module, inputs)
    statements, documents, notes = [], [], []
    for expr, scope in _attachments(mod, role_name, key):
        doc = _document(mod, expr, scope)
        if isinstance(doc, str):
            notes.append(doc)
            continue
        name, body, inner = doc
        documents.append(f"infra/modules/{module}: {name}")
        statements.extend(_statements(mod, body, inner))
    if not documents:
        raise KeyError(f"role {role}: no policy attached to aws_iam_role.{role_name} in {module}")
    return Policy(role, statements, documents, notes)


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    role: str | None  # the acting role, None when no one was acting
    action: str | None  # None: the operation has no IAM mapping here
    resource: str | None
    operation: str  # service.Operation, as botocore names it
    context: tuple[tuple[str, str], ...] = ()  # condition keys known for the request


@dataclass(frozen=True)
class Denial:
    role: str | None
    action: str | None
    resource: str | None
    reason: str
    operation: str = ""

    def __str__(self) -> str:
        return f"role {self.role}: {self.action} on {self.resource} denied ({self.operation}): {self.reason}"


# Actions every principal may call whatever its policies say.
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    rx = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(rx, value, re.IGNORECASE if ignore_case else 0) is not None


def _condition(test: str, key: str, values: tuple[str, ...], context: dict) -> bool | None:
    """True/False, or None when it cannot be told here (unknown operator, key not in context)."""
    if_exists = test.endswith("IfExists")
    op = test.removesuffix("IfExists")
    if key.lower().startswith(("aws:resourcetag/", "aws:requesttag/")) or op.startswith("For"):
        return None
    if key not in context:
        return True if if_exists else None
    actual = context[key]
    tests = {
        "StringEquals": lambda v: actual == v,
        "StringEqualsIgnoreCase": lambda v: actual.lower() == v.lower(),
        "StringLike": lambda v: _wildcard(v, actual, False),
        "ArnEquals": lambda v: actual == v,
        "ArnLike": lambda v: _wildcard(v, actual, False),
        "Bool": lambda v: actual.lower() == v.lower(),
    }
    negated = {
        "StringNotEquals": "StringEquals",
        "StringNotLike": "StringLike",
        "ArnNotEquals": "ArnEquals",
        "ArnNotLike": "ArnLike",
    }
    if op in tests:
        return any(tests[op](v) for v in values)
    if op in negated:
        return not any(tests[negated[op]](v) for v in values)
    return None


def _applies(st: Statement, call: Call) -> bool | None:
    """Whether the statement covers the call: True, False, or None (a condition undecidable)."""
    if st.not_actions is not None:
        if any(_wildcard(a, call.action, True) for a in st.not_actions):
            return False
    elif not any(_wildcard(a, call.action, True) for a in st.actions):
        return False
    if st.not_resources is not None:
        if any(_wildcard(r, call.resource, False) for r in st.not_resources):
            return False
    elif not any(_wildcard(r, call.resource, False) for r in st.resources):
        return False
    results = [_condition(t, k, v, dict(call.context)) for t, k, v in st.conditions]
    return False if False in results else None if None in results else True


def decide(call: Call, policies: dict[str, Policy]) -> Denial | None:
    """IAM's rule: an explicit Deny wins, otherwise an Allow must cover the call."""

    def deny(reason: str) -> Denial:
        return Denial(call.role, call.action, call.resource, reason, call.operation)

    if call.action is None or call.resource is None:
        return deny(f"no IAM mapping for {call.operation}, so it cannot be checked")
    if call.role is None:
        return deny("made with no acting role (Recorder.acting_as / clients_created_by)")
    if call.role not in policies:
        return deny(f"no policies loaded for role {call.role}")
    if call.action in NO_PERMISSION_NEEDED:
        return None
    policy = policies[call.role]
    undecided = []
    for st in policy.statements:
        if st.effect == "Deny" and _applies(st, call) is not False:
            # An undecidable condition on a Deny is taken as matching: never allow by ignorance.
            return deny(f"explicitly denied by statement {st.sid}")
    for st in policy.statements:
        if st.effect == "Allow":
            verdict = _applies(st, call)
            if verdict:
                return None
            if verdict is None:
                undecided.append(st.sid)
    reason = f"no statement of {', '.join(policy.documents)} allows it"
    if undecided:
        reason += (
            f"; statement(s) {', '.join(undecided)} match but have a condition not evaluated here"
        )
    if policy.notes:
        reason += f"; not read: {', '.join(policy.notes)}"
    return deny(reason)


def evaluate(calls, policies: dict[str, Policy]) -> list[Denial]:
    """The denied calls, each once (the same call is often repeated while polling)."""
    denials = (decide(c, policies) for c in dict.fromkeys(calls))
    return [d for d in denials if d is not None]


# --- calls to IAM actions and resources ------------------------------------------------------
# The IAM prefix is the service's signing name except where IAM spells it otherwise; the action
# is the operation's name except where IAM groups operations under another action.

_IAM_PREFIX = {"monitoring": "cloudwatch"}


class _Arns:
    """ARN forms in the region and account of the call, and names resolved to ARNs."""

    def __init__(self, recorder: Recorder, client):
        self.rec, self.client = recorder, client
        self.region, self.account, self.partition = (
            client.meta.region_name,
            recorder.account_id,
            recorder.partition,
        )

    def __call__(
        self, service: str, resource: str, region: str | None = None, account: str | None = None
    ) -> str:
        region = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{region}:{account or self.account}:{resource}"

    def s3(self, bucket: str, key: str | None = None) -> str:
        return f"arn:{self.partition}:s3:::{bucket}" + ("" if key is None else f"/{key}")

    def secret(self, secret_id: str) -> str:
        # IAM checks the secret's full ARN (name plus AWS's random suffix); moto knows it.
        if secret_id.startswith("arn:"):
            return secret_id
        return self.rec._resolve(
            self.client,
            secret_id,
            lambda c: c.describe_secret(SecretId=secret_id)["ARN"],
            self("secretsmanager", f"secret:{secret_id}"),
        )

    def key(self, key_id: str) -> str:
        if key_id.startswith("arn:") and ":key/" in key_id:
            return key_id
        if not key_id.startswith(("arn:", "alias/")):
            return self("kms", f"key/{key_id}")
        return self.rec._resolve(
            self.client,
            key_id,
            lambda c: c.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"],
            self("kms", key_id),
        )

    def workgroup(self, name: str) -> str:
        # A workgroup's ARN carries its id, which moto (no Redshift Serverless) cannot tell:
        # the harness supplies it, else the name stands in for the id.
        if name.startswith("arn:"):
            return name
        return self.rec.workgroup_arns.get(name) or self("redshift-serverless", f"workgroup/{name}")

    def queue(self, url: str) -> str:
        account, name = url.rstrip("/").split("/")[-2:]
        return self("sqs", name, account=account)


def _s3(op: str, p: dict, a: _Arns):
    bucket, obj = a.s3(p.get("Bucket", "")), a.s3(p.get("Bucket", ""), p.get("Key", ""))
    if op in ("ListObjectsV2", "ListObjects", "HeadBucket"):  # HeadBucket needs s3:ListBucket
        return [("s3:ListBucket", bucket)]
    if op == "ListObjectVersions":
        return [("s3:ListBucketVersions", bucket)]
    if op in ("GetObject", "HeadObject"):
        return [("s3:GetObjectVersion" if p.get("VersionId") else "s3:GetObject", obj)]
    if op in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        return [("s3:PutObject", obj)]
    if op in ("DeleteObject", "AbortMultipartUpload"):
        return [(f"s3:{op}", obj)]
    if op == "DeleteObjects":
        return [("s3:DeleteObject", a.s3(p["Bucket"], o["Key"])) for o in p["Delete"]["Objects"]]
    if op in ("CopyObject", "UploadPartCopy"):
        src = p["CopySource"]
        src = (
            f"{src['Bucket']}/{src['Key']}"
            if isinstance(src, dict)
            else unquote(src.split("?")[0].lstrip("/"))
        )
        return [("s3:GetObject", f"arn:{a.partition}:s3:::{src}"), ("s3:PutObject", obj)]
    if op == "ListBuckets":
        return [("s3:ListAllMyBuckets", "*")]
    if op == "GetBucketEncryption":
        return [("s3:GetEncryptionConfiguration", bucket)]
    if op in (
        "CreateBucket",
        "DeleteBucket",
        "GetBucketLocation",
        "GetBucketVersioning",
        "PutBucketVersioning",
        "GetBucketPolicy",
        "PutBucketPolicy",
    ):
        return [(f"s3:{op}", bucket)]
    return None


_GLUE_JOB = {
    "StartJobRun",
    "GetJobRun",
    "GetJobRuns",
    "BatchStopJobRun",
    "GetJob",
    "UpdateJob",
    "DeleteJob",
}
_GLUE_CRAWLER = {
    "StartCrawler",
    "GetCrawler",
    "StopCrawler",
    "UpdateCrawler",
    "DeleteCrawler",
    "CreateCrawler",
}
# No resource type in IAM for these: "*" is what a policy must name.
_GLUE_STAR = {
    "GetCrawlerMetrics",
    "GetCrawlers",
    "ListCrawlers",
    "GetJobs",
    "ListJobs",
    "GetSecurityConfiguration",
}
_GLUE_CATALOG = {
    "GetDatabase",
    "GetTable",
    "GetTables",
    "CreateTable",
    "UpdateTable",
    "DeleteTable",
    "GetPartition",
    "GetPartitions",
    "CreatePartition",
    "BatchCreatePartition",
    "UpdatePartition",
    "BatchGetPartition",
}


def _glue(op: str, p: dict, a: _Arns):
    if op in _GLUE_JOB:
        return [(f"glue:{op}", a("glue", f"job/{p['JobName']}"))]
    if op == "CreateJob":
        return [("glue:CreateJob", a("glue", f"job/{p['Name']}"))]
    if op in _GLUE_CRAWLER:
        return [(f"glue:{op}", a("glue", f"crawler/{p['Name']}"))]
    if op in _GLUE_STAR:
        return [(f"glue:{op}", "*")]
    if op in ("GetTags", "TagResource", "UntagResource"):
        return [(f"glue:{op}", p["ResourceArn"])]
    if op in _GLUE_CATALOG:  # IAM checks the catalog, the database and the table
        db = p["Name"] if op == "GetDatabase" else p["DatabaseName"]
        arns = [a("glue", "catalog"), a("glue", f"database/{db}")]
        if op != "GetDatabase":
            table = (
                p.get("TableName") or p.get("TableInput", {}).get("Name") or p.get("Name") or "*"
            )
            arns.append(a("glue", f"table/{db}/{table}"))
        return [(f"glue:{op}", r) for r in arns]
    return None


def _redshift_data(op: str, p: dict, a: _Arns):
    if op in (
        "DescribeStatement",
        "GetStatementResult",
        "GetStatementResultV2",
        "CancelStatement",
        "ListStatements",
    ):
        return [(f"redshift-data:{op}", "*")]
    if "ClusterIdentifier" in p:
        target = a("redshift", f"cluster:{p['ClusterIdentifier']}")
    elif "WorkgroupName" in p:
        target = a.workgroup(p["WorkgroupName"])
    else:
        return None
    if op in (
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ListDatabases",
        "ListSchemas",
        "ListTables",
        "DescribeTable",
    ):
        # The Data API reads the caller's credentials with the caller's permissions: the secret
        # it is given, or temporary credentials of the database user on a cluster.
        out = [(f"redshift-data:{op}", target)]
        if p.get("SecretArn"):
            out.append(("secretsmanager:GetSecretValue", a.secret(p["SecretArn"])))
        elif p.get("DbUser") and "ClusterIdentifier" in p:
            c, user = p["ClusterIdentifier"], p["DbUser"]
            out.append(("redshift:GetClusterCredentials", a("redshift", f"dbuser:{c}/{user}")))
            if p.get("Database"):
                db = a("redshift", f"dbname:{c}/{p['Database']}")
                out.append(("redshift:GetClusterCredentials", db))
        return out
    return None


def _redshift(op: str, p: dict, a: _Arns):
    c = p.get("ClusterIdentifier")
    if op == "GetClusterCredentials":
        user = a("redshift", f"dbuser:{c}/{p['DbUser']}")
        out = [("redshift:GetClusterCredentials", user)]
        if p.get("DbName"):
            out.append(
                ("redshift:GetClusterCredentials", a("redshift", f"dbname:{c}/{p['DbName']}"))
            )
        if p.get("AutoCreate"):
            out.append(("redshift:CreateClusterUser", user))
        return out + [
            ("redshift:JoinGroup", a("redshift", f"dbgroup:{c}/{g}")) for g in p.get("DbGroups", [])
        ]
    if op == "GetClusterCredentialsWithIAM":
        return [(f"redshift:{op}", a("redshift", f"dbname:{c}/{p.get('DbName', '*')}"))]
    if op in ("DescribeClusters", "CreateCluster", "DeleteCluster"):
        return [(f"redshift:{op}", a("redshift", f"cluster:{c}") if c else "*")]
    return None


def _redshift_serverless(op: str, p: dict, a: _Arns):
    if op in ("GetCredentials", "GetWorkgroup"):
        return [(f"redshift-serverless:{op}", a.workgroup(p["workgroupName"]))]
    return None


def _sns(op: str, p: dict, a: _Arns):
    if op == "Publish":
        return [("sns:Publish", p.get("TopicArn") or p.get("TargetArn") or "*")]
    if op == "CreateTopic":
        return [("sns:CreateTopic", a("sns", p["Name"]))]
    if op in (
        "GetTopicAttributes",
        "SetTopicAttributes",
        "Subscribe",
        "DeleteTopic",
        "ListSubscriptionsByTopic",
    ):
        return [(f"sns:{op}", p["TopicArn"])]
    if op == "ListTopics":
        return [("sns:ListTopics", "*")]
    return None


def _secretsmanager(op: str, p: dict, a: _Arns):
    if op in (
        "GetSecretValue",
        "DescribeSecret",
        "PutSecretValue",
        "UpdateSecret",
        "DeleteSecret",
        "TagResource",
    ):
        return [(f"secretsmanager:{op}", a.secret(p["SecretId"]))]
    if op == "CreateSecret":
        return [("secretsmanager:CreateSecret", a("secretsmanager", f"secret:{p['Name']}"))]
    if op == "ListSecrets":
        return [("secretsmanager:ListSecrets", "*")]
    return None


_STATES_ARN = {
    "stateMachineArn": (
        "StartExecution",
        "StartSyncExecution",
        "DescribeStateMachine",
        "ListExecutions",
        "UpdateStateMachine",
        "DeleteStateMachine",
    ),
    "executionArn": (
        "DescribeExecution",
        "StopExecution",
        "GetExecutionHistory",
        "DescribeStateMachineForExecution",
    ),
}


def _states(op: str, p: dict, a: _Arns):
    for key, ops in _STATES_ARN.items():
        if op in ops:
            return [(f"states:{op}", p[key])]
    if op == "CreateStateMachine":
        return [("states:CreateStateMachine", a("states", f"stateMachine:{p['name']}"))]
    if op in ("ListStateMachines", "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        return [(f"states:{op}", "*")]
    return None


_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _sqs(op: str, p: dict, a: _Arns):
    if "QueueUrl" in p:
        return [(f"sqs:{_SQS_BATCH.get(op, op)}", a.queue(p["QueueUrl"]))]
    if op in ("GetQueueUrl", "CreateQueue"):
        return [(f"sqs:{op}", a("sqs", p["QueueName"], account=p.get("QueueOwnerAWSAccountId")))]
    if op == "ListQueues":
        return [("sqs:ListQueues", "*")]
    return None


def _kms(op: str, p: dict, a: _Arns):
    if "KeyId" in p:  # Decrypt without KeyId takes the key from the ciphertext: unmapped
        return [(f"kms:{op}", a.key(p["KeyId"]))]
    if op in ("CreateKey", "ListKeys", "ListAliases"):
        return [(f"kms:{op}", "*")]
    return None


def _logs(op: str, p: dict, a: _Arns):
    group = a("logs", f"log-group:{p.get('logGroupName', '')}")
    if op in ("CreateLogStream", "PutLogEvents", "GetLogEvents"):
        return [(f"logs:{op}", f"{group}:log-stream:{p['logStreamName']}")]
    if op in (
        "CreateLogGroup",
        "DeleteLogGroup",
        "DescribeLogStreams",
        "FilterLogEvents",
        "PutRetentionPolicy",
        "AssociateKmsKey",
    ):
        return [(f"logs:{op}", group)]
    if op == "DescribeLogGroups":
        return [("logs:DescribeLogGroups", "*")]
    return None


def _airflow(op: str, p: dict, a: _Arns):
    # MWAA's REST API is authorised on the rbac-role of the Airflow role the call acts as.
    if op == "InvokeRestApi":
        return [("airflow:InvokeRestApi", a("airflow", f"role/{p['Name']}/{a.rec.airflow_role}"))]
    return None


def _simple(star: set[str], by_param: dict[str, tuple[str, object]]):
    """Mapper of a service whose operations take "*" or one ARN-forming parameter."""

    def mapper(op: str, p: dict, a: _Arns):
        if op in star:
            return [(f"{a.service}:{op}", "*")]
        if op in by_param:
            param, form = by_param[op]
            return [(f"{a.service}:{op}", form(a, p[param]))]
        return None

    return mapper


_MAPPERS = {
    "s3": _s3,
    "glue": _glue,
    "redshift-data": _redshift_data,
    "redshift": _redshift,
    "redshift-serverless": _redshift_serverless,
    "sns": _sns,
    "secretsmanager": _secretsmanager,
    "states": _states,
    "sqs": _sqs,
    "kms": _kms,
    "logs": _logs,
    "airflow": _airflow,
    "cloudwatch": _simple({"PutMetricData", "GetMetricData", "ListMetrics"}, {}),
    "sts": _simple({"GetCallerIdentity"}, {"AssumeRole": ("RoleArn", lambda a, v: v)}),
    "iam": _simple(
        set(),
        {"GetRole": ("RoleName", lambda a, v: f"arn:{a.partition}:iam::{a.account}:role/{v}")},
    ),
}


def iam_calls(
    service_model, operation: str, params: dict, arns: _Arns
) -> list[tuple[str, str]] | None:
    """(IAM action, resource ARN) pairs of one API call; None when this module has no mapping."""
    arns.service = _IAM_PREFIX.get(service_model.signing_name, service_model.signing_name)
    mapper = _MAPPERS.get(arns.service)
    try:
        return None if mapper is None else mapper(operation, params, arns)
    except (KeyError, TypeError):  # a parameter the mapping needs is absent
        return None


# --- the recorder ----------------------------------------------------------------------------
# Session.create_client is wrapped once per process so every client made afterwards, by boto3,
# Airflow hooks or moto's Step Functions interpreter, carries the hook; the hook feeds whichever
# recorders are installed at the time of the call.

_ACTIVE: list[Recorder] = []
_RESOLVING = threading.local()
_original_create_client = None


def _patch_botocore() -> None:
    global _original_create_client
    if _original_create_client is not None:
        return
    original = _original_create_client = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        frame, creators = sys._getframe(1), set()
        while frame is not None:
            creators.add(frame.f_globals.get("__name__", ""))
            frame = frame.f_back
        frozen = frozenset(creators)

        def on_call(params, model, **_):
            for recorder in list(_ACTIVE):
                recorder._record(client, frozen, model, params)

        client.meta.events.register("before-parameter-build", on_call)
        return client

    botocore.session.Session.create_client = create_client


class Recorder:
    """Records every AWS call of the process as Calls of the role acting at the time."""

    def __init__(
        self,
        account_id: str = "123456789012",
        partition: str = "aws",
        workgroup_arns: dict | None = None,
        airflow_role: str = "User",
    ):
        self.account_id, self.partition = account_id, partition
        self.workgroup_arns = dict(workgroup_arns or {})
        # The Airflow role MWAA's InvokeRestApi acts as: IAM authorises the call on that role's
        # rbac-role resource (arn:...:airflow:<region>:<account>:role/<environment>/<role>).
        self.airflow_role = airflow_role
        self.calls: list[Call] = []
        self._role = contextvars.ContextVar(f"iam-role-{id(self)}", default=None)
        self._paused = contextvars.ContextVar(f"iam-paused-{id(self)}", default=False)
        self._creators: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._resolved: dict[tuple, str] = {}

    def install(self) -> Recorder:
        _patch_botocore()
        _ACTIVE.append(self)
        return self

    def uninstall(self) -> None:
        _ACTIVE.remove(self)

    def __enter__(self) -> Recorder:
        return self.install()

    def __exit__(self, *exc) -> None:
        self.uninstall()

    @contextlib.contextmanager
    def acting_as(self, role: str):
        """Calls made in this block (this thread or task context) are the role's."""
        token = self._role.set(role)
        try:
            yield self
        finally:
            self._role.reset(token)

    @contextlib.contextmanager
    def paused(self):
        """Calls made in this block are not recorded (the harness's own setup)."""
        token = self._paused.set(True)
        try:
            yield self
        finally:
            self._paused.reset(token)

    def clients_created_by(self, module_prefix: str, role: str) -> None:
        """Calls of clients created from code under `module_prefix` are `role`'s, whatever the
        context: moto's Step Functions interpreter calls Glue and Redshift from its own threads,
        where no acting_as block reaches."""
        self._creators.append((module_prefix, role))

    def _record(self, client, creators: frozenset, model, params: dict) -> None:
        if getattr(_RESOLVING, "on", False) or self._paused.get():
            return
        role = next(
            (
                r
                for prefix, r in self._creators
                if any(c == prefix or c.startswith(prefix + ".") for c in creators)
            ),
            None,
        )
        role = role or self._role.get()
        arns = _Arns(self, client)
        pairs = iam_calls(model.service_model, model.name, params or {}, arns)
        context = [
            ("aws:SecureTransport", str(client.meta.endpoint_url.startswith("https")).lower()),
            ("aws:RequestedRegion", arns.region),
        ]
        if arns.service == "cloudwatch" and "Namespace" in params:
            context.append(("cloudwatch:namespace", params["Namespace"]))
        if arns.service == "s3" and model.name in ("ListObjectsV2", "ListObjects"):
            context.append(("s3:prefix", params.get("Prefix", "")))
        operation = f"{model.service_model.service_name}.{model.name}"
        calls = [
            Call(role, act, res, operation, tuple(context))
            for act, res in (pairs if pairs is not None else [(None, None)])
        ]
        with self._lock:
            self.calls.extend(calls)

    def _resolve(self, client, name: str, ask, fallback: str) -> str:
        """An ARN asked of the service itself (moto, in a rehearsal), unrecorded; the fallback
        when it does not know the name (IAM then checks the name-only ARN, as AWS would)."""
        key = (client.meta.service_model.service_name, client.meta.region_name, name)
        if key not in self._resolved:
            _RESOLVING.on = True
            try:
                helper = botocore.session.get_session().create_client(
                    key[0],
                    region_name=key[1],
                    endpoint_url=client.meta.endpoint_url,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                )
                self._resolved[key] = ask(helper)
            except Exception:
                return fallback
            finally:
                _RESOLVING.on = False
        return self._resolved[key]
