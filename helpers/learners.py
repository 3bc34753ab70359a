"""Sphinx extension for the learners' edition: the book with every solution left out.

sphinx-exercise's own ``hide_solutions`` option drops ``solution`` directives but not gated
ones (``solution-start`` / ``solution-end``), which the book uses so that solutions can hold
executed code; with it, the build fails on the orphaned end marker. This extension instead
removes the merged solution nodes after sphinx-exercise has gathered each gated solution into
one node. Enabled by ``learners_edition: true`` in the Sphinx config (``make learners`` sets it).

Example
-------
>>> RemoveSolutions.default_priority > 10  # runs after sphinx-exercise's merge (priority 10)
True
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node


class RemoveSolutions(SphinxTransform):
    """Remove every (merged) solution from the document when ``learners_edition`` is set."""

    default_priority = 20

    def apply(self, **kwargs: Any) -> None:
        if not self.config.learners_edition:
            return
        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("learners_edition", False, "env")
    app.add_transform(RemoveSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
