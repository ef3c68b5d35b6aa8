// The charts of a user that Misskey's clients draw: notes per day or hour (profile pages,
// user cards, the activity widget; read by GET without a token) and follows (the profile's
// activity tab), newest bucket first, counted from what is stored.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError } from './lib/server.mjs';

let server;
let ann;
let bob;

before(async () => {
  server = await startServer();
  ann = await signup(server, 'ch_ann');
  bob = await signup(server, 'ch_bob');
});
after(async () => { await server?.stop(); });

const get = (endpoint, params) =>
  fetch(`${server.origin}/api/${endpoint}?${new URLSearchParams(params)}`).then(async (r) => [r.status, await r.json()]);

test('charts/user/notes: today\'s notes by kind, running totals, newest first, by GET or POST', async () => {
  const first = (await ann.api.request('notes/create', { text: 'first' })).createdNote;
  await ann.api.request('notes/create', { text: 'a reply', replyId: first.id });
  await ann.api.request('notes/create', { renoteId: first.id });
  await ann.api.request('notes/create', { text: 'just for bob', visibility: 'specified', visibleUserIds: [bob.id] });

  const [status, chart] = await get('charts/user/notes', { userId: ann.id, span: 'day', limit: 3 });
  assert.equal(status, 200);
  assert.deepEqual(chart.inc, [3, 0, 0], 'direct notes are nobody else\'s business');
  assert.deepEqual(chart.total, [3, 0, 0]);
  assert.deepEqual(chart.dec, [0, 0, 0]);
  assert.deepEqual(chart.diffs, { normal: [1, 0, 0], reply: [1, 0, 0], renote: [1, 0, 0], withFile: [0, 0, 0] });

  const hourly = await bob.api.request('charts/user/notes', { userId: ann.id, span: 'hour', limit: 24 });
  assert.equal(hourly.inc.length, 24);
  assert.equal(hourly.inc[0] + hourly.inc[1], 3, 'this hour (or the last, if it just turned)');
  assert.equal(hourly.total[23], 0);
  // A day in the past: nothing was posted then, and the total then was nothing.
  const past = await bob.api.request('charts/user/notes', { userId: ann.id, span: 'day', limit: 2, offset: Date.now() - 10 * 86_400_000 });
  assert.deepEqual([past.inc, past.total], [[0, 0], [0, 0]]);

  const badSpan = await apiError(() => bob.api.request('charts/user/notes', { userId: ann.id, span: 'week' }));
  assert.equal(badSpan.code, 'INVALID_PARAM');
  const tooMany = await apiError(() => bob.api.request('charts/user/notes', { userId: ann.id, span: 'day', limit: 501 }));
  assert.equal(tooMany.code, 'INVALID_PARAM');
  const nobody = await apiError(() => bob.api.request('charts/user/notes', { userId: 'aaaaaaaaaa', span: 'day' }));
  assert.equal(nobody.code, 'NO_SUCH_USER');
});

test('charts/user/following: follows made today, local and remote, both sides', async () => {
  await bob.api.request('following/create', { userId: ann.id });
  const [, annChart] = await get('charts/user/following', { userId: ann.id, span: 'day', limit: 2 });
  assert.deepEqual(annChart.local.followers, { total: [1, 0], inc: [1, 0], dec: [0, 0] });
  assert.deepEqual(annChart.local.followings.total, [0, 0]);
  assert.deepEqual(annChart.remote.followers.total, [0, 0]);
  const bobChart = await bob.api.request('charts/user/following', { userId: bob.id, span: 'hour', limit: 5 });
  assert.equal(bobChart.local.followings.inc.reduce((a, b) => a + b), 1);
  assert.equal(bobChart.local.followings.total[0], 1);
});
