// The guarded body reader over a real socket: hostile bodies are refused while they stream in, the per-endpoint
// budgets differ, and encoded bodies are measured after decoding.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { createApp } from '../../src/api/app.js';
import { methodNotAllowed } from '../../src/api/errors.js';
import { loadMappingTables } from '../../src/mapping/index.js';
import { createValidator } from '../../src/validation/index.js';
import { logCapture, NOW } from './helpers.js';

const logs = logCapture();
let app: express.Express;
let server: http.Server;
let port: number;

beforeAll(async () => {
  const ingest = express.Router();
  ingest
    .route('/ilp/visits')
    .post((req, res) => void res.status(202).json({ received: Array.isArray(req.body) ? req.body.length : 1 }))
    .all(methodNotAllowed(['POST']));
  app = createApp({
    validator: createValidator(),
    tables: loadMappingTables(),
    clock: () => NOW,
    logger: logs.logger,
    routers: [{ path: '/', router: ingest }],
    limits: { maxObjectKeys: 50 },
    openLimits: { maxObjectKeys: 10, bodyBytes: 64 * 1024 },
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Far more than the limits need to be broken: the client stops there, without ever ending the body. */
const PREFIX = 256 * 1024;

/**
 * POSTs a body produced chunk by chunk (chunked transfer, no Content-Length) that never ends: the client produces
 * PREFIX bytes and then waits. An answer can therefore only come from a server that refused the body while it was
 * still streaming in — a server that waited for the end would never answer (the test would hang and fail at its bound).
 */
function streamPost(path: string, chunk: (i: number) => Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: { issue: Array<{ code: string; diagnostics: string }> }; ended: boolean }> {
  return new Promise((resolve, reject) => {
    let produced = 0;
    let i = 0;
    let ended = false;
    const source = new Readable({
      highWaterMark: 16 * 1024,
      read() {
        if (produced >= PREFIX) return; // stall: no more data, and no end
        const c = chunk(i++);
        produced += c.length;
        this.push(c);
      },
    });
    source.on('end', () => { ended = true; });
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/fhir+json', ...headers } }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')), ended });
        source.destroy();
        req.destroy();
      });
    });
    // The server closes the connection some time after refusing: a write that races that close is expected.
    req.on('error', (err: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(err.code ?? '') ? undefined : reject(err)));
    req.on('close', () => answered || reject(new Error('the connection closed before the answer arrived')));
    source.pipe(req);
  });
}

describe('bodies are refused while they stream in', () => {
  it('nested arrays → 400 too-costly while the body is still streaming (it never ends)', async () => {
    const brackets = Buffer.alloc(16 * 1024, '[');
    const r = await streamPost('/fhir/$validate', () => brackets);
    expect(r.status).toBe(400);
    // Bahasa Indonesia by default, as every operator-facing text.
    expect(r.body.issue[0]).toMatchObject({ code: 'too-costly', diagnostics: 'Dokumen bersarang lebih dalam dari 32 tingkat; permintaan tidak diproses' });
    expect(r.ended).toBe(false);
    const english = await streamPost('/fhir/$validate', () => brackets, { 'Accept-Language': 'en' });
    expect(english.body.issue[0]).toMatchObject({ code: 'too-costly', diagnostics: 'The document is nested deeper than 32 levels; the request was not processed' });
  });

  it('an object with ever more keys → 400 too-costly at the open limit while the body is still streaming', async () => {
    const keys = (i: number) => Buffer.from((i === 0 ? '{' : ',') + Array.from({ length: 1000 }, (_, j) => `"k${i}x${j}":0`).join(','));
    const r = await streamPost('/ilp/visits/$map', keys, { 'Accept-Language': 'en' });
    expect(r.status).toBe(400);
    expect(r.body.issue[0].diagnostics).toMatch(/more than 10 members/);
    expect(r.ended).toBe(false);
  });

  it('a Content-Length over the limit → 413 without reading', async () => {
    const r = await request(app).post('/fhir/$validate').set('Content-Type', 'application/json').send('{"a":"' + 'x'.repeat(70 * 1024) + '"}').expect(413);
    expect(r.body.issue[0].code).toBe('too-costly');
  });
});

describe('per-endpoint budgets', () => {
  const members = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i])));

  it('a facility batch (API key) gets the larger budget; without a key the open one applies', async () => {
    await request(app).post('/ilp/visits').set('Authorization', 'Bearer some-facility-key').set('Content-Type', 'application/json').send(`[${members(40)}]`).expect(202);
    const open = await request(app).post('/ilp/visits').set('Content-Type', 'application/json').send(`[${members(40)}]`).expect(400);
    expect(open.body.issue[0].diagnostics).toBe('Sebuah objek berisi lebih dari 10 anggota; paling banyak 10 yang diterima; permintaan tidak diproses');
    await request(app).post('/ilp/visits').set('Authorization', 'Bearer some-facility-key').set('Content-Type', 'application/json').send(`[${members(51)}]`).expect(400);
  });

  it('gzip bodies are decoded and measured after decoding', async () => {
    const gz = (text: string) => zlib.gzipSync(Buffer.from(text));
    expect(await rawPost('/fhir/$validate', { 'Content-Encoding': 'gzip' }, gz('{"resourceType":"Patient"}'))).toMatchObject({ status: 200 });
    const bomb = gz('{"a":"' + 'x'.repeat(1024 * 1024) + '"}');
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await rawPost('/fhir/$validate', { 'Content-Encoding': 'gzip' }, bomb)).toMatchObject({ status: 413, code: 'too-costly' });
    expect(await rawPost('/fhir/$validate', { 'Content-Encoding': 'gzip' }, Buffer.from('not gzip'))).toMatchObject({ status: 400, code: 'structure' });
    expect(await rawPost('/fhir/$validate', { 'Content-Encoding': 'compress' }, Buffer.from('{}'))).toMatchObject({ status: 415, code: 'not-supported' });
  });
});

/** One POST with exactly these bytes (supertest would re-encode a Buffer sent as JSON). */
function rawPost(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length), ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const parsed = JSON.parse(Buffer.concat(parts).toString('utf8')) as { issue?: Array<{ code: string }> };
        resolve({ status: res.statusCode ?? 0, code: parsed.issue?.[0]?.code });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
