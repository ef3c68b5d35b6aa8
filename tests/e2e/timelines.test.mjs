// Paging through every timeline with sinceId/untilId/sinceDate/untilDate, and the with* flags.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError, ids } from './lib/server.mjs';

let server;
let writer;
let reader;
let other;
const posted = []; // writer's notes, oldest first

before(async () => {
  server = await startServer();
  writer = await signup(server, 'tl_writer');
  reader = await signup(server, 'tl_reader');
  other = await signup(server, 'tl_other');
  await reader.api.request('following/create', { userId: writer.id });
  for (let i = 0; i < 25; i++) {
    posted.push((await writer.api.request('notes/create', { text: `note ${i}` })).createdNote);
  }
});
after(async () => { await server?.stop(); });

const newestFirst = () => ids(posted).reverse();

async function pageThrough(request, limit) {
  const seen = [];
  let untilId;
  for (let guard = 0; guard < 100; guard++) {
    const page = await request({ limit, ...(untilId ? { untilId } : {}) });
    if (page.length === 0) break;
    assert.ok(page.length <= limit);
    seen.push(...ids(page));
    untilId = page[page.length - 1].id;
  }
  return seen;
}

test('every timeline pages newest-first with untilId without gaps or repeats', async () => {
  const timelines = {
    home: (p) => reader.api.request('notes/timeline', p),
    local: (p) => server.client().request('notes/local-timeline', p),
    hybrid: (p) => reader.api.request('notes/hybrid-timeline', p),
    global: (p) => server.client().request('notes/global-timeline', p),
    user: (p) => server.client().request('users/notes', { userId: writer.id, ...p }),
  };
  for (const [name, request] of Object.entries(timelines)) {
    const seen = await pageThrough(request, 7);
    const mine = seen.filter((id) => posted.some((n) => n.id === id));
    assert.deepEqual(mine, newestFirst(), `${name} timeline`);
    assert.equal(new Set(seen).size, seen.length, `${name} timeline repeats nothing`);
  }
});

test('sinceId returns the oldest notes after it, ascending; with untilId, a window', async () => {
  const since = await server.client().request('users/notes', { userId: writer.id, sinceId: posted[4].id, limit: 3 });
  assert.deepEqual(ids(since), ids(posted.slice(5, 8)));
  const window = await server.client().request('users/notes', {
    userId: writer.id, sinceId: posted[4].id, untilId: posted[9].id, limit: 100,
  });
  assert.deepEqual(ids(window), ids(posted.slice(5, 9)).reverse());
  const home = await reader.api.request('notes/timeline', { sinceId: posted[20].id, limit: 10 });
  assert.deepEqual(ids(home), ids(posted.slice(21)));
});

test('sinceDate and untilDate page by time', async () => {
  const cut = Date.parse(posted[12].createdAt);
  const older = await server.client().request('notes/local-timeline', { untilDate: cut, limit: 100 });
  assert.ok(ids(older).every((id) => ids(posted.slice(0, 13)).includes(id)));
  assert.ok(ids(older).includes(posted[0].id));
  const newer = await server.client().request('notes/global-timeline', { sinceDate: cut + 1, limit: 100 });
  assert.ok(!ids(newer).includes(posted[0].id));
  assert.ok(ids(newer).includes(posted[24].id));
});

test('limit is 1 to 100 and defaults to 10', async () => {
  assert.equal((await server.client().request('notes/local-timeline', {})).length, 10);
  for (const limit of [0, 101, -1]) {
    const e = await apiError(() => server.client().request('notes/local-timeline', { limit }));
    assert.equal(e.code, 'INVALID_PARAM');
  }
});

test('withRenotes, withReplies and withFiles filter as in Misskey', async () => {
  const { createdNote: renote } = await other.api.request('notes/create', { renoteId: posted[0].id });
  const { createdNote: reply } = await other.api.request('notes/create', { text: 'reply to writer', replyId: posted[1].id });
  const ltl = (p) => server.client().request('notes/local-timeline', { limit: 100, ...p }).then(ids);
  const { createdNote: top } = await other.api.request('notes/create', { text: 'top' });
  const { createdNote: selfReply } = await other.api.request('notes/create', { text: 'thread', replyId: top.id });
  assert.ok((await ltl({})).includes(selfReply.id), 'replies to oneself are kept');
  assert.ok((await ltl({})).includes(renote.id));
  assert.ok(!(await ltl({ withRenotes: false })).includes(renote.id));
  assert.ok(!(await ltl({})).includes(reply.id), 'replies to others are hidden by default');
  assert.ok((await ltl({ withReplies: true })).includes(reply.id));
  assert.deepEqual(await ltl({ withFiles: true }), [], 'no note has files');
  const both = await apiError(() => server.client().request('notes/local-timeline', { withFiles: true, withReplies: true }));
  assert.equal(both.code, 'BOTH_WITH_REPLIES_AND_WITH_FILES');
  // The writer sees replies addressed to them.
  const writerLtl = ids(await writer.api.request('notes/local-timeline', { limit: 100 }));
  assert.ok(writerLtl.includes(reply.id), 'a reply to the viewer is shown to the viewer');
  const gtl = ids(await server.client().request('notes/global-timeline', { limit: 100, withRenotes: false }));
  assert.ok(!gtl.includes(renote.id));
  const userNotes = (p) => server.client().request('users/notes', { userId: other.id, limit: 100, ...p }).then(ids);
  assert.ok(!(await userNotes({})).includes(reply.id));
  assert.ok((await userNotes({ withReplies: true })).includes(reply.id));
  assert.ok(!(await userNotes({ withRenotes: false })).includes(renote.id));
});

test('home timeline include* switches drop pure renotes', async () => {
  await reader.api.request('following/create', { userId: other.id });
  const { createdNote: renoteOfWriter } = await other.api.request('notes/create', { renoteId: posted[2].id });
  const { createdNote: readerNote } = await reader.api.request('notes/create', { text: 'mine' });
  const { createdNote: renoteOfMine } = await other.api.request('notes/create', { renoteId: readerNote.id });
  const { createdNote: myRenote } = await reader.api.request('notes/create', { renoteId: posted[3].id });
  const home = (p) => reader.api.request('notes/timeline', { limit: 100, ...p }).then(ids);
  const all = await home({});
  for (const n of [renoteOfWriter, renoteOfMine, myRenote]) assert.ok(all.includes(n.id));
  assert.ok(!(await home({ includeMyRenotes: false })).includes(myRenote.id));
  assert.ok(!(await home({ includeRenotedMyNotes: false })).includes(renoteOfMine.id));
  assert.ok(!(await home({ includeLocalRenotes: false })).includes(renoteOfWriter.id));
  assert.ok(!(await home({ withRenotes: false })).includes(renoteOfWriter.id));
  const social = ids(await reader.api.request('notes/hybrid-timeline', { limit: 100 }));
  assert.ok(social.includes(readerNote.id));
  assert.ok(social.includes(posted[24].id));
});
