// sqids_ref.js: the reference answers for suite_sqids.py's random cases.
//
//     node sqids_ref.js PATH/TO/node_modules/sqids < cases.json > answers.json
//
// Reads a JSON array of cases and writes one answer per case, computed with
// the npm package sqids (the reference implementation):
//
//   case:   {alphabet: string|null, min_length: n, blocklist: [word]|null,
//            numbers: [n], derive: {at, len, upper, kelvin}|null,
//            mutate: [[op, at, pick]], strings: [id]}
//   answer: {blocklist: [word]|null, id: string|null, error: string|null,
//            decodes: [{id, numbers: [n]|null, valid: bool|null}]}
//
// `derive` adds a blocklist word cut from the ID the numbers would get with
// no blocklist (at and len as fractions, optionally in upper case or with
// U+212A KELVIN SIGN for its k), so the blocklist really bites.  `mutate`
// changes the ID (replace, insert, delete, truncate) to make IDs no encode
// makes; `strings` are decoded as they are.  numbers and valid are null
// where the reference's numbers pass 2^53 - 1 (it cannot hold them).
'use strict';
const Sqids = require(process.argv[2]).default;

function options(c, blocklist) {
  const o = {};
  if (c.alphabet !== null) o.alphabet = c.alphabet;
  if (c.min_length) o.minLength = c.min_length;
  if (blocklist !== null) o.blocklist = new Set(blocklist);
  return o;
}

function derived(c) {
  let plain;
  try {
    plain = new Sqids(options(c, [])).encode(c.numbers);
  } catch (e) {
    return null;
  }
  const d = c.derive;
  const start = Math.floor(d.at * plain.length);
  let w = plain.slice(start, start + 3 + Math.floor(d.len * 4));
  if (d.upper) w = w.toUpperCase();
  if (d.kelvin) w = w.replace(/[kK]/g, '\u212a');
  return w;
}

function mutated(id, alphabet, m) {
  const [op, at, pick] = m;
  const i = Math.floor(at * id.length);
  const ch = alphabet[Math.floor(pick * alphabet.length)];
  switch (op) {
    case 'replace': return id.slice(0, i) + ch + id.slice(i + 1);
    case 'insert': return id.slice(0, i) + ch + id.slice(i);
    case 'delete': return id.slice(0, i) + id.slice(i + 1);
    default: return id.slice(0, Math.max(1, i));
  }
}

function decoded(s, id) {
  const numbers = s.decode(id);
  if (!numbers.every(Number.isSafeInteger)) return { id, numbers: null, valid: null };
  let valid = false;
  try {
    valid = numbers.length > 0 && s.encode(numbers) === id;
  } catch (e) {
    valid = false;
  }
  return { id, numbers, valid };
}

function answer(c) {
  let blocklist = c.blocklist;
  if (c.derive) {
    const w = derived(c);
    if (w !== null) blocklist = (blocklist || []).concat([w]);
  }
  // The API takes the words comma-separated: a comma cannot be in one.
  if (blocklist !== null) blocklist = blocklist.filter((w) => !w.includes(','));
  const out = { blocklist, id: null, error: null, decodes: [] };
  let s;
  try {
    s = new Sqids(options(c, blocklist));
    out.id = s.encode(c.numbers);
  } catch (e) {
    out.error = e.message;
  }
  if (s === undefined) return out;
  const ids = out.id !== null ? [out.id] : [];
  const alphabet = c.alphabet !== null ? c.alphabet :
    'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  for (const m of out.id !== null ? c.mutate : []) ids.push(mutated(out.id, alphabet, m));
  for (const id of ids.concat(c.strings)) if (id !== '') out.decodes.push(decoded(s, id));
  return out;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(JSON.parse(input).map(answer)));
});
