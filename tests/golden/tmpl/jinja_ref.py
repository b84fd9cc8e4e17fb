#!/usr/bin/env python3
"""Render the template goldens with real Python Jinja2, configured as dbt
configures it, to produce or check the expected outputs.

    python3 tests/golden/tmpl/jinja_ref.py            # check every .out
    python3 tests/golden/tmpl/jinja_ref.py --write a b # write a.out, b.out

A development tool only (CI does not need Python): the C engine's goldens
are checked by tests/unit/test_tmpl.c. Cases with an .err file must fail in
Jinja too; their message text is ours (file:line:col), so it is not
compared. Cases named *_ingot_* document a deliberate difference and are
skipped here (see docs/internals/tmpl.md).
"""
import json
import os
import sys

import jinja2
from jinja2.runtime import Macro

HERE = os.path.dirname(os.path.abspath(__file__))


class MacroReturn(Exception):
    def __init__(self, value):
        self.value = value


def _return(value=None):
    raise MacroReturn(value)


_orig_invoke = Macro._invoke


def _invoke(self, arguments, autoescape):
    # dbt's MacroGenerator catches return() around every macro but caller
    if self.name == "caller":
        return _orig_invoke(self, arguments, autoescape)
    try:
        return _orig_invoke(self, arguments, autoescape)
    except MacroReturn as e:
        return e.value


Macro._invoke = _invoke


class Relation:
    def __init__(self, name):
        self.database, self.schema, self.identifier, self.name = "db", "analytics", name, name

    def __str__(self):
        return '"%s"."%s"."%s"' % (self.database, self.schema, self.identifier)


def raise_compiler_error(msg=""):
    raise RuntimeError("Compilation Error: " + msg)


def make_env():
    env = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    env.globals.update({"return": _return, "ref": Relation, "raise_compiler_error": raise_compiler_error,
                        "zip": zip, "list": list, "config": lambda *a, **k: ""})
    text = lambda v: str(v)
    env.filters.update({"as_text": text, "as_bool": text, "as_number": text, "as_native": text})
    return env


def render(name):
    base = os.path.join(HERE, name)
    env = make_env()
    ctx = {}
    if os.path.exists(base + ".json"):
        with open(base + ".json") as f:
            ctx = json.load(f)
    if os.path.exists(base + ".lib"):
        with open(base + ".lib") as f:
            mod = env.from_string(f.read()).make_module(ctx)
        for k in dir(mod):
            if not k.startswith("_"):
                env.globals[k] = getattr(mod, k)
        env.globals["lib"] = mod
    with open(base + ".tmpl") as f:
        src = f.read()
    return env.from_string(src).render(ctx)


def main(argv):
    write = "--write" in argv
    names = [a for a in argv if not a.startswith("--")]
    if not names:
        names = sorted(f[:-5] for f in os.listdir(HERE) if f.endswith(".tmpl"))
    bad = 0
    for name in names:
        if "_ingot_" in name:
            continue
        base = os.path.join(HERE, name)
        try:
            out = render(name)
            err = None
        except Exception as e:  # noqa: BLE001 - any template failure
            out, err = None, "%s: %s" % (type(e).__name__, e)
        if os.path.exists(base + ".err"):
            if err is None:
                print("%s: Jinja renders it but we expect an error" % name)
                bad += 1
            continue
        if err is not None:
            print("%s: Jinja fails: %s" % (name, err))
            bad += 1
            continue
        if write:
            with open(base + ".out", "w") as f:
                f.write(out + "\n")
            continue
        want = open(base + ".out").read() if os.path.exists(base + ".out") else None
        w = want[:-1] if want is not None and want.endswith("\n") else want
        if w != out:
            print("%s: differs from Jinja\n--- jinja\n%s\n--- file\n%s" % (name, out, w))
            bad += 1
    print("%d case(s) checked, %d problem(s)" % (len(names), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
