// Node tests of the JS module, through the package's own name (so package.json's
// "exports" is exercised too). Build first: `cargo run -p ti-ecs-js-tests`.
// No npm dependencies: node:test and node:assert only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import tiEcs from 'ti-ecs';

const { transform, datasets } = tiEcs;

const GOLDEN = fileURLToPath(new URL('../../host-tests/golden/', import.meta.url));
const DEFAULT_OPTIONS = '{"now":"2026-01-01T00:00:00Z"}';
const NOW = { now: '2026-01-01T00:00:00Z' };

// The JSON text without whitespace outside strings: the pretty-printed expected file
// becomes exactly the compact form the module returns (same keys, order and numbers).
function minify(text) {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const c of text) {
    if (inString) {
      out += c;
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}

// Every golden case of a data set that has an expected file (sub-folders included),
// sorted by name relative to the data set's folder.
function cases(dataset) {
  const found = [];
  const walk = (dir, prefix) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        walk(`${dir}${entry.name}/`, `${prefix}${entry.name}/`);
      } else if (entry.name.endsWith('.input.json')) {
        const stem = entry.name.slice(0, -'.input.json'.length);
        if (existsSync(`${dir}${stem}.expected.json`)) {
          found.push({ name: `${prefix}${stem}`, base: `${dir}${stem}` });
        }
      }
    }
  };
  const root = `${GOLDEN}${dataset}/`;
  if (existsSync(root)) walk(root, '');
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// Runs one case: the module's documents and the expected file's text.
function run(dataset, c) {
  // Raw bytes, as the corpus defines them (a case may be deliberately malformed).
  const record = readFileSync(`${c.base}.input.json`);
  const options = existsSync(`${c.base}.options.json`)
    ? readFileSync(`${c.base}.options.json`, 'utf8')
    : DEFAULT_OPTIONS;
  const expected = readFileSync(`${c.base}.expected.json`, 'utf8');
  return { docs: transform(dataset, record, options), expected };
}

for (const dataset of datasets()) {
  // The first case (by name) that yields documents, compared in detail.
  test(`golden: first case of ${dataset} with documents`, (t) => {
    const found = cases(dataset)
      .map((c) => ({ c, ...run(dataset, c) }))
      .find(({ docs }) => docs.length > 0);
    if (found === undefined) {
      t.skip(`no golden case with documents under host-tests/golden/${dataset}/`);
      return;
    }
    const { c, docs, expected } = found;
    t.diagnostic(`case ${dataset}/${c.name}: ${docs.length} document(s)`);
    assert.deepEqual(docs.map((d) => JSON.parse(d)), JSON.parse(expected), `${dataset}/${c.name}`);
    assert.equal(`[${docs.join(',')}]`, minify(expected), `${dataset}/${c.name}: exact text`);
  });

  // Every case, text for text; the message lists the cases that differ.
  test(`golden: every case of ${dataset}`, (t) => {
    const all = cases(dataset);
    if (all.length === 0) {
      t.skip(`no golden case under host-tests/golden/${dataset}/`);
      return;
    }
    const differ = all.filter((c) => {
      const { docs, expected } = run(dataset, c);
      return `[${docs.join(',')}]` !== minify(expected);
    });
    t.diagnostic(`${all.length - differ.length} of ${all.length} cases identical`);
    assert.deepEqual(differ.map((c) => c.name), [], `${dataset}: cases whose documents differ from expected`);
  });
}

test('datasets() lists the four data sets', () => {
  assert.deepEqual(datasets(), [
    'ti_anomali.threatstream',
    'ti_anomali.intelligence',
    'ti_misp.threat',
    'ti_misp.threat_attributes',
  ]);
});

test('an invalid record is an error document, not an exception', () => {
  for (const dataset of datasets()) {
    const docs = transform(dataset, 'not json', NOW);
    assert.equal(docs.length, 1, dataset);
    const doc = JSON.parse(docs[0]);
    assert.equal(doc.event.kind, 'pipeline_error', dataset);
    assert.equal(doc.event.original, 'not json', dataset);
    assert.equal(doc.event.dataset, dataset);
    assert.ok(Array.isArray(doc.error.message) && doc.error.message.length > 0, dataset);
    assert.ok(doc.tags.includes('preserve_original_event'), dataset);
  }
});

