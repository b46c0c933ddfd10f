"""Public model methods are callable over XML-RPC, which cannot marshal None:
each must return a value (True when there is nothing better), or a caller gets
a fault after the method has already done its work."""

import ast

import pytest
from conftest import addon_dirs

SKIP = {"init"}


def _returns_value(function):
    stack = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # a nested function's returns are its own
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if isinstance(node, ast.Raise):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def _public_methods():
    for addon in addon_dirs():
        for folder in ("models", "wizard", "report"):
            for path in sorted((addon / folder).glob("*.py")):
                tree = ast.parse(path.read_text(encoding="utf-8"))
                for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
                    for node in cls.body:
                        if (
                            isinstance(node, ast.FunctionDef)
                            and not node.name.startswith("_")
                            and node.name not in SKIP
                        ):
                            yield f"{path.relative_to(addon.parent)}:{cls.name}.{node.name}", node


@pytest.mark.parametrize(
    ("where", "function"), list(_public_methods()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_public_method_returns_a_value(where, function):
    assert _returns_value(function), f"{where} returns None: return True (XML-RPC)"
