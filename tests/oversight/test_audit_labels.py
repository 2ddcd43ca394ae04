"""Every action and every kind of record the code base writes to the audit trail has words on the
audit log page.

A new `audit.record(..., action="x.y")` without a label would show the administrator its raw code,
so this test reads the source. It finds every call of an audit writer: the functions of
`campus.audit` (and its `Who`/`On` argument dicts), and every function that passes one of its own
parameters on as the action (or record type), however deep (`auth.record_own`,
`access.load_or_404`, a module's `_audit`, `warning.actions._unit_of_work`'s f"warning.{action}").
It takes the codes those calls spell out (literals, both sides of a conditional, module constants,
a parameter's default) and fails naming the codes that have no words.

A code the source builds from values it does not spell out (an attribute, a URL's part) must be
listed in `BUILT` (`BUILT_RECORD_TYPES`) with the codes it can make, or the test fails naming the
call; so must a writer no call in the source reaches (a view whose URL gives the code).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from campus.models import ReviewOutcome
from campus.structure import RECORD_TYPES
from casework.models import CrisisDocumentKind
from config import BASE_DIR
from oversight.audit_trail import ACTION_GROUPS
from oversight.audit_trail import ACTION_LABELS
from oversight.audit_trail import OUTCOME_LABELS
from oversight.audit_trail import record_label
from oversight.drill import LISTS
from oversight.kpis import KPIS
from privacy.retention_models import ErasureState

PACKAGES = (
    "appointments",
    "campus",
    "casework",
    "oversight",
    "privacy",
    "referrals",
    "screening",
    "warning",
)
AUDIT = "campus.audit"
# The class attribute each spreadsheet import names its audit action with (see `BUILT`).
IMPORT_ACTION = "audit_action"

# Actions built at run time, by module and the action expression as written there: the codes each
# can make, taken from the values the code chooses among. A string value names a class attribute:
# the codes are what the code base's classes set it to.
BUILT: dict[tuple[str, str], set[str] | str] = {
    ("campus.spreadsheets", "report.audit_action"): IMPORT_ACTION,
    ("oversight.access_review", "f'access_review_{outcome.value}'"): {
        f"access_review_{o.value}" for o in ReviewOutcome
    },
    # A view (nothing in the source calls it) whose URL's format names the action: only these
    # two (404 otherwise).
    ("referrals.closure_views", "closure_export(fmt)"): {
        "closure_export_csv",
        "closure_export_xlsx",
    },
}

CRISIS_DOCUMENTS = {f"crisis_{kind.value}" for kind in CrisisDocumentKind}
# The same for the kinds of record (`record_type`).
BUILT_RECORD_TYPES: dict[tuple[str, str], set[str] | str] = {
    ("campus.spreadsheets", "report.audit_record_type"): "audit_record_type",
    ("casework.crisis", "f'crisis_{document.kind.value}'"): CRISIS_DOCUMENTS,
    ("casework.crisis_views", "f'crisis_{document.kind.value}'"): CRISIS_DOCUMENTS,
    ("casework.crisis_views", "filled(form.kind)"): CRISIS_DOCUMENTS,  # generate_document's kind
    # The drill-down view (its URL names the list) and its export.
    ("oversight.views", "drill_down(which)"): {
        f"oversight.{prefix}{which}" for which in LISTS for prefix in ("", "drill-")
    },
    ("oversight.views", "f'{kpi.key}-{view.by}'"): {
        f"oversight.{kpi.key}-{by}" for kpi in KPIS for by in kpi.groupings
    },
    ("oversight.views", "f'province-{kpi.key}-{by}'"): {
        f"oversight.province-{kpi.key}-{by}" for kpi in KPIS for by in kpi.groupings
    },
    # A removed or renamed unit: the structure's table of record types.
    ("campus.structure", "kind"): set(RECORD_TYPES.values()),
    # A stored safety answer's evidence: `StoredSafetyAnswer`'s first field.
    ("screening.safety", "answer.record_type"): {"instrument_response", "screening_result"},
}

# The same for the outcomes: an erasure request's decision is the state it reached.
BUILT_OUTCOMES: dict[tuple[str, str], set[str] | str] = {
    ("privacy.erasure", "str(request.state)"): {state.value for state in ErasureState},
}

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Writer:
    """A function that writes an audit row whose action is its parameter `param` (at `position`
    when passed positionally; `default` when not passed), put into `template` at `{}`."""

    param: str
    position: int | None
    template: str = "{}"
    default: str | None = None


@dataclass(frozen=True)
class Module:
    name: str
    tree: ast.Module
    imports: dict[str, str]  # a local name -> the module or module.function it stands for
    constants: dict[str, str]  # module-level string constants


@dataclass(frozen=True)
class Site:
    """An action expression the test cannot read by itself."""

    module: str
    line: int
    expression: str


@cache
def _modules() -> dict[str, Module]:
    found = {}
    for package in PACKAGES:
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            name = ".".join(path.relative_to(BASE_DIR).with_suffix("").parts)
            name = name.removesuffix(".__init__")
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            found[name] = Module(name, tree, _imports(tree), _constants(tree))
    return found


def _imports(tree: ast.Module) -> dict[str, str]:
    """What each imported name stands for (the code base imports absolutely)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: value
        for node in tree.body
        if isinstance(node, ast.Assign) and (value := _string(node.value)) is not None
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _class_attributes(modules: dict[str, Module], name: str) -> set[str]:
    """The strings the code base's classes set their attribute `name` to."""
    return {
        value
        for module in modules.values()
        for node in ast.walk(module.tree)
        if isinstance(node, ast.ClassDef)
        for statement in node.body
        if isinstance(statement, ast.Assign)
        and (value := _string(statement.value)) is not None
        and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
    }


