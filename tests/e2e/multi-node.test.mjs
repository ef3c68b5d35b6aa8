// Several `tsudoi serve` processes on one PostgreSQL database and one Redis server, as an
// instance that outgrew one machine runs them: three nodes behind HAProxy, configured by
// examples/cluster/haproxy.cfg. A token issued through one node works on the others, a
// note posted through node A streams to a client connected to node B, rate limits and
// cached users are consistent across nodes, Redis restarting loses no data (the bus
// reconnects; the notes are in the database), a client's stream survives its node dying
// (it reconnects through the load balancer), and a node killed mid-job loses nothing.
//
// Needs PostgreSQL (TSUDOI_TEST_BACKEND=postgres, as `.ci/run`'s second pass sets) and
// HAProxy (scripts/setup-peers); starts its own redis-server on a free port so it can
// restart it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Misskey from 'misskey-js';
import { startServer, signup, backend, freePort, eventually } from './lib/server.mjs';
import { startRemote } from './lib/remote.mjs';
import { openStream, record, waitFor, synced } from './lib/stream.mjs';

const skip = backend !== 'postgres' && 'several nodes share a PostgreSQL database: run with TSUDOI_TEST_BACKEND=postgres';
const exampleConfig = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'cluster', 'haproxy.cfg');

let redis;
let a;
let b;
let c;
let lb;
const streams = [];

/** Waits until something accepts connections on `port`. */
async function listening(port, what) {
  const accepts = () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  for (let i = 0; !(await accepts()); i++) {
    if (i > 100) throw new Error(`${what} did not start on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A redis-server of the test's own on `port`, once it accepts connections. */
async function startRedis(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  await listening(port, 'redis-server');
  return { port, async stop() { child.kill('SIGKILL'); await exited; } };
}

/** HAProxy on `port` with the example configuration, its three nodes at `nodePorts`. */
async function startHaproxy(port, nodePorts) {
  let config = await readFile(exampleConfig, 'utf8');
  config = config.replace(/bind 127\.0\.0\.1:8080/, `bind 127.0.0.1:${port}`);
  nodePorts.forEach((p, i) => {
    config = config.replace(`127.0.0.1:${3001 + i}`, `127.0.0.1:${p}`);
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsudoi-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  const binary = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
  let output = '';
  const child = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((r) => child.on('exit', r));
  try {
    await listening(port, 'haproxy');
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e.message}: ${output}`);
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    client: (credential) => new Misskey.api.APIClient({ origin: `http://127.0.0.1:${port}`, credential }),
    log: () => output,
    async stop() { child.kill('SIGTERM'); await exited; await rm(dir, { recursive: true, force: true }); },
  };
}

before(async () => {
  if (skip) return;
  redis = await startRedis(await freePort());
  const lbPort = await freePort();
  // One instance: the same database, Redis and public URL (the load balancer's) on every node.
  const shared = { TSUDOI_REDIS_URL: `redis://127.0.0.1:${redis.port}`, TSUDOI_URL: `http://127.0.0.1:${lbPort}` };
  a = await startServer(shared);
  b = await startServer(shared, a.storage);
  c = await startServer(shared, a.storage);
  lb = await startHaproxy(lbPort, [a.port, b.port, c.port]);
});

after(async () => {
  for (const s of streams) s.close();
  await lb?.stop();
  await c?.kill();
  await b?.kill();
  await a?.stop();
  await redis?.stop();
});

function streamTo(node, token) {
  const s = openStream(node, token);
  streams.push(s);
  return s;
}

const post = (api, params) => api.request('notes/create', params).then((r) => r.createdNote);
const byId = (id) => (n) => n.id === id;

test('a token issued through node A works on node B', { skip }, async () => {
  const ann = await signup(a, 'mn_ann');
  const me = await b.client(ann.token).request('i', {});
  assert.equal(me.id, ann.id);
});

