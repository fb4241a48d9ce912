'use strict';
// The trusted judge of a JavaScript/TypeScript sample (humaneval-lab). No candidate code ever runs
// in this process. Two ways to run it, one judging:
//
// - cold: `node hel_judge.js hel_tests.json`, run as the slot's judge uid in a dir the candidate
//   cannot read, with the call pipes on fds 3 (answers in) and 4 (calls out); its exit code is the
//   verdict (see Program.judge).
// - warm: loaded (not run) by the runner's long-lived judge server, one per worker under a uid of
//   its own (sandbox/runner/nodejudge.py, node_judge_server.py), which calls `judge` per job with
//   that job's tests and call channel; the answer is the cold exit code and stderr. Each job gets
//   fresh judging state and a fresh module scope for its tests.
//
// hel_tests.json: {"entry_point", "prelude" (the prompt's complete declarations before the entry
// point, e.g. HumanEval-X/32's `poly`: trusted dataset text), "tests", "typescript"}. The tests run
// unchanged, with the entry point bound to a stub that sends {"id", "call", "args"} and reads the
// answer synchronously; so `assert.deepEqual`, `===` and console.assert (made to throw) are the
// tests' own, applied to values this process built (see hel_codec.js).
//
// Verdict (cold exit code, warm status): 0 every test returned; 1 a test assertion failed; 2 the
// candidate raised, did not load, or broke the protocol (a reply that is not JSON, not an answer
// to the call just made, over MAX_LINE bytes, a value that does not decode); 3 the candidate went
// away; 4 this judge itself failed. The last stderr line says why. The first of these reached is
// the verdict: warm, a test that catches what ended the judging cannot change it.

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');
const nodeAssert = require('assert');
const { encode, decode, rebuildError } = require('./hel_codec.js');

const PASSED = 0;
const FAILED = 1;
const ERROR = 2;
const GONE = 3;
const BROKEN = 4;
const MAX_LINE = 16 << 20;
const SERVING = require.main !== module; // warm: loaded by the runner's server, not run
const sleeper = new Int32Array(new SharedArrayBuffer(4));

// Call ids from the kernel's random source, as crypto.randomBytes would give them: reading
// /dev/urandom spares loading node's crypto (OpenSSL) in every judge, ~20 ms of a loaded core.
let urandom = -1;
function randomHex(n) {
  if (urandom < 0) urandom = fs.openSync('/dev/urandom', 'r');
  const b = Buffer.alloc(n);
  for (let off = 0; off < n; ) off += fs.readSync(urandom, b, off, n - off, null);
  return b.toString('hex');
}

function oneLine(s, max = 400) {
  const t = String(s).replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 3) + '...' : t;
}

// One job's judging state: fresh for every job (warm), so nothing of one sample's judging (a
// buffered byte, the last call, an error's origin) reaches the next.
function newJob(inFd, outFd) {
  return {
    inFd, // the candidate's answers
    outFd, // the calls to the candidate
    rest: Buffer.alloc(0),
    candidateErrors: new WeakMap(), // error -> what the candidate said it was
    lastCall: null, // {name, args, value} or {name, args, error}: what a failure reason shows
    compiled: '',
    done: null, // warm: the verdict, once reached
  };
}
let job = newJob(3, 4);

function stderrText(detail, reason) {
  return (detail ? String(detail) + '\n' : '') + (reason ? oneLine(reason) + '\n' : '');
}

// The verdict: cold, this process ends with it; warm, it is kept (the first one reached) and
// thrown, unwinding the tests back to the job's loop.
function finish(code, reason, detail) {
  if (!SERVING) {
    try {
      const text = stderrText(detail, reason);
      if (text) fs.writeSync(2, text);
    } finally {
      process.exit(code);
    }
  }
  if (job.done === null) job.done = { code, text: stderrText(detail, reason) };
  throw job.done;
}

if (!SERVING) {
  process.on('uncaughtException', (e) => finish(BROKEN, `judge error: ${e && e.message}`, e && e.stack));
}

