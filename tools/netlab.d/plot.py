#!/usr/bin/env python3
"""plot.py - the tcp-vs-udp experiment's results as a small SVG plot.

    plot.py RESULTS.tsv OUT.svg

RESULTS.tsv has one row per loss rate: loss (%), lines, UDP echoes back,
UDP seconds, TCP lines delivered, TCP seconds, TCP retransmissions. The
plot has two panels sharing the loss axis: what arrived (%), and how long
it took (s). Standard library only.
"""

import sys
from xml.sax.saxutils import escape

W, H = 900, 360
PANEL_W, PANEL_H, TOP, LEFT, GAP = 340, 240, 60, 70, 120
TCP, UDP = "#1f6feb", "#cf222e"


def read(path):
    rows = []
    with open(path) as f:
        for line in f:
            v = line.split()
            if len(v) == 7:
                loss, n, back, us, deliv, ts, rt = v
                rows.append((float(loss), int(n), int(back), float(us), int(deliv),
                             float(ts), int(rt)))
    return rows


def panel(out, x0, title, series, ymax, unit):
    """Draws one panel at X0: axes, ticks, and each (name, colour, points)."""
    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{TOP - 20}" text-anchor="middle" '
               f'font-weight="bold">{escape(title)}</text>')
    out.append(f'<rect x="{x0}" y="{TOP}" width="{PANEL_W}" height="{PANEL_H}" '
               'fill="none" stroke="#8c959f"/>')
    xmax = max(max(p[0] for p in pts) for _, _, pts in series) or 1
    for i in range(5):
        y = TOP + PANEL_H - PANEL_H * i / 4
        out.append(f'<text x="{x0 - 8}" y="{y + 5}" text-anchor="end" fill="#57606a">'
                   f'{ymax * i / 4:g}{unit}</text>')
    ticks = sorted({p[0] for _, _, pts in series for p in pts})
    for t in ticks:
        x = x0 + PANEL_W * t / xmax
        out.append(f'<text x="{x}" y="{TOP + PANEL_H + 20}" text-anchor="middle" '
                   f'fill="#57606a">{t:g}%</text>')
    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{TOP + PANEL_H + 45}" '
               'text-anchor="middle">packets lost on the link</text>')
    for name, colour, pts in series:
        xy = [(x0 + PANEL_W * px / xmax, TOP + PANEL_H - PANEL_H * min(py, ymax) / ymax)
              for px, py in pts]
        out.append('<polyline fill="none" stroke-width="3" stroke="%s" points="%s"/>'
                   % (colour, " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)))
        for x, y in xy:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>')
        lx, ly = xy[-1]
        out.append(f'<text x="{lx - 8:.1f}" y="{ly - 12:.1f}" text-anchor="end" '
                   f'fill="{colour}" font-weight="bold">{escape(name)}</text>')


def nice(v):
    """A round number at or above V for an axis."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if v <= step:
            return step
    return v


def main():
    if len(sys.argv) != 3:
        print("usage: plot.py RESULTS.tsv OUT.svg", file=sys.stderr)
        return 2
    rows = read(sys.argv[1])
    if not rows:
        print("plot: no results", file=sys.stderr)
        return 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="DejaVu Sans, sans-serif" font-size="15">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    got = [("TCP", TCP, [(r[0], 100 * r[4] / r[1]) for r in rows]),
           ("UDP", UDP, [(r[0], 100 * r[2] / r[1]) for r in rows])]
    panel(out, LEFT, f"lines echoed back (of {rows[0][1]})", got, 100, "%")
    secs = [("TCP", TCP, [(r[0], r[5]) for r in rows]),
            ("UDP", UDP, [(r[0], r[3]) for r in rows])]
    ymax = nice(max(max(r[5], r[3]) for r in rows))
    panel(out, LEFT + PANEL_W + GAP, "time to echo them all", secs, ymax, " s")
    out.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