test('a note posted through node A streams to clients of node B; reactions and follows too', { skip }, async () => {
  const ann = await signup(a, 'mn_ann2');
  const ben = await signup(a, 'mn_ben');
  const onB = streamTo(b, ben.token);
  const local = record(onB.useChannel('localTimeline'), 'note');
  const followed = record(onB.useChannel('main'), 'followed');
  const updates = record(onB, 'noteUpdated');
  await synced(onB);

  const note = await post(a.client(ann.token), { text: 'from node A' });
  const streamed = await waitFor(local, byId(note.id));
  assert.equal(streamed.text, 'from node A');

  onB.send('s', { id: note.id });
  await synced(onB);
  await a.client(ann.token).request('notes/reactions/create', { noteId: note.id, reaction: '🎉' });
  await waitFor(updates, (u) => u.id === note.id && u.type === 'reacted');

  await a.client(ann.token).request('following/create', { userId: ben.id });
  await waitFor(followed, (u) => u.id === ann.id);
});

test('rate limits are shared: calls through either node count against one allowance', { skip }, async () => {
  const cal = await signup(a, 'mn_cal');
  const viaA = a.client(cal.token);
  const viaB = b.client(cal.token);
  // drive/folders/create allows ten calls an hour (Misskey's limit).
  for (let i = 0; i < 10; i++) {
    await (i % 2 ? viaB : viaA).request('drive/folders/create', { name: `f${i}` });
  }
  for (const api of [viaA, viaB]) {
    const refused = await api.request('drive/folders/create', { name: 'one too many' }).then(() => null, (e) => e);
    assert.equal(refused?.code, 'RATE_LIMIT_EXCEEDED');
  }
  // Another user's allowance is their own.
  const dan = await signup(b, 'mn_dan');
  await b.client(dan.token).request('drive/folders/create', { name: 'mine' });
});

test('a change through one node shows at once on the others: no node serves a stale copy', { skip }, async () => {
  const gus = await signup(a, 'mn_gus');
  const hal = await signup(a, 'mn_hal');
  const gusOnB = b.client(gus.token);
  await gusOnB.request('following/create', { userId: hal.id });
  // Node B now keeps a copy of gus's account and of his (empty) word mutes.
  assert.equal((await gusOnB.request('i', {})).name, null);
  await gusOnB.request('notes/timeline', {});

  // Without the nodes telling each other, B would show these for up to a minute (the
  // account) and ten seconds (the mutes); two seconds is for Redis to carry the news.
  await a.client(gus.token).request('i/update', { name: 'Gus', hardMutedWords: [['spoiler']] });
  await eventually(async () => assert.equal((await gusOnB.request('i', {})).name, 'Gus'), 2000);
  const muted = await post(a.client(hal.token), { text: 'a spoiler' });
  const plain = await post(a.client(hal.token), { text: 'no secrets here' });
  await eventually(async () => {
    const tl = await gusOnB.request('notes/timeline', { limit: 10 });
    assert.ok(tl.some(byId(plain.id)));
    assert.ok(!tl.some(byId(muted.id)), 'the word muted through node A hides the note on node B');
  }, 2000);
});

test('through the load balancer: one instance, whichever node answers', { skip }, async () => {
  const eve = await signup(lb, 'mn_eve');
  const api = lb.client(eve.token);
  const posted = [];
  for (let i = 0; i < 6; i++) posted.push((await post(api, { text: `via the load balancer ${i}` })).id);
  const tl = await api.request('notes/timeline', { limit: 6 });
  assert.deepEqual(tl.map((n) => n.id), [...posted].reverse());
  // Ids and links carry the public URL (the load balancer's), whichever node made them.
  const shown = await api.request('notes/show', { noteId: posted[0] });
  assert.equal(shown.user.username, 'mn_eve');
  const apNote = await fetch(`${lb.origin}/notes/${posted[0]}`, { headers: { accept: 'application/activity+json' } }).then((r) => r.json());
  assert.equal(apNote.id, `${lb.origin}/notes/${posted[0]}`);

  const s = streamTo(lb, eve.token);
  const home = record(s.useChannel('homeTimeline'), 'note');
  await synced(s);
  const live = await post(api, { text: 'live through the load balancer' });
  await waitFor(home, byId(live.id));
});

