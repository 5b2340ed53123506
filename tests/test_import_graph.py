"""Import structure of the ``anomaly`` package, read from the source with :mod:`ast`.

The package is never imported here: every ``.py`` file under ``anomaly/`` is parsed and
its ``import`` statements are collected, at module level and inside functions alike
(a lazy import inside a function is a common way to hide a circle, so it counts).
Imports under ``if TYPE_CHECKING:`` never run and are ignored.

Each top-level subpackage or module ``anomaly.X`` is one node; ``anomaly/__init__.py``
is the node ``anomaly`` (the facade that re-exports the public surface). Four rules:

1. no import cycle between nodes;
2. no arrow running back up the layer order :data:`LAYERS` (see ``DESIGN.md``);
3. no private name (``_x``, or any name from a ``_module``) imported from another node,
   except :data:`ALLOWED_PRIVATE_MODULES`;
4. no module imports the top-level package itself (``import anomaly``,
   ``from anomaly import X``): that closes a circle through ``anomaly/__init__.py``.

A self-test on synthetic trees checks that the checker itself can fail.
"""

from __future__ import annotations

import ast
import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO / "anomaly"

#: Layer order, bottom first, from the data flow in ``DESIGN.md``. A node may import
#: nodes in its own or a lower layer, never a higher one. Reasons for the placement:
#:
#: - base: version, errors, the canonical schema, progress display and money formatting
#:   know nothing of trade data and may be used by everyone;
#: - ``artifacts`` is storage (manifest, checksums, npz/Parquet/archive I/O): it knows
#:   files and formats, not trade, so it sits just above the base and must not import
#:   ``detect``/``model`` (detectors and the model save themselves through it);
#: - ``reference`` (shipped code lists) → ``io`` (read + validate, maps codes through
#:   reference) → ``panel`` (pivots flows): the first three stages of the data flow;
#: - ``simulate`` builds a synthetic world of canonical flows, a data source like
#:   ``io``: it may use reference/io/panel but never the methods it is used to grade
#:   (forecast, detect, model), so the planted truth stays independent of them;
#: - ``forecast`` → ``detect`` → ``model``: the fitted stages, in data-flow order;
#: - ``report`` renders scoring outputs from files and knows no model: it sits below
#:   ``model`` so that ``Scores.plot`` draws with the report's chart; ``evaluate``
#:   measures models against the simulator's planted labels and baselines, so it sits
#:   above simulate, model, report;
#: - ``batch`` runs the model in chunks, ``demo`` runs train + score + report on the
#:   built-in data, ``cli`` drives them all.
#:
#: The facade ``anomaly/__init__.py`` is not a layer: it may re-export anything, and
#: arrows into it are rule 4's business.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version", "errors", "schema", "progress", "money"),
    ("artifacts",),
    ("reference",),
    ("io",),
    ("panel",),
    ("simulate",),
    ("forecast",),
    ("detect",),
    ("report",),
    ("model",),
    ("evaluate",),
    ("batch",),
    ("demo",),
    ("cli",),
)

#: Private-looking modules that other nodes may import all the same.
ALLOWED_PRIVATE_MODULES: frozenset[str] = frozenset({"anomaly._version"})


@dataclass(frozen=True)
class Import:
    """One imported module or name, as written in one file.

    Attributes
    ----------
    path : Path
        The importing file.
    line : int
        Line of the import statement.
    source : str
        Dotted name of the importing module (``anomaly.io.read``; a package is named
        after its ``__init__.py``'s package, ``anomaly.io``).
    module : str
        Absolute dotted module named by the statement (relative imports resolved).
    name : str or None
        For ``from module import name``, the imported name (``"*"`` for a star
        import); ``None`` for ``import module``.
    lazy : bool
        Whether the import runs inside a function rather than at import time.
    """

    path: Path
    line: int
    source: str
    module: str
    name: str | None
    lazy: bool

    @property
    def full_name(self) -> str:
        """Dotted name of what is imported: ``module`` or ``module.name``."""
        return self.module if self.name is None else f"{self.module}.{self.name}"

    def describe(self, root: Path) -> str:
        """Format as ``file:line: statement`` with the file relative to ``root``.

        Parameters
        ----------
        root : Path
            Directory the file path is shown relative to.

        Returns
        -------
        str
            E.g. ``anomaly/cli/main.py:22: from anomaly import __version__``.
        """
        try:
            shown = self.path.relative_to(root)
        except ValueError:
            shown = self.path
        statement = (
            f"import {self.module}"
            if self.name is None
            else f"from {self.module} import {self.name}"
        )
        where = " (inside a function)" if self.lazy else ""
        return f"{shown.as_posix()}:{self.line}: {statement}{where}"


