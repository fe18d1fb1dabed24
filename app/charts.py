"""Charts drawn on the server as inline SVG: no script, no network, no inline style (the page CSP
forbids both), so they show the same in the browser, in a screenshot and in a PDF.

    line_chart([("本店", [("11-01", 0.012), …]), ("类目均值", [...])], fmt=percent)
    bar_chart([("not_received", 12), ("quality", 7)], fmt=str)

Colours come from CSS classes (`chart-s0` … in app.css), so a chart follows the page's theme; every
point and bar carries a <title> (the browser shows it on hover, a screen reader reads it) and the
chart has an accessible name."""
from markupsafe import Markup, escape

SERIES = 6  # chart-s0 … chart-s5 in app.css


def percent(value):
    return f"{value * 100:.1f}%"


def _fmt(value, fmt):
    return fmt(value) if fmt else f"{value:g}"


def _ticks(top, whole=False):
    """Four round gridline values from 0 to at least `top`; whole numbers only for counts (`whole`)."""
    if top <= 0:
        return [0, 1]
    if whole and top <= 4:
        return list(range(int(-(-top // 1)) + 1))
    step = 10 ** len(str(int(top / 4))) / 10 if top >= 4 else top / 4
    for mult in ((1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)):
        if top / (step * mult) <= 4:
            step *= mult
            break
    return [step * i for i in range(5) if step * (i - 1) < top]


def line_chart(series, *, title, fmt=None, width=640, height=220, whole=False, max_labels=None, strong=()):
    """Lines over shared x labels: `series` is [(name, [(x label, value or None), …]), …]; `whole`: the values
    are counts, so the gridlines are whole numbers (no "0.75 cases"); `max_labels`: at most about this many x
    labels (every n-th, and the last), for text that must stay legible when a phone scales the chart down;
    `strong`: the indexes of the series that matter most — drawn last (on top of equal values) and thicker.
    The last x label ends at the last point (anchored "end"), so it is never cut off at the right edge."""
    labels = [x for x, _ in series[0][1]] if series else []
    values = [v for _, points in series for _, v in points if v is not None]
    ticks = _ticks(max(values, default=0), whole)
    left, right, top, bottom = 56, 12, 12, 40
    w, h = width - left - right, height - top - bottom
    ymax = ticks[-1] or 1

    def x(i):
        return left + (w * i / max(len(labels) - 1, 1))

    def y(v):
        return top + h - h * v / ymax

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for t in ticks:
        out.append(f'<line class="chart-grid" x1="{left}" x2="{left + w}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
                   f'<text class="chart-axis" x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">'
                   f'{escape(_fmt(t, fmt))}</text>')
    every = max(1, len(labels) // 8) if max_labels is None else max(1, -(-len(labels) // max_labels))
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            anchor = "end" if i == len(labels) - 1 and i else "middle"
            out.append(f'<text class="chart-axis" x="{x(i):.1f}" y="{top + h + 16}" text-anchor="{anchor}">'
                       f'{escape(label)}</text>')
    order = [n for n in range(len(series)) if n not in strong] + [n for n in range(len(series)) if n in strong]
    for n in order:
        name, points = series[n]
        cls = f"chart-s{n % SERIES}" + (" chart-strong" if n in strong else "")
        runs, run = [], []
        for i, (_, v) in enumerate(points):
            if v is None:
                runs, run = runs + [run] if run else runs, []
            else:
                run.append(f"{x(i):.1f},{y(v):.1f}")
        runs += [run] if run else []
        for r in runs:
            out.append(f'<polyline class="chart-line {cls}" points="{" ".join(r)}"/>')
        for i, (label, v) in enumerate(points):
            if v is not None:
                out.append(f'<circle class="chart-dot {cls}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5">'
                           f'<title>{escape(name)} {escape(label)}: {escape(_fmt(v, fmt))}</title></circle>')
    lx = left
    for n, (name, _) in enumerate(series):
        out.append(f'<rect class="chart-key chart-s{n % SERIES}" x="{lx}" y="{height - 14}" width="10" height="10"/>'
                   f'<text class="chart-axis" x="{lx + 14}" y="{height - 5}">{escape(name)}</text>')
        lx += 24 + 13 * len(str(name))
    out.append("</svg>")
    return Markup("".join(out))  # nosec B704 - every text in `out` went through escape()


def bar_chart(rows, *, title, fmt=None, width=640, bar=22, label_width=160):
    """Horizontal bars: `rows` is [(label, value), …], drawn in the order given."""
    top = max((v for _, v in rows), default=0)
    ticks = _ticks(top)
    vmax = ticks[-1] or 1
    w = width - label_width - 60
    height = max(len(rows), 1) * (bar + 6) + 8
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, v) in enumerate(rows):
        y0 = 4 + i * (bar + 6)
        length = w * v / vmax if v else 0
        out.append(f'<text class="chart-axis" x="{label_width - 8}" y="{y0 + bar * 0.7:.1f}" text-anchor="end">'
                   f'{escape(label)}</text>'
                   f'<rect class="chart-bar chart-s0" x="{label_width}" y="{y0}" width="{length:.1f}" height="{bar}">'
                   f'<title>{escape(label)}: {escape(_fmt(v, fmt))}</title></rect>'
                   f'<text class="chart-value" x="{label_width + length + 6:.1f}" y="{y0 + bar * 0.7:.1f}">'
                   f'{escape(_fmt(v, fmt))}</text>')
    out.append("</svg>")
    return Markup("".join(out))  # nosec B704 - every text in `out` went through escape()
