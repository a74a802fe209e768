#!/usr/bin/env python3
"""Fails `make test` when a test was skipped for a reason that tests/expected_skips.txt does not list.

    check_skips.py JUNIT_XML EXPECTED_SKIPS

JUNIT_XML is ctest's --output-junit file. Each line of EXPECTED_SKIPS is
    TEST_GLOB | TEXT_IN_THE_SKIP_MESSAGE    (a '#' starts a comment)
A skipped test passes only if some line's glob matches its name and its output contains the
text: a test skipped because a feature or data is missing fails the run, so CI never goes green
with tests quietly missing.
"""
import fnmatch
import sys
import xml.etree.ElementTree as ET


def expected(path):
    rules = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if "|" not in line:
                sys.exit(f"{path}:{number}: expected 'TEST_GLOB | TEXT', got {line!r}")
            glob, text = (part.strip() for part in line.split("|", 1))
            rules.append((glob, text))
    return rules


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    junit, skips = sys.argv[1:]
    try:
        cases = ET.parse(junit).getroot().iter("testcase")
    except (OSError, ET.ParseError) as e:
        sys.exit(f"check_skips: cannot read {junit}: {e}")
    rules = expected(skips)
    ran = 0
    unexpected = []
    for case in cases:
        ran += 1
        if case.find("skipped") is None:
            continue
        name = case.get("name", "")
        out = case.findtext("system-out") or ""
        if not any(fnmatch.fnmatchcase(name, g) and t in out for g, t in rules):
            reason = next((l.strip() for l in reversed(out.splitlines()) if l.strip()), "no output")
            unexpected.append(f"  {name}: {reason[:200]}")
    if ran == 0:
        sys.exit(f"check_skips: {junit} lists no tests")
    if unexpected:
        print(f"check_skips: {len(unexpected)} test(s) skipped for a reason {skips} does not list:")
        print("\n".join(unexpected))
        sys.exit(1)
    print(f"check_skips: {ran} tests, no unexpected skips")


if __name__ == "__main__":
    main()
