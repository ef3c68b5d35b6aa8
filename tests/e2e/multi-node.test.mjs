// Several `tsudoi serve` processes on one PostgreSQL database and one Redis server, as an
// instance that outgrew one machine runs: a token issued through one node works on the
// other, a note posted through node A streams to a client connected to node B, rate limits
// count calls through every node, and Redis restarting loses no data (the bus reconnects;
// the notes are in the database).
//
// Needs PostgreSQL (TSUDOI_TEST_BACKEND=postgres, as `.ci/run`'s second pass sets); starts
// its own redis-server on a free port so it can restart it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { startServer, signup, backend, freePort } from './lib/server.mjs';
import { openStream, record, waitFor, synced } from './lib/stream.mjs';

const skip = backend !== 'postgres' && 'several nodes share a PostgreSQL database: run with TSUDOI_TEST_BACKEND=postgres';

let redis;
let a;
let b;
const streams = [];

/** A redis-server of the test's own on `port`, once it accepts connections. */
async function startRedis(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  const accepts = () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  for (let i = 0; !(await accepts()); i++) {
    if (i > 100) throw new Error(`redis-server did not start on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, async stop() { child.kill('SIGKILL'); await exited; } };
}

before(async () => {
  if (skip) return;
  redis = await startRedis(await freePort());
  const shared = { TSUDOI_REDIS_URL: `redis://127.0.0.1:${redis.port}` };
  a = await startServer(shared);
  // Node B: the same database and public URL (one instance behind a load balancer).
  b = await startServer({ ...shared, TSUDOI_URL: a.origin }, a.storage);
});

after(async () => {
  for (const s of streams) s.close();
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
