"""The warm TypeScript compiler's source (``server.js``), shipped in the runner's bundle (no image change).

A long-lived Node process that loads the image's TypeScript once and does what ``tsc ARGS`` in a
job's dir does, as ``tsc`` itself does it (tsc.js's ``performCompilation``: the same command-line
parse, ``createCompilerHostWorker``, ``createProgram``, ``emitFilesAndReportErrorsAndGetExitStatus``
and diagnostic reporter), against a file system of its own:

- the job's dir is virtual: the files the runner sends (exactly what the dir holds when the compile,
  the job's first step, starts), at the dir's real path, so relative names in diagnostics are
  tsc's; what tsc would write there is collected and returned (path relative to the dir, bytes);
- everything else is read from the real file system, read-only, as the server's uid sees it (it
  owns no file, so it sees what any uid does, which is what the sample's uid sees before its code
  ran), but /proc, /sys and /dev, which would show the server's own process, not the job's;
- parsed and bound lib files (``lib.*.d.ts`` of the TypeScript install, root-owned, read-only) are
  kept across compiles, keyed by the compiler options: that is where tsc's seconds went. The
  checker never changes a shared file's symbols (it clones a lib symbol a file merges into), which
  is what tsserver relies on when projects share files.

It never runs what it compiles (tsc does not either). Wire: see ``compile_server``; a request is the
args after ``tsc``, the job's dir and its files; status is tsc's exit code, or 9: it failed, run tsc.
"""

from .compile_server import WIRE_JS

