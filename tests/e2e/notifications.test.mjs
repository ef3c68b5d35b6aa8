// Notifications as Misskey apps read them: every type this server makes, with the fields
// each carries; unread counts on `i`; include/exclude filters; grouping; app notifications;
// and the main channel telling of them as they happen.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup } from './lib/server.mjs';
import { openStream, record, waitFor, synced } from './lib/stream.mjs';

let server;
let nia; // the one notified
let oto;
let pia;

before(async () => {
  server = await startServer();
  nia = await signup(server, 'nt_nia');
  oto = await signup(server, 'nt_oto');
  pia = await signup(server, 'nt_pia');
});
after(async () => { await server?.stop(); });

const post = (user, params) => user.api.request('notes/create', params).then((r) => r.createdNote);
const unread = async (user) => {
  const me = await user.api.request('i', {});
  return [me.unreadNotificationsCount, me.hasUnreadNotification];
};
const peek = (user, params = {}) => user.api.request('i/notifications', { markAsRead: false, limit: 100, ...params });

test('each act notifies its target with the fields Misskey gives it; nothing for your own acts', async () => {
  await nia.api.request('notifications/flush', {});
  const mine = await post(nia, { text: 'nia writes' });
  await oto.api.request('following/create', { userId: nia.id });
  const mention = await post(oto, { text: 'hi @nt_nia' });
  const reply = await post(oto, { text: 'a reply', replyId: mine.id });
  const quote = await post(oto, { text: 'a quote', renoteId: mine.id });
  const renote = await post(oto, { renoteId: mine.id });
  await oto.api.request('notes/reactions/create', { noteId: mine.id, reaction: '👍' });
  // Her own acts tell her nothing.
  await post(nia, { text: 'self @nt_nia', replyId: mine.id });
  await nia.api.request('notes/reactions/create', { noteId: mention.id, reaction: '🎉' });

  const got = await peek(nia);
  const types = got.map((n) => n.type);
  assert.deepEqual(types, ['reaction', 'renote', 'quote', 'reply', 'mention', 'follow']);
  for (const n of got) {
    assert.equal(n.userId, oto.id);
    assert.equal(n.user.username, 'nt_oto');
    assert.ok(!Number.isNaN(Date.parse(n.createdAt)));
  }
  const by = (t) => got.find((n) => n.type === t);
  assert.equal(by('mention').note.id, mention.id);
  assert.equal(by('reply').note.id, reply.id);
  assert.equal(by('reply').note.reply.id, mine.id);
  assert.equal(by('quote').note.id, quote.id);
  assert.equal(by('renote').note.id, renote.id);
  assert.equal(by('renote').note.renote.id, mine.id);
  assert.equal(by('reaction').note.id, mine.id);
  assert.equal(by('reaction').reaction, '👍');
  assert.equal(by('follow').note, undefined);
  // Oto was told of nia's reaction to his note; nothing else.
  assert.deepEqual((await peek(oto)).map((n) => n.type), ['reaction']);
});

test('unread counts on i; reading with markAsRead (the default) or mark-all-as-read clears them', async () => {
  await nia.api.request('notifications/mark-all-as-read', {});
  assert.deepEqual(await unread(nia), [0, false]);
  await post(pia, { text: '@nt_nia one' });
  await post(pia, { text: '@nt_nia two' });
  assert.deepEqual(await unread(nia), [2, true]);
  await peek(nia);
  assert.deepEqual(await unread(nia), [2, true], 'markAsRead: false leaves them unread');
  await nia.api.request('i/notifications', { limit: 1 });
  assert.deepEqual(await unread(nia), [0, false], 'reading marks all read, not just the page');
  await post(pia, { text: '@nt_nia three' });
  assert.deepEqual(await unread(nia), [1, true]);
  await nia.api.request('notifications/mark-all-as-read', {});
  assert.deepEqual(await unread(nia), [0, false]);
});

test('includeTypes and excludeTypes filter; untilId pages', async () => {
  const mentions = await peek(nia, { includeTypes: ['mention'] });
  assert.ok(mentions.length >= 4 && mentions.every((n) => n.type === 'mention'));
  const noMentions = await peek(nia, { excludeTypes: ['mention'] });
  assert.ok(noMentions.length > 0 && noMentions.every((n) => n.type !== 'mention'));
  assert.deepEqual(await peek(nia, { includeTypes: ['achievementEarned'] }), []);
  const all = await peek(nia);
  const first = await peek(nia, { limit: 3 });
  const rest = await peek(nia, { untilId: first.at(-1).id });
  assert.deepEqual([...first, ...rest].map((n) => n.id), all.map((n) => n.id));
});

test('a locked account is told of requests; the follower of their acceptance', async () => {
  const quill = await signup(server, 'nt_quill');
  await quill.api.request('i/update', { isLocked: true });
  await oto.api.request('following/create', { userId: quill.id });
  const [request] = await peek(quill);
  assert.equal(request.type, 'receiveFollowRequest');
  assert.equal(request.userId, oto.id);
  await quill.api.request('following/requests/accept', { userId: oto.id });
  const [accepted] = await peek(oto, { includeTypes: ['followRequestAccepted'] });
  assert.equal(accepted.userId, quill.id);
  assert.equal(accepted.message, null);
});