@dataclass(frozen=True)
class Tree:
    """The parsed import statements of one package directory.

    Attributes
    ----------
    package : str
        Package name (the directory's name).
    directory : Path
        The package directory (holding ``__init__.py``).
    children : frozenset of str
        Names of its top-level subpackages and modules: the graph's nodes besides
        the package itself.
    imports : tuple of Import
        Every import of a module inside the package, in file and line order.
    """

    package: str
    directory: Path
    children: frozenset[str]
    imports: tuple[Import, ...]

    def node(self, dotted: str) -> str:
        """Graph node of a dotted module name inside the package.

        Parameters
        ----------
        dotted : str
            A dotted module name starting with the package name.

        Returns
        -------
        str
            ``package.X`` for a name inside the top-level child ``X``, else the
            package itself (its ``__init__.py`` or a name defined there).
        """
        parts = dotted.split(".")
        if len(parts) > 1 and parts[1] in self.children:
            return f"{self.package}.{parts[1]}"
        return self.package

    def target(self, imp: Import) -> str:
        """Graph node that an import depends on.

        ``from package import X`` depends on ``package.X`` when ``X`` is a child
        module, and on the package's ``__init__.py`` otherwise.

        Parameters
        ----------
        imp : Import
            An import of a module inside the package.

        Returns
        -------
        str
            The node imported.
        """
        return self.node(imp.full_name if imp.module == self.package else imp.module)


def _is_type_checking(test: ast.expr) -> bool:
    """Whether an ``if`` test is ``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``.

    Parameters
    ----------
    test : ast.expr
        The ``if`` statement's condition.

    Returns
    -------
    bool
        True for the two spellings of the typing-only guard.
    """
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


