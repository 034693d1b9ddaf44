"""Turns bench/run.sh's raw lines into a Markdown table and an SVG bar chart.

Usage: report.py RAW OUT_DIR DATE MACHINE COMMAND
"""
import sys
from collections import defaultdict

raw, out, date, machine, command = sys.argv[1:6]
rows = defaultdict(dict)
order = []
for line in open(raw):
    kv = dict(item.split("=", 1) for item in line.split())
    server, mode = kv["server"], kv["mode"]
    if server not in order:
        order.append(server)
    rows[server][mode] = kv

def num(server, mode, key):
    return float(rows[server].get(mode, {}).get(key, "nan"))

ref = "rmcp"
md = [f"Run {date} on {machine}; `{command}`; servers pinned to core 0, load generator to core 1, "
      "64 connections, 2 s warm-up, every reply checked.", ""]
md.append("| server | mode | req/s | p50 µs | p99 µs | max µs | errors | server CPU µs/op | vs rmcp | peak RSS KiB |")
md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in order:
    for m in ("one", "many", "churn"):
        r = rows[s].get(m)
        if not r:
            continue
        cpu = float(r["cpu_us_per_op"])
        ratio = cpu / num(ref, m, "cpu_us_per_op") if ref in rows else float("nan")
        md.append(f"| {s} | {m} | {r['rps']} | {r['p50_us']} | {r['p99_us']} | {r['max_us']} | {r['errors']} | "
                  f"{cpu:.1f} | {ratio:.2f} | {r['hwm_kib']} |")
md += ["", "| server | many ÷ one (CPU/op) | idle RSS KiB | RSS after 10,000 sessions KiB | bytes per idle session | stripped binary bytes |",
       "|---|---:|---:|---:|---:|---:|"]
for s in order:
    r = rows[s].get("sessions", {})
    ratio = num(s, "many", "cpu_us_per_op") / num(s, "one", "cpu_us_per_op")
    md.append(f"| {s} | {ratio:.2f} | {r.get('idle_rss_kib', '?')} | {r.get('rss_kib', '?')} | "
              f"{r.get('bytes_per_session', '?')} | {rows[s].get('binary', {}).get('bytes', '?')} |")
md += ["", "Modes: `one` = `tools/call echo` on one session; `many` = calls spread over 1,000 sessions; "
       "`churn` = initialize + initialized + call + DELETE per operation. CPU per operation is the server's "
       "user+system time (`/proc/PID/stat`) over the measured window divided by completed operations."]
open(f"{out}/results.md", "w").write("\n".join(md) + "\n")

# Chart: server CPU µs per operation, grouped by mode; lower is better.
colors = {"switchboard-smol": "#2b8a3e", "switchboard-tokio": "#1971c2", "rmcp": "#c92a2a"}
modes = ["one", "many", "churn"]
width, height, left, top, bottom = 640, 320, 60, 40, 50
plot_h = height - top - bottom
vmax = max(num(s, m, "cpu_us_per_op") for s in order for m in modes if m in rows[s]) * 1.15
group_w = (width - left - 20) / len(modes)
bar_w = group_w / (len(order) + 1)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
       f'<rect width="{width}" height="{height}" fill="white"/>',
       f'<text x="{width/2}" y="20" text-anchor="middle" font-size="14">Server CPU per operation (µs, lower is better) — {date}</text>']
for i in range(5):
    v = vmax * i / 4
    y = top + plot_h - plot_h * i / 4
    svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width-20}" y2="{y:.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{left-6}" y="{y+4:.1f}" text-anchor="end">{v:.0f}</text>')
for gi, m in enumerate(modes):
    gx = left + gi * group_w
    svg.append(f'<text x="{gx + group_w/2:.1f}" y="{height-bottom+18}" text-anchor="middle">{m}</text>')
    for si, s in enumerate(order):
        v = num(s, m, "cpu_us_per_op")
        if v != v:
            continue
        h = plot_h * v / vmax
        x = gx + bar_w * (si + 0.5)
        svg.append(f'<rect x="{x:.1f}" y="{top+plot_h-h:.1f}" width="{bar_w*0.9:.1f}" height="{h:.1f}" fill="{colors.get(s, "#888")}"/>')
        svg.append(f'<text x="{x+bar_w*0.45:.1f}" y="{top+plot_h-h-4:.1f}" text-anchor="middle" font-size="10">{v:.1f}</text>')
for si, s in enumerate(order):
    x = left + si * 170
    svg.append(f'<rect x="{x}" y="{height-20}" width="12" height="12" fill="{colors.get(s, "#888")}"/>')
    svg.append(f'<text x="{x+16}" y="{height-10}">{s}</text>')
svg.append("</svg>")
open(f"{out}/chart.svg", "w").write("\n".join(svg) + "\n")
