"""The warm JS/TS judge's server (``server.js``), shipped in the runner's bundle (no image change).

A long-lived Node process (see nodejudge.py) that loads the job's own ``hel_judge.js`` (written
beside it, with ``hel_codec.js`` and the js-md5 shim, root-owned and read-only) and calls its
``judge`` per job. Wire (compile_server's): HELLO once ready; per job a blob of JSON {"spec" (the
text of hel_tests.json), "dir" (the job's judge dir: the tests' __dirname, as cold), "calls",
"answers" (the job's FIFOs), "md5"}; it opens the FIFOs (the runner holds the peers, so neither open
waits) and says ACK, or CRASHED when it cannot (the runner then judges the job cold); then the
answer: status (the cold judge's exit code), the diagnostics (what the cold judge's stderr would
hold: the tests' own stderr output, capped, then the judge's lines), no outputs but ``restart``.

What a job leaves behind in this process is checked after every job: the globals, the built-ins'
own properties (what each holds, by identity), ``assert``, ``Module`` and the module cache
(TypeScript, loaded once for every job, aside). A job that changed any of them is answered with
one output named ``restart`` (so the runner sends no further job), then this process exits: the
next job gets a fresh one.
"""

from .compile_server import WIRE_JS

SERVER_JS = (
    r"""'use strict';
const fs = require('fs');
const Module = require('module');
const nodeAssert = require('assert');

const HELLO = 0x48454c31;
const ACK = 0x41434b31;
const CRASHED = 9;
const MAX_STDERR = 64 << 10;
"""
    + WIRE_JS
    + r"""const int32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n, 0); return b; };

// The tests' console output must never reach the wire (stdout): stdout is dropped; stderr is kept
// for the job's diagnostics, as the cold judge's stderr would hold it.
let stderr = [];
let stderrSize = 0;
process.stdout.write = () => true;
process.stderr.write = (data) => {
  const s = String(data);
  if (stderrSize < MAX_STDERR) stderr.push(s.slice(0, MAX_STDERR - stderrSize));
  stderrSize += s.length;
  return true;
};

const { judge } = require('./hel_judge.js');

const INTRINSICS = [globalThis, Object, Object.prototype, Array, Array.prototype, Function, Function.prototype,
  String, String.prototype, Number, Number.prototype, Boolean.prototype, BigInt.prototype, Symbol,
  Symbol.prototype, Math, JSON, Reflect, Promise, Promise.prototype, RegExp, RegExp.prototype, Date,
  Date.prototype, Map.prototype, Set.prototype, Error, Error.prototype, TypeError.prototype, console,
  process, nodeAssert, Buffer, Buffer.prototype, Module];
function footprint() {
  const refs = [];
  for (const o of INTRINSICS) {
    const keys = Reflect.ownKeys(o);
    refs.push(keys.length);
    for (const k of keys) {
      const d = Reflect.getOwnPropertyDescriptor(o, k);
      refs.push(k, d.value, d.get, d.set);
    }
  }
  for (const k of Object.keys(require.cache)) if (!k.includes('/typescript/')) refs.push(k);
  return refs;
}
const same = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

writeAll(int32(HELLO));
const clean = footprint();
for (;;) {
  const request = JSON.parse(readExact(readExact(4).readInt32BE(0)).toString('utf8'));
  let inFd = -1;
  let outFd = -1;
  try {
    inFd = fs.openSync(request.answers, fs.constants.O_RDONLY);
    outFd = fs.openSync(request.calls, fs.constants.O_WRONLY);
  } catch (e) {
    for (const fd of [inFd, outFd]) if (fd >= 0) fs.closeSync(fd);
    writeAll(int32(CRASHED));
    continue;
  }
  writeAll(int32(ACK));
  stderr = [];
  stderrSize = 0;
  const { code, text } = judge(JSON.parse(request.spec), request.dir, request.md5 === true, inFd, outFd);
  for (const fd of [inFd, outFd]) {
    try { fs.closeSync(fd); } catch (e) { /* the calls' end is closed after the tests */ }
  }
  const diag = Buffer.from(stderr.join('') + text, 'utf8');
  stderr = [];
  // Left something behind: one output, "restart", tells the runner this process ends with this job.
  const dirty = !same(footprint(), clean);
  const restart = dirty ? [int32(7), Buffer.from('restart'), int32(0)] : [];
  writeAll(Buffer.concat([int32(code), int32(diag.length), diag, int32(dirty ? 1 : 0), ...restart]));
  if (dirty) process.exit(0);
}
"""
)
