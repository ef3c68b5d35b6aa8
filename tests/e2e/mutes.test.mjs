// Mutes (timed), renote mutes and blocks on the read paths: timelines, mentions, a note's
// replies, notifications and streaming. What a muted or blocked user writes, replies to or
// renotes is hidden; a renote mute hides only pure renotes. Absence is checked against a
// marker posted after the hidden note (listings and streams are ordered).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError } from './lib/server.mjs';
import { openStream, record, waitFor, synced } from './lib/stream.mjs';

let server;
let me;
let loud; // muted
let echo; // renote-muted
let foe; // blocks me
let pal;

before(async () => {
  server = await startServer();
  me = await signup(server, 'mu_me');
  loud = await signup(server, 'mu_loud');
  echo = await signup(server, 'mu_echo');
  foe = await signup(server, 'mu_foe');
  pal = await signup(server, 'mu_pal');
  for (const u of [loud, echo, foe, pal]) await me.api.request('following/create', { userId: u.id });
});
after(async () => { await server?.stop(); });

const post = (user, params) => user.api.request('notes/create', params).then((r) => r.createdNote);
const ids = (notes) => notes.map((n) => n.id);

test('mute/create, renote-mute/create and their errors, lists and relation flags', async () => {
  const self = await apiError(() => me.api.request('mute/create', { userId: me.id }));
  assert.deepEqual([self.code, self.id], ['MUTEE_IS_YOURSELF', 'a4619cb2-5f23-484b-9301-94c903074e10']);
  const nobody = await apiError(() => me.api.request('mute/create', { userId: 'aaaaaaaaaa' }));
  assert.deepEqual([nobody.code, nobody.id], ['NO_SUCH_USER', '6fef56f3-e765-4957-88e5-c6f65329b8a5']);
  await me.api.request('mute/create', { userId: loud.id });
  const again = await apiError(() => me.api.request('mute/create', { userId: loud.id }));
  assert.deepEqual([again.code, again.id], ['ALREADY_MUTING', '7e7359cb-160c-4956-b08f-4d1c653cd007']);
  const notMuting = await apiError(() => me.api.request('mute/delete', { userId: pal.id }));
  assert.deepEqual([notMuting.code, notMuting.id], ['NOT_MUTING', '5467d020-daa9-4553-81e1-135c0c35a96d']);

  await me.api.request('renote-mute/create', { userId: echo.id });
  const renoteAgain = await apiError(() => me.api.request('renote-mute/create', { userId: echo.id }));
  assert.deepEqual([renoteAgain.code, renoteAgain.id], ['ALREADY_MUTING', 'ccfecbe4-1f1c-4fc2-8a3d-c3ffee61cb7b']);
  const renoteNot = await apiError(() => me.api.request('renote-mute/delete', { userId: pal.id }));
  assert.deepEqual([renoteNot.code, renoteNot.id], ['NOT_MUTING', '2e4ef874-8bf0-4b4b-b069-4598f6d05817']);

  const mutes = await me.api.request('mute/list', {});
  assert.deepEqual(mutes.map((m) => [m.muteeId, m.mutee.username, m.expiresAt]), [[loud.id, 'mu_loud', null]]);
  const renoteMutes = await me.api.request('renote-mute/list', {});
  assert.deepEqual(renoteMutes.map((m) => m.muteeId), [echo.id]);
  const [rLoud, rEcho] = await me.api.request('users/relation', { userId: [loud.id, echo.id] });
  assert.deepEqual([rLoud.isMuted, rLoud.isRenoteMuted, rEcho.isMuted, rEcho.isRenoteMuted], [true, false, false, true]);
  assert.equal((await me.api.request('users/show', { userId: loud.id })).isMuted, true);

  await foe.api.request('blocking/create', { userId: me.id });
});

