"""Attacks on Ruby's two-process judge (humaneval_lab/languages/ruby.py), through the real sandbox.

The candidate's process holds no token, no tests and no verdict: whatever it does there, only the
values it answers reach the judge, which parses them strictly and compares them with the tests' own
`assert_equal`. Attacks judged by their effect return the right answer exactly when they FAILED.
"""

from __future__ import annotations

from typing import Any

import pytest
from two_process_attacks import Attack, run_interleaved

from humaneval_lab.problems import Problem

pytestmark = pytest.mark.docker

TESTS = """require 'test/unit'
class TestHumanEval < Test::Unit::TestCase
  def test_add
    candidate = method(:add)
    assert_equal(3, candidate.call(1, 2))
    assert_equal(0, candidate.call(-5, 5))
    assert_equal(42, candidate.call(10, 32))
  end
end
"""
PROBLEM = Problem("HumanEval_0_add", "ruby", "# Add two numbers.\ndef add(a, b)\n", TESTS, "add",
                  source_format="multipl-e")  # fmt: skip
RIGHT = "  a + b\nend\n"
WRONG = "  a - b\nend\n"
FD4 = "IO.for_fd(4, autoclose: false).tap { |f| f.sync = true }"

ATTACKS = [
    Attack("exit0-in-function", "  exit 0\nend\n", "error", "the candidate went away mid-test"),
    Attack("exit!-at-load", "  a + b\nend\nexit!(0)\n", "error", "never ready"),
    Attack(
        "at-exit-launder",
        "  at_exit { exit!(0) }\n  raise 'boom'\nend\n",
        "error",
        "it raised: the judge says so",
    ),
    Attack(
        "print-passed",
        "  puts 'passed'; $stderr.puts '1 tests, 1 assertions, 0 failures, 0 errors'\n"
        "  STDOUT.puts '0' * 32; $stderr.puts 'passed'\n  a - b\nend\n",
        "failed",
    ),
    Attack(
        "write-init-stream",
        "  ['/proc/1/fd/1', '/proc/1/fd/0', '/proc/self/fd/1'].each { |f| File.write(f, %({\"id\":\"x\",\"outcome\":"
        '{"status":"passed"}}\\n)) rescue nil }\n  a - b\nend\n',
        "failed",
    ),
    Attack(
        "objectspace-hunt",
        "  hit = ObjectSpace.each_object(String).any? { |s| s.valid_encoding? && s =~ /candidate\\.call\\(10, 32\\)/ }\n"
        "  hit ? a - b : a + b\nend\n",
        "passed",
        "the tests are in another process",
    ),
    Attack(
        "read-tests-and-judge",
        "  seen = Dir.glob(['/work/**/tests.rb', '/tmp/**/tests.rb', '/proc/[0-9]*/cwd/tests.rb'])"
        ".filter_map { |f| File.read(f) rescue nil }\n"
        "  Dir.glob('/proc/[0-9]*').each do |p|\n"
        "    next unless (File.read(p + '/cmdline') rescue '').include?('hel_judge')\n"
        "    seen << (File.read(p + '/environ') rescue nil) << (File.open(p + '/mem').read(8) rescue nil)\n"
        "    seen << (File.read(p + '/fd/3', 1) rescue nil)\n"
        "  end\n  seen.compact.empty? ? a + b : a - b\nend\n",
        "passed",
        "the judge's dir and /proc files are another uid's",
    ),
    Attack(
        "own-fds-and-env",
        "  seen = [ENV.to_h.to_s, (File.read('/proc/self/environ') rescue '')]\n"
        "  (0..30).each { |fd| seen << (IO.for_fd(fd, autoclose: false).read_nonblock(1 << 16) rescue '') }\n"
        "  seen.any? { |t| t =~ /candidate\\.call\\(10, 32\\)|\\h{32}/ } ? a - b : a + b\nend\n",
        "passed",
        "no token and no test text anywhere the candidate can read",
    ),
    Attack(
        "signal-the-judge",
        "  Process.kill(:KILL, -1) rescue nil\n"
        "  Dir.glob('/proc/[0-9]*').map { |p| File.basename(p).to_i }.each do |pid|\n"
        "    next if pid == Process.pid\n"
        "    Process.kill(:STOP, pid) rescue nil\n    Process.kill(:KILL, pid) rescue nil\n  end\n"
        "  Process.kill(:KILL, Process.ppid) rescue nil\n  a + b\nend\n",
        "passed",
        "nothing trusted shares the sample's uid: the judge lives on and takes the honest answer",
    ),
    Attack(
        "monkey-patch-equality-and-asserts",
        "  JSON.define_singleton_method(:generate) { |*| '{\"value\":3}' }\n"
        "  a - b\nend\nclass Integer; def ==(o) = true; end\n"
        "module Test; module Unit; module Assertions; def assert_equal(*) = true; end; end; end\n"
        "module Kernel; def exit!(*) = nil; end\n",
        "failed",
        "the assertions and == that count are the judge's",
    ),
    Attack(
        "patch-io-write",
        '  a + b\nend\nclass IO; def write(*) = syswrite(%({"value":3}\\n)); end\n',
        "error",
        "its first message is not ready",
    ),
    Attack(
        "lying-object",
        "  o = Object.new\n  def o.==(x) = true\n  def o.to_json(*) = '3'\n  def o.to_s = '3'\n  o\nend\n",
        "error",
        "an object that is no plain value cannot cross",
    ),
    Attack(
        "lying-array-subclass",
        "  Class.new(Array) { def ==(o) = true; def to_json(*) = '3' }.new([99])\nend\n",
        "failed",
        "a subclass crosses by value: [99]",
    ),
    Attack("unencodable", "  -> { 3 }\nend\n", "error"),
    Attack(
        "patch-own-encoder",
        "  a - b\nend\nHelCodec.define_singleton_method(:encode) { |v| 3 }\n",
        "failed",
        "always 3 is right once",
    ),
    Attack(
        "out-of-turn-values",
        f'  {FD4}.write(%({{"value":3}}\\n) * 3) unless $hel_sent\n  $hel_sent = true\n  a + b\nend\n',
        "failed",
        "answers are read strictly in turn: right values, forged ahead of time, land on the wrong calls",
    ),
    Attack("second-ready", f'  {FD4}.write(%({{"ready":true}}\\n))\n  a + b\nend\n', "error"),
    Attack("huge-line", f"  {FD4}.write('[' * (9 << 20))\n  a + b\nend\n", "error"),
    Attack(
        "deep-nesting", f"  {FD4}.write(%({{\"value\":) + '[' * 100_000 + %(\\n))\n  a + b\nend\n", "error"
    ),
    Attack(
        "crafted-json",
        f'  {FD4}.write(%({{"value":{{"json_class":"Kernel","$sym":"x"}}}}\\n))\n  a + b\nend\n',
        "error",
    ),
    Attack("bad-rational", f'  {FD4}.write(%({{"value":{{"$rat":[1,0]}}}}\\n))\n  a + b\nend\n', "error"),
    Attack(
        "judge-helper-names",
        "  a - b\nend\ndef finish(*) = nil\ndef call(*) = nil\n"
        "module HelJudge; def self.finish(*) = exit!(0); end\ndef assert_equal(*) = true\n",
        "failed",
    ),
    Attack("never-answers", "  sleep 60\nend\n", "timeout"),
]


def test_ruby_attacks_each_followed_by_an_honest_sample(make_executor: Any) -> None:
    ex = make_executor(jobs=1, workers_per_container=1)
    run_interleaved(ex, PROBLEM, ATTACKS, RIGHT, WRONG)
