"""Racket 8.7: MultiPL-E and native problems, run with ``racket``.

MultiPL-E runs prompt + completion + tests in one module; the tests are rackunit ``check-within``s,
which report a failure on stderr and go on, so MultiPL-E passes a run only on exit 0 **and** an empty
stderr. Here three modules:

- ``cand.rkt``: prompt + completion (``#lang racket``), providing the entry point;
- ``tests.rkt``: the tests, in a module of their own (so a candidate definition of ``list``,
  ``equal?`` or anything else of ``#lang racket`` cannot reach them), importing only the entry point
  from ``cand.rkt`` and, instead of rackunit, ``hel-check.rkt``'s checks of the same names. Those
  raise on a failure (rackunit's ``current-check-handler`` is a parameter any code could set), and
  accept only plain data from the candidate (no struct that overrides ``equal?``, no impersonator);
- ``hel.rkt``, the program: reads the token into a local before ``tests.rkt`` (hence the candidate)
  is instantiated, runs the tests, and prints the token only after they returned. A failure never
  reaches the print, even if the candidate replaced ``exit-handler``.

Like MultiPL-E, anything on stderr fails the run.
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import sub_exact, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_MAIN = """\
#lang racket/base
(let ([token (read-line)]
      ;; The ports as they are before any candidate code runs: a candidate that points
      ;; current-error-port elsewhere does not hide the reason.
      [out (current-output-port)]
      [err (current-error-port)])
  (current-input-port (open-input-bytes #""))
  (define ok
    (with-handlers ([(lambda (e) #t)
                     (lambda (e)
                       (flush-output out)
                       (write-string (format "hel: ~a\\n" (if (exn? e) (exn-message e) "the candidate raised a non-exception")) err)
                       (flush-output err)
                       #f)])
      ((dynamic-require (build-path (current-directory) "tests.rkt") 'test-humaneval))
      #t))
  (when (and ok (string? token) (positive? (string-length token)))
    (flush-output out)
    (write-string (string-append "\\n" token "\\n") out)
    (flush-output out)
    (exit 0))
  (exit 1))
"""

_CHECKS = """\
#lang racket/base
;; rackunit's checks as MultiPL-E's tests use them, raising on failure, on plain data only.
(provide check-within check-equal? check-true check-false)

(define (plain? v)
  (cond [(or (impersonator? v) (chaperone? v)) #f]
        [(or (boolean? v) (number? v) (string? v) (bytes? v) (symbol? v) (char? v) (null? v)
             (void? v) (keyword? v)) #t]
        [(pair? v) (and (plain? (car v)) (plain? (cdr v)))]
        [(vector? v) (for/and ([x (in-vector v)]) (plain? x))]
        [(box? v) (plain? (unbox v))]
        [(hash? v) (for/and ([(k x) (in-hash v)]) (and (plain? k) (plain? x)))]
        [else #f]))

(define (fail name actual expected)
  (raise (exn:fail (format "check failed: ~a: got ~s, expected ~s" name actual expected)
                   (current-continuation-marks))))

(define (need-plain name actual)
  (unless (plain? actual)
    (raise (exn:fail (format "~a: the candidate returned something that is not plain data" name)
                     (current-continuation-marks)))))

(define (within? a b eps)
  (if (and (number? a) (number? b))
      (<= (magnitude (- a b)) eps)
      (equal?/recur a b (lambda (x y) (within? x y eps)))))

(define (check-within actual expected eps)
  (need-plain 'check-within actual)
  (unless (within? actual expected eps) (fail 'check-within actual expected)))

(define (check-equal? actual expected)
  (need-plain 'check-equal? actual)
  (unless (equal? actual expected) (fail 'check-equal? actual expected)))

(define (check-true actual) (check-equal? actual #t))
(define (check-false actual) (check-equal? actual #f))
"""

_DEFINE = re.compile(r"^\(define\s+\((\S+)", re.MULTILINE)


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "racket")
    names = _DEFINE.findall(problem.prompt)
    if not names or not problem.prompt.lstrip().startswith("#lang racket"):
        raise UserInputError(f"racket: no #lang racket function to complete in {problem.task_id}")
    entry = names[-1]
    tests = sub_exact(r"^\(require rackunit\)\s*$", "", problem.tests, "(require rackunit)")
    tests = sub_exact(r"^\(test-humaneval\)\s*\Z", "", tests.rstrip(), "the (test-humaneval) call")
    head = f'#lang racket\n(require (only-in "cand.rkt" {entry}) "hel-check.rkt")\n(provide test-humaneval)\n'
    return Program(
        language="racket",
        files={
            "cand.rkt": source + f"\n(provide {entry})\n",
            "tests.rkt": head + tests + "\n",
            "hel-check.rkt": _CHECKS,
            "hel.rkt": _MAIN,
        },
        run=("racket", "hel.rkt"),
        failure_markers=("hel: check failed",),
        require_empty_stderr=True,
    )


SPEC = LanguageSpec(
    name="racket",
    aliases=("rkt",),
    build=build,
    stop_sequences=("\n(define ", "\n#|", "\n;", "\n("),
    image_tools=("racket",),
)
