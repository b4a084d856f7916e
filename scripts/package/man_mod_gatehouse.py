#!/usr/bin/env python3
"""Writes the man page mod_gatehouse(5) to stdout from docs/configuration.md, so that the page and
the docs have one source: its EXAMPLE is the "A minimal configuration" section, its DIRECTIVES the
"Directive reference" section, converted from the Markdown those sections use (### headings,
paragraphs, "- " lists, tables, ``` blocks, `code`, **bold**, [links](target)) to man(7) roff.

Usage: scripts/package/man_mod_gatehouse.py docs/configuration.md VERSION DATE > mod_gatehouse.5
"""
import re
import sys

DESCRIPTION = """\
mod_gatehouse is a lighttpd module: it takes the OpenID Connect / OAuth 2.0 JWT a request carries,
verifies it against the identity provider's keys, evaluates the role and claims rules of
\\fBgatehouse.require\\fR, and either answers 401, 403 (400 for paths a backend would read
differently, 429 over a rate limit) itself or lets the request go on to the backend with the
caller's identity as request headers and CGI environment. On Debian, it is configured in
/etc/lighttpd/conf-available/05-gatehouse.conf and enabled with
\\fBlighty-enable-mod gatehouse\\fR. The rule language is described in policy.md, the checks on
tokens and keys in security.md, both in /usr/share/doc/lighttpd-mod-gatehouse/docs/ beside
configuration.md, from which this page is made."""

FILES = [
    ("/etc/lighttpd/conf-available/05-gatehouse.conf",
     "Loads the module and holds the policy; as installed, it refuses every request."),
    ("/etc/lighttpd/gatehouse/",
     "Key files (\\fBgatehouse.jwks\\fR), written by the gatehouse-jwks-fetch@NAME.timer units "
     "from NAME.env; readable by lighttpd's group, writable by root only."),
]

SEE_ALSO = "gatehouse(1), gatehouse.jwks.fetch(1), lighttpd(8), lighty-enable-mod(1)"


def section(markdown, title):
    """The body of the "## title" section."""
    start = markdown.find(f"\n## {title}\n")
    if start < 0:
        sys.exit(f"man_mod_gatehouse: no section \"## {title}\" in the configuration document")
    body = markdown[start + len(title) + 5:]
    end = body.find("\n## ")
    return body if end < 0 else body[:end]


def text(s):
    """Text as roff reads it literally: backslashes escaped."""
    return s.replace("\\", "\\e")


def code(s):
    """A literal (`code`, a block line): also its dashes, which roff would print as hyphens."""
    return text(s).replace("-", "\\-")


def inline(s):
    """Markdown inline markup to roff fonts: `code` and **bold** in bold, links as their text."""
    s = re.sub(r"\[((?:[^\]`]|`[^`]*`)+)\]\([^)]*\)", r"\1", s)
    parts = re.split(r"(``.+?``|`[^`]+`)", s, flags=re.S)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append("\\fB" + code(part.strip("`").strip()) + "\\fR")
        else:
            out.append(re.sub(r"\*\*(.+?)\*\*", r"\\fB\1\\fR", text(part), flags=re.S))
    return "".join(out)


def lines(s):
    """roff lines: a line that would start with a control character gets a zero-width escape."""
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line for line in s.split("\n"))


def cells(row):
    """A table row's cells; "\\|" is a "|" inside a cell."""
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def table(rows):
    """A two-column table without headings ("| | |") as a list of tagged paragraphs; with
    headings, each row as its first cell tagging "heading: cell" lines for the others."""
    heads = cells(rows[0])
    out = []
    for row in rows[2:]:
        values = cells(row)
        out.append(".TP\n" + lines(inline(values[0]) if any(heads) else "\\fB" + text(values[0]) + "\\fR"))
        rest = [inline(v) if not any(heads) else f"{heads[i + 1]}: {inline(v)}" for i, v in enumerate(values[1:])]
        out.append("\n.br\n".join(lines(r) for r in rest))
    return out


def convert(markdown):
    """Markdown blocks to roff, one block at a time."""
    out = []
    source = markdown.strip("\n").split("\n")
    i = 0
    while i < len(source):
        line = source[i]
        if not line.strip():
            i += 1
        elif line.startswith("### "):
            out.append(".SS " + lines(inline(line[4:])))
            i += 1
        elif line.startswith("```"):
            end = source.index("```", i + 1)
            block = "\n".join(code(l) for l in source[i + 1:end])
            out.append(".PP\n.RS 4\n.nf\n" + lines(block) + "\n.fi\n.RE")
            i = end + 1
        elif line.startswith("|"):
            end = i
            while end < len(source) and source[end].startswith("|"):
                end += 1
            out.extend(table(source[i:end]))
            i = end
        elif line.startswith("- "):
            item = [line[2:]]
            i += 1
            while i < len(source) and source[i].startswith("  "):
                item.append(source[i].strip())
                i += 1
            out.append(".IP \\(bu 2\n" + lines(inline("\n".join(item))))
        else:
            paragraph = []
            while i < len(source) and source[i].strip() and not source[i].startswith(("```", "|", "- ", "### ")):
                paragraph.append(source[i])
                i += 1
            out.append(".PP\n" + lines(inline("\n".join(paragraph))))
    return "\n".join(out)


def main():
    path, version, date = sys.argv[1:]
    with open(path, encoding="utf-8") as f:
        markdown = f.read()
    page = [
        f'.TH MOD_GATEHOUSE 5 "{date}" "lighttpd-mod-gatehouse {version}" "File Formats Manual"',
        ".nh",  # no hyphenation: directive names and paths stay whole
        ".SH NAME",
        "mod_gatehouse \\- OpenID Connect / OAuth 2.0 token checks and role rules for lighttpd",
        ".SH DESCRIPTION",
        DESCRIPTION,
        ".SH EXAMPLE",
        convert(section(markdown, "A minimal configuration")),
        ".SH DIRECTIVES",
        convert(section(markdown, "Directive reference")),
        ".SH FILES",
        *(f".TP\n{name}\n{what}" for name, what in FILES),
        ".SH SEE ALSO",
        SEE_ALSO,
    ]
    sys.stdout.write("\n".join(page) + "\n")


if __name__ == "__main__":
    main()
