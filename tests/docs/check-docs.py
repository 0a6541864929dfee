#!/usr/bin/env python3
"""check-docs.py: the documentation only points at things a user has.

Two checks, on the repository root given as the only argument (default:
two directories above this script):

1. Every markdown link in README.md and doc/*.md that names a relative
   file must name one that exists.  http(s), mailto and other URLs with a
   scheme are skipped, and so are pure #anchors; a #anchor after a file
   name is dropped before the file is looked for.  Links in code blocks
   and code spans are not links and are skipped.

2. README.md, everything under doc/ and man/, and every file under src/
   must not point outside the repository: no "../shared", and no path to a
   .md file (such as /tmp/iface.md or spec/hashids.md) that is not in the
   repository, relative to the mentioning file or to the root.  Paths
   under the installed documentation directory (/usr/share/doc/idmint/,
   /usr/local/share/doc/idmint/) are fine when doc/ holds that file.

Prints one "FAIL: ..." line per problem and ends with "N passed, N
failed" (passed: links that resolve, plus files with no stray reference).
Exits 1 if anything failed.  Standard library only.
"""
import os
import re
import sys
import urllib.parse

passed = 0
failed = 0


def ok():
    global passed
    passed += 1


def fail(msg):
    global failed
    failed += 1
    print("FAIL: " + msg)


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


# ---- 1. markdown links ---------------------------------------------------

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)((?:(?!\n[ \t]*\n).)+?)\1", re.S)
# [text](target "title") and ![alt](target); text may hold one level of [].
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]*)[^)]*\)")
# [label]: target "title"
REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.M)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def strip_code(text):
    """Blank out fenced code blocks and code spans, keeping line numbers."""
    out, fence = [], None
    for line in text.split("\n"):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(2)[0] * len(m.group(2))
            out.append("")
            continue
        if fence is not None:
            if line.strip().startswith(fence) and \
                    line.strip().strip(fence[0]) == "":
                fence = None
            out.append("")
            continue
        out.append(line)
    text = "\n".join(out)
    return CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def check_links(root, md):
    rel = os.path.relpath(md, root)
    text = strip_code(read(md))
    targets = [(m.group(1), m.start()) for m in INLINE.finditer(text)]
    targets += [(m.group(1), m.start()) for m in REFDEF.finditer(text)]
    for target, pos in sorted(targets, key=lambda t: t[1]):
        where = "%s:%d" % (rel, line_of(text, pos))
        t = target.strip()
        if t.startswith("<") and t.endswith(">"):
            t = t[1:-1].strip()
        if t == "" or t.startswith("#") or SCHEME.match(t):
            continue
        path = urllib.parse.unquote(t.split("#", 1)[0].split("?", 1)[0])
        if path.startswith("/"):
            full = os.path.join(root, path.lstrip("/"))
        else:
            full = os.path.join(os.path.dirname(md), path)
        full = os.path.normpath(full)
        if os.path.commonpath([full, root]) != root:
            fail("%s: link %s points outside the repository" % (where, t))
        elif not os.path.exists(full):
            fail("%s: link %s: no such file %s" %
                 (where, t, os.path.relpath(full, root)))
        else:
            ok()


# ---- 2. references that leave the repository -----------------------------

URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
SHARED = re.compile(r"\.\./shared\b")
# A path to a .md file: optional ./ ../ or /, then segments.
MDPATH = re.compile(r"(?<![\w./~-])((?:\.{1,2}/|/)?(?:[\w.-]+/)*[\w-][\w.-]*\.md)(?![\w])")
DOCDIRS = ("/usr/share/doc/idmint/", "/usr/local/share/doc/idmint/")


def md_ref_ok(root, path, ref):
    if ref.startswith("/"):
        for d in DOCDIRS:
            if ref.startswith(d):
                return os.path.isfile(os.path.join(root, "doc", ref[len(d):]))
        return False
    for base in (os.path.dirname(path), root):
        full = os.path.normpath(os.path.join(base, ref))
        if os.path.commonpath([full, root]) == root and os.path.isfile(full):
            return True
    return False


def check_refs(root, path):
    rel = os.path.relpath(path, root)
    text = read(path)
    bad = 0
    for n, line in enumerate(text.split("\n"), 1):
        line = URL.sub(" ", line)
        if path.endswith(".md"):
            # Link targets are the first check's business: one problem,
            # one line.
            line = LINK_TARGET.sub("] ", line)
        for m in SHARED.finditer(line):
            fail("%s:%d: refers to %s, outside the repository" %
                 (rel, n, line[m.start():].split()[0].rstrip(".,;:)`'\"")))
            bad += 1
        for m in MDPATH.finditer(line):
            ref = m.group(1)
            if "../shared" in ref or md_ref_ok(root, path, ref):
                continue
            fail("%s:%d: refers to %s, which is not in the repository" %
                 (rel, n, ref))
            bad += 1
    if bad == 0:
        ok()


def files_under(root, sub):
    top = os.path.join(root, sub)
    found = []
    for d, dirs, files in os.walk(top):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        found += [os.path.join(d, f) for f in sorted(files)]
    return found


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if len(sys.argv) > 2:
        print("usage: check-docs.py [repository-root]", file=sys.stderr)
        return 2
    root = os.path.realpath(sys.argv[1] if len(sys.argv) == 2
                            else os.path.join(here, "..", ".."))

    readme = os.path.join(root, "README.md")
    docs = sorted(f for f in files_under(root, "doc") if f.endswith(".md"))
    if not os.path.isfile(readme):
        fail("README.md: missing")
    if not docs:
        fail("doc/: no markdown files")
    for md in ([readme] if os.path.isfile(readme) else []) + docs:
        check_links(root, md)

    scan = [readme] if os.path.isfile(readme) else []
    for sub in ("doc", "man", "src"):
        scan += files_under(root, sub)
    for f in scan:
        check_refs(root, f)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
