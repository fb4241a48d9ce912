'use strict';
// The trusted judge of a JavaScript/TypeScript sample (humaneval-lab): `node hel_judge.js
// hel_tests.json`, run as the slot's judge uid in a dir the candidate cannot read, with the call
// pipes on fds 3 (answers in) and 4 (calls out). No candidate code ever runs in this process.
//
// hel_tests.json: {"entry_point", "prelude" (the prompt's complete declarations before the entry
// point, e.g. HumanEval-X/32's `poly`: trusted dataset text), "tests", "typescript"}. The tests run
// unchanged, with the entry point bound to a stub that sends {"id", "call", "args"} and reads the
// answer synchronously; so `assert.deepEqual`, `===` and console.assert (made to throw) are the
// tests' own, applied to values this process built (see hel_codec.js).
//
// Exit code = verdict (see Program.judge): 0 every test returned; 1 a test assertion failed; 2 the
// candidate raised, did not load, or broke the protocol (a reply that is not JSON, not an answer
// to the call just made, over MAX_LINE bytes, a value that does not decode); 3 the candidate went
// away; 4 this judge itself failed. The last stderr line says why.

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
const IN = 3;
const OUT = 4;
const MAX_LINE = 16 << 20;
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

function finish(code, reason, detail) {
  try {
    if (detail) fs.writeSync(2, String(detail) + '\n');
    if (reason) fs.writeSync(2, oneLine(reason) + '\n');
  } finally {
    process.exit(code);
  }
}

process.on('uncaughtException', (e) => finish(BROKEN, `judge error: ${e && e.message}`, e && e.stack));

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
let rest = Buffer.alloc(0);

function violation(what) {
  finish(ERROR, `the candidate broke the call protocol: ${what}`);
}

function readLine() {
  const parts = [];
  let size = 0;
  let last = rest;
  rest = Buffer.alloc(0);
  for (;;) {
    // Only the new bytes are searched for the newline, and a line is bounded: a candidate that
    // writes without end costs this process neither quadratic time nor unbounded memory.
    const nl = last.indexOf(10);
    if (nl >= 0) {
      parts.push(last.subarray(0, nl));
      rest = last.subarray(nl + 1);
      if (size + nl > MAX_LINE) violation(`a line over ${MAX_LINE} bytes`);
      return Buffer.concat(parts).toString('utf8');
    }
    parts.push(last);
    size += last.length;
    if (size > MAX_LINE) violation(`a line over ${MAX_LINE} bytes`);
    let n;
    try {
      n = fs.readSync(IN, chunk, 0, chunk.length, null);
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
      off += fs.writeSync(OUT, buf, off, buf.length - off);
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
    if (rest.length) violation('it wrote before it was called');
    return;
  }
  if (keysAre(msg, 'error', 'load') && msg.load === true && typeof msg.error === 'string') {
    finish(ERROR, `the candidate did not load: ${msg.error}`);
  }
  violation('its first line is not {"ready": true}');
}

// ---------------------------------------------------------------------------------- the stubs

const candidateErrors = new WeakMap(); // error -> what the candidate said it was
let lastCall = null; // {name, args, value} or {name, args, error}: what a failure reason shows

function call(name, args) {
  if (rest.length) violation('it wrote when it was not asked');
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
    lastCall = { name, args, value };
    return value;
  }
  if (keysAre(msg, 'id', 'error', 'name') && typeof msg.error === 'string' && typeof msg.name === 'string') {
    const err = rebuildError(msg.name, msg.error);
    candidateErrors.set(err, `${msg.name}: ${msg.error}`);
    lastCall = { name, args, error: err };
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

const specPath = path.resolve(process.argv[2]);
const dir = path.dirname(specPath);
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
const testsFile = path.join(dir, 'hel_tests.js');
const PARAMS = ['exports', 'require', 'module', '__filename', '__dirname', spec.entry_point];
let compiled = '';

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

function compileTests() {
  let source = (spec.prelude ? spec.prelude + '\n' : '') + spec.tests;
  if (spec.typescript) {
    // MultiPL-E's TS tests are plain JS but for this declaration: try them as JS first, which
    // spares loading the TypeScript compiler; anything else TS-only is transpiled (no type check).
    const plain = source.replace(/^declare var require: any;$/m, '');
    try {
      compiled = plain;
      return vm.compileFunction(plain, PARAMS, { filename: testsFile });
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
    const ts = loadTypeScript();
    source = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS },
      reportDiagnostics: false,
    }).outputText;
  }
  compiled = source;
  return vm.compileFunction(source, PARAMS, { filename: testsFile });
}

// The statement of the tests a failure was thrown at, as written (a call may span lines).
function statementAt(err) {
  const stack = String((err && err.stack) || '');
  const m = stack.match(/hel_tests\.js:(\d+):(\d+)/);
  if (!m) return '';
  const lines = compiled.split('\n');
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
  if (!lastCall) return '';
  const args = lastCall.args.map(show).join(', ');
  return `${lastCall.name}(${oneLine(args, 100)})`;
}

function verdictOf(err) {
  const where = statementAt(err);
  if (err !== null && typeof err === 'object' && candidateErrors.has(err)) {
    return [ERROR, `${oneLine(candidateErrors.get(err), 150)} (raised by the candidate in ${lastCallText()})`];
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

let tests;
try {
  tests = compileTests();
} catch (e) {
  finish(BROKEN, `judge error: the tests do not compile: ${e && e.message}`, e && e.stack);
}
// Node's console.assert only prints; HumanEval-X's tests rely on it failing the run.
Object.defineProperty(console, 'assert', { value: strictAssert, writable: false, configurable: false });
awaitReady();
const mod = new Module(testsFile, null);
mod.filename = testsFile;
try {
  tests.call(mod.exports, mod.exports, Module.createRequire(testsFile), mod, testsFile, dir, stub(spec.entry_point));
} catch (e) {
  const [code, reason] = verdictOf(e);
  finish(code, reason, e && e.stack);
}
try {
  fs.closeSync(OUT); // the candidate reads the end of its calls and exits
} catch (e) {
  // already gone: the tests need nothing more from it
}
finish(PASSED, '');
