// Starts a real `tsudoi serve` process on a free loopback port and hands out misskey-js
// clients for it. The backend follows TSUDOI_TEST_BACKEND: `sqlite` (default) uses a fresh
// data directory; `postgres` a fresh database on TSUDOI_TEST_POSTGRES_URL, dropped at stop.

import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Misskey from 'misskey-js';
import pg from 'pg';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function tsudoiBinary() {
  if (process.env.TSUDOI_BIN) return process.env.TSUDOI_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, 'target');
  return path.join(target, 'debug', 'tsudoi');
}

/** A plugin component built by scripts/build-plugins. */
export function pluginWasm(name) {
  const target = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, 'target');
  return path.join(target, 'wasm32-wasip2', 'plugin', `${name}.wasm`);
}

export const backend = process.env.TSUDOI_TEST_BACKEND ?? 'sqlite';
const postgresBase = process.env.TSUDOI_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A loopback port nothing listens on now. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function postgresUrl(database) {
  const u = new URL(postgresBase);
  u.pathname = `/${database}`;
  return u.toString();
}

async function dropDatabase(database) {
  const client = new pg.Client({ connectionString: postgresBase });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * Starts a server. `env` adds TSUDOI_* settings. `reuse` (the `storage` of an earlier server)
 * starts on that server's data instead of fresh data. Returns { origin, client(token), stop(),
 * kill(), log(), env, storage }.
 */
export async function startServer(env = {}, reuse = null) {
  // A restart on the same address (`env` of an earlier server) keeps its public URL, so
  // the ids other servers hold for it stay valid.
  const port = env.TSUDOI_LISTEN ? Number(env.TSUDOI_LISTEN.split(':').pop()) : await freePort();
  const dataDir = reuse?.dataDir ?? await mkdtemp(path.join(os.tmpdir(), 'tsudoi-e2e-'));
  const database = reuse?.database ?? `tsudoi_e2e_${process.pid}_${port}_${Date.now().toString(36)}`;
  const settings = {
    TSUDOI_LISTEN: `127.0.0.1:${port}`,
    TSUDOI_DATA_DIR: dataDir,
    TSUDOI_LOG: 'warn',
    ...(backend === 'postgres' ? { TSUDOI_DATABASE_URL: postgresUrl(database) } : {}),
    ...env,
  };
  const child = spawn(tsudoiBinary(), ['serve'], {
    env: { ...process.env, ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tsudoi exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${origin}/healthz`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tsudoi did not become healthy:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    origin,
    port,
    dataDir,
    /** The TSUDOI_* settings the server runs with, for CLI commands against the same data. */
    env: settings,
    /** What a later `startServer(env, storage)` needs to start on the same data. */
    storage: { dataDir, database },
    /** Kills the process at once (SIGKILL), leaving its data for a restart. */
    async kill() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    client: (credential) => new Misskey.api.APIClient({ origin, credential }),
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
      if (backend === 'postgres') await dropDatabase(database);
    },
  };
}

/** Signs up `username` and returns { id, token, api } (api = a client using the token). */
export async function signup(server, username, password = 'correct horse battery staple') {
  const res = await server.client().request('signup', { username, password });
  return { id: res.id, token: res.token, username, me: res, api: server.client(res.token) };
}

/** Creates administrator `username` with the shell (`tsudoi user create --admin`), as an admin
 * would; returns what `signup` returns. */
export async function createAdmin(server, username) {
  const out = await new Promise((resolve, reject) => {
    execFile(tsudoiBinary(), ['user', 'create', username, '--admin', '--password', 'pw'],
      { env: { ...process.env, ...server.env } },
      (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  const token = /token: (\S+)/.exec(out)[1];
  const api = server.client(token);
  const me = await api.request('i', {});
  return { id: me.id, token, username, me, api };
}

/** Runs `fn` and returns the misskey-js API error it rejects with (fails if it resolves). */
export async function apiError(fn) {
  try {
    await fn();
  } catch (e) {
    if (Misskey.api.isAPIError(e)) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

/** Raw POST without misskey-js, for malformed requests a typed client cannot send. */
export async function rawPost(server, endpoint, body, headers = {}) {
  const res = await fetch(`${server.origin}/api/${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}

export const ids = (notes) => notes.map((n) => n.id);

/** Retries `fn` until it stops throwing or `ms` pass (servers notice plugin changes within a second). */
export async function eventually(fn, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
