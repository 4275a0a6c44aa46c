"""Summarise a finished `mutmut run` (make mutation) as Markdown: killed / survived per
module and every survivor with its diff, for perf/mutation.md.

    .venv/bin/python tools/mutation_report.py > perf/mutation.md
"""

import re
import subprocess
import sys
from collections import Counter, defaultdict


def mutmut(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], capture_output=True, text=True, check=True).stdout


def main() -> None:
    status = dict(re.findall(r"^\s*(\S+): (.+)$", mutmut("results", "--all", "true"), re.M))
    per = defaultdict(Counter)
    for name, state in status.items():
        # a function's mutants are module.x_name__mutmut_N, a method's module.xǁClassǁname__mutmut_N
        per[re.split(r"\.x[_ǁ]", name)[0]][state] += 1
    # modules this run left out (every mutant "not checked") are not in its table
    per = {module: c for module, c in per.items() if set(c) != {"not checked"}}
    print("| module | mutants | killed | survived | other | killed % |")
    print("| --- | --: | --: | --: | --: | --: |")
    for module, c in sorted(per.items()):
        total = sum(c.values())
        other = total - c["killed"] - c["survived"]
        print(f"| `{module}` | {total} | {c['killed']} | {c['survived']} | {other} | {100 * c['killed'] / total:.0f} |")
    total = Counter()
    for c in per.values():
        total.update(c)
    n = sum(total.values())
    print(f"| all | {n} | {total['killed']} | {total['survived']} | {n - total['killed'] - total['survived']} | "
          f"{100 * total['killed'] / max(n, 1):.0f} |\n")
    for name, state in sorted(status.items()):
        if state in ("killed", "not checked"):
            continue
        diff = [line for line in mutmut("show", name).splitlines() if re.match(r"^[-+](?![-+])", line)]
        print(f"- `{name}` ({state}):\n\n  ```diff\n" + "\n".join(f"  {line}" for line in diff) + "\n  ```")


if __name__ == "__main__":
    main()
