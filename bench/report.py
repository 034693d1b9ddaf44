"""Turns bench/run.sh's raw lines into a Markdown table and an SVG bar chart.

Usage: report.py RAW OUT_DIR DATE MACHINE COMMAND
"""
import sys
from collections import defaultdict

raw, out, date, machine, command = sys.argv[1:6]
runs = defaultdict(lambda: defaultdict(list))  # server -> mode -> [kv, ...]
order = []
for line in open(raw):
    kv = dict(item.split("=", 1) for item in line.split())
    server, mode = kv["server"], kv["mode"]
    if server not in order:
        order.append(server)
    runs[server][mode].append(kv)

def cpu(kv):
    return float(kv["cpu_us_per_op"])

def median_run(server, mode):
    """The run with the median CPU per operation (its other figures go with it)."""
    rs = sorted(runs[server].get(mode, []), key=cpu)
    return rs[(len(rs) - 1) // 2] if rs else None

def num(server, mode, key="cpu_us_per_op"):
    r = median_run(server, mode)
    return float(r[key]) if r else float("nan")

def spread(server, mode):
    cs = [cpu(r) for r in runs[server].get(mode, [])]
    return f"{min(cs):.1f}–{max(cs):.1f}" if cs else "?"

def round_ratios(server, mode, ref_server, ref_mode):
    """CPU-per-operation ratios of runs in the same round, which ran minutes
    (one and many: seconds) apart and so share the machine's state."""
    by_round = lambda s, m: {r.get("round"): cpu(r) for r in runs[s].get(m, [])}
    a, b = by_round(server, mode), by_round(ref_server, ref_mode)
    return sorted(a[k] / b[k] for k in a if k in b)

def ratio_median(server, mode, ref_server, ref_mode):
    rs = round_ratios(server, mode, ref_server, ref_mode)
    return rs[(len(rs) - 1) // 2] if rs else float("nan")

def ratio_spread(server, mode, ref_server, ref_mode):
    rs = round_ratios(server, mode, ref_server, ref_mode)
    return f"{rs[0]:.2f}–{rs[-1]:.2f}" if rs else "?"

ref = "rmcp"
# Stateless calls are compared with rmcp's stateless mode when it ran.
ref_of = lambda m: "rmcp-stateless" if m == "stateless" and "rmcp-stateless" in runs else ref
n_rounds = max(len(v) for s in runs.values() for k, v in s.items() if k in ("one", "many", "churn"))
md = [f"Run {date} on {machine}; `{command}`; servers pinned to core 0, load generator to core 1, "
      f"64 connections, 2 s warm-up, every reply checked; {n_rounds} rounds. Each row's figures come from "
      "the run with the median CPU per operation; ratios are the median of the per-round ratios (runs of "
      "one round share the machine's state), with their range.", ""]
md.append("| server | mode | req/s | p50 µs | p99 µs | max µs | errors | server CPU µs/op | CPU range over rounds | vs rmcp | vs rmcp per round | peak RSS KiB |")
md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in order:
    for m in ("one", "many", "churn", "stateless"):
        r = median_run(s, m)
        if not r:
            continue
        mref = ref_of(m)
        ratio = ratio_median(s, m, mref, m) if mref in runs else float("nan")
        hwm = max(int(x["hwm_kib"]) for x in runs[s][m])
        errors = sum(int(x["errors"]) for x in runs[s][m])
        md.append(f"| {s} | {m} | {r['rps']} | {r['p50_us']} | {r['p99_us']} | {r['max_us']} | {errors} | "
                  f"{cpu(r):.1f} | {spread(s, m)} | {ratio:.2f} | {ratio_spread(s, m, mref, m)} | {hwm} |")
md += ["", "| server | many ÷ one | many ÷ one per round | ratio of the medians | idle RSS KiB | RSS after 10,000 sessions KiB | bytes per idle session | stripped binary bytes |",
       "|---|---:|---:|---:|---:|---:|---:|---:|"]
for s in order:
    if not runs[s].get("one"):
        continue
    r = (runs[s].get("sessions") or [{}])[0]
    ratio = ratio_median(s, "many", s, "one")
    of_medians = num(s, "many") / num(s, "one")
    binary = (runs[s].get("binary") or [{}])[0]
    md.append(f"| {s} | {ratio:.2f} | {ratio_spread(s, 'many', s, 'one')} | {of_medians:.2f} | {r.get('idle_rss_kib', '?')} | "
              f"{r.get('rss_kib', '?')} | {r.get('bytes_per_session', '?')} | {binary.get('bytes', '?')} |")
md += ["", "Modes: `one` = `tools/call echo` on one session; `many` = calls spread over 1,000 sessions; "
       "`churn` = initialize + initialized + call + DELETE per operation; `stateless` = a 2026-07-28 "
       "`tools/call echo` with its `_meta` and routing headers and no session (its `vs rmcp` column is "
       "against rmcp's stateless mode, `rmcp-stateless`). CPU per operation is the server's "
       "user+system time (`/proc/PID/stat`) over the measured window divided by completed operations. "
       "Peak RSS is the highest `VmHWM` over the rounds; errors are summed over them."]
open(f"{out}/results.md", "w").write("\n".join(md) + "\n")

# Chart: server CPU µs per operation, grouped by mode; lower is better.
colors = {"switchboard-smol": "#2b8a3e", "switchboard-tokio": "#1971c2", "rmcp": "#c92a2a",
          "rmcp-stateless": "#e67700"}
modes = ["one", "many", "churn", "stateless"]
width, height, left, top, bottom = 720, 320, 60, 40, 50
plot_h = height - top - bottom
vmax = max(num(s, m) for s in order for m in modes if runs[s].get(m)) * 1.15
group_w = (width - left - 20) / len(modes)
bar_w = group_w / (len(order) + 1)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
       f'<rect width="{width}" height="{height}" fill="white"/>',
       f'<text x="{width/2}" y="20" text-anchor="middle" font-size="14">Server CPU per operation (µs, median of rounds; lower is better) — {date}</text>']
for i in range(5):
    v = vmax * i / 4
    y = top + plot_h - plot_h * i / 4
    svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width-20}" y2="{y:.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{left-6}" y="{y+4:.1f}" text-anchor="end">{v:.0f}</text>')
for gi, m in enumerate(modes):
    gx = left + gi * group_w
    svg.append(f'<text x="{gx + group_w/2:.1f}" y="{height-bottom+18}" text-anchor="middle">{m}</text>')
    for si, s in enumerate(order):
        v = num(s, m)
        if v != v:
            continue
        h = plot_h * v / vmax
        x = gx + bar_w * (si + 0.5)
        svg.append(f'<rect x="{x:.1f}" y="{top+plot_h-h:.1f}" width="{bar_w*0.9:.1f}" height="{h:.1f}" fill="{colors.get(s, "#888")}"/>')
        svg.append(f'<text x="{x+bar_w*0.45:.1f}" y="{top+plot_h-h-4:.1f}" text-anchor="middle" font-size="10">{v:.1f}</text>')
for si, s in enumerate(order):
    x = left + si * 150
    svg.append(f'<rect x="{x}" y="{height-20}" width="12" height="12" fill="{colors.get(s, "#888")}"/>')
    svg.append(f'<text x="{x+16}" y="{height-10}">{s}</text>')
svg.append("</svg>")
open(f"{out}/chart.svg", "w").write("\n".join(svg) + "\n")
