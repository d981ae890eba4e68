"""Render ``config.yaml.example``: every setting with its default and its one-line comment."""

from __future__ import annotations

from typing import Any

import yaml

from . import schema


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def render_example() -> str:
    lines = [
        "# config.yaml.example: every octohost setting with its default.",
        "# Copy what you want to change into BASEDIR/config.yaml (default ~/.octohost/config.yaml);",
        "# the file only needs the keys that differ from these defaults.",
        "",
    ]
    _render_section(schema.SCHEMA, 0, lines)
    return "\n".join(lines).rstrip("\n") + "\n"


def _render_section(section: schema.Section, depth: int, lines: list[str]) -> None:
    indent = "  " * depth
    for name, node in section.items():
        if isinstance(node, schema.Section):
            if depth == 0 and lines and lines[-1] != "":
                lines.append("")
            if node.help:
                lines.append(f"{indent}# {node.help}")
            lines.append(f"{indent}{name}:")
            _render_section(node, depth + 1, lines)
        else:
            lines.append(f"{indent}# {node.help} ({node.describe()})")
            lines.append(f"{indent}{name}: {_yaml_value(node.default)}")


if __name__ == "__main__":
    print(render_example(), end="")
