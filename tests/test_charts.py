"""The server-side SVG charts: well-formed, every value labelled, gaps left open, nothing inline that
the page CSP would refuse."""
import xml.etree.ElementTree as ET

from app.charts import bar_chart, line_chart, percent

NS = "{http://www.w3.org/2000/svg}"


def test_line_chart_labels_every_point_and_breaks_at_gaps():
    svg = line_chart([("本店", [("11-01", 0.01), ("11-02", None), ("11-03", 0.03)]),
                      ("类目均值", [("11-01", 0.02), ("11-02", 0.02), ("11-03", 0.02)])],
                     title="纠纷退款率 <趋势>", fmt=percent)
    root = ET.fromstring(str(svg))
    assert root.get("aria-label") == "纠纷退款率 <趋势>"
    titles = [t.text for t in root.iter(NS + "title")]
    assert "本店 11-03: 3.0%" in titles and "类目均值 11-02: 2.0%" in titles
    assert not any("11-02" in t for t in titles if t.startswith("本店"))       # no point where there is no value
    assert len(root.findall(NS + "polyline")) == 3                            # the gap splits the first line
    assert "style=" not in str(svg) and "<script" not in str(svg)


def test_bar_chart_lengths_follow_values():
    root = ET.fromstring(str(bar_chart([("a", 10), ("b", 5), ("c", 0)], title="t")))
    widths = [float(r.get("width")) for r in root.iter(NS + "rect")]
    assert widths[0] == 2 * widths[1] and widths[2] == 0


def test_empty_chart_renders():
    assert ET.fromstring(str(line_chart([], title="empty")))
    assert ET.fromstring(str(bar_chart([], title="empty")))


def test_the_last_x_label_ends_at_the_last_point_and_strong_series_are_drawn_last():
    svg = line_chart([("本店", [("11-30", 0.01), ("12-01", 0.02)]), ("类目均值", [("11-30", 0.01), ("12-01", 0.02)])],
                     title="t", fmt=percent, strong=(0,))
    root = ET.fromstring(str(svg))
    last = [t for t in root.iter(NS + "text") if t.text == "12-01"][0]
    assert last.get("text-anchor") == "end" and float(last.get("x")) <= 640
    lines = root.findall(NS + "polyline")
    assert [line.get("class") for line in lines] == ["chart-line chart-s1", "chart-line chart-s0 chart-strong"]
