"""Cross-check of our LiveCodeBench harness (crates/eval/data/lcb_harness.py)
against the official one, program by program. A development tool, not run by
`cargo test`: it needs a checkout of LiveCodeBench/LiveCodeBench (pinned by
MLPerf at b1e7cab4) and numpy.

Usage: python3 lcb_crosscheck.py LIVECODEBENCH/lcb_runner/evaluation

Each case runs through the official `run_test` (in a multiprocessing child
with the official outer join timeout) and through our harness, and the
per-test result lists are compared. Last run (2026, Python 3.11.7, numpy
2.4): all 53 cases equal, except that where a call-based answer is a numpy
array the official list holds the array itself (which its caller turns into
its first element) and ours holds that element.
"""
import json, os, subprocess, sys, multiprocessing
sys.set_int_max_str_digits(50000)
sys.path.insert(0, sys.argv[1])
HARNESS = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "lcb_harness.py")).read()

def official(code, tests, fn_name, timeout):
    from testing_util import run_test
    sample = {"input_output": json.dumps({"inputs": [t[0] for t in tests], "outputs": [t[1] for t in tests], "fn_name": fn_name})}
    m = multiprocessing.Manager(); res = m.list()
    def target():
        import os
        r, _ = run_test(sample, test=code, timeout=timeout)
        res.append(r)
    p = multiprocessing.Process(target=target); p.start(); p.join((timeout + 1) * len(tests) + 5)
    if p.is_alive(): p.kill()
    if not res: return [-1] * len(tests)
    return [int(x) if isinstance(x, bool) else x for x in res[0]]

def ours(code, tests, fn_name, timeout):
    kind = "functional" if fn_name else "stdin"
    pub = json.dumps([{"input": i, "output": o, "testtype": kind} for i, o in tests]).encode()
    h = json.dumps({"code": code, "fn_name": fn_name, "timeout": timeout, "public": len(pub), "private": 2}).encode()
    try:
        r = subprocess.run(["python3", "-c", HARNESS], input=h + b"\n" + pub + b"[]", capture_output=True, timeout=(timeout + 1) * len(tests) + 5)
    except subprocess.TimeoutExpired:
        return [-1] * len(tests)
    lines = [l for l in r.stdout.split(b"\n") if l.strip()]
    if not lines: return [-1] * len(tests)
    return json.loads(lines[-1])["results"]

S = [("3\n", "6\n"), ("10\n", "20"), ("-4\n", "-8\n")]
F = [("[1, 2]\n3", "[3, 3]"), ("[]\n0", "[0, 0]"), ("[5]\n7", "[5, 7]")]
cases = [
 ("print(int(input())*2)", S, None),
 ("import sys\nprint(int(sys.stdin.readline())*2)", S, None),
 ("import sys\nprint(int(sys.stdin.read())*2)", S, None),
 ("import sys\nprint(int(sys.stdin.readlines()[0])*2)", S, None),
 ("import sys\nprint(int(sys.stdin.buffer.read())*2)", S, None),
 ("import sys\nprint(int(sys.stdin.buffer.readline())*2)", S, None),
 ("import sys\nfor l in sys.stdin: print(int(l)*2)", S, None),
 ("print(int(open(0).read())*2)", S, None),
 ("import io\nprint(int(io.open(0).read() or 0)*2)", S, None),
 ("import builtins\nprint(int(builtins.open(0).read())*2)", S, None),
 ("import builtins\nwith builtins.open('in.txt') as f:\n    for line in f: print(int(line)*2)", S, None),
 ("import builtins\nf = builtins.open('in.txt')\nprint(int(f.readline())*2)\nprint(f.readlines())", S, None),
 ("import builtins\nbuiltins.open('out.txt', 'w').write('x')\nprint(int(input())*2)", S, None),
 ("print(int(input())*2)\nexit()", S, None),
 ("print(int(input())*2)\nquit()", S, None),
 ("import sys\nprint(int(input())*2)\nsys.exit(0)", S, None),
 ("def main():\n    print(int(input())*2)\nif __name__ == '__main__':\n    main()", S, None),
 ("def main():\n    print(int(input())*2)\nif __name__ == \"__main__\":\n    main()\nx=1", S, None),
 ("import sys\nsys.stdout.close()", S, None),
 ("class Solution: pass\nprint(int(input())*2)", S, None),
 ("import resource\nprint(int(input())*2)", S, None),
 ("import os\nprint(os.getcwd())", S, None),
 ("print(int(input())*2.0)", S, None),
 ("print(str(int(input())*2) + '.000')", S, None),
 ("print(int(input())*2, '\\n')", S, None),
 ("print(int(input())*2)\nprint()", S, None),
 ("while True: pass", S, None),
 ("try:\n    while True: pass\nexcept Exception:\n    print(int(input())*2)", S, None),
 ("import os", S, None),
 ("x = int(input())\ndef f():\n    global x\n    return x*2\nprint(f())", S, None),
 ("print(", S, None),
 ("import threading\ndef m():\n    print(int(input())*2)\nt=threading.Thread(target=m); t.start(); t.join()", S, None),
 ("import sys\nsys.stderr.write('x')\nprint(int(input())*2)", S, None),
 ("print(int(input())*2, end='')", S, None),
 ("print(' %d ' % (int(input())*2))", S, None),
 ("print('NaN')", [("1", "NaN")], None),
 ("print('1e1')", [("1", "10")], None),
 ("print('1_0')", [("1", "10")], None),
 ("print(12345678901234567890123)", [("1", "12345678901234567890123.0")], None),
 ("print(10**40000)", [("1", "1" + "0"*40000)], None),
 ("class Solution:\n    def pairUp(self, nums, k):\n        return [sum(nums), k]", F, "pairUp"),
 ("def pairUp(nums, k):\n    return sum(nums), k", F, "pairUp"),
 ("def pairUp(nums, k):\n    return [sum(nums), k + (len(nums)==1)]", F, "pairUp"),
 ("def pairUp(nums, k):\n    return [nums[5], k]", F, "pairUp"),
 ("def other(nums, k):\n    return [0, 0]", F, "pairUp"),
 ("import sys\nsys.exit(0)", F, "pairUp"),
 ("class Solution:\n    def pairUp(self, nums, k):\n        while True: pass", F, "pairUp"),
 ("class Solution:\n    def pairUp(self, nums, k):\n        return [float(sum(nums)), k]", F, "pairUp"),
 ("import numpy as np\nclass Solution:\n    def pairUp(self, nums, k):\n        return np.array([sum(nums), k])", F, "pairUp"),
 ("import numpy as np\nclass Solution:\n    def pairUp(self, nums, k):\n        return [np.int64(sum(nums)), k]", F, "pairUp"),
 ("class Solution:\n    def pairUp(self, nums, k):\n        print('noise')\n        return [sum(nums), k]", F, "pairUp"),
 ("while True: pass\nclass Solution:\n    def pairUp(self, nums, k):\n        return [sum(nums), k]", F, "pairUp"),
 ("class Solution:\n    def pairUp(self, nums: List[int], k: int) -> List[int]:\n        return [sum(Counter(nums).elements()), gcd(k, 0)]", F, "pairUp"),
]
if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    bad = 0
    for code, tests, fn in cases:
        a = official(code, tests, fn, 2); b = ours(code, tests, fn, 2)
        same = repr(a) == repr(b) or (len(a) == len(b) and all(str(x) == str(y) for x, y in zip(a, b)))
        flag = "OK  " if same else "DIFF"
        bad += not same
        print(flag, repr(code[:60]), a, b, flush=True)
    print("differences:", bad)
