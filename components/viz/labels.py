"""Where to put the text of each point of a scatter so labels stay inside the plot and apart: a textposition
per point, chosen on an estimate of the plot area in pixels (plotly places text only at fixed positions around a
marker and does not move it out of the way itself)."""
from __future__ import annotations

from collections.abc import Sequence

# A conservative estimate of the Compare scatter's plot area (half of a wide page, legend below): pixels per
# character and per line at font size 11, and the area's width and height.
CHAR_PX, LINE_PX, PLOT_PX = 5.2, 14.0, (380.0, 250.0)
TEXT_POSITIONS = ("top center", "bottom center", "middle right", "middle left", "top right", "top left",
                  "bottom right", "bottom left")
Box = tuple[float, float, float, float]


def label_positions(points: Sequence[tuple[float, float]], sizes: Sequence[float], texts: Sequence[str],
                    x_range: Sequence[float], y_range: Sequence[float]) -> list[str]:
    """A textposition per point (of TEXT_POSITIONS) so that labels stay inside the plot (PLOT_PX) and cover
    no other label and no marker, or as little as can be: labels are placed one by one, each where it costs
    least, then moved while that helps; tried in a few orders (by row, by latency, by metric), the best kept."""
    width, height = PLOT_PX
    pixels, radii = _pixels(points, sizes, x_range, y_range)
    markers = [(x - r, y - r, x + r, y + r) for (x, y), r in zip(pixels, radii)]
    boxes = [{p: text_box(x, y, r, len(text) * CHAR_PX, p) for p in TEXT_POSITIONS} if text else {}
             for (x, y), r, text in zip(pixels, radii, texts)]

    def cost(i: int, position: str, chosen: dict[int, str]) -> float:
        box = boxes[i][position]
        return (4 * _outside(box, width, height) + 2 * sum(_overlap(box, m) for m in markers)
                + sum(_overlap(box, boxes[j][p]) for j, p in chosen.items() if j != i))

    labelled = [i for i, text in enumerate(texts) if text]
    orders = [labelled, sorted(labelled, key=lambda i: points[i]), sorted(labelled, key=lambda i: points[i][::-1]),
              sorted(labelled, key=lambda i: points[i], reverse=True)]
    orders = orders if len(labelled) <= 20 else orders[:1]  # many labels: one order, kept fast
    best: tuple[float, dict[int, str]] | None = None
    for order in orders:
        chosen: dict[int, str] = {}
        for _ in range(4):  # the first pass places each label, the next ones move a label where it costs less
            before = dict(chosen)
            for i in order:
                chosen[i] = min(TEXT_POSITIONS, key=lambda p: cost(i, p, chosen))
            if chosen == before:
                break
        total = sum(cost(i, p, chosen) for i, p in chosen.items())
        if best is None or total < best[0]:
            best = (total, chosen)
        if not total:
            break
    placed = best[1] if best else {}
    return [placed.get(i, "top center") for i in range(len(points))]


def visible_labels(points: Sequence[tuple[float, float]], sizes: Sequence[float], texts: Sequence[str],
                   positions: Sequence[str], x_range: Sequence[float], y_range: Sequence[float],
                   first: Sequence[int] = ()) -> list[str]:
    """``texts`` with "" for each label that, at its position, would leave the plot or cover a label kept
    before it (kept in the order ``first``, then by row): where :func:`label_positions` finds no room for
    every label (many models close together), no two drawn labels overlap; the hover still names each point."""
    pixels, radii = _pixels(points, sizes, x_range, y_range)
    kept: list[Box] = []
    shown = [""] * len(texts)
    for i in dict.fromkeys([*first, *range(len(texts))]):
        if not texts[i]:
            continue
        box = text_box(*pixels[i], radii[i], len(texts[i]) * CHAR_PX, positions[i])
        if _outside(box, *PLOT_PX) < 1e-6 and not any(_overlap(box, other) for other in kept):
            kept.append(box)
            shown[i] = texts[i]
    return shown


def _pixels(points: Sequence[tuple[float, float]], sizes: Sequence[float], x_range: Sequence[float],
            y_range: Sequence[float]) -> tuple[list[tuple[float, float]], list[float]]:
    """Each point's position in the plot area (PLOT_PX, pixels) and its marker's radius as plotly offsets text
    by it (radius / 0.8 + 1)."""
    width, height = PLOT_PX
    scale_x, scale_y = width / ((x_range[1] - x_range[0]) or 1.0), height / ((y_range[1] - y_range[0]) or 1.0)
    pixels = [((x - x_range[0]) * scale_x, (y - y_range[0]) * scale_y) for x, y in points]
    return pixels, [size / 2 / 0.8 + 1 for size in sizes]


def text_box(x: float, y: float, radius: float, width: float, position: str) -> Box:
    """The pixel box (x0, y0, x1, y1, y upwards) of a label at ``position`` around a marker at (x, y)."""
    vertical, horizontal = position.split()
    dx = {"left": -radius - width, "center": -width / 2, "right": radius}[horizontal]
    dy = {"bottom": -radius - LINE_PX, "middle": -LINE_PX / 2, "top": radius}[vertical]
    return x + dx, y + dy, x + dx + width, y + dy + LINE_PX


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _outside(box: Box, width: float, height: float) -> float:
    """The area of ``box`` outside the plot area."""
    return (box[2] - box[0]) * (box[3] - box[1]) - _overlap(box, (0.0, 0.0, width, height))