def _audit_writers(audit: Module, field: str) -> tuple[dict[str, set[Writer]], set[str]]:
    """`campus.audit`'s writers of `field` (its functions with such a parameter or taking a dict
    with such a key as `**kwargs`) and those dicts' dotted names."""
    dicts = {
        node.name
        for node in audit.tree.body
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.target.id == field
            for s in node.body
        )
    }
    writers = {f"{AUDIT}.{name}": {Writer(field, None)} for name in dicts}
    for node in audit.tree.body:
        if not isinstance(node, Function):
            continue
        annotation = node.args.kwarg.annotation if node.args.kwarg else None
        if annotation and {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)} & dicts:
            writers[f"{AUDIT}.{node.name}"] = {Writer(field, None)}
        if (writer := _writer(node, field, "{}")) is not None:
            writers[f"{AUDIT}.{node.name}"] = {writer}
    return writers, {f"{AUDIT}.{name}" for name in dicts}


def _writer(function: Function, name: str, template: str) -> Writer | None:
    """The writer `function` is if its parameter `name` is the action it writes; None when it
    has no such parameter."""
    args = function.args
    positional = [a.arg for a in [*args.posonlyargs, *args.args]]
    defaults = dict(zip(positional[::-1], args.defaults[::-1], strict=False))
    defaults |= {a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d}
    if name not in positional and name not in {a.arg for a in args.kwonlyargs}:
        return None
    position = positional.index(name) if name in positional else None
    return Writer(name, position, template, _string(defaults.get(name)))


def _callee(module: Module, func: ast.expr) -> str | None:
    """The dotted name of what `func` names, where the source says which."""
    if isinstance(func, ast.Name):
        return module.imports.get(func.id, f"{module.name}.{func.id}")
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        base = module.imports.get(func.value.id)
        return None if base is None else f"{base}.{func.attr}"
    return None


def _nodes(tree: ast.AST) -> Iterator[tuple[list[Function], ast.AST]]:
    """Every call and annotated assignment, with the functions it is written in (innermost
    last)."""

    def walk(node: ast.AST, within: list[Function]) -> Iterator[tuple[list[Function], ast.AST]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call | ast.AnnAssign):
                yield within, child
            yield from walk(child, [*within, child] if isinstance(child, Function) else within)

    return walk(tree, [])


