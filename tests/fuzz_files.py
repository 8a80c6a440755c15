"""Hypothesis strategies for hostile files: experiments, lessons, classroom files and sweep folders.

Each strategy draws bytes for a file in one of three ways: a structured document (real keys and made-up ones, with
values of every type and at every extreme: huge integers, NaN, 5e-324, markup, control characters, 10 kB strings,
deep nesting), a valid file with random byte edits (deletions, insertions, invalid UTF-8, NUL bytes, runs of
brackets), or plain noise.
"""

from __future__ import annotations

import tomli_w
from hypothesis import strategies as st

from rnnlab.config import SECTIONS, describe_keys

KEYS = [r["key"] for r in describe_keys()]
MARKUP = ["<img src='/etc/hosts'>", "<a href='http://example.com/'>x</a>", "<b>", "<script>alert(1)</script>",
          "&amp;", "<table><tr><td>", "</p>"]

text_values = st.one_of(
    st.sampled_from(["rnn", "lstm", "tanh", "sigmoid", "gaussian", "temporal_order", "addition", "sgd", "adam",
                     "norm", "none", "exact", "estimated", "frobenius", "spectral", "float32", "main", "clipping",
                     "default", "", " ", "heatmap", "loss", "/dev/zero", "/dev/null", "/", ".", "..", "../x.toml",
                     "\x00", "a\x00b"]),
    st.sampled_from(MARKUP),
    st.text(max_size=40),
    st.builds(lambda s, n: s * n, st.sampled_from(["x", "<b>", "é", "\\", "$"]), st.integers(1000, 20_000)),
)
number_values = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2, 5, 10, 20, 2048, 2049, 10_000, 10_001, -1, 2**63, 2**1100]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, 1e-310, 1e-300, 1e308, 0.0, -0.0, 0.5, 0.95, 1.0, 1.5, 3.0, 100.0, 1e12]),
)
scalar_values = st.one_of(text_values, number_values, st.booleans())


def _nested(depth: int):
    def wrap(v, kind):
        for _ in range(depth):
            v = [v] if kind else {"a": v}
        return v

    return st.builds(wrap, scalar_values, st.booleans())


values = st.one_of(scalar_values, st.lists(scalar_values, max_size=4),
                   st.dictionaries(st.text(max_size=8), scalar_values, max_size=3),
                   st.integers(2, 60).flatmap(_nested))
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from([k.partition(".")[2] for k in KEYS if "." in k]),
                 st.text(max_size=12), st.sampled_from(MARKUP), st.just("a." * 60 + "b"))


def _dump(doc: dict) -> bytes:
    try:
        return tomli_w.dumps(doc).encode("utf-8")
    except Exception:  # noqa: BLE001 - what tomli_w cannot write (NaN keys, huge ints...) becomes a literal
        return repr(doc).encode("utf-8", "surrogatepass")


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    b = bytearray(data)
    for pos, cut, insert in edits:
        if not b:
            b.extend(insert)
            continue
        i = pos % (len(b) + 1)
        b[i : i + cut] = insert
    return bytes(b)


inserts = st.one_of(st.binary(max_size=6), st.sampled_from([b"\xff", b"\xc3", b"\x00", b"[" * 300, b"{a=" * 100,
                                                            b"\n[[step]]\n", b"'''", b'"""', b"\\u0000",
                                                            b"= 1\n", b"#", b"\r", b"\t"]))
edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 8), inserts), min_size=1, max_size=4)


def _toml_documents(base_texts: list[bytes], doc_strategy):
    return st.one_of(
        doc_strategy.map(_dump),
        st.tuples(st.sampled_from(base_texts), edits).map(lambda t: _mutate(*t)),
        st.binary(max_size=300),
        st.builds(lambda n: b"x = " + b"[" * n + b"]" * n, st.integers(20, 3000)),
    )


# --- experiments --------------------------------------------------------------------------------------------------

def _experiment_doc(small: bool):
    known = st.tuples(st.sampled_from(KEYS), values)  # real keys with hostile values: their messages echo values
    entry = st.one_of(known, known, st.tuples(keys, values))

    def build(entries, seed, description):
        doc: dict = {}
        if seed is not None:
            doc["seed"] = seed
        if description is not None:
            doc["description"] = description
        for key, value in entries:
            section, _, name = key.partition(".")
            if name and section in SECTIONS:
                doc.setdefault(section, {})
                if isinstance(doc[section], dict):
                    doc[section][name] = value
            else:
                doc[key] = value
        if small:  # the window's fuzz: sizes stay small, so a valid file switches in milliseconds
            for s, k, hi in (("model", "hidden_size", 24), ("task", "length", 40), ("task", "batch_size", 16),
                             ("training", "eval_batch_size", 40), ("diagnostics", "lyapunov", 8),
                             ("diagnostics", "probes", 8), ("model", "sparse_k", 24)):
                v = doc.get(s, {}).get(k) if isinstance(doc.get(s), dict) else None
                if isinstance(v, int) and not isinstance(v, bool) and v > hi:
                    doc[s][k] = hi
        return doc

    return st.builds(build, st.one_of(st.lists(known, max_size=3), st.lists(entry, max_size=8)),
                     st.one_of(st.none(), number_values), st.one_of(st.none(), text_values))


