"""Writes run_all.sh's results into docs/reliability.md, between the fuzz-table markers: a row per
target, replacing the rows of the targets just run and keeping the others.

Usage: write_table.py RESULTS.tsv docs/reliability.md "COMMAND"
"""
import datetime
import os
import sys

BEGIN = "<!-- fuzz-table:begin (written by tests/fuzz/run_all.sh) -->"
END = "<!-- fuzz-table:end -->"
HEADER = ("| target | seconds | executions | exec/s | coverage (cov/ft) | corpus (seeds → end) "
          "| crashes | leaks | timeouts | out-of-memory | run |")
RULE = "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"


def row(fields, when, command):
    t, secs, execs, rate, cov, seeds, corp, crashes, leaks, timeouts, ooms = fields
    return (f"| {t} | {secs} | {int(execs):,} | {rate} | {cov} | {seeds} → {corp} | {crashes} "
            f"| {leaks} | {timeouts} | {ooms} | {when}, `{command}` |")


def main():
    results, doc, command = sys.argv[1:4]
    when = datetime.date.today().isoformat()
    machine = f"{os.cpu_count()} cores"
    new = {}
    for line in open(results):
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 11:
            new[fields[0]] = row(fields, f"{when}, {machine}", command)
    text = open(doc).read() if os.path.exists(doc) else ""
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n" + BEGIN + "\n" + END + "\n"
    head, rest = text.split(BEGIN, 1)
    old, tail = rest.split(END, 1)
    rows = {}
    for line in old.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("target",) and not line.startswith("|---"):
            rows[cells[0]] = line
    rows.update(new)
    table = "\n".join([HEADER, RULE] + [rows[k] for k in sorted(rows)])
    with open(doc, "w") as f:
        f.write(head + BEGIN + "\n" + table + "\n" + END + tail)


if __name__ == "__main__":
    main()
