#!/usr/bin/env python3
"""Assemble the demo corpus from unpacked Debian packages.

Usage: demo_corpus.py UNPACKED_ROOT OUT.txt [HELDOUT.txt]

UNPACKED_ROOT holds the packages' files as `dpkg -x` lays them out. The output
is plain UTF-8 text, one document per block, documents separated by a line
holding only "<|endoftext|>" (the separator Monoscope's corpus reader uses).
Documents are shuffled with a fixed seed so that every slice of the file mixes
prose, quotes and code; the same packages always give the same bytes.
With HELDOUT.txt, the last 1% of the shuffled documents go there instead, for
evaluations on text that no training step saw.
"""
import gzip
import os
import random
import re
import sys

SEPARATOR = "<|endoftext|>"
SEED = 20261129
# Fortune files that are pictures rather than text.
SKIPPED_FORTUNES = {"art", "ascii-art"}
# Standard-library folders that are tests, data tables or generated code.
SKIPPED_STDLIB = {"test", "tests", "idle_test", "encodings", "pydoc_data", "lib2to3",
                  "site-packages", "dist-packages", "config-3.11-x86_64-linux-gnu",
                  "ensurepip", "turtledemo", "__pycache__"}
STDLIB_BUDGET = 6_000_000  # bytes of source code
OVERSTRIKE = re.compile(r".\x08")
# Info cross references, "*note PyMem_Malloc(): 925." -> "PyMem_Malloc()".
INFO_XREF = re.compile(r"\*[Nn]ote\s+([^:]+?):\s*[0-9a-f]+\.")


def clean(text):
    text = OVERSTRIKE.sub("", text).replace("\r\n", "\n").replace(SEPARATOR, "")
    text = "".join(c for c in text if c in "\n\t" or c >= " ")
    return text.strip("\n")


def fortunes(root):
    folder = os.path.join(root, "usr/share/games/fortunes")
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if "." in name or name in SKIPPED_FORTUNES or os.path.islink(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for entry in re.split(r"^%$", f.read(), flags=re.M):
                entry = clean(entry)
                if len(entry) > 20:
                    yield entry


def jargon(root):
    path = os.path.join(root, "usr/share/doc/jargon-text/jargon.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    # Glossary entries start with an indented ":term:" line; each is a document.
    # The first chunk is the table of contents, far longer than any entry.
    for entry in re.split(r"\n(?=   :[^\n:]+:)", text)[1:]:
        entry = clean("\n".join(line[3:] if line.startswith("   ") else line
                                for line in entry.split("\n")))
        if 40 < len(entry) < 20_000:
            yield entry


def python_docs(root):
    path = os.path.join(root, "usr/share/info/python3.11.info.gz")
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    for node in text.split("\x1f")[1:]:
        lines = node.lstrip("\n").split("\n")[1:]  # drop "File: ..., Node: ..., Next: ..."
        # Menus and index entries are navigation, not prose.
        lines = [l for l in lines if not l.startswith("* ") or not l.rstrip().endswith("::")]
        body = clean(INFO_XREF.sub(r"\1", "\n".join(lines)))
        # The changelog is a list of issue numbers, not prose.
        if len(re.findall(r"\b(?:bpo|gh)-\d+", body)) > 3:
            continue
        if len(body) > 200 and not body.startswith("Index"):
            yield body


def python_sources(root):
    base = os.path.join(root, "usr/lib/python3.11")
    paths = []
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_STDLIB)
        paths += [os.path.join(folder, f) for f in sorted(files)
                  if f.endswith(".py") and not os.path.islink(os.path.join(folder, f))]
    paths.sort()
    random.Random(SEED).shuffle(paths)
    used = 0
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            source = clean(f.read())
        if not source or len(source) > 200_000:
            continue
        used += len(source)
        if used > STDLIB_BUDGET:
            break
        yield source


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    root, out = sys.argv[1], sys.argv[2]
    sources = {"fortunes": fortunes, "jargon": jargon,
               "python-docs": python_docs, "python-stdlib": python_sources}
    documents = []
    for name, reader in sources.items():
        docs = list(reader(root))
        size = sum(len(d.encode("utf-8")) for d in docs)
        print(f"{name:14s} {len(docs):7d} documents {size / 1e6:6.1f} MB")
        documents += docs
    random.Random(SEED).shuffle(documents)
    if len(sys.argv) == 4:
        cut = len(documents) - len(documents) // 100
        write(sys.argv[3], documents[cut:])
        documents = documents[:cut]
    write(out, documents)


def write(path, documents):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for doc in documents:
            f.write(doc)
            f.write("\n" + SEPARATOR + "\n")
    os.replace(tmp, path)
    print(f"{'':14s} {len(documents):7d} documents {os.path.getsize(path) / 1e6:6.1f} MB -> {path}")


if __name__ == "__main__":
    main()
