"""The package's shape: module-level imports form no cycle, every module imports on its own in a fresh
interpreter without side effects on the environment, and no module grows past ~400 lines unless its
docstring says why."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rag"
LONGEST = 420  # "about 400 lines" (issue 19)


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The rag modules `name` imports at module level (not inside functions: those are lazy on purpose)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in known else base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known and m != name}


def test_module_imports_form_no_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert graph["rag.api"] >= {"rag.retrieve", "rag.answer"}  # the graph is read, not empty
    assert not cycles, cycles


@pytest.mark.slow
def test_each_module_imports_alone_without_touching_the_environment():
    names = sorted(_modules())
    code = ("import importlib, os, sys\nbefore = dict(os.environ)\nimportlib.import_module(sys.argv[1])\n"
            "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "GRADIO_"))}
    failed = []
    for name in names:
        run = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, env=env,
                             cwd=PACKAGE.parent)
        if run.returncode:
            failed.append((name, run.stderr.strip().splitlines()[-1:]))
    assert len(names) > 30 and not failed, failed


def test_no_module_is_long_without_a_reason():
    long = [(name, n) for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST
            and "lines because" not in (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")]
    assert not long, long
