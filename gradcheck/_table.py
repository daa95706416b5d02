r"""The padded text table every plain-text face of gradcheck prints (foundation: no imports).

Examples
--------
>>> print("\n".join(padded_lines([("code", "n"), ("nan", "12")], rule=True)))
code  n
----  --
nan   12
>>> print("\n".join(padded_lines([("#", "verdict"), ("0", "ok: fine")], free_last=True)))
#  verdict
0  ok: fine
"""

from __future__ import annotations

from collections.abc import Sequence

GAP = "  "


def padded_lines(
    rows: Sequence[Sequence[str]],
    *,
    rule: bool = False,
    free_last: bool = False,
    right: bool = False,
) -> list[str]:
    """Return the lines of a table whose columns are padded to their widest cell.

    Parameters
    ----------
    rows : sequence of sequences of str
        The header first, then the rows (all of the same length).
    rule : bool
        Put a line of dashes, as wide as each column, under the header.
    free_last : bool
        Leave the last column unpadded (free text: a verdict, a message); the lines then
        keep their padding. Otherwise trailing spaces are stripped.
    right : bool
        Right-align the cells (numbers), else left-align.

    Examples
    --------
    >>> padded_lines([("a", "bb"), ("ccc", "d")], right=True)
    ['  a  bb', 'ccc   d']
    """
    padded = len(rows[0]) - 1 if free_last else len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(padded)]
    lines = []
    for row in rows:
        cells = [c.rjust(w) if right else c.ljust(w) for c, w in zip(row, widths, strict=False)]
        line = GAP.join([*cells, *row[padded:]])
        lines.append(line if free_last else line.rstrip())
    if rule:
        lines.insert(1, GAP.join("-" * w for w in widths))
    return lines
