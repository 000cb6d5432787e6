"""Medians per scenario of bench/run.sh's results and, when the peer ran, the ratios to it."""
import pathlib
import statistics
import sys


def load(path):
    rows = {}
    p = pathlib.Path(path)
    if not p.exists():
        return rows
    for line in p.read_text().splitlines():
        parts = line.split("\t")
        label, result = parts[0], parts[-1]
        fields = dict(kv.split("=", 1) for kv in result.split()[1:] if "=" in kv)
        rows.setdefault(label, []).append(fields)
    return rows


def median(rows, key):
    values = [float(r[key]) for r in rows if key in r]
    return statistics.median(values) if values else float("nan")


ours, peer = load(sys.argv[1]), load(sys.argv[2]) if len(sys.argv) > 2 else {}
print("| scenario | n | ours req/s | ours p50 ms | ours p99 ms | hit % | non-2xx | peer w1 req/s | peer p99 ms | req/s ratio |")
print("|---|---|---|---|---|---|---|---|---|---|")
for label, rows in ours.items():
    scenario = label.replace("ours ", "")
    peer_rows = peer.get("peer w1 " + scenario, [])
    rps, p_rps = median(rows, "rps"), median(peer_rows, "rps")
    ratio = f"{rps / p_rps:.1f}x" if peer_rows else "-"
    p99 = f"{median(peer_rows, 'p99_ms'):.2f}" if peer_rows else "-"
    p_rps_s = f"{p_rps:,.0f}" if peer_rows else "-"
    non2xx = sum(int(r.get("non2xx", 0)) for r in rows)
    print(f"| {scenario} | {len(rows)} | {rps:,.0f} | {median(rows, 'p50_ms'):.2f} | {median(rows, 'p99_ms'):.2f} "
          f"| {median(rows, 'hit_pct'):.1f} | {non2xx} | {p_rps_s} | {p99} | {ratio} |")