test('Redis restarting loses no note, and the bus reconnects on its own', { skip }, async () => {
  const cat = await signup(a, 'mn_cat');
  const onB = streamTo(b, cat.token);
  const home = record(onB.useChannel('homeTimeline'), 'note');
  await synced(onB);
  const catOnA = a.client(cat.token);

  await redis.stop();
  const during = await post(catOnA, { text: 'while Redis is down' });
  redis = await startRedis(redis.port);
  // Both nodes find Redis again within a few seconds: keep posting until a note crosses.
  let crossed = null;
  const deadline = Date.now() + 20_000;
  while (!crossed && Date.now() < deadline) {
    const probe = await post(catOnA, { text: 'probe' });
    try {
      crossed = await waitFor(home, byId(probe.id), 500);
    } catch { /* not yet */ }
  }
  assert.ok(crossed, 'a note posted on A reached a client of B again');
  // The note posted while Redis was down is stored, and node B lists it.
  const listed = await b.client(cat.token).request('notes/timeline', { limit: 50 });
  assert.ok(listed.some(byId(during.id)));
});

test('a node dying: the load balancer goes on with the others, and streams on it reconnect', { skip }, async () => {
  const fay = await signup(lb, 'mn_fay');
  const api = lb.client(fay.token);
  // Three streams through the load balancer: it gives each its least busy node, so the
  // three nodes most likely hold one each.
  const homes = [];
  for (let i = 0; i < 3; i++) {
    const s = streamTo(lb, fay.token);
    homes.push(record(s.useChannel('homeTimeline'), 'note'));
    await synced(s);
  }
  await c.kill();
  // Every request still succeeds: connections refused by the dead node go to another one
  // until the health check takes it out.
  for (let i = 0; i < 10; i++) await post(api, { text: `after node C died ${i}` });
  // Each stream hears a note posted now: one on node C reconnected (misskey-js does so by
  // itself) to a live node and connected its channels again.
  const deadline = Date.now() + 20_000;
  const heard = new Set();
  while (heard.size < homes.length && Date.now() < deadline) {
    const probe = await post(api, { text: 'probe after the death of node C' });
    for (const [i, home] of homes.entries()) {
      if (heard.has(i)) continue;
      try {
        await waitFor(home, byId(probe.id), 300);
        heard.add(i);
      } catch { /* not yet */ }
    }
  }
  assert.equal(heard.size, homes.length, 'every stream is live again');
});

test('a node killed mid-job loses nothing: another node delivers once the lease runs out', { skip }, async () => {
  const remote = await startRemote({ name: 'midjob' });
  const env = {
    TSUDOI_REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    TSUDOI_FEDERATION_ALLOW_PRIVATE: 'true',
    TSUDOI_FEDERATION_JOB_LEASE_SECS: '3',
  };
  const first = await startServer(env);
  let second = null;
  try {
    const ida = await signup(first, 'mn_ida');
    const reader = remote.actor('reader');
    const authorUri = `${first.origin}/users/${ida.id}`;
    assert.equal((await remote.send('reader', `${authorUri}/inbox`, {
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${reader.id}#follow`, type: 'Follow', actor: reader.id, object: authorUri,
    })).status, 202);
    await remote.waitFor((r) => r.body?.type === 'Accept');

    // The remote takes the delivery in and does not answer; the node sending it dies.
    remote.respondWith((r) => (r.body?.type === 'Create' ? { status: 202, delayMs: 60_000 } : { status: 202 }));
    const note = await post(ida.api, { text: 'delivered despite a crash' });
    const creates = () => remote.received.filter((r) => r.body?.type === 'Create' && r.body.object?.id?.endsWith(note.id));
    await remote.waitFor(() => creates().length === 1);
    await first.kill();
    const killedAt = Date.now();
    remote.respondWith(null);

    // Another node of the instance (same database, on the address of the dead one, so
    // the remote still finds the author's key at its URL) takes the job up.
    second = await startServer({ ...env, TSUDOI_LISTEN: first.env.TSUDOI_LISTEN }, first.storage);
    await eventually(() => assert.equal(creates().length, 2), 20_000);
    const [lost, redone] = creates();
    assert.equal(redone.body.id, lost.body.id, 'the same activity, sent again');
    assert.equal(redone.verified, true);
    assert.ok(Date.now() - killedAt < 15_000, 'within a few leases');
  } finally {
    await (second ?? first).stop();
    await remote.close();
  }
});
