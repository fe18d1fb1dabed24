"""Static security checks that run with the tests (and so in .ci/run):

1. bandit over the application code: no medium or high finding. A false positive is marked on
   its line with `# nosec BXXX` and a one-line reason, so each exception is reviewed where it is.
2. No HTML sink takes user input: every call of `Markup(`, `render_template_string(` or
   WeasyPrint's `HTML(` in the code is listed (by `ast`, aliases included); its arguments must
   be string literals or `render_template(...)` (whose templates autoescape), or the call must be
   in REVIEWED, word for word. In templates, `|safe` and `{% autoescape false %}` are allowed only
   on the reviewed expressions of SAFE_IN_TEMPLATES. A new unreviewed use fails here."""
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

CODE = ["app", "workflows", "evidence_store", "config.py", "run.py"]
SINKS = {"Markup", "render_template_string", "HTML"}
# (file, the call as ast.unparse spells it): why its argument cannot carry user input
REVIEWED = {
    ("app/rulebook/routes.py", "Markup(svg(phase).decode())"):
        "Graphviz SVG of the phase machines drawn from the spec tables in workflows/ (state and trigger "
        "names from code, no database value); Graphviz escapes label text as XML itself",
    ("app/reports/render.py",
     "HTML(string=render_template('reports/case.html', **context), base_url='evidence:', url_fetcher=fetcher)"):
        "the HTML is an autoescaped template; `fetcher` is the report's ThumbnailFetcher object (it loads "
        "only registered evidence thumbnails), not text",
    ("app/charts.py", "Markup(''.join(out))"):
        "the server-side SVG charts: every label, series name and title passes through markupsafe.escape "
        "before it is joined; coordinates and values are numbers formatted by the code",
}
# (template, the expression before |safe): why it is safe — none today
SAFE_IN_TEMPLATES = {}


def _python_files():
    for entry in CODE:
        path = ROOT / entry
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def sink_calls(source, filename="<source>"):
    """[(line, call source, arguments all safe?)] for every call of an HTML sink in `source`,
    also under an alias (`from markupsafe import Markup as M`) or as an attribute (`markupsafe.Markup`)."""
    tree = ast.parse(source, filename)
    names = set(SINKS)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {a.asname for a in node.names if a.name in SINKS and a.asname}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in names:
            args = [*node.args, *(k.value for k in node.keywords)]
            found.append((node.lineno, ast.unparse(node), all(map(_safe_argument, args))))
    return found


def _safe_argument(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "render_template"
            and all(isinstance(a, ast.Constant) for a in node.args[:1]))


def test_bandit_finds_nothing_of_medium_or_high_severity():
    bandit = Path(sys.executable).with_name("bandit")
    result = subprocess.run([str(bandit), "-r", *CODE, "-ll", "-f", "json", "-q"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    assert not report["errors"], report["errors"]
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']}/{r['issue_confidence']}: "
                f"{r['issue_text']}\n    {r['code'].strip()}" for r in report["results"]]
    assert not findings, "bandit (mark a false positive `# nosec BXXX  reason`):\n" + "\n".join(findings)
    assert report["metrics"]["_totals"]["loc"] > 1000  # it really scanned the code


def test_no_html_sink_takes_user_input():
    seen, unreviewed = set(), []
    for path in _python_files():
        rel = path.relative_to(ROOT).as_posix()
        for line, call, safe in sink_calls(path.read_text(encoding="utf-8"), rel):
            if (rel, call) in REVIEWED:
                seen.add((rel, call))
            elif not safe:
                unreviewed.append(f"{rel}:{line} {call}")
    assert not unreviewed, "HTML built from something else than literals or render_template (review it, " \
                           "then add it to REVIEWED with the reason):\n" + "\n".join(unreviewed)
    assert seen == set(REVIEWED), f"reviewed calls that are gone or changed: {set(REVIEWED) - seen}"


SAFE_FILTER = re.compile(r"{{\s*(.*?)\s*\|\s*safe\b[^}]*}}", re.S)


def test_templates_mark_nothing_safe_but_the_reviewed_expressions():
    found, seen = [], set()
    for path in sorted((ROOT / "templates").rglob("*.html")):
        rel, text = path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
        assert not re.search(r"{%-?\s*autoescape\s+false", text), f"{rel} turns autoescaping off"
        for expr in SAFE_FILTER.findall(text):
            if (rel, expr) in SAFE_IN_TEMPLATES:
                seen.add((rel, expr))
            else:
                found.append(f"{rel}: {{{{ {expr}|safe }}}}")
        assert text.count("|safe") + text.count("| safe") == len(SAFE_FILTER.findall(text)), \
            f"{rel}: a |safe this check cannot read"
    assert not found, "unreviewed |safe:\n" + "\n".join(found)
    assert seen == set(SAFE_IN_TEMPLATES)


@pytest.mark.parametrize("source, safe", [
    ('Markup(request.args["x"])', False),
    ('from markupsafe import Markup as M\nM(f"<b>{name}</b>")', False),
    ("markupsafe.Markup(user.display_name)", False),
    ("render_template_string(request.form['t'])", False),
    ('HTML(string=render_template("report.html", case=case))', True),
    ('HTML(string=render_template(name, case=case))', False),
    ('HTML(url=request.args["u"])', False),
    ('Markup("<br>")', True),
])
def test_the_sink_check_tells_user_input_from_literals(source, safe):
    [(_, _, judged)] = sink_calls(source)
    assert judged is safe
