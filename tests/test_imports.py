"""The modules of app/ import each other one way only: no cycle, counting imports inside
functions too (a deferred import hides a cycle from Python, not from the design).

Every module under app/ is parsed with `ast`; `import a.b` and `from .x import y` (relative
ones resolved against the module's package) become edges to app modules — to `pkg.y` when
`y` is a submodule, else to `pkg`. A cycle fails the test with its modules named."""
import ast

from .conftest import ROOT

PACKAGE = "app"


def app_modules():
    """{module name: path} of every module under app/."""
    modules = {}
    for path in (ROOT / PACKAGE).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imports_of(name, path, modules):
    """The app modules `name` imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import app.x.y` names a module; an attribute falls back
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph():
    modules = app_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph):
    """[(a cycle — its modules, the first repeated last —, every module tangled with it)], one per
    strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append((_a_cycle(graph, component), sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _a_cycle(graph, component):
    """A shortest path from the component's first module back to itself (breadth first)."""
    start = min(component)
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for nxt in sorted(graph[path[-1]] & component):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                paths.append(path + [nxt])
    raise AssertionError(f"no cycle in {component}")


def test_the_graph_sees_imports_inside_functions_and_relative_imports():
    graph = import_graph()
    assert "app.cases.services" in graph and "app.jobs" in graph
    assert "app.extensions" in graph["app.cases.models"]          # from ..extensions import db
    assert "app.api.v1.serializers" in graph["app.api.v1.cases"]  # from .serializers import …
    assert cycles({"a": {"b"}, "b": {"c", "a"}, "c": {"a"}, "d": {"a"}}) == [(["a", "b", "a"], ["a", "b", "c"])]


def test_no_import_cycle_among_app_modules():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(
        f"{' → '.join(cycle)}\n  (tangled together: {', '.join(component)})" for cycle, component in found)
