"""PHP: MultiPL-E and native problems, judged by two processes (see ``Program.judge``).

The trusted judge (``judge.php``, the judge uid, its own dir) runs the problem's tests unchanged;
every function the prompt defines is, in the judge, a stub that sends ``{"call": name, "args":
[...]}`` on fd 4 and returns the value the candidate answers on fd 3. The candidate (``serve.php``,
the sample uid) loads prompt + completion only, says ``{"ready": true}`` and answers each call with
``{"value": ...}`` or ``{"error": "..."}``. Nothing else of the candidate reaches the verdict.

Values cross in a tagged JSON encoding, so that the tests' ``!==`` means what it means in one
process: ints, bools, null and UTF-8 strings as JSON; ``{"f": x}`` a float (``"INF"``, ``"-INF"``,
``"NAN"`` too); ``{"b": base64}`` a string that is not UTF-8; ``{"l": [...]}`` a list (an array
with keys 0..n-1 in order); ``{"m": [[key, value], ...]}`` any other array, keys in order. Objects,
closures and resources cannot cross: the candidate answers ``error``. The judge decodes with
``json_decode`` and its own checks (never ``eval``), and any message that is not exactly one of
these (out of turn, too long, malformed, nested too deep) ends the judge with "error".
"""

from __future__ import annotations

import re

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_PHP = ("php", "-d", "display_errors=stderr", "-d", "error_reporting=-1", "-d", "log_errors=0")

# Both sides: the value encoding (one definition, so the two cannot drift apart).
_CODEC = r"""
function __hel_enc($v, int $depth = 0) {
    // Depth bounds a self-referencing array (PHP arrays are values, but references can nest them).
    if ($depth > 200) throw new RuntimeException('value nested too deeply');
    if ($v === null || is_bool($v) || is_int($v)) return $v;
    if (is_float($v)) {
        if (is_nan($v)) return ['f' => 'NAN'];
        if (is_infinite($v)) return ['f' => $v > 0 ? 'INF' : '-INF'];
        return ['f' => $v];
    }
    if (is_string($v)) return preg_match('//u', $v) === 1 ? $v : ['b' => base64_encode($v)];
    if (is_array($v)) {
        if (array_is_list($v)) {
            $out = [];
            foreach ($v as $x) $out[] = __hel_enc($x, $depth + 1);
            return ['l' => $out];
        }
        $out = [];
        foreach ($v as $k => $x) $out[] = [$k, __hel_enc($x, $depth + 1)];
        return ['m' => $out];
    }
    throw new RuntimeException('cannot send a value of type ' . get_debug_type($v));
}

function __hel_dec($v, int $depth = 0) {
    if ($depth > 200) throw new UnexpectedValueException('value nested too deeply');
    if ($v === null || is_bool($v) || is_int($v) || is_string($v)) return $v;
    if (!is_array($v) || count($v) !== 1) throw new UnexpectedValueException('not a value');
    $tag = array_key_first($v);
    $x = $v[$tag];
    if ($tag === 'f') {
        if (is_int($x) || is_float($x)) return (float) $x;
        if ($x === 'INF') return INF;
        if ($x === '-INF') return -INF;
        if ($x === 'NAN') return NAN;
    } elseif ($tag === 'b' && is_string($x)) {
        $s = base64_decode($x, true);
        if ($s !== false) return $s;
    } elseif ($tag === 'l' && is_array($x) && array_is_list($x)) {
        $out = [];
        foreach ($x as $e) $out[] = __hel_dec($e, $depth + 1);
        return $out;
    } elseif ($tag === 'm' && is_array($x) && array_is_list($x)) {
        $out = [];
        foreach ($x as $pair) {
            if (!is_array($pair) || !array_is_list($pair) || count($pair) !== 2
                || !(is_int($pair[0]) || is_string($pair[0]))) {
                throw new UnexpectedValueException('not a key/value pair');
            }
            $out[$pair[0]] = __hel_dec($pair[1], $depth + 1);
        }
        return $out;
    }
    throw new UnexpectedValueException('not a value');
}

// One message a line, at most this many bytes: a candidate cannot make the judge buffer more.
const __HEL_MAX_LINE = 4 << 20;

function __hel_read_line($in): ?string {
    $line = fgets($in, __HEL_MAX_LINE + 2);
    if ($line === false) return null;
    if (substr($line, -1) !== "\n") {
        if (feof($in)) return null;
        throw new UnexpectedValueException('a message longer than ' . __HEL_MAX_LINE . ' bytes');
    }
    return $line;
}

function __hel_write_line($out, array $msg): bool {
    $s = json_encode($msg, JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
    return fwrite($out, $s . "\n") !== false && fflush($out);
}
"""

