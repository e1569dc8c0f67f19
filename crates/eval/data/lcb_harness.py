# LiveCodeBench test harness of mlperf-gptoss (crates/eval/src/lcb/).
#
# Runs every test of ONE sample in this one python3 process, inside
# eval::sandbox, with the semantics of the official scorer (LiveCodeBench
# `run_test` as called by MLPerf's eval_accuracy.py; upstream-gptoss.md §6.4).
# Written for this project from the documented behaviour; it is embedded in the
# binary and passed with `python3 -c`.
#
# Input (stdin, read to the end before anything runs): one JSON line
#   {"code": str, "fn_name": str | null, "timeout": seconds, "public": n, "private": m}
# then n bytes of the public test list (JSON) and m bytes of the private one.
# Output: one JSON line on the original stdout (fd 1 is pointed at /dev/null
# while the program runs, as the official workers' stdout was):
#   {"results": [...], "passed": bool, "error_code": int?, "error_message": str?}
# results: 1 = test passed (True), 0 = False (call-based wrong answer),
# -2 wrong answer, -3 time limit, -4 runtime error; the first failure stops.
# No output line (crash, SystemExit escaping, kill) means every test counts -1.

import sys

# Set when the official metrics module is imported, so in force in its workers.
sys.set_int_max_str_digits(50000)

import ast
import builtins
import contextlib
import decimal
import faulthandler
import io
import json
import os
import signal
import types

# The official harness module imports numpy, so it is already loaded when the
# program runs (importing it after the guard below would fail).
try:
    import numpy  # noqa: F401
except ImportError:
    pass

# Bound now: the program under test may rebind module attributes.
_dumps = json.dumps
_write = os.write
_exit = os._exit

# The source the official harness puts before every program: star imports of
# these modules, then the same modules imported by name, then the recursion limit.
_MODULES = [
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy",
    "math", "random", "statistics", "itertools", "functools", "operator",
    "io", "sys", "json", "builtins", "typing",
]
_PLAIN = [m for m in _MODULES if m not in ("builtins", "typing")]
PREAMBLE = (
    "".join("from %s import *\n" % m for m in _MODULES)
    + "".join("import %s\n" % m for m in _PLAIN)
    + "sys.setrecursionlimit(50000)\n"
)

WRONG_ANSWER, TIME_LIMIT, RUNTIME_ERROR = -2, -3, -4


class TimeoutException(Exception):
    """The per-test alarm. Its name matters: a failure whose repr contains
    "timeoutexception" (any case) is a time limit, any other a runtime error."""


def _on_alarm(signum, frame):
    # The official handler prints this before raising; during a stdin test it
    # lands in the captured output (visible when a program swallows the exception).
    print("timeout occured: alarm went off")
    raise TimeoutException


