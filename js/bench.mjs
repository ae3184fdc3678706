// Throughput of the JS module in Node, against the cost of touching the same JSON in JS.
//
//   cargo run -p ti-ecs-js-tests            # builds js/pkg
//   node js/bench.mjs [--pkg DIR] [--secs S] ID=FILE...
//
// FILE holds records of the data set ID (`ti_misp.threat_attributes`, …): one per line
// (NDJSON), or the whole file as one record when its lines are not records each. For each
// file it prints records/s of
//   - the baseline: JSON.parse and JSON.stringify of each record, in this process;
//   - the module: transform(ID, record, options) with a fixed `now`;
// and the module's ratio to the baseline, both measured in the same run (best of 5 rounds).
// `--pkg` loads another build of the module (e.g. to compare two builds side by side).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const USAGE = 'usage: node js/bench.mjs [--pkg DIR] [--secs S] ID=FILE...';
const ROUNDS = 5;
const OPTIONS = '{"now":"2026-01-01T00:00:00Z"}';

function fail(message) {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = {
    pkg: fileURLToPath(new URL('./pkg', import.meta.url)),
    secs: 1.5,
    sets: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--pkg' || a === '--secs') {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      if (a === '--pkg') args.pkg = resolve(v);
      else {
        args.secs = Number(v);
        if (!(args.secs > 0) || !Number.isFinite(args.secs)) {
          fail(`--secs \`${v}\`: expected a number of seconds above 0`);
        }
      }
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) {
      fail(`unknown option \`${a}\``);
    } else {
      const eq = a.indexOf('=');
      if (eq < 1) fail(`\`${a}\`: expected ID=FILE`);
      args.sets.push({ id: a.slice(0, eq), file: a.slice(eq + 1) });
    }
  }
  if (args.sets.length === 0) fail('no records: give at least one ID=FILE');
  return args;
}

// One record per non-empty line when every line is JSON; else the file is one record.
function records(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read \`${file}\`: ${e.message}`);
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const isJson = (t) => {
    try {
      JSON.parse(t);
      return true;
    } catch {
      return false;
    }
  };
  if (lines.length > 1 && !lines.every(isJson) && isJson(text)) return [text];
  if (lines.length === 0) fail(`\`${file}\` holds no record`);
  return lines;
}

// Records per second of `f` over `recs`: the best of ROUNDS rounds of secs / ROUNDS each.
function rate(recs, secs, f) {
  let best = 0;
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    const until = start + BigInt(Math.round((secs / ROUNDS) * 1e9));
    let n = 0;
    let now = start;
    while (now < until) {
      for (const rec of recs) sink += f(rec);
      n += recs.length;
      now = process.hrtime.bigint();
    }
    best = Math.max(best, n / (Number(now - start) / 1e9));
  }
  if (sink < 0) console.log(sink); // keeps the work observable
  return best;
}

const args = parseArgs(process.argv.slice(2));
const require = createRequire(import.meta.url);
let mod;
try {
  mod = require(resolve(args.pkg, 'node/ti_ecs.js'));
} catch (e) {
  fail(`cannot load the module from \`${args.pkg}\` (build it with \`cargo run -p ti-ecs-js-tests\`): ${e.message}`);
}

console.log(`# ti-ecs JS module in Node ${process.version}`);
console.log(`module: ${args.pkg}; each figure: best of ${ROUNDS} rounds, ${args.secs} s in all`);
console.log('');
console.log('| records | data set | n | baseline (JSON.parse + stringify) rec/s | module rec/s | documents | × baseline |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const { id, file } of args.sets) {
  const recs = records(file);
  let docs = 0;
  try {
    for (const r of recs) docs += mod.transform(id, r, OPTIONS).length;
  } catch (e) {
    fail(`\`${id}\`: ${e.message}`);
  }
  const base = rate(recs, args.secs, (r) => JSON.stringify(JSON.parse(r)).length);
  const module = rate(recs, args.secs, (r) => mod.transform(id, r, OPTIONS).length);
  console.log(
    `| ${basename(file)} | ${id} | ${recs.length} | ${base.toFixed(0)} | ${module.toFixed(0)} | ${docs} | ${(module / base).toFixed(2)} |`,
  );
}
