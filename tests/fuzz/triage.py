"""Groups a fuzz run's findings by cause: runs every reproducer once and keys it by what stopped
it (the uncaught exception's type and first words, or the sanitizer's report and the first stack
frame in a named function), printing each group's size and smallest reproducer.

Usage: python3 tests/fuzz/triage.py build-fuzz/fuzz_TARGET build-fuzz/run/artifacts/TARGET
"""
import collections
import os
import re
import subprocess
import sys


def cause(output):
    m = re.search(r"terminate called after throwing an instance of '([^']*)'\n\s*what\(\):\s*(.*)",
                  output)
    if m:
        # One group per type, named by its first message (the messages vary with the input).
        return f"uncaught {m.group(1)}", m.group(2).strip()[:90]
    m = re.search(r"FUZZ INVARIANT BROKEN: ([^(]*)", output)
    if m:
        return "invariant: " + m.group(1).strip(), ""
    m = re.search(r"(ERROR: (?:AddressSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z -]+|"
                  r"runtime error: [^\n]*)", output)
    if not m:
        return ("no finding (passes now)" if "Executed" in output else "unknown"), ""
    kind = re.sub(r"0x[0-9a-f]+|[0-9]+", "N", m.group(1))[:90]
    frames = re.findall(r"#\d+ 0x[0-9a-f]+ in ([^\s(]+)", output[m.start():])
    skip = ("__sanitizer", "__asan", "__ubsan", "fuzzer::", "__interceptor", "malloc", "operator new",
            "abort", "raise", "__pthread", "std::terminate", "__cxa", "__lsan", "calloc", "realloc")
    frame = next((f for f in frames if not f.startswith(skip)), "?")
    return f"{kind} in {frame[:80]}", ""


def main():
    exe, artifacts = sys.argv[1:3]
    groups = collections.defaultdict(list)
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sanitize", "lsan.supp")
    env = dict(os.environ, LSAN_OPTIONS=f"suppressions={supp}:print_suppressions=0")
    for name in sorted(os.listdir(artifacts)):
        path = os.path.join(artifacts, name)
        run = subprocess.run([exe, "-rss_limit_mb=4096", "-timeout=10", path], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        key, example = cause(run.stdout.decode("utf-8", "replace"))
        groups[key].append((path, example))
    for key, found in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        path, example = min(found, key=lambda f: os.path.getsize(f[0]))
        print(f"{len(found):5d}  {key}" + (f" (e.g. {example!r})" if example else ""))
        print(f"       smallest: {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