def _arm(seconds):
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _disarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def _short(value, limit=300):
    s = value if isinstance(value, str) else str(value)
    return s if len(s) <= limit else "%s [%d characters] %s" % (s[: limit // 2], len(s) - limit, s[-limit // 2 :])


def _failure(results, code, message, **extra):
    results.append(code)
    info = {"error_code": code, "error_message": message}
    info.update(extra)
    return results, info


def _exception_verdict(results, exc):
    if "timeoutexception" in repr(exc).lower():
        return _failure(results, TIME_LIMIT, "time limit", error=repr(exc))
    return _failure(results, RUNTIME_ERROR, "runtime error", error=repr(exc))


def disable_destructive_functions():
    """What the official `reliability_guard(None)` does (no memory limit)."""
    faulthandler.disable()
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in (
        "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir",
        "setuid", "fork", "forkpty", "killpg", "rename", "renames", "truncate",
        "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot",
        "lchflags", "lchmod", "lchown", "getcwd", "chdir",
    ):
        setattr(os, name, None)
    import shutil
    import subprocess

    shutil.rmtree = shutil.move = shutil.chown = None
    subprocess.Popen = None
    builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


def load_program(source, timeout):
    """Executes `source` as a fresh module under the alarm; the object under test
    is `Solution()` when the text mentions `class Solution`, else the module."""
    _arm(timeout)
    try:
        module = types.ModuleType("tmp_sol", "")
        exec(source, module.__dict__)
        target = module.Solution() if "class Solution" in source else module
        assert target is not None
    finally:
        _disarm()
    return target


def find_function(target, name):
    try:
        return getattr(target, name)
    except Exception:
        return None


class MissingFunction(Exception):
    pass


# ---------------------------------------------------------------- call-based


def grade_functional(code, inputs, outputs, fn_name, timeout):
    target = load_program(PREAMBLE + "\n\n" + code, timeout)
    method = find_function(target, fn_name)
    if method is None:
        raise MissingFunction("function %r not found" % fn_name)
    arguments = [[json.loads(line) for line in text.split("\n")] for text in inputs]
    expected = [json.loads(text) for text in outputs]
    results = []
    for index, (args, want) in enumerate(zip(arguments, expected)):
        _arm(timeout)
        faulthandler.enable()
        try:
            got = method(*args)
            _disarm()
            # Tuples count as the lists the expected JSON holds.
            if isinstance(got, tuple):
                got = list(got)
            verdict = got == want
            results.append(verdict)
            if not verdict:
                return results, {
                    "error_code": WRONG_ANSWER,
                    "error_message": "wrong answer",
                    "test": index,
                    "output": _short(got),
                    "expected": _short(want),
                }
        except Exception as exc:
            _disarm()
            results, info = _exception_verdict(results, exc)
            info["test"] = index
            return results, info
        finally:
            _disarm()
            faulthandler.disable()
    return results, {}


# ------------------------------------------------------------- standard input


def unwrap_main_guard(code):
    """A last top-level `if __name__ == '__main__':` is replaced by its body."""
    try:
        tree = ast.parse(code)
        last = tree.body[-1]
        if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
            code = ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    except BaseException:
        pass
    return code


def wrap_in_function(code):
    """Top-level imports stay at module level (after the preamble); every other
    statement becomes the body of `wrapped_function()`, regenerated with
    ast.unparse. Unparsable code is returned as it is."""
    try:
        tree = ast.parse(code)
        imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        others = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
        fields = dict(
            name="wrapped_function",
            args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
            body=others,
            decorator_list=[],
            lineno=-1,
        )
        if "type_params" in ast.FunctionDef._fields:  # Python >= 3.12
            fields["type_params"] = []
        function = ast.FunctionDef(**fields)
        return PREAMBLE + "\n" + ast.unparse(imports) + "\n" + ast.unparse(function)
    except Exception:
        return code


class _FakeStdinBytes:
    def __init__(self, text):
        self._data = text.encode("utf-8")

    def read(self, *args):
        return self._data

    def readline(self, *args):
        # Always the first line, as the official mock does.
        return self._data.split(b"\n")[0] + b"\n"


class _FakeStdin:
    """sys.stdin during a test: read() and readlines() see the whole input
    (readlines splits on newlines, dropping them), readline() and input() go
    line by line, .buffer gives bytes; anything else is a StringIO's."""

    def __init__(self, text):
        self._text = text
        self._lines = io.StringIO(text)
        self.buffer = _FakeStdinBytes(text)

    def read(self, *args):
        return self._text

    def readline(self, *args):
        return self._lines.readline(*args)

    def readlines(self, *args):
        return self._text.split("\n")

    def __getattr__(self, name):
        return getattr(self._lines, name)


@contextlib.contextmanager
def captured_stdout():
    """sys.stdout becomes a StringIO whose close() takes one argument, as the
    official capture's does (so a program calling sys.stdout.close() fails)."""
    saved = sys.stdout
    buffer = io.StringIO()
    buffer.close = lambda _unused: 1
    sys.stdout = buffer
    text = []
    try:
        yield text
    finally:
        text.append(buffer.getvalue())
        sys.stdout = saved


class _FakeFile(io.StringIO):
    """What open() gives during a stdin test: the official harness patches
    builtins.open with `unittest.mock.mock_open(read_data=<input>)`, whose
    handles read the input (read, readline, readlines, iteration, `with`) and
    accept and drop writes. (Programs rarely see it: the preamble's star
    imports bind the real open in their globals.)"""

    def close(self):
        pass

    def write(self, text):
        return len(text)

    def writelines(self, lines):
        pass


def run_with_input(function, text):
    """Calls `function` with sys.stdin and builtins.open reading `text`;
    SystemExit ends the program normally."""
    saved_stdin, saved_open = sys.stdin, builtins.open
    sys.stdin = _FakeStdin(text)
    builtins.open = lambda *args, **kwargs: _FakeFile(text)
    try:
        return function()
    except SystemExit:
        pass
    finally:
        sys.stdin, builtins.open = saved_stdin, saved_open


def stripped_lines(text):
    return [line.strip() for line in text.strip().split("\n")]


def as_decimals(line):
    try:
        return [decimal.Decimal(token) for token in line.split()]
    except BaseException:
        return None


def grade_stdin(code, inputs, outputs, timeout):
    source = wrap_in_function(unwrap_main_guard(code))
    target = load_program(source, timeout)
    method = find_function(target, "wrapped_function")
    if method is None:
        raise MissingFunction("wrapped_function not found")
    results = []
    for index, (text, want) in enumerate(zip(inputs, outputs)):
        _arm(timeout)
        faulthandler.enable()
        with captured_stdout() as output:
            try:
                run_with_input(method, text)
                _disarm()
            except Exception as exc:
                _disarm()
                results, info = _exception_verdict(results, exc)
                info["test"] = index
                return results, info
            finally:
                _disarm()
                faulthandler.disable()
        got_lines = stripped_lines(output[0])
        want_lines = stripped_lines(want)
        if len(got_lines) != len(want_lines):
            return _failure(
                results, WRONG_ANSWER,
                "wrong answer: %d output lines, %d expected" % (len(got_lines), len(want_lines)),
                test=index, output=_short(output[0]), expected=_short(want),
            )
        for line_index, (got, exp) in enumerate(zip(got_lines, want_lines)):
            if got == exp:
                continue
            # Equal token by token as decimal numbers (so 1.0 == 1.00).
            got_numbers = as_decimals(got)
            exp_numbers = as_decimals(exp)
            if got_numbers is not None and exp_numbers is not None and got_numbers == exp_numbers:
                continue
            return _failure(
                results, WRONG_ANSWER,
                "wrong answer on line %d: got %s, expected %s" % (line_index, _short(got), _short(exp)),
                test=index,
            )
        results.append(True)
    return results, {}


# ----------------------------------------------------------------------- main


def run_tests(job, inputs, outputs):
    """Every test of the sample; an exception outside the per-test handling
    (syntax error, missing function, time-out while loading) is one -4."""
    _arm(job["timeout"])
    try:
        if job["fn_name"] is None:
            return grade_stdin(job["code"], inputs, outputs, job["timeout"])
        return grade_functional(job["code"], inputs, outputs, job["fn_name"], job["timeout"])
    except Exception as exc:
        return [RUNTIME_ERROR], {
            "error_code": RUNTIME_ERROR,
            "error_message": "could not run the tests: %s" % _short(repr(exc)),
        }
    finally:
        _disarm()


def _positive(value):
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(value, numpy.ndarray):
            value = value.item(0)
        if isinstance(value, numpy.bool_):
            value = bool(value)
    return value > 0


def _report(fd, results, info):
    try:
        passed = all([_positive(r) for r in results])
    except Exception:
        passed = False
    encoded = []
    for r in results:
        if isinstance(r, bool):
            encoded.append(int(r))
        elif isinstance(r, int):
            encoded.append(r)
        else:
            try:
                encoded.append(1 if _positive(r) else 0)
            except Exception:
                encoded.append(0)
    line = dict(info)
    line["results"] = encoded
    line["passed"] = bool(passed)
    data = (_dumps(line, default=repr) + "\n").encode("utf-8", "replace")
    while data:
        data = data[_write(fd, data):]


def main():
    raw = sys.stdin.buffer.read()
    header_end = raw.index(b"\n")
    job = json.loads(raw[:header_end])
    start = header_end + 1
    public = raw[start : start + job["public"]]
    private = raw[start + job["public"] : start + job["public"] + job["private"]]
    tests = json.loads(public) + json.loads(private)
    inputs = [t["input"] for t in tests]
    outputs = [t["output"] for t in tests]
    del raw, public, private, tests

    # Like a multiprocessing child: stdin is a closed file replaced by /dev/null;
    # the program's own writes to fd 1 go nowhere.
    result_fd = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    sys.stdin.close()
    sys.stdin = open(os.devnull)

    signal.signal(signal.SIGALRM, _on_alarm)
    disable_destructive_functions()
    results, info = run_tests(job, inputs, outputs)
    _report(result_fd, results, info)
    # Threads the program left running must not delay the verdict.
    _exit(0)


main()
