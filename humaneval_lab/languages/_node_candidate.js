'use strict';
// The candidate side of a JavaScript/TypeScript sample (humaneval-lab): `node hel_candidate.js
// main.js ENTRY`, started as the sample's uid with the call pipes on fds 3 (calls in) and 4
// (answers out). It loads the prompt + completion (never the tests, which this process cannot
// read), says {"ready": true}, then answers each {"id", "call", "args"} with {"id", "value"} or
// {"id", "error", "name"} until fd 3 ends.
//
// Nothing here is trusted: the candidate's code runs in this process and may replace anything in
// it. The judge treats every line it writes as untrusted input, so patching this file's functions
// only changes what this candidate answers.

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');
const { encode, decode } = require('./hel_codec.js');

const IN = 3;
const OUT = 4;
const [file, entry] = process.argv.slice(2);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function send(obj) {
  const buf = Buffer.from(JSON.stringify(obj) + '\n', 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(OUT, buf, off, buf.length - off);
    } catch (e) {
      if (e.code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, 1);
      else process.exit(0); // the judge is gone: nobody to answer
    }
  }
}

const chunk = Buffer.alloc(1 << 16);
let rest = Buffer.alloc(0);

function readLine() {
  const parts = [rest];
  for (;;) {
    const last = parts[parts.length - 1];
    const nl = last.indexOf(10);
    if (nl >= 0) {
      parts[parts.length - 1] = last.subarray(0, nl);
      rest = last.subarray(nl + 1);
      return Buffer.concat(parts).toString('utf8');
    }
    let n;
    try {
      n = fs.readSync(IN, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') {
        Atomics.wait(sleeper, 0, 0, 1);
        continue;
      }
      return null;
    }
    if (n === 0) return null;
    parts.push(Buffer.from(chunk.subarray(0, n)));
  }
}

function describeError(e) {
  try {
    if (e instanceof Error || (e !== null && typeof e === 'object')) {
      return { name: String(e.name || 'Error').slice(0, 200), message: String(e.message).slice(0, 2000) };
    }
    return { name: 'Error', message: `threw ${String(e).slice(0, 2000)}` };
  } catch (inner) {
    return { name: 'Error', message: 'threw a value that cannot be shown' };
  }
}

let fn;
try {
  const abs = path.resolve(file);
  const source = fs.readFileSync(abs, 'utf8');
  // Loaded as a CommonJS module body would be (same parameters, sloppy unless it says otherwise),
  // with one line appended that hands back the entry point's binding.
  const footer = `\n;return typeof ${entry} === 'function' ? ${entry} : undefined;\n`;
  const body = vm.compileFunction(source + footer, ['exports', 'require', 'module', '__filename', '__dirname'], {
    filename: abs,
  });
  const mod = new Module(abs, null);
  mod.filename = abs;
  mod.paths = Module._nodeModulePaths(path.dirname(abs));
  fn = body.call(mod.exports, mod.exports, Module.createRequire(abs), mod, abs, path.dirname(abs));
  if (typeof fn !== 'function') throw new TypeError(`${entry} is not a function`);
} catch (e) {
  const d = describeError(e);
  try {
    process.stderr.write(String((e && e.stack) || e) + '\n');
  } catch (inner) {
    // nothing to add
  }
  send({ error: `${d.name}: ${d.message}`, load: true });
  process.exit(1);
}

send({ ready: true });
for (;;) {
  const line = readLine();
  if (line === null) process.exit(0); // the tests are done (or the judge is gone)
  const msg = JSON.parse(line);
  let reply;
  try {
    if (msg.call !== entry) throw new ReferenceError(`${msg.call} is not defined by the candidate`);
    const value = fn(...msg.args.map(decode));
    reply = { id: msg.id, value: encode(value) };
  } catch (e) {
    const d = describeError(e);
    reply = { id: msg.id, error: d.message, name: d.name };
  }
  send(reply);
}
