// Database files the store must refuse, made on purpose: a real store file, then garbage over some of its pages.
import { closeSync, openSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../../src/store/sqlite.js';

export const PAGE_SIZE = 8192;

/** A real store file with `n` visits of about 1.5 KB, closed (checkpointed into the main file). */
export async function writeRealDb(file: string, n: number): Promise<void> {
  const s = openSqliteStore({ file });
  await s.ingest(Array.from({ length: n }, (_, i) => ({ organizationId: 'o', visitId: `V${i}`, record: { pad: 'x'.repeat(1500), i }, contentHash: `h${i}` })), 1_750_000_000_000);
  await s.close();
}

/** Overwrites `length` bytes at `offset` with a repeated byte. */
export function overwrite(file: string, offset: number, length: number, byte = 0xa5): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(length, byte), 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

/** A real store file with garbage over pages 3..6 (page 1, with the header and schema, intact: the file still opens). */
export async function writeDamagedDb(file: string): Promise<void> {
  await writeRealDb(file, 60);
  overwrite(file, 2 * PAGE_SIZE, 4 * PAGE_SIZE);
}

/** A SQLite database of some other application. */
export function writeForeignDb(file: string): void {
  const db = new Database(file);
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)');
  db.close();
}