// A short rendering of a value the judge holds (its own, decoded: nothing here runs candidate code).
function show(v) {
  const s = (x, depth) => {
    if (typeof x === 'string') return JSON.stringify(x.length > 60 ? x.slice(0, 60) + '...' : x);
    if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
    if (typeof x === 'bigint') return `${x}n`;
    if (x === null || typeof x !== 'object') return String(x);
    if (depth > 3) return Array.isArray(x) ? '[...]' : '{...}';
    if (Array.isArray(x)) {
      const items = [];
      for (let i = 0; i < x.length && i < 20; i++) items.push(i in x ? s(x[i], depth + 1) : '<hole>');
      return `[${items.join(', ')}${x.length > 20 ? ', ...' : ''}]`;
    }
    const keys = Object.keys(x);
    const items = keys.slice(0, 20).map((k) => `${JSON.stringify(k)}: ${s(x[k], depth + 1)}`);
    return `{${items.join(', ')}${keys.length > 20 ? ', ...' : ''}}`;
  };
  return oneLine(s(v, 0), 120);
}

// ---------------------------------------------------------------------------------- the channel

const chunk = Buffer.alloc(1 << 16);

function violation(what) {
  finish(ERROR, `the candidate broke the call protocol: ${what}`);
}

function readLine() {
  const parts = [];
  let size = 0;
  let last = job.rest;
  job.rest = Buffer.alloc(0);
  for (;;) {
    // Only the new bytes are searched for the newline, and a line is bounded: a candidate that
    // writes without end costs this process neither quadratic time nor unbounded memory.
    const nl = last.indexOf(10);
    if (nl >= 0) {
      parts.push(last.subarray(0, nl));
      job.rest = last.subarray(nl + 1);
      if (size + nl > MAX_LINE) violation(`a line over ${MAX_LINE} bytes`);
      return Buffer.concat(parts).toString('utf8');
    }
    parts.push(last);
    size += last.length;
    if (size > MAX_LINE) violation(`a line over ${MAX_LINE} bytes`);
    let n;
    try {
      n = fs.readSync(job.inFd, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') {
        Atomics.wait(sleeper, 0, 0, 1);
        last = Buffer.alloc(0);
        continue;
      }
      throw e;
    }
    if (n === 0) finish(GONE, 'the candidate ended while the tests needed it');
    last = Buffer.from(chunk.subarray(0, n));
  }
}

function writeLine(s) {
  const buf = Buffer.from(s + '\n', 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(job.outFd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, 1);
      else if (e.code === 'EPIPE') finish(GONE, 'the candidate ended while the tests needed it');
      else throw e;
    }
  }
}

function parseMessage(line) {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    violation(`a line that is not JSON (${oneLine(line, 60)})`);
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) violation('a line that is not a JSON object');
  return msg;
}

function keysAre(msg, ...keys) {
  const have = Object.keys(msg);
  return have.length === keys.length && keys.every((k) => have.includes(k));
}

function awaitReady() {
  const msg = parseMessage(readLine());
  if (keysAre(msg, 'ready') && msg.ready === true) {
    if (job.rest.length) violation('it wrote before it was called');
    return;
  }
  if (keysAre(msg, 'error', 'load') && msg.load === true && typeof msg.error === 'string') {
    finish(ERROR, `the candidate did not load: ${msg.error}`);
  }
  violation('its first line is not {"ready": true}');
}

// ---------------------------------------------------------------------------------- the stubs