test('a record given as bytes, even invalid UTF-8, is an error document too', () => {
  const docs = transform('ti_misp.threat_attributes', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), NOW);
  assert.equal(docs.length, 1);
  assert.equal(JSON.parse(docs[0]).event.kind, 'pipeline_error');
});

test('a string and its UTF-8 bytes give the same documents', () => {
  const record = JSON.stringify({
    Event: { id: '1', info: 'ünïcode', Attribute: { id: '2', type: 'domain', value: 'example.com', timestamp: '1600000000' } },
  });
  assert.deepEqual(
    transform('ti_misp.threat', Buffer.from(record, 'utf8'), NOW),
    transform('ti_misp.threat', record, NOW),
  );
});

test('options may be an object or its JSON text; `now` may be a Date', () => {
  const record = '{"value":"example.com","itype":"mal_domain"}';
  const fromObject = transform('ti_anomali.threatstream', record, { now: '2026-01-01T00:00:00Z', tags: ['x'] });
  const fromText = transform('ti_anomali.threatstream', record, '{"now":"2026-01-01T00:00:00Z","tags":["x"]}');
  const fromDate = transform('ti_anomali.threatstream', record, { now: new Date('2026-01-01T00:00:00Z'), tags: ['x'] });
  assert.deepEqual(fromText, fromObject);
  assert.deepEqual(fromDate, fromObject);
  assert.ok(JSON.parse(fromObject[0]).tags.includes('x'));
});

test('without `now` the JS clock is used', () => {
  for (const options of [undefined, null, {}, '{}', { now: undefined }]) {
    const before = Date.now();
    const doc = JSON.parse(transform('ti_misp.threat_attributes', 'not json', options)[0]);
    const ingested = Date.parse(doc.event.ingested);
    assert.ok(ingested >= before - 1 && ingested <= Date.now() + 1, `${doc.event.ingested} for ${JSON.stringify(options)}`);
  }
});

test('an unknown dataset throws, naming it and the known ones', () => {
  assert.throws(() => transform('ti_misp.nope', '{}', NOW), (e) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /unknown dataset `ti_misp\.nope`/);
    assert.match(e.message, /ti_misp\.threat_attributes/);
    return true;
  });
});

test('invalid options throw, naming the option and its value', () => {
  const cases = [
    [{ now: 'yesterday' }, /`now`.*yesterday/],
    [{ now: '2026-01-01T00:00:00Z', ioc_expiration_duration: '5y' }, /ioc_expiration_duration.*5y/],
    [{ now: '2026-01-01T00:00:00Z', colour: 'red' }, /`colour`.*red/],
    [{ now: '2026-01-01T00:00:00Z', tags: 'a' }, /`tags`.*"a"/],
    [{ now: '2026-01-01T00:00:00Z', severity_scale: 'loud' }, /`severity_scale`.*loud/],
    ['{"now":', /invalid options.*EOF/],
    ['[1]', /expected an object, got `\[1\]`/],
    [42, /expected an object or a JSON string, got a `number`/],
    [{ now: 1n }, /cannot convert to JSON.*BigInt/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(() => transform('ti_misp.threat', '{}', options), pattern, JSON.stringify(String(options)));
  }
});

test('a record that is neither a string nor bytes throws', () => {
  for (const record of [{ a: 1 }, 5, undefined, null]) {
    assert.throws(() => transform('ti_misp.threat', record, NOW), /invalid argument `record`: expected a string or a Uint8Array/);
  }
  // The module keeps working after every exception above.
  assert.equal(transform('ti_misp.threat', 'not json', NOW).length, 1);
});

test('WIT names are accepted as dataset names', () => {
  assert.deepEqual(
    transform('misp-threat-attributes', 'not json', NOW),
    transform('ti_misp.threat_attributes', 'not json', NOW),
  );
});