# The trusted judge. Its helpers live in a final class and functions the tests never name; the
# candidate cannot reach this process anyway (another uid), only send lines on fd 3.
JUDGE = (
    r"""<?php
ini_set('serialize_precision', '-1');
"""
    + _CODEC
    + r"""
final class HelJudge {
    public static $in;
    public static $out;
    public static string $last = '';    // the last call and its answer, for the reason line
    public static ?array $broken = null; // [exit code, reason]: sticky, tests cannot catch it away

    public static function show($v): string {
        $s = json_encode($v, JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_SLASHES
            | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR);
        return strlen($s) > 120 ? substr($s, 0, 117) . '...' : $s;
    }

    public static function stop(int $code, string $why): never {
        self::$broken ??= [$code, $why];
        fwrite(STDERR, self::$broken[1] . "\n");
        exit(self::$broken[0]);
    }

    public static function start(): void {
        self::$in = fopen('php://fd/3', 'rb');
        self::$out = fopen('php://fd/4', 'wb');
        if (!self::$in || !self::$out) self::stop(2, 'judge: no channel to the candidate');
        try {
            $line = __hel_read_line(self::$in);
        } catch (UnexpectedValueException $e) {
            self::stop(2, 'the candidate sent ' . $e->getMessage() . ' before it was ready');
        }
        if ($line === null) self::stop(3, 'the candidate ended before it was ready');
        $msg = json_decode($line, true, 4);
        if ($msg !== ['ready' => true]) {
            self::stop(2, 'the candidate sent something else than {"ready": true}: ' . self::show(substr($line, 0, 80)));
        }
    }

    public static function call(string $name, array $args) {
        $what = $name . '(' . substr(self::show(array_values($args)), 1, -1) . ')';
        if (self::$broken !== null) self::stop(self::$broken[0], self::$broken[1]);
        try {
            $enc = [];
            foreach ($args as $a) $enc[] = __hel_enc($a);
            $sent = __hel_write_line(self::$out, ['call' => $name, 'args' => $enc]);
        } catch (Throwable $e) {
            self::stop(2, "judge: cannot send the arguments of $what: " . $e->getMessage());
        }
        if (!$sent) self::stop(3, "the candidate went away before $what");
        try {
            $line = __hel_read_line(self::$in);
            if ($line === null) self::stop(3, "the candidate ended during $what");
            // A huge int literal decodes as a float, which no value may be bare: an error, not a pass.
            $msg = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
            if (is_array($msg) && count($msg) === 1 && array_key_exists('value', $msg)) {
                $value = __hel_dec($msg['value']);
                self::$last = "$what returned " . self::show($value);
                return $value;
            }
            if (is_array($msg) && count($msg) === 1 && is_string($msg['error'] ?? null)) {
                self::stop(2, "$what raised: " . substr($msg['error'], 0, 300));
            }
            throw new UnexpectedValueException('a message that is neither a value nor an error');
        } catch (JsonException | UnexpectedValueException $e) {
            self::stop(2, "the candidate answered $what with " . $e->getMessage());
        }
    }

    public static function failed(Throwable $e, string $tests): never {
        $msg = $e->getMessage();
        $at = '';
        if ($e->getFile() === $tests) {
            $src = file($tests)[$e->getLine() - 1] ?? '';
            $at = ' at tests line ' . ($e->getLine() - 1) . ': ' . trim($src);
        }
        $last = self::$last !== '' ? ' (' . self::$last . ')' : '';
        // Like the one-process program: a test's own failure is "failed", anything else "error".
        $code = (str_contains($msg, 'Test failed') || str_contains($msg, 'check failed')) ? 1 : 2;
        self::stop($code, get_class($e) . ': ' . $msg . $last . $at);
    }
}
"""
)

