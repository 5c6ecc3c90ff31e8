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
import json
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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


class _Module:
    """One module under infra/modules: its blocks, and the caller's inputs for its references."""

    def __init__(self, path: Path, inputs: dict):
        self.path, self.inputs, self._locals = path, inputs, {}
        merged: dict[str, list] = {}
        options = hcl2.SerializationOptions(strip_string_quotes=True)
        for tf in sorted(path.glob("*.tf")):
            for kind, items in hcl2.loads(tf.read_text(), serialization_options=options).items():
                if isinstance(items, list):
                    merged.setdefault(kind, []).extend(items)
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
                return (a and self.eval(node[3], scope)) if node[1] == "&&" else (a or self.eval(node[3], scope))
            return _OPS[node[1]](a, self.eval(node[3], scope))
        if kind == "list":
            return [self.eval(x, scope) for x in node[1]]
        if kind == "obj":
            return {_str(self.eval(k, scope)): self.eval(v, scope) for k, v in node[1]}
        if kind == "for":
            _, names, coll, key, value, cond = node
            out_list, out_obj = [], {}
            for k, v in _items(self.eval(coll, scope)):
                inner = {**scope, **dict(zip(names, (v,) if len(names) == 1 else (k, v), strict=True))}
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
            return {k: _Resource(self, type_, name, body, {"each": {"key": k, "value": v}}, f'{label}["{k}"]') for k, v in each.items()}
        if "count" in body:
            return [_Resource(self, type_, name, body, {"count": {"index": i}}, f"{label}[{i}]") for i in range(self.value(body["count"]))]
        return _Resource(self, type_, name, body, {}, label)


# ARNs of the resources the policies refer to, derived from their own arguments as AWS forms
# them. A secret's ARN ends in six random characters AWS appends: "??????" stands for them.
_DERIVED = {
    "aws_s3_bucket": {"arn": "arn:{partition}:s3:::{bucket}", "id": "{bucket}"},
    "aws_sns_topic": {"arn": "arn:{partition}:sns:{region}:{account_id}:{name}", "id": "{arn}"},
    "aws_sqs_queue": {"arn": "arn:{partition}:sqs:{region}:{account_id}:{name}"},
    "aws_secretsmanager_secret": {"arn": "arn:{partition}:secretsmanager:{region}:{account_id}:secret:{name}-??????"},
    "aws_iam_role": {"arn": "arn:{partition}:iam::{account_id}:role/{name}", "id": "{name}"},
    "aws_sfn_state_machine": {"arn": "arn:{partition}:states:{region}:{account_id}:stateMachine:{name}"},
    "aws_glue_job": {"arn": "arn:{partition}:glue:{region}:{account_id}:job/{name}"},
    "aws_glue_crawler": {"arn": "arn:{partition}:glue:{region}:{account_id}:crawler/{name}"},
    "aws_cloudwatch_log_group": {"arn": "arn:{partition}:logs:{region}:{account_id}:log-group:{name}"},
}


class _Resource:
    def __init__(self, module: _Module, type_: str, name: str, body: dict, scope: dict, label: str):
        self.module, self.type, self.name, self.body, self.scope, self.label = module, type_, name, body, scope, label

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
        return form.format(**{f: known[f] if f in known else inputs[f] if f in ("region", "account_id") else self.attr(f) for f in fields})


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
            scopes = [{"each": {"key": key, "value": each[key]}}] if key in each else []
        elif "count" in body:
            scopes = [{"count": {"index": i}} for i in range(mod.value(body["count"]))]
        for scope in scopes:
            yield body.get("policy") or body["policy_arn"], scope


def _document(mod: _Module, expr: str, scope: dict) -> tuple[str, dict, dict] | str:
    """(name, body, scope) of the aws_iam_policy_document an attachment's expression names."""
    m = re.fullmatch(r"\$\{(?:data\.aws_iam_policy_document|aws_iam_policy)\.([\w-]+)(\[.*?\])?\.(json|arn)\}", expr)
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
            (mod.value(c["test"], sc), mod.value(c["variable"], sc), _as_tuple(mod.value(c["values"], sc)))
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
        if kind == "resource" and type_.startswith("aws_iam_role") and re.search(rf"aws_iam_role\.{role_name}\b", json.dumps(body.get("role", ""))):
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
    missing = [n for n, w in required_inputs(role, infra).items() if w != "default" and not _supplied(n, inputs)]
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