function call(name, args) {
  if (job.done !== null) throw job.done; // warm: the verdict is in; the tests may not go on calling
  if (job.rest.length) violation('it wrote when it was not asked');
  let wireArgs;
  try {
    wireArgs = args.map(encode);
  } catch (e) {
    throw new TypeError(`the test passed a value that cannot be sent to the candidate: ${e.message}`);
  }
  // A fresh random id per call: an answer written ahead of time, or twice, cannot match it.
  const id = randomHex(12);
  writeLine(JSON.stringify({ id, call: name, args: wireArgs }));
  const msg = parseMessage(readLine());
  if (msg.id !== id) violation(`an answer that is not to the call ${name}(...) just made`);
  if (keysAre(msg, 'id', 'value')) {
    let value;
    try {
      value = decode(msg.value);
    } catch (e) {
      violation(`${e.message} (in the answer to ${name})`);
    }
    job.lastCall = { name, args, value };
    return value;
  }
  if (keysAre(msg, 'id', 'error', 'name') && typeof msg.error === 'string' && typeof msg.name === 'string') {
    const err = rebuildError(msg.name, msg.error);
    job.candidateErrors.set(err, `${msg.name}: ${msg.error}`);
    job.lastCall = { name, args, error: err };
    throw err;
  }
  return violation('an answer that is neither {"id", "value"} nor {"id", "error", "name"}');
}

function stub(name) {
  const f = function (...args) {
    return call(name, args);
  };
  Object.defineProperty(f, 'name', { value: name });
  return f;
}

// ---------------------------------------------------------------------------------- the tests

let typescript = null; // loaded once (warm: for every job after the first that needs it)

function loadTypeScript() {
  for (const where of ['typescript', '/usr/share/nodejs/typescript', '/usr/lib/node_modules/typescript']) {
    try {
      return require(where);
    } catch (e) {
      // try the next place
    }
  }
  return finish(BROKEN, 'judge error: the typescript module is not installed');
}

function compileTests(spec, testsFile) {
  const params = ['exports', 'require', 'module', '__filename', '__dirname', spec.entry_point];
  let source = (spec.prelude ? spec.prelude + '\n' : '') + spec.tests;
  if (spec.typescript) {
    // MultiPL-E's TS tests are plain JS but for this declaration: try them as JS first, which
    // spares loading the TypeScript compiler; anything else TS-only is transpiled (no type check).
    const plain = source.replace(/^declare var require: any;$/m, '');
    try {
      job.compiled = plain;
      return vm.compileFunction(plain, params, { filename: testsFile });
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
    const ts = typescript || (typescript = loadTypeScript());
    source = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS },
      reportDiagnostics: false,
    }).outputText;
  }
  job.compiled = source;
  return vm.compileFunction(source, params, { filename: testsFile });
}

// The statement of the tests a failure was thrown at, as written (a call may span lines).
function statementAt(err) {
  const stack = String((err && err.stack) || '');
  const m = stack.match(/hel_tests\.js:(\d+):(\d+)/);
  if (!m) return '';
  const lines = job.compiled.split('\n');
  let text = '';
  let depth = 0;
  for (let i = Number(m[1]) - 1; i < lines.length && i < Number(m[1]) + 8; i++) {
    const line = lines[i].replace(/\/\/.*$/, '');
    text += ' ' + line;
    for (const c of line.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, '')) {
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') depth--;
    }
    if (depth <= 0) break;
  }
  return oneLine(text.replace(/;\s*$/, ''), 150);
}

function lastCallText() {
  const lastCall = job.lastCall;
  if (!lastCall) return '';
  const args = lastCall.args.map(show).join(', ');
  return `${lastCall.name}(${oneLine(args, 100)})`;
}

function verdictOf(err) {
  const where = statementAt(err);
  const lastCall = job.lastCall;
  if (err !== null && typeof err === 'object' && job.candidateErrors.has(err)) {
    return [ERROR, `${oneLine(job.candidateErrors.get(err), 150)} (raised by the candidate in ${lastCallText()})`];
  }
  const name = err && err.name;
  const message = String(err && err.message);
  if (err instanceof nodeAssert.AssertionError || name === 'AssertionError') {
    const got = err instanceof nodeAssert.AssertionError && err.operator !== 'fail' ? show(err.actual) : '';
    if (where && got) return [FAILED, `AssertionError: ${where} got ${got}`];
    if (where && lastCall && !('error' in lastCall)) {
      return [FAILED, `AssertionError: ${where}; ${lastCall.name} returned ${show(lastCall.value)}`];
    }
    if (where) return [FAILED, `AssertionError: ${where}`];
    return [FAILED, `AssertionError: ${oneLine(message, 150)}${lastCall ? `; last call ${lastCallText()}` : ''}`];
  }
  if (err instanceof Error && message.startsWith('check failed')) return [FAILED, oneLine(message)];
  if (err instanceof Error) {
    const last = lastCall ? `; last call ${lastCallText()}` : '';
    return [ERROR, `${name}: ${oneLine(message, 150)}${where ? ` at ${where}` : ''}${last}`];
  }
  return [ERROR, `the tests threw ${show(err)}`];
}

