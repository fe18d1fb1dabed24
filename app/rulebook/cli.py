from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from workflows.diagrams import ALL_PHASES, svg

workflows_cli = AppGroup("workflows", help="The rule book.")


@workflows_cli.command("diagram")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the SVG files (default instance/diagrams).")
def diagram_command(out):
    """Write an SVG diagram of every phase machine (needs Graphviz's dot)."""
    folder = Path(out or Path(current_app.instance_path) / "diagrams")
    folder.mkdir(parents=True, exist_ok=True)
    for name in ALL_PHASES:
        path = folder / f"{name}.svg"
        path.write_bytes(svg(name))
        click.echo(f"wrote {path}")