def _given(
    node: ast.AST, module: Module, writers: dict[str, set[Writer]], dicts: set[str], field: str
) -> list[tuple[Writer, ast.expr]]:
    """The writers `node` calls (or the audit dict it fills), each with the expression it gives
    for `field` (the writer's default when it gives none); none when `node` writes no row."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Dict):
        if _callee(module, node.annotation) not in dicts:
            return []
        entries = zip(node.value.keys, node.value.values, strict=True)
        return [(Writer(field, None), value) for key, value in entries if _string(key) == field]
    if not isinstance(node, ast.Call):
        return []
    given = []
    for writer in writers.get(_callee(module, node.func) or "", set()):
        passed = [k.value for k in node.keywords if k.arg == writer.param]
        if not passed and writer.position is not None and writer.position < len(node.args):
            passed = [node.args[writer.position]]
        if not passed and not any(k.arg is None for k in node.keywords):
            passed = [ast.Constant(writer.default)]
        # (**fields: an audit dict, read where it is filled)
        given += [(writer, expression) for expression in passed]
    return given


def _read(expression: ast.expr, template: str, module: Module) -> list[str | tuple[str, str]]:
    """What `expression` makes of `template`: codes, or (parameter, template) where it passes a
    name on (a parameter of the function it is written in, or else unreadable: "")."""
    if (value := _string(expression)) is not None:
        return [template.format(value)]
    if isinstance(expression, ast.IfExp):
        return [
            *_read(expression.body, template, module),
            *_read(expression.orelse, template, module),
        ]
    if isinstance(expression, ast.Name):
        if expression.id in module.constants:
            return [template.format(module.constants[expression.id])]
        return [(expression.id, template)]
    if isinstance(expression, ast.JoinedStr):
        holes = [v for v in expression.values if isinstance(v, ast.FormattedValue)]
        if len(holes) == 1 and isinstance(holes[0].value, ast.Name) and not holes[0].format_spec:
            inner = "".join(
                "{}" if isinstance(v, ast.FormattedValue) else str(_string(v)).replace("{", "{{")
                for v in expression.values
            )
            return [(holes[0].value.id, template.format(inner))]
    return [("", template)]


def _scan(field: str) -> tuple[set[str], list[Site]]:
    """The codes the source writes in the audit rows' `field`, and the expressions for it the
    test cannot read."""
    modules = _modules()
    writers, dicts = _audit_writers(modules[AUDIT], field)
    nodes = [(m, within, node) for m in modules.values() for within, node in _nodes(m.tree)]
    while True:  # a function passing its parameter on to a writer is one: to a fixed point
        codes: set[str] = set()
        unread: list[Site] = []
        called: set[str] = set()
        found: dict[str, set[Writer]] = {}
        for module, within, node in nodes:
            for writer, expression in _given(node, module, writers, dicts, field):
                if isinstance(node, ast.Call):
                    called.add(_callee(module, node.func) or "")
                for made in _read(expression, writer.template, module):
                    if isinstance(made, str):
                        codes.add(made)
                        continue
                    param, template = made
                    passed = [
                        (f, w) for f in within if param and (w := _writer(f, param, template))
                    ]
                    if passed:
                        function, passed_on = passed[-1]
                        found.setdefault(f"{module.name}.{function.name}", set()).add(passed_on)
                    else:
                        unread.append(Site(module.name, node.lineno, ast.unparse(expression)))
        if all(ws <= writers.get(name, set()) for name, ws in found.items()):
            break
        for name, ws in found.items():
            writers[name] = writers.get(name, set()) | ws
    for name, ws in found.items():
        if name not in called:  # nothing in the source calls it: the value comes from outside
            module, _, function = name.rpartition(".")
            unread += [Site(module, 0, f"{function}({w.param})") for w in ws]
    return codes, sorted(set(unread), key=lambda s: (s.module, s.line, s.expression))


def _codes(field: str, built: dict[tuple[str, str], set[str] | str]) -> set[str]:
    """Every code the source writes in `field`, those it builds at run time taken from `built`."""
    codes, unread = _scan(field)
    unlisted = [s for s in unread if (s.module, s.expression) not in built]
    assert not unlisted, (
        f"these calls build an audit {field} the test cannot read; list the codes each can make "
        f"in this test: {unlisted}"
    )
    for site in unread:
        made = built[site.module, site.expression]
        codes |= _class_attributes(_modules(), made) if isinstance(made, str) else made
    return codes


def test_every_action_the_code_base_writes_has_words_on_the_audit_log():
    missing = sorted(_codes("action", BUILT) - ACTION_LABELS.keys())
    assert not missing, (
        f"audit actions without words on the audit log: {missing}; add them to ACTION_LABELS "
        "in oversight/audit_trail.py and translate them (make messages)"
    )


def test_every_worded_action_has_one_group_in_the_audit_trails_filter():
    grouped = [code for _label, codes in ACTION_GROUPS for code in codes]
    assert sorted(grouped) == sorted(set(grouped)), "an action in two groups of ACTION_GROUPS"
    missing = sorted(ACTION_LABELS.keys() - set(grouped))
    assert not missing, (
        f"audit actions the filter offers under Other: {missing}; add each to its group in "
        "ACTION_GROUPS in oversight/audit_trail.py"
    )
    assert not set(grouped) - ACTION_LABELS.keys(), "ACTION_GROUPS names an action without words"


def test_every_kind_of_record_the_code_base_audits_has_words_on_the_audit_log(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        missing = sorted(
            c for c in _codes("record_type", BUILT_RECORD_TYPES) if record_label(c) == c
        )
    assert not missing, (
        f"kinds of audited record without words on the audit log: {missing}; add them to "
        "RECORD_LABELS in oversight/audit_trail.py and translate them (make messages)"
    )


def test_the_scan_reads_every_kind_of_audit_writer():
    """The codes found through each way the source passes an action, so a scan that stopped
    reading one of them fails here rather than passing with fewer codes."""
    codes = _codes("action", BUILT)
    assert len(codes) > 140
    assert {
        "warning.level",  # _unit_of_work(..., "level", ...) writes f"warning.{action}"
        "contagion.cleared",  # _close(..., "cleared", ...) writes f"contagion.{outcome}"
        "sign_in",  # auth.record_own(session, user, "sign_in"), positionally
        "sign_in_code",  # mfa.audit_refusal's default action
        "safety_signal_recovered",  # a module constant
        "read_audit_trail",  # audit.Who(action=...)
        "export",  # fields: audit.Who = {"action": "export", ...}
        "channel_enabled",  # "channel_enabled" if enabled else "channel_disabled"
        "contagion.close",  # access.load_or_404(..., action="contagion.close")
        "import_roster",  # RosterImport.audit_action, written by commit_import
        "closure_export_xlsx",  # the closure export's URL format
    } <= codes


def test_every_outcome_the_code_base_writes_has_words_on_the_audit_log():
    """Found by an administrator: a sign-in waiting for its second step read 「pending」 on the
    Chinese audit log. A call that leaves the outcome out writes the default, "ok"."""
    codes, unread = _scan("outcome")
    defaulted = [s for s in unread if s.expression == "None"]  # the writer's own default
    built = [s for s in unread if s not in defaulted]
    unlisted = [s for s in built if (s.module, s.expression) not in BUILT_OUTCOMES]
    assert not unlisted, f"audit outcomes the test cannot read; list them here: {unlisted}"
    for site in built:
        made = BUILT_OUTCOMES[site.module, site.expression]
        codes |= made if isinstance(made, set) else set()
    assert {"ok", "denied", "pending", "approved"} <= codes
    missing = sorted(codes - OUTCOME_LABELS.keys())
    assert not missing, (
        f"audit outcomes without words on the audit log: {missing}; add them to OUTCOME_LABELS "
        "in oversight/audit_trail.py and translate them (make messages)"
    )
