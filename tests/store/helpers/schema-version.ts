// A database file as an older release left it: the migrations up to `version` applied, nothing after. For the upgrade tests.
import Database from 'better-sqlite3';
import { migrations } from '../../../src/store/migrations.js';

export function databaseAtVersion(file: string, version: number, appliedAt: number): Database.Database {
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  for (const m of migrations.filter((x) => x.version <= version)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, appliedAt);
  }
  return db;
}