class _ImportCollector(ast.NodeVisitor):
    """Collect import statements, noting laziness, skipping ``if TYPE_CHECKING:``."""

    def __init__(self, path: Path, source: str, package: str, is_package: bool) -> None:
        self.path = path
        self.source = source
        self.package = package
        # The package a relative import is relative to.
        self.base = source.split(".") if is_package else source.split(".")[:-1]
        self.depth = 0
        self.found: list[Import] = []

    def _add(self, node: ast.stmt, module: str, name: str | None) -> None:
        if module == self.package or module.startswith(self.package + "."):
            imp = Import(self.path, node.lineno, self.source, module, name, self.depth > 0)
            self.found.append(imp)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for stmt in node.orelse:
                self.visit(stmt)
        else:
            self.generic_visit(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function
    visit_Lambda = _visit_function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            if node.level - 1 > len(self.base) - 1:
                return  # beyond the top-level package: not ours to judge
            parts = self.base[: len(self.base) - (node.level - 1)]
            module = ".".join([*parts, *([node.module] if node.module else [])])
        else:
            module = node.module or ""
        for alias in node.names:
            self._add(node, module, alias.name)


def scan(directory: Path) -> Tree:
    """Parse every ``.py`` file of a package and collect its internal imports.

    Parameters
    ----------
    directory : Path
        The package directory (holding ``__init__.py``); its name is the package name.

    Returns
    -------
    Tree
        The package's nodes and imports.
    """
    package = directory.name
    children = frozenset(
        [p.name for p in directory.iterdir() if (p / "__init__.py").is_file()]
        + [p.stem for p in directory.glob("*.py") if p.name != "__init__.py"]
    )
    imports: list[Import] = []
    for path in sorted(directory.rglob("*.py")):
        parts = [package, *path.relative_to(directory).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        source = ".".join(parts[:-1] if is_package else parts)
        collector = _ImportCollector(path, source, package, is_package)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        imports.extend(collector.found)
    return Tree(package, directory, children, tuple(imports))


def build_graph(tree: Tree) -> dict[str, dict[str, list[Import]]]:
    """Node-to-node dependency graph, each edge with the imports that make it.

    Parameters
    ----------
    tree : Tree
        A scanned package.

    Returns
    -------
    dict of str to dict of str to list of Import
        ``graph[a][b]`` lists the imports by which node ``a`` depends on node ``b``
        (``a != b``).
    """
    graph: dict[str, dict[str, list[Import]]] = {}
    for imp in tree.imports:
        source, target = tree.node(imp.source), tree.target(imp)
        if source != target:
            graph.setdefault(source, {}).setdefault(target, []).append(imp)
    return graph


def _strongly_connected(graph: Mapping[str, Mapping[str, object]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each sorted, in a stable order.

    Parameters
    ----------
    graph : Mapping
        Adjacency mapping: ``graph[a]`` holds the nodes ``a`` points to.

    Returns
    -------
    list of list of str
        The components.
    """
    nodes = sorted(set(graph) | {b for edges in graph.values() for b in edges})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, {})):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(components)


def find_cycles(graph: Mapping[str, Mapping[str, object]]) -> list[list[str]]:
    """One shortest cycle through each circle of mutually dependent nodes.

    Parameters
    ----------
    graph : Mapping
        Adjacency mapping: ``graph[a]`` holds the nodes ``a`` points to.

    Returns
    -------
    list of list of str
        For each strongly connected component of more than one node, a shortest
        cycle through its first node, as ``[a, b, ..., a]``. Empty when acyclic.
    """
    cycles = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        members, start = set(component), component[0]
        parent: dict[str, str] = {}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if start in graph.get(node, {}):
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                cycles.append([start, *reversed(path[:-1]), start])
                break
            for succ in sorted(graph.get(node, {})):
                if succ in members and succ not in parent and succ != start:
                    parent[succ] = node
                    queue.append(succ)
    return cycles


def cycle_report(tree: Tree) -> list[str]:
    """Describe each import cycle with the statements that close it.

    Parameters
    ----------
    tree : Tree
        A scanned package.

    Returns
    -------
    list of str
        One entry per cycle: the node chain, then the imports of each edge; when more
        nodes share the circle than that one cycle shows, they are listed too.
    """
    graph = build_graph(tree)
    components = {c[0]: c for c in _strongly_connected(graph)}
    report = []
    for cycle in find_cycles(graph):
        lines = [" -> ".join(cycle)]
        if len(components[cycle[0]]) > len(cycle) - 1:
            lines.append(f"    (all nodes in this circle: {', '.join(components[cycle[0]])})")
        for a, b in itertools.pairwise(cycle):
            lines += [f"    {a} -> {b}: {imp.describe(REPO)}" for imp in graph[a][b]]
        report.append("\n".join(lines))
    return report


def layer_of(layers: Sequence[Sequence[str]], package: str) -> dict[str, int]:
    """Map each node of a layer order to its layer number (0 = bottom).

    Parameters
    ----------
    layers : sequence of sequence of str
        Child names per layer, bottom first.
    package : str
        The package name the child names live in.

    Returns
    -------
    dict of str to int
        ``{"package.X": layer}``.
    """
    return {f"{package}.{name}": i for i, layer in enumerate(layers) for name in layer}


def upward_imports(tree: Tree, layers: Sequence[Sequence[str]]) -> list[Import]:
    """Imports from a lower layer into a higher one.

    Parameters
    ----------
    tree : Tree
        A scanned package.
    layers : sequence of sequence of str
        Child names per layer, bottom first; the package's ``__init__.py`` is no layer.

    Returns
    -------
    list of Import
        The offending imports.
    """
    rank = layer_of(layers, tree.package)
    found = []
    for imp in tree.imports:
        source, target = tree.node(imp.source), tree.target(imp)
        if source in rank and target in rank and rank[target] > rank[source]:
            found.append(imp)
    return found


def _is_private(name: str) -> bool:
    """Whether a name is private: a leading underscore, but not a ``__dunder__``.

    Parameters
    ----------
    name : str
        A module or attribute name.

    Returns
    -------
    bool
        True for ``_x`` and ``__x``; False for ``x`` and ``__x__``.
    """
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(tree: Tree, allowed: frozenset[str] = frozenset()) -> list[Import]:
    """Private names or modules imported from another node.

    Parameters
    ----------
    tree : Tree
        A scanned package.
    allowed : frozenset of str
        Dotted names of private modules that anyone may import (and their contents).

    Returns
    -------
    list of Import
        The offending imports.
    """
    found = []
    for imp in tree.imports:
        if tree.node(imp.source) == tree.target(imp):
            continue
        full = imp.full_name if imp.name not in (None, "*") else imp.module
        if any(full == ok or full.startswith(ok + ".") for ok in allowed):
            continue
        if any(_is_private(part) for part in full.split(".")):
            found.append(imp)
    return found


def package_imports(tree: Tree) -> list[Import]:
    """Imports of the top-level package itself from any module other than its ``__init__``.

    Parameters
    ----------
    tree : Tree
        A scanned package.

    Returns
    -------
    list of Import
        ``import package`` and ``from package import X`` (relative spellings included)
        outside ``package/__init__.py``.
    """
    return [imp for imp in tree.imports if imp.module == tree.package != imp.source]


def _listing(imports: Sequence[Import]) -> str:
    """One described import per line, for an assertion message."""
    return "\n".join(f"  {imp.describe(REPO)}" for imp in imports)


# --- the rules, on the real package ---------------------------------------------------


def test_no_import_cycle_between_subpackages() -> None:
    cycles = cycle_report(scan(PACKAGE_DIR))
    assert not cycles, "import cycles between subpackages:\n" + "\n".join(cycles)


def test_every_subpackage_has_a_layer() -> None:
    tree = scan(PACKAGE_DIR)
    placed = {name for layer in LAYERS for name in layer}
    assert tree.children <= placed, f"add to LAYERS: {sorted(tree.children - placed)}"


def test_no_import_runs_back_up_the_layers() -> None:
    tree = scan(PACKAGE_DIR)
    rank = layer_of(LAYERS, tree.package)
    found = upward_imports(tree, LAYERS)
    lines = [
        f"  {imp.describe(REPO)}  [{tree.node(imp.source)} (layer {rank[tree.node(imp.source)]})"
        f" -> {tree.target(imp)} (layer {rank[tree.target(imp)]})]"
        for imp in found
    ]
    assert not found, "lower layer imports a higher one:\n" + "\n".join(lines)


def test_no_private_name_imported_from_another_subpackage() -> None:
    found = private_imports(scan(PACKAGE_DIR), ALLOWED_PRIVATE_MODULES)
    assert not found, "private name imported across subpackages:\n" + _listing(found)


def test_no_module_imports_the_top_level_package() -> None:
    found = package_imports(scan(PACKAGE_DIR))
    assert not found, "module imports the top-level package itself:\n" + _listing(found)


# --- the checker itself, on synthetic trees -------------------------------------------


def _write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write a synthetic package ``pkg`` under ``root``.

    Parameters
    ----------
    root : Path
        Directory to create the package in.
    files : Mapping of str to str
        File contents by path relative to the package directory.

    Returns
    -------
    Path
        The package directory.
    """
    package = root / "pkg"
    for relative, text in {"__init__.py": "", **files}.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


CLEAN = {
    "base.py": "X = 1\n",
    "low/__init__.py": "from pkg.low.core import f\n",
    "low/core.py": "from pkg.base import X\nfrom ._impl import g\n",
    "low/_impl.py": "def g():\n    return 1\n",
    "high/__init__.py": (
        "from typing import TYPE_CHECKING\n"
        "from pkg.low import f\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.low._impl import g\n"
    ),
}
CLEAN_LAYERS = (("base",), ("low",), ("high",))


def test_checker_passes_a_clean_tree(tmp_path: Path) -> None:
    tree = scan(_write_tree(tmp_path, CLEAN))
    assert tree.children == {"base", "low", "high"}
    assert find_cycles(build_graph(tree)) == []
    assert upward_imports(tree, CLEAN_LAYERS) == []
    assert private_imports(tree) == []
    assert package_imports(tree) == []


def test_checker_finds_a_lazy_cycle_and_names_it(tmp_path: Path) -> None:
    files = {
        **CLEAN,
        # low -> high only inside a function: still a circle, and an upward arrow.
        "low/core.py": "from pkg.base import X\n\ndef h():\n    from pkg.high import thing\n",
    }
    tree = scan(_write_tree(tmp_path, files))
    assert find_cycles(build_graph(tree)) == [["pkg.high", "pkg.low", "pkg.high"]]
    (report,) = cycle_report(tree)
    assert "pkg/low/core.py:4: from pkg.high import thing (inside a function)" in report
    (upward,) = upward_imports(tree, CLEAN_LAYERS)
    assert (upward.line, upward.module, upward.lazy) == (4, "pkg.high", True)


def test_checker_finds_a_cycle_through_the_package_init(tmp_path: Path) -> None:
    files = {**CLEAN, "__init__.py": "from pkg.high import f\n", "base.py": "import pkg\n"}
    tree = scan(_write_tree(tmp_path, files))
    assert find_cycles(build_graph(tree)) == [["pkg", "pkg.high", "pkg.low", "pkg.base", "pkg"]]
    assert [(imp.source, imp.line) for imp in package_imports(tree)] == [("pkg.base", 1)]


def test_checker_finds_private_and_package_imports(tmp_path: Path) -> None:
    files = {
        **CLEAN,
        "high/x.py": (
            "from pkg.low._impl import g\n"
            "from pkg.low import _hidden\n"
            "from pkg import __version__\n"
            "from .. import low\n"
        ),
        "_version.py": "",
        "high/y.py": "from pkg._version import v\n",
    }
    tree = scan(_write_tree(tmp_path, files))
    found = [
        (imp.line, imp.full_name) for imp in private_imports(tree, frozenset({"pkg._version"}))
    ]
    assert found == [(1, "pkg.low._impl.g"), (2, "pkg.low._hidden")]
    # A relative spelling of the package counts, even when it names a child module.
    assert [imp.full_name for imp in package_imports(tree)] == ["pkg.__version__", "pkg.low"]
