#!/usr/bin/env python3
"""Check the polyglot problem files (stdlib only).

For every problem in problems/polyglot/<language>.jsonl:
  1. the record has exactly the expected fields, well-formed, task_ids unique;
  2. the canonical solution contains none of the stop sequences;
  3. if the language's toolchain is on PATH, prompt + canonical + "\\n" + tests
     runs with exit status 0 and prints nothing (stdout and stderr empty);
  4. prompt + a wrong completion + "\\n" + tests exits non-zero.

Usage: python3 problems/polyglot/verify.py [--ts-strict] [LANGUAGE ...]
Prints "N passed, M failed" and exits 1 on any failure.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LANGUAGES = ["typescript", "ruby", "lua", "php", "perl", "bash"]
FIELDS = {"task_id", "language", "entry_point", "prompt", "canonical_solution", "tests", "stop_sequences"}
TIMEOUT = 20

# A completion that returns a fixed wrong value and closes the function.
WRONG = {
    "typescript": "  return undefined as any;\n}\n",
    "ruby": "  nil\nend\n",
    "lua": "  return nil\nend\n",
    "php": "  return null;\n}\n",
    "perl": "  return undef;\n}\n",
    "bash": "  echo __wrong__\n}\n",
}

EXT = {"typescript": ".ts", "ruby": ".rb", "lua": ".lua", "php": ".php", "perl": ".pl", "bash": ".sh"}

# TypeScript: compile errors must fail the run, so --noEmitOnError is set and a
# non-zero tsc exit status counts as failure. No @types/node is needed: the
# tests only use the ES2019 standard library. --strict is off by default (like
# MultiPL-E, so e.g. `const counts = {}; counts[w] = 1` compiles); pass
# --ts-strict to also require the canonical solutions to compile under --strict.
TSC_FLAGS = ["--target", "es2019", "--lib", "es2019", "--noEmitOnError"]


def lua_binary():
    return shutil.which("lua5.4") or shutil.which("lua")


def toolchain(language):
    """Return the list of missing binaries for a language (empty: available)."""
    need = {
        "typescript": ["tsc", "node"],
        "ruby": ["ruby"],
        "lua": [],
        "php": ["php"],
        "perl": ["perl"],
        "bash": ["bash"],
    }[language]
    missing = [b for b in need if shutil.which(b) is None]
    if language == "lua" and lua_binary() is None:
        missing.append("lua5.4")
    return missing


def run_program(language, source):
    """Run a full program; return (returncode, stdout, stderr)."""
    with tempfile.TemporaryDirectory(prefix="polyglot-") as tmp:
        path = os.path.join(tmp, "main" + EXT[language])
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        if language == "typescript":
            out_dir = os.path.join(tmp, "out")
            cmds = [
                ["tsc", *TSC_FLAGS, "--outDir", out_dir, path],
                ["node", os.path.join(out_dir, "main.js")],
            ]
        elif language == "lua":
            cmds = [[lua_binary(), path]]
        else:
            cmds = [[{"ruby": "ruby", "php": "php", "perl": "perl", "bash": "bash"}[language], path]]
        stdout = stderr = ""
        for cmd in cmds:
            try:
                proc = subprocess.run(
                    cmd, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT
                )
            except subprocess.TimeoutExpired:
                return 124, stdout, stderr + f"timeout after {TIMEOUT}s: {cmd[0]}\n"
            stdout += proc.stdout
            stderr += proc.stderr
            if proc.returncode != 0:
                return proc.returncode, stdout, stderr
        return 0, stdout, stderr


def check_record(language, index, rec, seen):
    """Static checks; return a list of error strings."""
    errors = []
    if set(rec) != FIELDS:
        errors.append(f"fields {sorted(rec)} != {sorted(FIELDS)}")
        return errors
    for key in FIELDS - {"stop_sequences"}:
        if not isinstance(rec[key], str) or not rec[key]:
            errors.append(f"{key} must be a non-empty string")
    if errors:
        return errors
    expected_id = f"polyglot/{language}/{index}"
    if rec["task_id"] != expected_id:
        errors.append(f"task_id {rec['task_id']!r}, expected {expected_id!r}")
    if rec["task_id"] in seen:
        errors.append(f"duplicate task_id {rec['task_id']!r}")
    seen.add(rec["task_id"])
    if rec["language"] != language:
        errors.append(f"language {rec['language']!r} in {language}.jsonl")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rec["entry_point"]):
        errors.append(f"bad entry_point {rec['entry_point']!r}")
    elif rec["entry_point"] not in rec["prompt"] or rec["entry_point"] not in rec["tests"]:
        errors.append("entry_point not used in prompt and tests")
    if not rec["prompt"].endswith("\n"):
        errors.append("prompt must end with a newline")
    if language == "php" and not rec["prompt"].startswith("<?php\n"):
        errors.append("php prompt must start with <?php")
    if language == "bash" and not rec["prompt"].startswith("#!/bin/bash\n"):
        errors.append("bash prompt must start with #!/bin/bash")
    if not rec["canonical_solution"].endswith("\n"):
        errors.append("canonical_solution must end with a newline")
    stops = rec["stop_sequences"]
    if not isinstance(stops, list) or not stops or not all(isinstance(s, str) and s for s in stops):
        errors.append("stop_sequences must be a non-empty list of non-empty strings")
    else:
        for s in stops:
            if s in rec["canonical_solution"]:
                errors.append(f"canonical_solution contains stop sequence {s!r}")
            if s in WRONG[language]:
                errors.append(f"wrong completion contains stop sequence {s!r}")
    return errors


def tail(text, limit=600):
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def main(argv):
    args = argv[1:]
    if "--ts-strict" in args:
        args = [a for a in args if a != "--ts-strict"]
        TSC_FLAGS.append("--strict")
    languages = args or LANGUAGES
    for lang in languages:
        if lang not in LANGUAGES:
            print(f"unknown language {lang!r}; choose from {LANGUAGES}", file=sys.stderr)
            return 2
    passed = failed = skipped = 0
    seen = set()
    for lang in languages:
        path = os.path.join(HERE, f"{lang}.jsonl")
        if not os.path.exists(path):
            print(f"FAIL {lang}: {path} missing")
            failed += 1
            continue
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f.read().split("\n") if line.strip()]
        missing = toolchain(lang)
        if missing:
            print(f"note: {lang}: {', '.join(missing)} not on PATH, only static checks are run")
        for index, line in enumerate(lines):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"FAIL {lang} line {index + 1}: invalid JSON: {e}")
                failed += 1
                continue
            label = rec.get("task_id", f"{lang} line {index + 1}")
            errors = check_record(lang, index, rec, seen)
            if not errors and not missing:
                prefix = rec["prompt"]
                good = prefix + rec["canonical_solution"] + "\n" + rec["tests"]
                rc, out, err = run_program(lang, good)
                if rc != 0:
                    errors.append(f"canonical solution exited {rc}: {tail(out + err)}")
                elif out:
                    errors.append(f"canonical solution printed to stdout: {tail(out)}")
                elif err:
                    errors.append(f"canonical solution printed to stderr: {tail(err)}")
                bad = prefix + WRONG[lang] + "\n" + rec["tests"]
                rc, out, err = run_program(lang, bad)
                if rc == 0:
                    errors.append("wrong completion passed the tests")
            if errors:
                failed += 1
                for e in errors:
                    print(f"FAIL {label}: {e}")
            elif missing:
                skipped += 1
            else:
                passed += 1
    if skipped:
        print(f"{skipped} checked statically only (toolchain missing)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
