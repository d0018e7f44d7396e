"""Markdown tables of a `bench/run` results file: medians over the rounds, the share of the
physical floor, and each goal of the benchmark issue met or not."""

import json
import statistics
import sys

runs = json.load(open(sys.argv[1]))
backends = [b for b in ("sqlite", "postgres") if any(r["backend"] == b for r in runs)]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def of(backend):
    return [r for r in runs if r["backend"] == backend]


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


goals = []

print(f"rounds: {len(of(backends[0]))} per backend, alternating; medians over the rounds\n")
print("### W1 lifecycle (closed loop, the application path, every write timed)\n")
print("| backend | clients | transitions/s | p50 ms | p95 ms | p99 ms | floor transitions/s | share of floor | server CPU s / 1,000 | load generator CPU s / 1,000 | server peak RSS MB |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
# Each backend's W1 runs at each client count, over the rounds.
w1_rows = [
    (b, c, [w for r in of(b) for w in r["w1_lifecycle"] if w["clients"] == c])
    for b in backends
    for c in [w["clients"] for w in of(b)[0]["w1_lifecycle"]]
]
for b, c, rows in w1_rows:
    tps = med(w["transitions_per_second"] for w in rows)
    share = med(w["share_of_floor"] for w in rows)
    p99 = med(w["p99_ms"] for w in rows)
    print(
        f"| {b} | {c} | {fmt(tps)} | {fmt(med(w['p50_ms'] for w in rows), 1)} | "
        f"{fmt(med(w['p95_ms'] for w in rows), 1)} | {fmt(p99, 1)} | "
        f"{fmt(med(w['floor_transitions_per_second'] for w in rows))} | {fmt(share * 100, 0)}% | "
        f"{fmt(med(w['server_cpu_seconds_per_1000'] for w in rows), 2)} | "
        f"{fmt(med(w['load_generator_cpu_seconds_per_1000'] for w in rows), 2)} | "
        f"{fmt(max(w['server_peak_rss_mb'] for w in rows))} |"
    )
    if c == 16 and b == "sqlite":
        goals.append(("W1 SQLite ≥ 50% of the floor (16 clients)", share >= 0.5, f"{share * 100:.0f}%"))
        goals.append(("W1 SQLite ≥ 3,000 transitions/s at 16 clients", tps >= 3000, f"{tps:,.0f}/s"))
        goals.append(("W1 SQLite p99 < 25 ms at 16 clients", p99 < 25, f"{p99:.1f} ms"))
    if c == 16 and b == "postgres":
        goals.append(("W1 PostgreSQL ≥ 60% of the floor at 16 clients", share >= 0.6, f"{share * 100:.0f}%"))

def w1_table(title, present, headers, cells):
    """A table of W1's rows (a backend at a client count) that carry the figure `present`:
    `cells(of)` gives a row's cells after its backend and clients, `of(key)` being the median
    of a figure over the rounds."""
    if not any(w.get(present) for _, _, rows in w1_rows for w in rows):
        return
    print(f"\n### {title}\n")
    print("| backend | clients | " + " | ".join(headers) + " |")
    print("|---|---|" + "---|" * len(headers))
    for b, c, rows in w1_rows:
        of = lambda key, rows=rows: med(w.get(key) for w in rows)
        if of(present):
            print(f"| {b} | {c} | " + " | ".join(cells(of)) + " |")


w1_table(
    "The HTTP ceiling (`GET /healthz` in W1's closed loop, on W1's server just before it)",
    "http_ceiling_per_second",
    ["requests/s", "server CPU s / 1,000", "W1 transitions/s as a share of it", "floor as a share of it"],
    lambda of: [fmt(of("http_ceiling_per_second")), fmt(of("http_ceiling_server_cpu_seconds_per_1000"), 3)]
    + [f"{fmt(of(k) / of('http_ceiling_per_second') * 100)}%" for k in ("transitions_per_second", "floor_transitions_per_second")],
)
w1_table(
    "What the two cores allow (CPU seconds of the whole machine per 1,000: server, load generator, database, kernel)",
    "bound_transitions_per_second",
    [
        "a `/healthz` request",
        "a floor transition",
        "a W1 transition",
        "bound: a request plus a floor transition, nothing else, transitions/s",
        "bound as a share of the floor",
        "W1 as a share of the bound",
    ],
    lambda of: [
        fmt(of("http_ceiling_machine_cpu_seconds_per_1000"), 3),
        fmt(of("floor_machine_cpu_seconds_per_1000"), 3),
        fmt(of("machine_cpu_seconds_per_1000"), 3),
        fmt(of("bound_transitions_per_second")),
        f"{fmt(of('bound_share_of_floor') * 100)}%",
        f"{fmt(of('transitions_per_second') / of('bound_transitions_per_second') * 100)}%",
    ],
)

print("\n### W2 deadline burst (open loop: create, two forms, submit per arrival; latency from the arrival's due time)\n")
print("| backend | rate /s | achieved /s | p50 ms | p95 ms | p99 ms | errors | runs |")
print("|---|---|---|---|---|---|---|---|")
for b in backends:
    rates = sorted({s["rate"] for r in of(b) for s in r["w2_burst"]["steps"]})
    for rate in rates:
        steps = [s for r in of(b) for s in r["w2_burst"]["steps"] if s["rate"] == rate]
        print(
            f"| {b} | {rate:,} | {fmt(med(s['achieved_per_second'] for s in steps))} | "
            f"{fmt(med(s['p50_ms'] for s in steps), 1)} | {fmt(med(s['p95_ms'] for s in steps), 1)} | "
            f"{fmt(med(s['p99_ms'] for s in steps), 1)} | {sum(s['errors'] for s in steps)} | {len(steps)} |"
        )
print("\n| backend | knee (p99 < 100 ms, no error), median /s | knees per round | server peak RSS during W2, MB |")
print("|---|---|---|---|")
for b in backends:
    knees = [r["w2_burst"]["knee_per_second"] for r in of(b)]
    knee = med(knees)
    rss = max(r["w2_burst"]["server_peak_rss_mb"] for r in of(b))
    print(f"| {b} | {fmt(knee)} | {', '.join(fmt(k) for k in knees)} | {rss:.0f} |")
    if b == "sqlite":
        goals.append(("W2 knee ≥ 1,000 submissions/s on SQLite", (knee or 0) >= 1000, f"{fmt(knee)}/s"))
    goals.append((f"peak RSS < 150 MB during W2 ({b})", rss < 150, f"{rss:.0f} MB"))

print("\n### W3 a working day (16 clients: 70% reads, 20% actions, 10% new cases)\n")
print("| backend | requests/s | reads p50 / p99 ms | actions p50 / p99 ms | creates p50 / p99 ms |")
print("|---|---|---|---|---|")
for b in backends:
    w = [r["w3_working_day"] for r in of(b)]
    cell = lambda k: f"{fmt(med(x[k]['p50_ms'] for x in w), 1)} / {fmt(med(x[k]['p99_ms'] for x in w), 1)}"
    print(f"| {b} | {fmt(med(x['requests_per_second'] for x in w))} | {cell('reads')} | {cell('actions')} | {cell('creates')} |")

print("\n### Start to /readyz on an existing database\n")
print("| backend | median ms | runs |")
print("|---|---|---|")
for b in backends:
    ready = med(r["start_to_ready_ms"] for r in of(b))
    print(f"| {b} | {ready:.0f} | {len(of(b))} |")
    goals.append((f"start to /readyz < 1 s ({b})", ready < 1000, f"{ready:.0f} ms"))

print("\n### Goals\n")
print("| goal | met | measured |")
print("|---|---|---|")
for name, met, value in goals:
    print(f"| {name} | {'yes' if met else '**no**'} | {value} |")
