"""Reading a valgrind memcheck log, for the evidence runs in scripts/evidence/."""
import re


def verdict(log):
    """(the leak and error summary lines, whether memcheck found nothing: no definite leak, no error)."""
    with open(log) as f:
        report = f.read()
    summary = [line.split("== ", 1)[-1] for line in report.splitlines()
               if re.search(r"(definitely|indirectly|possibly) lost:|ERROR SUMMARY", line)]
    definite = re.search(r"definitely lost: ([\d,]+) bytes", report)
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    leaked = int(definite.group(1).replace(",", "")) if definite else 0
    return summary, not leaked and errors is not None and not int(errors.group(1))