SERVER_JS = (
    r"""'use strict';
const fs = require('fs');
const path = require('path');
const [, , tsPath] = process.argv;
const ts = require(tsPath);
const LIB = path.dirname(tsPath);
const TSC_JS = path.join(LIB, 'tsc.js');
const HIDDEN = ['/proc', '/sys', '/dev'];
const CRASHED = 9;
"""
    + WIRE_JS
    + r"""const readInt = () => readExact(4).readInt32BE(0);
function readBlob(max) {
  const n = readInt();
  if (n < 0 || n > max) throw new Error('bad length');
  return readExact(n);
}
const int32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n, 0); return b; };
const blob = (b) => Buffer.concat([int32(b.length), b]);

// As ts.sys.readFile decodes a file's bytes (byte order marks).
function decode(buffer) {
  const len = buffer.length;
  if (len >= 2 && buffer[0] === 0xfe && buffer[1] === 0xff) {
    const b = Buffer.from(buffer.subarray(0, len & ~1));
    for (let i = 0; i < b.length; i += 2) { const t = b[i]; b[i] = b[i + 1]; b[i + 1] = t; }
    return b.toString('utf16le', 2);
  }
  if (len >= 2 && buffer[0] === 0xff && buffer[1] === 0xfe) return buffer.toString('utf16le', 2);
  if (len >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) return buffer.toString('utf8', 3);
  return buffer.toString('utf8');
}

const hidden = (p) => HIDDEN.some((h) => p === h || p.startsWith(h + '/'));
function visible(p) {
  if (hidden(p)) return false;
  try {
    return !hidden(fs.realpathSync.native(p));
  } catch (e) {
    return true; // absent: ts.sys answers "no such file" itself
  }
}

// Parsed and bound lib files, per compiler options (they decide how a file is parsed and bound).
const libs = new Map();

function compile(args, cwd, files) {
  const inJob = (p) => p === cwd || p.startsWith(cwd + '/');
  const dirs = new Set([cwd]);
  for (const p of files.keys()) for (let d = path.dirname(p); inJob(d) && !dirs.has(d); d = path.dirname(d)) dirs.add(d);
  const outputs = new Map();
  let out = '';
  const real = ts.sys;
  // tsc's sys answers a relative name against its cwd, which here is the job's dir.
  const at = (f) => (p) => f(path.resolve(cwd, p));
  const sys = {
    ...real,
    args,
    write: (s) => { out += s; },
    writeOutputIsTTY: () => false,
    getCurrentDirectory: () => cwd,
    getExecutingFilePath: () => TSC_JS,
    readFile: at((p) => (inJob(p) ? (files.has(p) ? decode(files.get(p)) : undefined) : visible(p) ? real.readFile(p) : undefined)),
    fileExists: at((p) => (inJob(p) ? files.has(p) : visible(p) && real.fileExists(p))),
    directoryExists: at((p) => (inJob(p) ? dirs.has(p) : visible(p) && real.directoryExists(p))),
    getDirectories: at((p) => {
      if (!inJob(p)) return visible(p) ? real.getDirectories(p) : [];
      return [...dirs].filter((d) => d !== p && path.dirname(d) === p).map((d) => path.basename(d));
    }),
    readDirectory: () => { throw new Error('readDirectory is not used by a compile of named files'); },
    realpath: at((p) => (inJob(p) || !visible(p) ? p : real.realpath(p))),
    writeFile: (f, data, bom) => {
      const p = path.resolve(cwd, f);
      if (!inJob(p) || p === cwd) throw new Error('an output outside the job dir: ' + p);
      outputs.set(path.relative(cwd, p), Buffer.from((bom ? '\ufeff' : '') + data, 'utf8'));
    },
    createDirectory: at((p) => {
      if (!inJob(p)) throw new Error('a dir outside the job dir: ' + p);
      dirs.add(p);
    }),
    getModifiedTime: undefined, setModifiedTime: undefined, deleteFile: undefined,
    watchFile: undefined, watchDirectory: undefined, createHash: undefined, createSHA256Hash: undefined,
    exit: () => { throw new Error('exit'); },
  };
  // tsc.js's executeCommandLineWorker for named files, no tsconfig (the runner sends no other
  // kind of command), then its performCompilation.
  const commandLine = ts.parseCommandLine(args, (p) => sys.readFile(p));
  const reportDiagnostic = ts.createDiagnosticReporter(sys);
  const o = commandLine.options;
  if (commandLine.errors.length > 0 || commandLine.fileNames.length === 0 || o.build || o.locale || o.init ||
      o.version || o.help || o.all || o.watch || o.project || o.showConfig || o.listFilesOnly ||
      o.pretty !== false || o.diagnostics || o.extendedDiagnostics || o.generateCpuProfile ||
      o.generateTrace || ts.isIncrementalCompilation(o) || o.composite || commandLine.watchOptions) {
    throw new Error('not a plain compile: ' + args.join(' '));
  }
  const options = ts.convertToOptionsWithAbsolutePaths(o, (f) => ts.getNormalizedAbsolutePath(f, cwd));
  const host = ts.createCompilerHostWorker(options, undefined, sys);
  const key = JSON.stringify(Object.keys(options).sort().map((k) => [k, options[k]]).filter(([k]) => k !== 'outDir'));
  if (!libs.has(key)) libs.set(key, new Map());
  const cache = libs.get(key);
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (fileName, lv, onError, fresh) => {
    if (fresh || !fileName.startsWith(LIB + '/') || path.dirname(fileName) !== LIB) return getSourceFile(fileName, lv, onError, fresh);
    const k = typeof lv === 'object' ? `${fileName}\0${lv.languageVersion}\0${lv.impliedNodeFormat}` : `${fileName}\0${lv}`;
    let file = cache.get(k);
    if (file === undefined) {
      file = getSourceFile(fileName, lv, onError, fresh);
      if (file !== undefined) cache.set(k, file);
    }
    return file;
  };
  const canonical = ts.createGetCanonicalFileName(host.useCaseSensitiveFileNames());
  ts.changeCompilerHostLikeToUseCache(host, (f) => ts.toPath(f, cwd, canonical));
  const program = ts.createProgram({
    rootNames: commandLine.fileNames, options, projectReferences: commandLine.projectReferences, host,
    configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(commandLine),
  });
  const status = ts.emitFilesAndReportErrorsAndGetExitStatus(program, reportDiagnostic, (s) => sys.write(s + sys.newLine), undefined);
  return [status, out, outputs];
}

writeAll(int32(0x48454c31));
for (;;) {
  const nargs = readInt();
  if (nargs < 0 || nargs > 64) throw new Error('bad request');
  const args = [];
  for (let i = 0; i < nargs; i++) args.push(readBlob(1 << 12).toString('utf8'));
  const cwd = readBlob(1 << 12).toString('utf8');
  const nfiles = readInt();
  if (nfiles < 0 || nfiles > 256) throw new Error('bad request');
  const files = new Map();
  for (let i = 0; i < nfiles; i++) {
    const rel = readBlob(1 << 12).toString('utf8');
    files.set(path.join(cwd, rel), readBlob(1 << 26));
  }
  let answer;
  try {
    const [status, out, outputs] = compile(args, cwd, files);
    if (![0, 1, 2].includes(status)) throw new Error('exit status ' + status);
    const parts = [int32(status), blob(Buffer.from(out, 'utf8')), int32(outputs.size)];
    for (const [rel, data] of outputs) parts.push(blob(Buffer.from(rel, 'utf8')), blob(data));
    answer = Buffer.concat(parts);
  } catch (e) {
    libs.clear(); // a compile that failed half-way may have left a lib file half bound
    answer = Buffer.concat([int32(CRASHED), blob(Buffer.from(String((e && e.stack) || e), 'utf8')), int32(0)]);
  }
  writeAll(answer);
}
"""
)
