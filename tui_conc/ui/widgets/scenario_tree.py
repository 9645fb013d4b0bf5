"""The scenario list: chapters and their lessons, keyboard first."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree

from tui_conc.scenario import Entry, chapters

#: Columns a leaf's label loses to the tree's guides and the scrollbar.
_INDENT = 5


def shortened(titles: list[str], width: int) -> list[str]:
    """``titles`` cut to ``width`` cells, and still told apart: two titles that would
    read the same once cut keep their ends instead ("IO multiplexing: sel…" twice
    becomes "IO multipl…: select" and "IO multipl…selectors")."""
    if width <= 1:
        return [t[:width] for t in titles]
    out = [t if len(t) <= width else t[: width - 1] + "…" for t in titles]
    for keep in range(4, width):
        seen: dict[str, int] = {}
        for label in out:
            seen[label] = seen.get(label, 0) + 1
        clashes = [i for i, label in enumerate(out) if seen[label] > 1 and len(titles[i]) > width]
        if not clashes:
            break
        for i in clashes:
            title = titles[i]
            head = width - 1 - keep
            out[i] = title[:head] + "…" + title[-keep:] if head > 0 else title[-width:]
    return out


class ScenarioTree(Tree[Entry]):
    """Scenarios grouped by chapter; the cursor picks one, Enter opens its lesson."""

    BORDER_TITLE = "Scenarios"

    class Picked(Message):
        """The highlighted scenario changed (or was chosen with Enter)."""

        def __init__(self, entry: Entry, chosen: bool) -> None:
            super().__init__()
            self.entry = entry
            self.chosen = chosen

    def __init__(self, entries: list[Entry], **kwargs: object) -> None:
        super().__init__("scenarios", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self.entries = entries
        self._labelled_for = -1
        self._populate()

    def _populate(self) -> None:
        self.clear()
        for chapter, members in chapters(self.entries):
            node = self.root.add(Text(chapter, style="bold"), expand=True)
            for entry in members:
                node.add_leaf(self._label(entry, entry.title), data=entry)
        self._labelled_for = -1

    @staticmethod
    def _label(entry: Entry, title: str) -> Text:
        if not entry.valid:
            return Text.assemble(("✗ ", "bold red"), (title, "red"))
        return Text(title)

    def on_mount(self) -> None:
        self.cursor_line = 0  # the first chapter: one "down" opens its first lesson

    def on_resize(self) -> None:
        self._relabel()

    def _relabel(self) -> None:
        """Labels that fit the list's width, no two alike."""
        width = self.size.width - _INDENT
        if width <= 0 or width == self._labelled_for:
            return
        leaves = list(self._leaves())
        titles = [("✗ " if not n.data.valid else "") + n.data.title for n in leaves]
        for node, label in zip(leaves, shortened(titles, width), strict=True):
            node.set_label(self._label(node.data, label.removeprefix("✗ ")))
        self._labelled_for = width

    def _leaves(self):  # type: ignore[no-untyped-def]
        for chapter in self.root.children:
            yield from chapter.children

    def set_entries(self, entries: list[Entry]) -> None:
        """Show ``entries`` instead (the files were read again)."""
        chosen = self.cursor_node.data if self.cursor_node is not None else None
        self.entries = entries
        self._populate()
        self._relabel()
        same = next((e for e in entries if chosen is not None and e.path == chosen.path), None)
        if same is not None:
            self.select_entry(same)

    def replace_entry(self, old: Entry, new: Entry) -> None:
        """One file read again: its node now holds ``new``."""
        self.entries = [new if e is old else e for e in self.entries]
        for node in self._leaves():
            if node.data is old:
                node.data = new
        self._labelled_for = -1
        self._relabel()

    def select_entry(self, entry: Entry) -> None:
        """Move the cursor to ``entry`` (from the command palette)."""
        for node in self._leaves():
            if node.data is entry:
                self.move_cursor(node, animate=False)
                self.post_message(self.Picked(entry, chosen=True))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Entry]) -> None:
        event.stop()
        entry = event.node.data
        self.tooltip = entry.title if entry is not None else None  # the whole title
        if entry is not None:
            self.post_message(self.Picked(entry, chosen=False))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Entry]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Picked(event.node.data, chosen=True))
