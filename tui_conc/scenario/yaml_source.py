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


class YamlError(ValueError):
    """Bad YAML: carries the 1-based line of the problem."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that rejects duplicate mapping keys (YAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
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
        """Like :meth:`line_of`, but the line of the last key itself, when it exists."""
        if not path or self.root is None:
            return self.line_of(path)
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


def read_yaml(text: str) -> YamlDocument:
    """Parse ``text``; raise :class:`YamlError` with a line on bad YAML."""
    loader = _UniqueKeyLoader(text)
    try:
        root = loader.get_single_node()  # one parse: the nodes keep their lines…
        data = loader.construct_document(root) if root is not None else None  # …and the data
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "bad YAML"
        raise YamlError(line, f"bad YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"bad YAML: {exc}") from None
    finally:
        loader.dispose()
    return YamlDocument(data, root)
