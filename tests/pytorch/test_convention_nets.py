"""The nets the peer-convention tests run (peer_models): the batch-2 representatives hold every
layer type the zoo's torchvision nets have, and docs/conventions.md and
docs/conventions-ptflops-torchscan-calflops.md each list every bundled torchvision net in their
table of the tools' totals (the figures themselves are checked against the conventions by
tests/docs/test_conventions*_docs.py, the conventions against the tools by
test_convention_<tool>.py). When a net joins the zoo, regenerate both tables with
``python tests/pytorch/test_convention_nets.py`` (archcalc's figures only, no tool runs) and paste
them over the old ones."""

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
TABLES = {"conventions.md": "torchinfo,fvcore,thop",
          "conventions-ptflops-torchscan-calflops.md": "ptflops,ptflops-aten,torchscan,calflops"}


def table(conventions: str, names) -> str:
    """The Markdown table of the nets' totals under the conventions, as the docs hold it."""
    import archcalc
    from archcalc.figures.conventions import convention_counts, resolve_conventions

    tools = conventions.split(",")
    lines = [f"| net | archcalc MACs | {' | '.join(tools)} |", "|---|---:|" + "---:|" * len(tools)]
    for name in names:
        report = archcalc.analyze(name)
        totals = [c.total for c in convention_counts(report, resolve_conventions(conventions))]
        lines.append(f"| {name} | " + " | ".join(f"{v:,}" for v in [report.total.macs, *totals]) + " |")
    return "\n".join(lines)


def test_the_batch_2_nets_hold_every_layer_type_of_the_zoo():
    from peer_models import BATCH_2_NETS, TORCHVISION_NETS, spec_report

    def types(names):
        return {row.type for name in names for row in spec_report(name, 1).rows}

    missing = types(TORCHVISION_NETS) - types(BATCH_2_NETS)
    assert not missing, f"add a net with {sorted(missing)} to peer_models.BATCH_2_NETS"


def test_each_table_lists_every_bundled_torchvision_net():
    from peer_models import TORCHVISION_NETS

    for doc, conventions in TABLES.items():
        header = f"| net | archcalc MACs | {' | '.join(conventions.split(','))} |"
        text = (DOCS / doc).read_text()
        rows = text[text.index(header):].split("\n\n")[0].splitlines()[2:]
        listed = [re.match(r"\| (\w+) \|", row).group(1) for row in rows]
        assert listed == list(TORCHVISION_NETS), (
            f"docs/{doc}: regenerate the table (python tests/pytorch/test_convention_nets.py)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from peer_models import TORCHVISION_NETS

    for doc, conventions in TABLES.items():
        print(f"docs/{doc}:\n\n{table(conventions, TORCHVISION_NETS)}\n")