JUDGE_MAIN = r"""
HelJudge::start();
try {
    require __DIR__ . '/tests.php';
} catch (Throwable $e) {
    HelJudge::failed($e, __DIR__ . '/tests.php');
}
if (HelJudge::$broken !== null) HelJudge::stop(HelJudge::$broken[0], HelJudge::$broken[1]);
exit(0);
"""

# The candidate's side: its code first (at file scope, as in one process), then the calls.
SERVE = (
    r"""<?php
require __DIR__ . '/main.php';
ini_set('serialize_precision', '-1');
"""
    + _CODEC
    + r"""
(function () {
    $in = fopen('php://fd/3', 'rb');
    $out = fopen('php://fd/4', 'wb');
    __hel_write_line($out, ['ready' => true]);
    while (($line = __hel_read_line($in)) !== null) {
        $req = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
        $args = array_map('__hel_dec', $req['args']);
        try {
            $msg = ['value' => __hel_enc(($req['call'])(...$args))];
        } catch (Throwable $e) {
            $msg = ['error' => get_class($e) . ': ' . $e->getMessage()];
        }
        try {
            __hel_write_line($out, $msg);
        } catch (JsonException $e) {
            __hel_write_line($out, ['error' => 'cannot send the value: ' . $e->getMessage()]);
        }
    }
})();
"""
)

# Functions the prompt (trusted text) defines: the ones the tests may call on the candidate.
_FUNCTION = re.compile(r"^\s*function\s+&?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(", re.MULTILINE)


def _stubs(problem: Problem) -> str:
    names = [n for n in dict.fromkeys(_FUNCTION.findall(problem.prompt)) if n != "candidate"]
    if problem.entry_point and problem.entry_point not in names:
        names.append(problem.entry_point)
    in_tests = {n.lower() for n in _FUNCTION.findall(problem.tests)}  # PHP names ignore case
    # Declared conditionally: a prompt that names a PHP built-in (MultiPL-E HumanEval_23 `strlen`)
    # can be passed by no completion, as in one process (where it cannot be redeclared), and the
    # tests must never reach the built-in instead of the candidate.
    return "".join(
        f"if (function_exists({n!r})) HelJudge::stop(2, 'the prompt defines {n}(), a PHP built-in: "
        f"no completion can replace it');\n"
        f"else {{ function {n}(...$args) {{ return HelJudge::call({n!r}, $args); }} }}\n"
        for n in names
        if n.lower() not in in_tests
    )


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "php")
    return Program(
        language="php",
        files={"main.php": source + "\n", "serve.php": SERVE},
        # Errors to stderr (php-cli prints them on stdout); only the judge's reach the verdict.
        run=(*_PHP, "serve.php"),
        judge=(*_PHP, "judge.php"),
        judge_files={
            "judge.php": JUDGE + _stubs(problem) + JUDGE_MAIN,
            "tests.php": "<?php\n" + problem.tests,
        },
        failure_markers=("Test failed", "check failed"),
    )


SPEC = LanguageSpec(
    name="php",
    build=build,
    stop_sequences=("\nfunction", "\n?>", "\n//", "\n#", "\n```"),
    image_tools=("php",),
)
