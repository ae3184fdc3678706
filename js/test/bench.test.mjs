// js/bench.mjs runs end to end on a bundled example and refuses what it cannot measure.
// Not a timed test: it checks what the bench prints, never how fast anything was.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../bench.mjs', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/anomali/threatstream.ndjson', import.meta.url));

function bench(...args) {
  return spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8' });
}

test('bench measures the records of a file and counts their documents', () => {
  const r = bench('--secs', '0.05', `ti_anomali.threatstream=${EXAMPLE}`);
  assert.equal(r.status, 0, r.stderr);
  const row = r.stdout.split('\n').find((l) => l.startsWith('| threatstream.ndjson |'));
  assert.ok(row, r.stdout);
  const cells = row.split('|').map((c) => c.trim());
  // | file | data set | n | baseline | module | documents | ratio |
  assert.equal(cells[2], 'ti_anomali.threatstream');
  assert.equal(cells[3], '3');
  assert.equal(cells[6], '3');
  assert.ok(Number(cells[4]) > 0 && Number(cells[5]) > 0, row);
});

test('bench stops with the usage on what it cannot measure', () => {
  for (const args of [
    [],
    ['--secs', '0', `ti_anomali.threatstream=${EXAMPLE}`],
    ['--fast', `ti_anomali.threatstream=${EXAMPLE}`],
    ['ti_anomali.threatstream'],
    ['ti_anomali.threatstream=/nonexistent/records.ndjson'],
    [`no_such.dataset=${EXAMPLE}`],
  ]) {
    const r = bench(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /usage: node js\/bench\.mjs/, args.join(' '));
  }
});