test('timelines, mentions and replies hide what muted and blocking users write, reply to or renote', async () => {
  const fromLoud = await post(loud, { text: 'loud says @mu_me' });
  const fromFoe = await post(foe, { text: 'foe says @mu_me' });
  const echoOwn = await post(echo, { text: 'echo speaks' });
  const echoRenote = await post(echo, { renoteId: fromLoud.id });
  const palReplyToLoud = await post(pal, { text: 'pal answers loud', replyId: fromLoud.id });
  const palRenoteOfFoe = await post(pal, { renoteId: fromFoe.id });
  const palQuoteOfEcho = await post(pal, { text: 'pal quotes echo', renoteId: echoOwn.id });
  const marker = await post(pal, { text: 'marker @mu_me' });
  const hidden = [fromLoud, fromFoe, echoRenote, palReplyToLoud, palRenoteOfFoe].map((n) => n.id);

  for (const [name, ep] of [['home', 'notes/timeline'], ['local', 'notes/local-timeline'], ['hybrid', 'notes/hybrid-timeline'], ['global', 'notes/global-timeline']]) {
    const tl = ids(await me.api.request(ep, { limit: 100, withReplies: true }));
    assert.ok(tl.includes(marker.id), `${name} lists the marker`);
    for (const h of hidden) assert.ok(!tl.includes(h), `${name} hides ${h}`);
    assert.ok(tl.includes(echoOwn.id) && tl.includes(palQuoteOfEcho.id), `${name} keeps echo's own note and a quote of it`);
  }
  const mentions = ids(await me.api.request('notes/mentions', {}));
  assert.ok(mentions.includes(marker.id));
  assert.ok(!mentions.includes(fromLoud.id) && !mentions.includes(fromFoe.id));
  // The others still see everything.
  const palTl = ids(await pal.api.request('notes/local-timeline', { limit: 100 }));
  for (const n of [fromLoud, fromFoe, echoRenote]) assert.ok(palTl.includes(n.id));
  // A blocker's note is hidden even by id; a muted user's is shown when asked for.
  assert.equal((await apiError(() => me.api.request('notes/show', { noteId: fromFoe.id }))).code, 'NO_SUCH_NOTE');
  assert.equal((await me.api.request('notes/show', { noteId: fromLoud.id })).id, fromLoud.id);
  // Muted users do not notify.
  const told = await me.api.request('i/notifications', { markAsRead: false });
  assert.ok(told.some((n) => n.note?.id === marker.id));
  assert.ok(!told.some((n) => n.userId === loud.id || n.userId === foe.id));
});

test('streams hide the same notes; unmuting shows them again', async () => {
  const s = openStream(server, me.token);
  const home = record(s.useChannel('homeTimeline'), 'note');
  const local = record(s.useChannel('localTimeline', { withReplies: true }), 'note');
  await synced(s);
  const fromLoud = await post(loud, { text: 'loud again' });
  const echoRenote = await post(echo, { renoteId: fromLoud.id });
  const marker = await post(pal, { text: 'stream marker' });
  await waitFor(home, (n) => n.id === marker.id);
  await waitFor(local, (n) => n.id === marker.id);
  for (const got of [home, local]) assert.ok(!got.some((n) => n.id === fromLoud.id || n.id === echoRenote.id));

  await me.api.request('mute/delete', { userId: loud.id });
  await me.api.request('renote-mute/delete', { userId: echo.id });
  await synced(s);
  const back = await post(loud, { text: 'loud is back' });
  await waitFor(home, (n) => n.id === back.id);
  assert.ok(ids(await me.api.request('notes/timeline', {})).includes(fromLoud.id));
  s.close();
});

