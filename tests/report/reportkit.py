"""What the report tests share: writing a report through the CLI, and a report whose every name
is hostile."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from archcalc.cli import app

runner = CliRunner()

# Names no spec may give a layer, but an imported model or a net's free-text name can carry:
# each would break out of an HTML element, a script, an attribute or a CDATA section.
HOSTILE = ["<script>alert(1)</script>", "</script><img src=x onerror=alert(2)>", "q\"uo'te", "a]]>b&amp;",
           "<!--", "x\u202ey"]


def write_report(path: Path, *args: str) -> Path:
    result = runner.invoke(app, ["report", *args, "-o", str(path)])
    assert result.exit_code == 0, (result.output, result.exception)
    return path


def hostile_report():
    """A small net with a residual join and a block, every name then replaced by a hostile one."""
    from archcalc import analyze_text

    report = analyze_text("""
name: tiny
input: 3x16x16
blocks:
  unit:
    layers:
      - {name: conv, type: conv2d, out_channels: 3, kernel_size: 3, padding: 1}
      - {name: act, type: relu}
      - {name: add, type: add, inputs: [input, act]}
layers:
  - {name: stem, type: conv2d, out_channels: 3, kernel_size: 3, padding: 1}
  - {name: body, type: unit}
  - {name: pool, type: global_avgpool2d}
""")
    renames = {"stem": HOSTILE[0], "body": HOSTILE[1], "body.conv": HOSTILE[1] + "." + HOSTILE[2],
               "body.act": HOSTILE[1] + "." + HOSTILE[3], "body.add": HOSTILE[1] + "." + HOSTILE[4], "pool": HOSTILE[5]}
    report.name = HOSTILE[0] + HOSTILE[3]
    for row in report.rows:
        row.name = renames[row.name]
        row.inputs = [renames.get(i, i) for i in row.inputs]
    for node in report.graph.nodes:
        node.name = renames[node.name]
    report.graph.groups = {renames[k]: v for k, v in report.graph.groups.items()}
    return report