test('reactions to one note and renotes of one note next to each other are grouped', async () => {
  const rio = await signup(server, 'nt_rio');
  const note = await post(rio, { text: 'react to me' });
  await post(oto, { text: '@nt_rio between' });
  await oto.api.request('notes/reactions/create', { noteId: note.id, reaction: '👍' });
  await pia.api.request('notes/reactions/create', { noteId: note.id, reaction: '🎉' });
  await nia.api.request('notes/reactions/create', { noteId: note.id, reaction: '👍' });
  await post(oto, { renoteId: note.id });
  await post(pia, { renoteId: note.id });
  const grouped = await rio.api.request('i/notifications-grouped', { markAsRead: false });
  assert.deepEqual(grouped.map((g) => g.type), ['renote:grouped', 'reaction:grouped', 'mention']);
  const [renotes, reactions] = grouped;
  assert.deepEqual(renotes.users.map((u) => u.id), [pia.id, oto.id]);
  assert.equal(renotes.note.renote.id, note.id);
  assert.equal(reactions.note.id, note.id);
  assert.deepEqual(reactions.reactions.map((r) => [r.user.id, r.reaction]), [[nia.id, '👍'], [pia.id, '🎉'], [oto.id, '👍']]);
  // The group's id is its oldest notification's, so paging from it goes on past the group.
  const plain = await rio.api.request('i/notifications', { markAsRead: false });
  const oldestReaction = plain.filter((n) => n.type === 'reaction').at(-1);
  assert.equal(reactions.id, oldestReaction.id);
});

test('a blocker is not told what the blocked do; app and test notifications', async () => {
  const sol = await signup(server, 'nt_sol');
  const ted = await signup(server, 'nt_ted');
  await sol.api.request('blocking/create', { userId: ted.id });
  await post(ted, { text: 'hey @nt_sol' });
  assert.deepEqual(await peek(sol), []);

  await sol.api.request('notifications/create', { body: 'Your export is ready', header: 'Exporter', icon: 'https://example.com/i.png' });
  await sol.api.request('notifications/test-notification', {});
  const [testN, app] = await peek(sol);
  assert.equal(testN.type, 'test');
  assert.deepEqual(
    { type: app.type, body: app.body, header: app.header, icon: app.icon, user: app.user },
    { type: 'app', body: 'Your export is ready', header: 'Exporter', icon: 'https://example.com/i.png', user: undefined },
  );
  await sol.api.request('notifications/flush', {});
  assert.deepEqual(await peek(sol), []);
});

test('main streams notification, unreadNotification and readAllNotifications', async () => {
  const una = await signup(server, 'nt_una');
  const s = openStream(server, una.token);
  const main = s.useChannel('main');
  const notified = record(main, 'notification');
  const unreadOnes = record(main, 'unreadNotification');
  const readAll = record(main, 'readAllNotifications');
  await synced(s);
  const note = await post(oto, { text: 'ping @nt_una' });
  const n = await waitFor(notified, (x) => x.note?.id === note.id);
  assert.equal(n.type, 'mention');
  assert.equal(n.user.id, oto.id);
  await waitFor(unreadOnes, (x) => x.id === n.id);
  const listed = await una.api.request('i/notifications', {});
  assert.deepEqual(listed[0], n);
  await waitFor(readAll, () => true);
  s.close();
});

test('when a poll ends, its author and everyone who voted are told (pollEnded), on main too', async () => {
  const stream = openStream(server, oto.token);
  const main = stream.useChannel('main');
  const told = record(main, 'notification');
  await synced(stream);
  try {
    const poll = await post(nia, { text: 'quick poll', poll: { choices: ['a', 'b'], expiresAt: Date.now() + 1500 } });
    await oto.api.request('notes/polls/vote', { noteId: poll.id, choice: 0 });
    await pia.api.request('notes/polls/vote', { noteId: poll.id, choice: 1 });
    const streamed = await waitFor(told, (n) => n.type === 'pollEnded', 10_000);
    assert.equal(streamed.note.id, poll.id);
    assert.equal(streamed.note.poll.choices[0].votes, 1);
    for (const user of [nia, oto, pia]) {
      const ended = (await peek(user, { includeTypes: ['pollEnded'] })).filter((n) => n.note?.id === poll.id);
      assert.equal(ended.length, 1, `${user.username} is told once`);
      assert.equal(ended[0].userId, undefined, 'nobody caused it');
    }
    // Not twice: the next sweeps find nothing more.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await peek(oto, { includeTypes: ['pollEnded'] })).filter((n) => n.note?.id === poll.id).length, 1);
  } finally {
    stream.close();
  }
});

test('achievements: claimed once each, listed on i, told as achievementEarned (on main too)', async () => {
  const ria = await signup(server, 'nt_ria');
  const s = openStream(server, ria.token);
  try {
    const told = record(s.useChannel('main'), 'notification');
    await synced(s);
    await ria.api.request('i/claim-achievement', { name: 'notes1' });
    await ria.api.request('i/claim-achievement', { name: 'notes1' });
    await ria.api.request('i/claim-achievement', { name: 'tutorialCompleted' });
    const streamed = await waitFor(told, (n) => n.type === 'achievementEarned' && n.achievement === 'tutorialCompleted');
    assert.equal(streamed.userId, undefined);

    const me = await ria.api.request('i', {});
    assert.deepEqual(me.achievements.map((a) => a.name), ['notes1', 'tutorialCompleted']);
    assert.ok(me.achievements.every((a) => typeof a.unlockedAt === 'number' && a.unlockedAt <= Date.now()));
    const list = await peek(ria, { includeTypes: ['achievementEarned'] });
    assert.deepEqual(list.map((n) => n.achievement), ['tutorialCompleted', 'notes1'], 'a second claim tells nothing');

    const bad = await ria.api.request('i/claim-achievement', { name: 'notAnAchievement' }).then(() => null, (e) => e);
    assert.equal(bad?.code, 'INVALID_PARAM');
  } finally {
    s.close();
  }
});