def experiment_files(base_texts: list[bytes], small: bool = False):
    return _toml_documents(base_texts, _experiment_doc(small))


# --- lessons ------------------------------------------------------------------------------------------------------

TEX = st.sampled_from([r"$\frac{a}{b}$", r"$$\prod_{j=k+1}^{t} W$$", r"\frac" * 20, "$" + "{" * 600 + "}" * 600 + "$",
                       r"$\unknowncommand$", "$x^{" * 60 + "$", r"\(", "$", r"\\", "*bold* and _it_", "- a\n- b"])


def _lesson_doc():
    step = st.fixed_dictionaries({"title": st.one_of(text_values, TEX), "text": st.one_of(text_values, TEX)},
                                 optional={"preset": text_values, "set": st.dictionaries(keys, values, max_size=3),
                                           "do": st.one_of(text_values, TEX),
                                           "watch": st.one_of(text_values, st.lists(text_values, max_size=3)),
                                           "train": number_values, "extra": values})
    return st.fixed_dictionaries({"title": st.one_of(text_values, TEX)},
                                  optional={"summary": st.one_of(text_values, TEX),
                                            "step": st.lists(step, max_size=3), "other": values})


def lesson_files(base_texts: list[bytes]):
    return _toml_documents(base_texts, _lesson_doc())


# --- classroom files ----------------------------------------------------------------------------------------------

def _classroom_doc():
    room = st.fixed_dictionaries({}, optional={
        "presentation": st.one_of(st.booleans(), values), "preset": st.one_of(text_values, values),
        "config": st.one_of(st.sampled_from(["exp.toml", "bad.toml", "/dev/zero", "missing.toml", ".", "a\x00b",
                                             "../exp.toml", "x" * 5000]), values),
        "lesson": st.one_of(st.sampled_from(["main"]), text_values, values),
        "lock": st.one_of(st.lists(st.one_of(st.sampled_from(KEYS), text_values), max_size=3), values),
        "hide": st.one_of(st.lists(st.one_of(st.sampled_from(KEYS), text_values), max_size=3), values),
        "set": st.one_of(st.dictionaries(keys, values, max_size=3), values), "colour": values})
    return st.one_of(st.builds(lambda r: {"classroom": r}, room), st.dictionaries(keys, values, max_size=2))


def classroom_files(base_texts: list[bytes]):
    return _toml_documents(base_texts, _classroom_doc())


# --- sweep folders ------------------------------------------------------------------------------------------------

RESULT = ["seed", "final_loss", "final_metric", "success", "exploded", "steps", "wall_time_s"]
cells = st.one_of(st.sampled_from(["0", "1", "0.5", "1.5", "true", "false", "nan", "inf", "-1", "", "x", "1e400",
                                   "<b>", "\x00", "rnn", "lstm", "99999999999999999999"]),
                  st.text(max_size=6), number_values.map(str))
columns = st.one_of(st.sampled_from(["run", "model.spectral_radius", "task.length", "model.arch", "seed",
                                     "model.hidden_size", "remedies.clip", "bogus", "<b>x</b>", ""]),
                    st.text(max_size=8))


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode("utf-8", "surrogatepass")


def _table(extra: list[str], base: bool, rows: list[list[str]]):
    header = (["run", *extra, *RESULT] if base else extra)
    return _csv(header, [r[: len(header) + (len(r) % 2)] for r in rows])


sweep_tables = st.one_of(
    st.builds(_table, st.lists(columns, max_size=3), st.booleans(),
              st.lists(st.lists(cells, min_size=3, max_size=12), max_size=6)),
    st.builds(lambda v, L: _csv(["run", "task.length", *RESULT], [[str(i), str(x), "0", "1.0", "0.5", "false",
                                                                   "false", "3", "0.1"] for i, x in enumerate(v)]),
              st.lists(st.sampled_from([2, 5, 10, 20, 100, 10_001, -3]), min_size=1, max_size=4), st.none()),
    st.binary(max_size=200),
)
