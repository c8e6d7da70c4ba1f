"""report.py WHAT RESULTS NOTES SEED [ARG] - tools/grade's reports.

WHAT is one of:
  table             the readable table, ending in "score: X/Y"
  json SECONDS      Gradescope's results.json
  junit NAME        a JUnit XML report, one <testsuite> per suite and run
  scores            one line per suite: "unit<TAB>earned<TAB>max"
  total             "EARNED MAX" over every row

RESULTS has one row per test, columns separated by TABs (see report.bash);
NOTES, lines about the grading as a whole; SEED, the fault-injection seed.
JSON and XML are written by python's own serializers (json, xml.etree), so
whatever a submission printed, the reports are valid.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

DETAIL_MAX = 6000
# Control characters but TAB and LF: not allowed in XML 1.0, unkind in JSON.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def clean(text):
    return CONTROL.sub("", text)


def read_text(path):
    with open(path, "rb") as f:
        return clean(f.read().decode("utf-8", "replace"))


def rows(path):
    out = []
    with open(path, "rb") as f:
        for raw in f.read().decode("utf-8", "replace").splitlines():
            if not raw:
                continue
            unit, run, name, earned, mx, status, ms, hint, detail = (
                raw.split("\t") + ["-"] * 9)[:9]
            out.append(dict(unit=unit, run=run, name=name,
                            earned=float(earned), max=float(mx), status=status,
                            ms=None if ms == "-" else int(ms),
                            hint=None if hint == "-" else clean(hint),
                            detail=None if detail == "-" else detail))
    return out


def num(x):
    if x == int(x):
        return "%d" % x
    return ("%.2f" % x).rstrip("0")


def label(unit, run, seed):
    short = unit.split("-")[0]
    return f"{short} [faults seed {seed}]" if run == "faults" else short


def detail_text(row):
    parts = []
    if row["hint"]:
        parts.append(row["hint"])
    path = row["detail"]
    if path:
        try:
            text = read_text(path)
        except OSError:
            text = ""
        if text:
            if len(text.encode()) > DETAIL_MAX:
                text = text.encode()[:DETAIL_MAX].decode("utf-8", "ignore")
                text += "\n[... cut: the raw TAP output has it all]\n"
            parts.append(text)
    return "\n\n".join(parts) if len(parts) > 1 else "".join(parts)


def number(x):
    """X as JSON shows a score: 3, not 3.0; 1.5 stays 1.5."""
    return int(x) if x == int(x) else x


def lost(row):
    return row["status"] in ("failed", "timeout")


def table(results, notes, seed):
    out = [notes]
    unit = run = None
    ue = um = te = tm = 0.0
    marks = {"failed": "FAIL", "timeout": "TIME", "skipped": "SKIP"}
    for r in results:
        if r["unit"] != unit:
            if unit is not None:
                out.append(f"  {unit} total: {num(ue)}/{num(um)}\n\n")
            ue = um = 0.0
            unit, run = r["unit"], None
        if r["run"] == "build":
            ok = "ok" if r["status"] == "passed" else "FAILED"
            out.append(f"{unit}: build {ok}" + (f": {r['hint']}" if r["hint"] else "") + "\n")
            continue
        if r["run"] != run:
            run = r["run"]
            if run == "faults":
                out.append(f'  under fault injection, as "{label(unit, run, seed)}":\n')
        ue += r["earned"]; um += r["max"]; te += r["earned"]; tm += r["max"]
        mark = marks.get(r["status"], "PASS")
        out.append("  %-4s %5s  %s\n" % (mark, num(r["earned"]) + "/" + num(r["max"]), r["name"]))
        if r["status"] != "passed" and r["hint"]:
            out.append(f"              {r['hint']}\n")
    if unit is not None:
        out.append(f"  {unit} total: {num(ue)}/{num(um)}\n\n")
    timeouts = sum(1 for r in results if r["status"] == "timeout")
    if timeouts:
        out.append(f"timed out: {timeouts} test(s) (TIME): a deadline ran out, not a wrong answer; tools/grade --regrade-timeouts grades only those again\n")
    out.append(f"score: {num(te)}/{num(tm)}\n")
    return "".join(out)


def totals(results):
    return sum(r["earned"] for r in results), sum(r["max"] for r in results)


def as_json(results, notes, seed, seconds):
    e, m = totals(results)
    tests = []
    for r in results:
        name = "build" if r["run"] == "build" else r["name"]
        tests.append({
            "name": f"{label(r['unit'], r['run'], seed)}: {name}",
            "score": number(r["earned"]), "max_score": number(r["max"]),
            "status": "failed" if lost(r) else "passed",
            "output": detail_text(r),
        })
    doc = {"score": number(e), "max_score": number(m), "execution_time": number(float(seconds)),
           "output": notes, "tests": tests}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def as_junit(results, seed, name):
    root = ET.Element("testsuites", name=clean(name), tests=str(len(results)),
                      failures=str(sum(1 for r in results if lost(r))))
    suites, stats = {}, {}
    for r in results:
        run = "plain" if r["run"] == "build" else r["run"]
        key = (r["unit"], run)
        if key not in suites:
            suites[key] = ET.SubElement(root, "testsuite", name=label(r["unit"], run, seed))
            stats[key] = [0, 0, 0, 0.0]  # tests, failures, skipped, seconds
        suite, stat = suites[key], stats[key]
        case = ET.SubElement(suite, "testcase", classname=label(r["unit"], run, seed),
                             name="build" if r["run"] == "build" else r["name"],
                             time="%.3f" % ((r["ms"] or 0) / 1000))
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="points", value=num(r["earned"]))
        ET.SubElement(props, "property", name="max_points", value=num(r["max"]))
        stat[0] += 1
        stat[3] += (r["ms"] or 0) / 1000
        if lost(r):
            stat[1] += 1
            fail = ET.SubElement(case, "failure", message=r["hint"] or "",
                                 type=r["status"])
            fail.text = detail_text(r)
        elif r["status"] == "skipped":
            stat[2] += 1
            ET.SubElement(case, "skipped")
    for key, suite in suites.items():
        n, f, s, t = stats[key]
        suite.set("tests", str(n)); suite.set("failures", str(f))
        suite.set("skipped", str(s)); suite.set("time", "%.3f" % t)
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def scores(results):
    order, e, m = [], {}, {}
    for r in results:
        if r["unit"] not in e:
            order.append(r["unit"]); e[r["unit"]] = m[r["unit"]] = 0.0
        e[r["unit"]] += r["earned"]; m[r["unit"]] += r["max"]
    return "".join("%s\t%.10g\t%.10g\n" % (u, e[u], m[u]) for u in order)


def main():
    what, results_path, notes_path, seed = sys.argv[1:5]
    arg = sys.argv[5] if len(sys.argv) > 5 else ""
    results = rows(results_path)
    notes = read_text(notes_path)
    if what == "table":
        text = table(results, notes, seed)
    elif what == "json":
        text = as_json(results, notes, seed, arg or 0)
    elif what == "junit":
        text = as_junit(results, seed, arg)
    elif what == "scores":
        text = scores(results)
    elif what == "total":
        text = "%.10g %.10g\n" % totals(results)
    else:
        sys.exit(f"report.py: unknown report {what}")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