function strictAssert(ok, ...message) {
  if (!ok) {
    const err = new Error('console.assert failed' + (message.length ? ': ' + message.map(String).join(' ') : ''));
    err.name = 'AssertionError';
    throw err;
  }
}

// Node's console.assert only prints; HumanEval-X's tests rely on it failing the run.
Object.defineProperty(console, 'assert', { value: strictAssert, writable: false, configurable: false });

// Run one job's tests (spec: hel_tests.json's object; dir: the tests' dir). Returns normally only
// when every test returned; any verdict other than PASSED goes through finish().
function runTests(spec, dir, md5) {
  const testsFile = path.join(dir, 'hel_tests.js');
  let tests;
  try {
    tests = compileTests(spec, testsFile);
  } catch (e) {
    if (job.done !== null) throw job.done;
    finish(BROKEN, `judge error: the tests do not compile: ${e && e.message}`, e && e.stack);
  }
  awaitReady();
  const mod = new Module(testsFile, null);
  mod.filename = testsFile;
  let req = Module.createRequire(testsFile);
  if (md5) req = withMd5(req);
  try {
    tests.call(mod.exports, mod.exports, req, mod, testsFile, dir, stub(spec.entry_point));
  } catch (e) {
    if (job.done !== null) throw job.done;
    const [code, reason] = verdictOf(e);
    finish(code, reason, e && e.stack);
  }
  if (job.done !== null) throw job.done; // a test caught what ended the judging
  try {
    fs.closeSync(job.outFd); // the candidate reads the end of its calls and exits
  } catch (e) {
    // already gone: the tests need nothing more from it
  }
}

// Warm: judge one job whose call channel is (inFd: the candidate's answers, outFd: the calls to it);
// the verdict and what the cold judge would have written on stderr after the tests' own output.
// Fresh judging state per job; nothing of it outlives the call.
function judge(spec, dir, md5, inFd, outFd) {
  job = newJob(inFd, outFd);
  try {
    runTests(spec, dir, md5);
    return { code: PASSED, text: '' };
  } catch (e) {
    if (job.done !== null) return job.done;
    return { code: BROKEN, text: stderrText(e && e.stack, `judge error: ${e && e.message}`) };
  } finally {
    job = newJob(-1, -1);
  }
}

// js-md5 for the tests that require it (HumanEval-X/162): cold, the judge dir holds the shim as
// node_modules/js-md5; warm, the same shim (beside this file, written by the runner) answers
// require('js-md5') of the tests, a fresh module each job.
const MD5_SHIM = path.join(__dirname, 'node_modules', 'js-md5', 'index.js');
function withMd5(req) {
  const r = (id) => {
    if (id === 'js-md5') {
      const m = new Module(MD5_SHIM, null);
      m.filename = MD5_SHIM;
      vm.compileFunction(fs.readFileSync(MD5_SHIM, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], {
        filename: MD5_SHIM,
      }).call(m.exports, m.exports, Module.createRequire(MD5_SHIM), m, MD5_SHIM, path.dirname(MD5_SHIM));
      return m.exports;
    }
    return req(id);
  };
  return Object.assign(r, { resolve: req.resolve, cache: req.cache, main: req.main, extensions: req.extensions });
}

if (SERVING) {
  module.exports = { judge };
} else {
  const specPath = path.resolve(process.argv[2]);
  runTests(JSON.parse(fs.readFileSync(specPath, 'utf8')), path.dirname(specPath), false);
  finish(PASSED, '');
}