test('a timed mute ends by itself', async () => {
  await me.api.request('mute/create', { userId: pal.id, expiresAt: Date.now() + 1500 });
  const during = await post(pal, { text: 'muted for a moment' });
  assert.ok(!ids(await me.api.request('notes/timeline', {})).includes(during.id));
  const [listed] = await me.api.request('mute/list', {});
  assert.ok(Date.parse(listed.expiresAt) > Date.now());
  await new Promise((r) => setTimeout(r, 1600));
  assert.ok(ids(await me.api.request('notes/timeline', {})).includes(during.id));
  // A mute that would already have ended is not made (Misskey answers 204 and keeps none).
  await me.api.request('mute/create', { userId: echo.id, expiresAt: Date.now() - 1000 });
  const [relation] = await me.api.request('users/relation', { userId: echo.id });
  assert.equal(relation.isMuted, false);
});

test('word mutes: soft ones are kept for clients, hard ones hide notes everywhere, pages stay full', async () => {
  const reader = await signup(server, 'mu_reader');
  const writer = await signup(server, 'mu_writer');
  await reader.api.request('following/create', { userId: writer.id });
  const bad = await apiError(() => reader.api.request('i/update', { hardMutedWords: ['/(unclosed/'] }));
  assert.deepEqual([bad.code, bad.id], ['INVALID_REGEXP', '0d786918-10df-41cd-8f33-8dec7d9a89a5']);
  const many = await apiError(() => reader.api.request('i/update', { mutedWords: [['x'.repeat(201)]] }));
  assert.deepEqual([many.code, many.id], ['TOO_MANY_MUTED_WORDS', '010665b1-a211-42d2-bc64-8f6609d79785']);
  const badThenName = await apiError(() => reader.api.request('i/update', { name: 'Changed', hardMutedWords: ['nope'] }));
  assert.equal(badThenName.code, 'INVALID_REGEXP');
  assert.equal((await reader.api.request('i', {})).name, null, 'a bad list changes nothing');

  const updated = await reader.api.request('i/update', {
    mutedWords: [['soft', 'word']],
    hardMutedWords: [['spoiler', 'ending'], '/cats?\\s+rule/i'],
  });
  assert.deepEqual(updated.mutedWords, [['soft', 'word']]);
  assert.deepEqual(updated.hardMutedWords, [['spoiler', 'ending'], '/cats?\\s+rule/i']);
  assert.equal(updated.policies.wordMuteLimit, 200);

  const stream = openStream(server, reader.token);
  const home = stream.useChannel('homeTimeline');
  const streamed = record(home, 'note');
  await synced(stream);
  try {
    const kept = await post(writer, { text: 'the first, kept' });
    for (let i = 0; i < 12; i++) await post(writer, { text: `CATS   rule, part ${i}` });
    const spoiler = await post(writer, { text: 'the ending', cw: 'spoiler!' });
    const renoted = await post(writer, { renoteId: spoiler.id });
    const soft = await post(writer, { text: 'a soft word for clients to fold' });
    const own = await post(reader, { text: 'I say cats rule myself' });
    const last = await post(writer, { text: 'the last, kept' });

    // Twelve hidden notes in a row: a page of five still has five notes.
    const page = await reader.api.request('notes/timeline', { limit: 5 });
    assert.deepEqual(ids(page), [last.id, own.id, soft.id, kept.id], 'fewer only because there are no more');
    for (const ep of ['notes/local-timeline', 'notes/hybrid-timeline']) {
      const notes = await reader.api.request(ep, { limit: 5 });
      assert.ok(!notes.some((n) => [spoiler.id, renoted.id].includes(n.id) || /cats/i.test(n.text ?? '') && n.userId !== reader.id), ep);
    }
    assert.deepEqual(ids(await reader.api.request('users/notes', { userId: writer.id, limit: 3 })), [last.id, soft.id, kept.id]);
    assert.deepEqual(ids(await reader.api.request('notes/search', { query: 'rule' })), [own.id]);
    // Others are not affected.
    assert.equal((await writer.api.request('notes/search', { query: 'rule', limit: 100 })).length, 13);

    await waitFor(streamed, (n) => n.id === last.id);
    assert.deepEqual(streamed.map((n) => n.id), [kept.id, soft.id, own.id, last.id], 'the stream hides the same notes');
  } finally {
    stream.close();
  }
});
