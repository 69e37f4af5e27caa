#!/usr/bin/env node
// Converts WHO's tab-separated LMS tables into mappings/growth/who-2006.json and who-2007.json (compact arrays, with the source, the
// sha256 of every input file, row counts and the sha256 of the data). Run once per WHO data release:
//   node scripts/import-who-lms.mjs <dir with the .txt files> [--from "<where the copy came from>"] [--out mappings/growth]
// The input files are WHO's own tables (as published in WHO's anthro / anthroplus repositories, data-raw/growthstandards/).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const dir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
if (!dir) {
  console.error('usage: node scripts/import-who-lms.mjs <dir> [--from <provenance>] [--out <dir>]');
  process.exit(2);
}
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = opt('--out', path.join(root, 'mappings', 'growth'));
const from = opt('--from', 'WHO data files as published by WHO (see source)');

/** The sha256 the data is checked against: over the canonical JSON of `indicators` (key order as written here). The loader
 *  (growthDataSha256 in src/growth/who-data.ts) computes the same; the script stays free of the TypeScript build. */
const dataSha256 = (indicators) => createHash('sha256').update(JSON.stringify(indicators)).digest('hex');

// indicator key -> file, the column that indexes the table, its unit, step, and whether the file has a lying/standing column.
const STANDARDS = {
  'who-2006': {
    title: 'WHO Child Growth Standards (2006), LMS parameters',
    url: 'https://www.who.int/tools/child-growth-standards/standards',
    files: {
      'weight-for-age': { file: 'weianthro.txt', x: 'age', unit: 'd', step: 1 },
      'length-height-for-age': { file: 'lenanthro.txt', x: 'age', unit: 'd', step: 1, position: 'loh' },
      'weight-for-length': { file: 'wflanthro.txt', x: 'length', unit: 'cm', step: 0.1, position: 'lorh' },
      'weight-for-height': { file: 'wfhanthro.txt', x: 'height', unit: 'cm', step: 0.1, position: 'lorh' },
      'bmi-for-age': { file: 'bmianthro.txt', x: 'age', unit: 'd', step: 1, position: 'loh' },
      'head-circumference-for-age': { file: 'hcanthro.txt', x: 'age', unit: 'd', step: 1 },
      'muac-for-age': { file: 'acanthro.txt', x: 'age', unit: 'd', step: 1 },
    },
  },
  'who-2007': {
    title: 'WHO Reference 2007 (growth reference 5-19 years), LMS parameters',
    url: 'https://www.who.int/tools/growth-reference-data-for-5to19-years',
    files: {
      'bmi-for-age': { file: 'bfawho2007.txt', x: 'age', unit: 'mo', step: 1 },
      'height-for-age': { file: 'hfawho2007.txt', x: 'age', unit: 'mo', step: 1 },
      'weight-for-age': { file: 'wfawho2007.txt', x: 'age', unit: 'mo', step: 1 },
    },
  },
};

const sha = (buf) => createHash('sha256').update(buf).digest('hex');

function parse(file, spec) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`cannot read ${file}: ${e.message}`);
    process.exit(1);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const head = lines[0].split('\t').map((h) => h.trim().toLowerCase());
  const col = (name) => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${file}: no column ${name}`);
    return i;
  };
  const [iSex, iX, iL, iM, iS] = ['sex', spec.x, 'l', 'm', 's'].map(col);
  const iPos = spec.position ? col(spec.position) : -1;
  const bySex = { 1: [], 2: [] };
  for (const line of lines.slice(1)) {
    const f = line.split('\t').map((v) => v.trim());
    const sex = f[iSex];
    if (!bySex[sex]) throw new Error(`${file}: sex ${sex}`);
    const row = [Number(f[iX]), Number(f[iL]), Number(f[iM]), Number(f[iS])];
    if (row.some((v) => !Number.isFinite(v))) throw new Error(`${file}: bad number in "${line}"`);
    bySex[sex].push({ row, pos: iPos >= 0 ? f[iPos] : undefined });
  }
  const out = {};
  for (const [sex, name] of [['1', 'male'], ['2', 'female']]) {
    const rows = bySex[sex];
    const x0 = rows[0].row[0];
    rows.forEach(({ row }, i) => {
      if (Math.abs(row[0] - (x0 + i * spec.step)) > 1e-6) throw new Error(`${file}: sex ${sex} row ${i} x=${row[0]} is not contiguous`);
    });
    const entry = { first: x0, last: rows[rows.length - 1].row[0], lms: rows.map(({ row }) => row.slice(1)) };
    if (spec.position === 'loh') {
      // The age tables switch from length (L) to height (H) parameters at one age: record it and check every row agrees.
      const firstH = rows.find((r) => r.pos === 'H');
      entry.heightFromAge = firstH.row[0];
      for (const r of rows) if ((r.row[0] >= entry.heightFromAge) !== (r.pos === 'H')) throw new Error(`${file}: L/H column is not one switch`);
    }
    if (spec.position === 'lorh') {
      const kinds = new Set(rows.map((r) => r.pos));
      if (kinds.size !== 1) throw new Error(`${file}: mixed lorh`);
      entry.measure = kinds.has('L') ? 'length' : 'height';
    }
    out[name] = entry;
  }
  return { out, rows: bySex[1].length + bySex[2].length, sha256: sha(Buffer.from(text, 'utf8')) };
}

mkdirSync(outDir, { recursive: true });
for (const [name, std] of Object.entries(STANDARDS)) {
  const indicators = {};
  const inputs = [];
  for (const [key, spec] of Object.entries(std.files)) {
    const { out, rows, sha256 } = parse(path.join(dir, spec.file), spec);
    indicators[key] = { x: spec.x, unit: spec.unit, step: spec.step, ...out };
    inputs.push({ file: spec.file, sha256, rows });
  }
  const doc = {
    version: name,
    source: {
      title: std.title,
      url: std.url,
      publisher: 'World Health Organization',
      copyFrom: from,
      confidence: 'OFF',
      note: 'lms rows are [L, M, S] from x = first to x = last in steps of step; generated by scripts/import-who-lms.mjs, do not edit by hand',
    },
    inputs,
    dataSha256: dataSha256(indicators),
    indicators,
  };
  const file = path.join(outDir, `${name}.json`);
  // One row per line: diffs of a new WHO release stay readable.
  const json = JSON.stringify(doc, null, 1).replace(/\[\n\s+(-?[\d.e-]+),\n\s+(-?[\d.e-]+),\n\s+(-?[\d.e-]+)\n\s+\]/g, '[$1,$2,$3]');
  writeFileSync(file, `${json}\n`);
  console.log(`${file}: ${inputs.map((i) => `${i.file} ${i.rows} rows`).join(', ')}; data sha256 ${doc.dataSha256}`);
}
