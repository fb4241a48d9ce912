'use strict';
// How JavaScript values cross between the trusted judge and the candidate (humaneval-lab).
//
// One JSON value per message, with tags where JSON alone would change what a test compares:
//   null, booleans, strings, finite numbers (but -0)  -> themselves
//   arrays                                            -> JSON arrays ({"$": "hole"} for a hole)
//   undefined, NaN, Infinity, -Infinity, -0           -> {"$": "u"}, {"$": "NaN"}, {"$": "Infinity"}, ...
//   BigInt                                            -> {"$": "n", "v": "<decimal digits>"}
//   plain objects (prototype Object.prototype/null)   -> {"$": "o", "v": [[key, value], ...]} (+ "null": true)
// Anything else (functions, symbols, Map, Date, class instances, ...) does not cross: a test that
// compares it with a literal could not pass anyway, and the judge must never hold candidate code.
//
// `decode` is the judge's parser of what the candidate sent (already JSON.parse'd, which runs no
// code): it checks every tag, builds fresh values from this process' own prototypes and defines
// keys as own data properties (a key "__proto__" stays a key), so no reply can reach the judge's
// objects or run anything here. Depth and size are bounded on both sides.

const MAX_DEPTH = 1000;
const MAX_NODES = 1 << 20; // HumanEval values are tiny; a million nodes is far more than any test compares
const MAX_BIGINT_DIGITS = 100000;
const ERRORS = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

class CodecError extends Error {}
CodecError.prototype.name = 'CodecError';

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

function describe(v) {
  if (typeof v === 'function') return 'function';
  if (typeof v === 'symbol') return 'symbol';
  try {
    const proto = Object.getPrototypeOf(v);
    const name = proto && proto.constructor && proto.constructor.name;
    return typeof name === 'string' && name ? name : 'object';
  } catch (e) {
    return 'object';
  }
}

function encode(value) {
  let nodes = 0;
  const enc = (v, depth) => {
    if (++nodes > MAX_NODES) throw new CodecError('the value is too large to cross');
    if (depth > MAX_DEPTH) throw new CodecError('the value is nested too deeply to cross');
    switch (typeof v) {
      case 'undefined':
        return { $: 'u' };
      case 'boolean':
      case 'string':
        return v;
      case 'number':
        if (v !== v) return { $: 'NaN' };
        if (v === Infinity) return { $: 'Infinity' };
        if (v === -Infinity) return { $: '-Infinity' };
        if (v === 0 && 1 / v < 0) return { $: '-0' };
        return v;
      case 'bigint':
        return { $: 'n', v: v.toString() };
      case 'object': {
        if (v === null) return null;
        if (Array.isArray(v)) {
          const out = [];
          const n = v.length;
          for (let i = 0; i < n; i++) out.push(i in v ? enc(v[i], depth + 1) : (++nodes, { $: 'hole' }));
          return out;
        }
        const proto = Object.getPrototypeOf(v);
        if (proto === Object.prototype || proto === null) {
          const entries = [];
          for (const k of Object.keys(v)) entries.push([k, enc(v[k], depth + 1)]);
          return proto === null ? { $: 'o', v: entries, null: true } : { $: 'o', v: entries };
        }
        throw new CodecError(`a ${describe(v)} cannot cross (only plain values do)`);
      }
      default:
        throw new CodecError(`a ${describe(v)} cannot cross (only plain values do)`);
    }
  };
  return enc(value, 0);
}

function decode(wire) {
  const bad = (what) => {
    throw new CodecError(`malformed value: ${what}`);
  };
  const onlyKeys = (o, keys) => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) bad(`unexpected key ${JSON.stringify(k).slice(0, 40)}`);
  };
  const dec = (x, depth) => {
    if (depth > MAX_DEPTH) bad('nested too deeply');
    if (x === null || typeof x === 'boolean' || typeof x === 'number' || typeof x === 'string') return x;
    if (Array.isArray(x)) {
      const out = new Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const e = x[i];
        if (e !== null && typeof e === 'object' && !Array.isArray(e) && e.$ === 'hole') {
          onlyKeys(e, ['$']);
          continue;
        }
        out[i] = dec(e, depth + 1);
      }
      return out;
    }
    if (typeof x !== 'object' || !hasOwn(x, '$')) bad('an untagged object');
    switch (x.$) {
      case 'u':
        onlyKeys(x, ['$']);
        return undefined;
      case 'NaN':
        onlyKeys(x, ['$']);
        return NaN;
      case 'Infinity':
        onlyKeys(x, ['$']);
        return Infinity;
      case '-Infinity':
        onlyKeys(x, ['$']);
        return -Infinity;
      case '-0':
        onlyKeys(x, ['$']);
        return -0;
      case 'n':
        onlyKeys(x, ['$', 'v']);
        if (typeof x.v !== 'string' || x.v.length > MAX_BIGINT_DIGITS || !/^-?[0-9]+$/.test(x.v)) bad('a BigInt');
        return BigInt(x.v);
      case 'o': {
        onlyKeys(x, ['$', 'v', 'null']);
        if (!Array.isArray(x.v) || (hasOwn(x, 'null') && x.null !== true)) bad('an object');
        const out = x.null === true ? Object.create(null) : {};
        for (const entry of x.v) {
          if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') bad('an object entry');
          // defineProperty, not assignment: "__proto__" must stay a key, never set a prototype.
          Object.defineProperty(out, entry[0], {
            value: dec(entry[1], depth + 1),
            writable: true,
            enumerable: true,
            configurable: true,
          });
        }
        return out;
      }
      default:
        return bad(`unknown tag ${JSON.stringify(String(x.$)).slice(0, 40)}`);
    }
  };
  return dec(wire, 0);
}

// An error the candidate raised, rebuilt on this side from its (name, message): builtin
// constructors only, so a test that expects a TypeError still sees one.
function rebuildError(name, message) {
  const Ctor = typeof name === 'string' && hasOwn(ERRORS, name) ? ERRORS[name] : Error;
  const err = new Ctor(typeof message === 'string' ? message : 'error');
  if (Ctor === Error && typeof name === 'string' && name && name !== 'Error') err.message = `${name.slice(0, 100)}: ${err.message}`;
  return err;
}

module.exports = { encode, decode, rebuildError, CodecError, describe };
