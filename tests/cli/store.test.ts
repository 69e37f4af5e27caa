// `ilp-adapter store check`: exit 0 sound, 1 problems found, 2 cannot check.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { context } from './helpers.js';
import { writeDamagedDb, writeForeignDb, writeRealDb } from '../store/helpers/damaged-files.js';

const unused = { validator: () => { throw new Error('not used'); }, mapper: () => { throw new Error('not used'); } } as never;

describe('ilp-adapter store check', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-cli-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const check = async (args: string[], lang = 'en') => {
    const ctx = context('', unused);
    const saved = process.env.ILP_LANG;
    process.env.ILP_LANG = lang;
    try {
      const code = await runCli(['store', 'check', ...args], ctx);
      return { code, out: ctx.out.text, err: ctx.err.text };
    } finally {
      if (saved === undefined) delete process.env.ILP_LANG;
      else process.env.ILP_LANG = saved;
    }
  };

  it('says a refusal in Bahasa Indonesia by default (ILP_LANG=id), English with ILP_LANG=en', async () => {
    const file = path.join(dir, 'e.db');
    writeFileSync(file, '');
    const id = await check(['--file', file], 'id');
    expect(id.code).toBe(2);
    expect(id.err).toBe(`ilp-adapter store check: ${file} kosong (0 byte). Berkas ini tidak dianggap penyimpanan baru: outbox dan ledger yang seharusnya ada di dalamnya hilang. Pulihkan basis data dari cadangan (dengan layanan dihentikan, salin kembali berkas .db beserta berkas -wal-nya bila cadangan memilikinya), atau pindahkan berkas itu dengan sengaja untuk memulai dengan penyimpanan kosong (outbox, ledger dan cache identitas lalu mulai kosong).\n`);
    expect((await check(['--file', file], 'en')).err).toMatch(/is empty \(0 bytes\)\. It is not taken for a new store.*Restore the database from backup/);
  });

  it('exit 0 and "ok" for a sound database', async () => {
    const file = path.join(dir, 'a.db');
    await writeRealDb(file, 20);
    expect(await check(['--file', file])).toEqual({ code: 0, out: `${file}: ok\n`, err: '' });
  });

  it('exit 1 and the problems for a damaged database', async () => {
    const file = path.join(dir, 'b.db');
    await writeDamagedDb(file);
    const r = await check(['--file', file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ problem\\(s\\) found by PRAGMA integrity_check\\n  Tree \\d+ page \\d+`));
    expect(r.out).toMatch(/Restore the database from backup/);
  });

  it.each([
    ['an empty file', (f: string) => writeFileSync(f, ''), /is empty \(0 bytes\)/],
    ['a text file', (f: string) => writeFileSync(f, 'hello'), /is not a SQLite database/],
    ['another application\'s database', writeForeignDb, /SQLite database of another application/],
    ['a missing file', () => undefined, /does not exist/],
  ])('exit 2 for %s, saying what it found', async (_label, make, why) => {
    const file = path.join(dir, 'c.db');
    make(file);
    const r = await check(['--file', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(why);
    expect(r.out).toBe('');
  });

  it('says its own lines in Bahasa Indonesia by default too (SQLite\'s problem lines as SQLite wrote them)', async () => {
    const file = path.join(dir, 'd.db');
    await writeDamagedDb(file);
    const r = await check(['--file', file], 'id');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^.*d\.db: \d+ masalah ditemukan oleh PRAGMA integrity_check\n  Tree \d+ page \d+/);
    expect(r.out).toMatch(/Pulihkan basis data dari cadangan \(dengan layanan dihentikan\)/);
    const missing = await check(['--file', path.join(dir, 'none.db')], 'id');
    expect(missing).toMatchObject({ code: 2, err: `ilp-adapter store check: ${path.join(dir, 'none.db')} tidak ada\n` });
    const sound = path.join(dir, 's.db');
    await writeRealDb(sound, 1);
    expect((await check(['--file', sound], 'id')).out).toBe(`${sound}: baik\n`);
  });

  it('checks DATA_DIR/ilp-adapter.db by default', async () => {
    await writeRealDb(path.join(dir, 'ilp-adapter.db'), 1);
    const saved = process.env.DATA_DIR;
    process.env.DATA_DIR = dir;
    try {
      expect(await check([])).toMatchObject({ code: 0, out: `${path.join(dir, 'ilp-adapter.db')}: ok\n` });
    } finally {
      if (saved === undefined) delete process.env.DATA_DIR;
      else process.env.DATA_DIR = saved;
    }
  });
});
