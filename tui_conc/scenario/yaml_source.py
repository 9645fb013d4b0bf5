"""YAML reading that remembers where every value came from.

``yaml.safe_load`` gives plain data but forgets lines; this module keeps the
composed node tree beside the data so a validation error found at a data
path (``actors.worker.steps[3].timeout``) can be reported at its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

try:  # libyaml is several times faster when present
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

Path = tuple[str | int, ...]
#: The last part of a path that means "the key that is not text" (see key_line).
NOT_TEXT = "\0not-text"


class YamlError(ValueError):
    """Bad YAML: carries the 1-based line of the problem."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that rejects duplicate mapping keys (YAML silently keeps the last)
    and reports any value it cannot build (``!!int x``) as a YamlError at its line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (YamlError, yaml.YAMLError):
            raise
        except Exception as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise YamlError(node.start_mark.line + 1, f"bad value: {message}") from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict | set):
                raise YamlError(key_node.start_mark.line + 1, "a mapping key must be a scalar")
            if key in seen:
                raise YamlError(key_node.start_mark.line + 1, f"duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _UniqueKeyLoader.construct_mapping
)


@dataclass(frozen=True)
class YamlDocument:
    """Plain data plus the node tree it was built from."""

    data: Any
    root: yaml.Node | None

    def line_of(self, path: Path) -> int:
        """The 1-based line of the deepest node along ``path`` that exists."""
        node = self.root
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line

    def key_line(self, path: Path) -> int:
        """Like :meth:`line_of`, but the line of the last key itself, when it exists
        (a last part of NOT_TEXT: the first key of that mapping that is not text)."""
        if not path or self.root is None:
            return self.line_of(path)
        if path[-1] == NOT_TEXT:
            node = self.root
            for part in path[:-1]:
                node = _child(node, part) or node
            if isinstance(node, yaml.MappingNode):
                for key_node, _ in node.value:
                    if key_node.tag != "tag:yaml.org,2002:str":
                        return key_node.start_mark.line + 1
            return self.line_of(path[:-1])
        parent = self.root
        for part in path[:-1]:
            child = _child(parent, part)
            if child is None:
                return self.line_of(path)
            parent = child
        if isinstance(parent, yaml.MappingNode):
            for key_node, _ in parent.value:
                if key_node.value == path[-1]:
                    return key_node.start_mark.line + 1
        return self.line_of(path)


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                return value_node
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        return node.value[part] if 0 <= part < len(node.value) else None
    return None


#: What a scenario file may hold: nesting this deep, this many values once YAML
#: aliases are expanded, numbers this long. Past them the file is refused, at a line.
MAX_DEPTH = 64
MAX_NODES = 200_000
MAX_DIGITS = 4_000
_TAG = "tag:yaml.org,2002:"
#: The tags a scenario may use (explicitly or not): the plain JSON-like values.
_ALLOWED = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_TIMESTAMP = f"{_TAG}timestamp"
_INT = f"{_TAG}int"


def read_yaml(text: str) -> YamlDocument:
    """Parse ``text``; raise :class:`YamlError` with a line on bad YAML (never anything else)."""
    loader = _UniqueKeyLoader(text)
    try:
        root = loader.get_single_node()  # one parse: the nodes keep their lines…
        if root is None:
            return YamlDocument(None, None)
        _check_nodes(root)
        data = loader.construct_document(root)  # …and the data
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "bad YAML"
        raise YamlError(line, f"bad YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"bad YAML: {exc}") from None
    except (RecursionError, MemoryError):
        raise YamlError(1, "bad YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return YamlDocument(data, root)


def _check_nodes(root: yaml.Node) -> None:
    """Refuse, at their line, what a scenario cannot hold: tags other than plain values,
    nesting past MAX_DEPTH, aliases that expand past MAX_NODES or into themselves,
    numbers past MAX_DIGITS. Iterative: the input may be deep.

    One quick pass over the tree; the sizes that aliases expand to are counted only
    when the file has an alias at all (a lesson rarely does)."""
    if _first_pass(root):
        _expanded_sizes(root)


def _first_pass(root: yaml.Node) -> bool:
    """Tags, depth and digits of every node; True when some node is reached twice."""
    seen: set[int] = set()
    aliased = False
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        key = id(node)
        if key in seen:
            aliased = True
            continue
        seen.add(key)
        if depth > MAX_DEPTH:
            raise YamlError(
                node.start_mark.line + 1, f"nested too deeply (over {MAX_DEPTH} levels)"
            )
        tag = node.tag
        if tag not in _ALLOWED:
            if tag == _TIMESTAMP and isinstance(node, yaml.ScalarNode):
                node.tag = f"{_TAG}str"  # a date-like value stays the text it is
            else:
                name = tag.replace(_TAG, "!!")
                raise YamlError(
                    node.start_mark.line + 1, f"the YAML tag {name} is not supported here"
                )
        elif tag == _INT and len(node.value) > MAX_DIGITS and _digits(node.value) > MAX_DIGITS:
            raise YamlError(node.start_mark.line + 1, f"a number of over {MAX_DIGITS:,} digits")
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                push((k, depth + 1))
                push((v, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for child in node.value:
                push((child, depth + 1))
    return aliased


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _expanded_sizes(root: yaml.Node) -> None:
    """How many values each node stands for once aliases are expanded (refused past
    MAX_NODES), and no alias inside the value it names."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    open_nodes: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        line = node.start_mark.line + 1
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > MAX_NODES:
                raise YamlError(line, f"too large: over {MAX_NODES:,} values (YAML aliases?)")
            continue
        if key in sizes:
            continue  # an alias of a node already checked
        if key in open_nodes:
            raise YamlError(line, "an alias refers to a value that contains it")
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
