// A Tsudoi server against a scripted remote server (lib/remote.mjs) that signs with
// Misskey's own library: what a well-behaved remote sends is accepted and what ours sends
// verifies there; forged, stale, replayed, misattributed and oversized input is refused or
// bounded and stores nothing; deliveries are retried, wait when told, stop when told, and
// survive the sender being killed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer, signup, eventually, tsudoiBinary, pluginWasm } from './lib/server.mjs';
import { startRemote } from './lib/remote.mjs';

const federating = {
  TSUDOI_FEDERATION_ALLOW_PRIVATE: 'true',
  TSUDOI_FEDERATION_RETRY_BASE_MS: '300',
};
const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';
const run = promisify(execFile);

let server;
let remote;
let victim;
before(async () => {
  [server, remote] = await Promise.all([startServer(federating), startRemote({ name: 'hostile' })]);
  victim = await signup(server, 'victim');
});
after(async () => {
  await Promise.all([server?.stop(), remote?.close()]);
});

const victimUri = () => `${server.origin}/users/${victim.id}`;
let serial = 0;

/** A public note by `actor` mentioning the victim, and its Create. */
function createNote(actor, text, extra = {}) {
  const n = ++serial;
  const note = {
    id: `${remote.origin}/notes/${actor.name}-${n}`,
    type: 'Note',
    attributedTo: actor.id,
    content: `<p>${text}</p>`,
    published: new Date().toISOString(),
    to: [PUBLIC],
    cc: [victimUri()],
    tag: [{ type: 'Mention', href: victimUri(), name: `@victim@${new URL(server.origin).host}` }],
    ...extra,
  };
  return {
    note,
    activity: {
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${note.id}/activity`,
      type: 'Create',
      actor: actor.id,
      to: note.to,
      cc: note.cc,
      object: note,
    },
  };
}

async function mentionTexts() {
  return (await victim.api.request('notes/mentions', { limit: 100 })).map((n) => n.text);
}

/** Waits for the inbox queue to settle, then checks `text` was not stored. */
async function assertNotStored(text) {
  await new Promise((r) => setTimeout(r, 700));
  const global = await victim.api.request('notes/global-timeline', { limit: 100 });
  assert.ok(!global.some((n) => n.text?.includes(text)), `${text} must not be stored`);
  assert.ok(!(await mentionTexts()).some((t) => t?.includes(text)), `${text} must not be stored`);
}

test('a note signed with Misskey\'s library by an actor nobody follows, mentioning a local user, is stored', async () => {
  const alice = remote.actor('alice');
  const { activity } = createNote(alice, 'hello victim');
  const res = await remote.send('alice', `${server.origin}/inbox`, activity);
  assert.equal(res.status, 202, res.text);
  await eventually(async () => assert.ok((await mentionTexts()).includes('hello victim')));
  // The same activity again is stored once.
  assert.equal((await remote.send('alice', `${victimUri()}/inbox`, activity)).status, 202);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await mentionTexts()).filter((t) => t === 'hello victim').length, 1);
});

test('forged, tampered, stale, future and replayed requests get 401 and store nothing', async () => {
  remote.actor('mallory');
  const inbox = `${server.origin}/inbox`;
  const cases = [
    ['unsigned', { unsigned: true }],
    ['tampered body', { body: null }],
    ['wrong digest', { digest: 'SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' }],
    ['two hours old', { date: new Date(Date.now() - 2 * 3600_000) }],
    ['two hours ahead', { date: new Date(Date.now() + 2 * 3600_000) }],
    ['signed for another host', { host: '127.0.0.1:1' }],
    ['someone else\'s key', { keyId: `${remote.origin}/users/alice#main-key` }],
  ];
  for (const [label, opts] of cases) {
    const { activity } = createNote(remote.actor('mallory'), `forged ${label}`);
    if (opts.body === null) opts.body = JSON.stringify({ ...activity, object: { ...activity.object, content: '<p>changed</p>' } });
    const res = await remote.send('mallory', inbox, activity, opts);
    assert.equal(res.status, 401, `${label}: ${res.status} ${res.text}`);
    await assertNotStored(`forged ${label}`);
  }
  // Half an hour of clock difference is tolerated (Mastodon's window is about an hour).
  const { activity } = createNote(remote.actor('mallory'), 'half an hour late');
  const late = await remote.send('mallory', inbox, activity, { date: new Date(Date.now() - 30 * 60_000) });
  assert.equal(late.status, 202);
  await eventually(async () => assert.ok((await mentionTexts()).includes('half an hour late')));
});

test('activities that misattribute their objects are dropped', async () => {
  const mallory = remote.actor('mallory');
  const alice = remote.actor('alice');
  const inbox = `${server.origin}/inbox`;

  // Signed by mallory, claiming to be alice's: the object is fetched from its origin, where
  // it does not exist.
  const forged = createNote(alice, 'alice never said this');
  assert.equal((await remote.send('mallory', inbox, forged.activity)).status, 202);
  await assertNotStored('alice never said this');

  // A note whose id is on another server than its author's.
  const elsewhere = createNote(mallory, 'on another host', { id: 'http://127.0.0.1:1/notes/elsewhere' });
  elsewhere.activity.object.id = 'http://127.0.0.1:1/notes/elsewhere';
  assert.equal((await remote.send('mallory', inbox, elsewhere.activity)).status, 202);
  await assertNotStored('on another host');

  // A note attributed to someone else than the activity's actor.
  const misattributed = createNote(mallory, 'attributed to alice', { attributedTo: alice.id });
  assert.equal((await remote.send('mallory', inbox, misattributed.activity)).status, 202);
  await assertNotStored('attributed to alice');

  // Deleting someone else's note.
  const real = createNote(alice, 'alice said this');
  assert.equal((await remote.send('alice', inbox, real.activity)).status, 202);
  await eventually(async () => assert.ok((await mentionTexts()).includes('alice said this')));
  const del = {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${mallory.id}#delete-1`,
    type: 'Delete',
    actor: mallory.id,
    object: real.note.id,
  };
  assert.equal((await remote.send('mallory', inbox, del)).status, 202);
  await new Promise((r) => setTimeout(r, 700));
  assert.ok((await mentionTexts()).includes('alice said this'), 'someone else\'s note survives');
  // Its author may.
  assert.equal((await remote.send('alice', inbox, { ...del, id: `${alice.id}#delete-1`, actor: alice.id })).status, 202);
  await eventually(async () => assert.ok(!(await mentionTexts()).includes('alice said this')));
});

test('fetched documents must be what and where they claim, within size and time', async () => {
  const lookup = (uri) => victim.api.request('ap/show', { uri }).then(() => 'found', (e) => e.code);
  remote.serveJson('/users/liar', { id: `${remote.origin}/users/someone-else`, type: 'Person', preferredUsername: 'liar', inbox: `${remote.origin}/inbox` });
  assert.equal(await lookup(`${remote.origin}/users/liar`), 'NO_SUCH_OBJECT');
  for (const contentType of ['text/html', 'application/json', 'image/png']) {
    const path = `/users/typed-${contentType.replace('/', '-')}`;
    remote.serveJson(path, { id: `${remote.origin}${path}`, type: 'Person', preferredUsername: 'typed', inbox: `${remote.origin}/inbox` }, { contentType });
    assert.equal(await lookup(`${remote.origin}${path}`), 'NO_SUCH_OBJECT', contentType);
  }
  remote.serve('/users/huge', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/activity+json' });
    res.end(JSON.stringify({ id: `${remote.origin}/users/huge`, type: 'Person', padding: 'x'.repeat(5 << 20) }));
  });
  assert.equal(await lookup(`${remote.origin}/users/huge`), 'NO_SUCH_OBJECT');
  remote.serve('/users/private', (req, res) => {
    res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
    res.end();
  });
  assert.equal(await lookup(`${remote.origin}/users/private`), 'NO_SUCH_OBJECT');
  remote.serve('/users/slow', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/activity+json' });
    const timer = setInterval(() => res.write(' '), 500);
    res.on('close', () => clearInterval(timer));
  });
  const started = Date.now();
  assert.equal(await lookup(`${remote.origin}/users/slow`), 'NO_SUCH_OBJECT');
  assert.ok(Date.now() - started < 15_000, 'a slow drip is cut off');
  const users = await victim.api.request('users/search-by-username-and-host', { username: 'liar' }).catch(() => []);
  assert.ok(!users.some((u) => u.host === remote.host));
});

test('a 100-deep reply chain costs a bounded number of fetches', async () => {
  const deep = remote.actor('deep');
  for (let i = 0; i < 100; i++) {
    const path = `/notes/chain-${i}`;
    remote.serveJson(path, {
      id: `${remote.origin}${path}`,
      type: 'Note',
      attributedTo: deep.id,
      content: `<p>link ${i}</p>`,
      to: [PUBLIC],
      ...(i > 0 ? { inReplyTo: `${remote.origin}/notes/chain-${i - 1}` } : {}),
    });
  }
  const before = remote.requests.filter((r) => r.path.startsWith('/notes/chain-')).length;
  const { activity } = createNote(deep, 'end of the chain', { inReplyTo: `${remote.origin}/notes/chain-99` });
  assert.equal((await remote.send('deep', `${server.origin}/inbox`, activity)).status, 202);
  await eventually(async () => assert.ok((await mentionTexts()).includes('end of the chain')));
  const fetched = remote.requests.filter((r) => r.path.startsWith('/notes/chain-')).length - before;
  assert.ok(fetched <= 20, `${fetched} fetches`);
});

test('a rotated key is fetched again once; a bad signature never causes more than one refetch', async () => {
  const rot = remote.actor('rot');
  const inbox = `${server.origin}/inbox`;
  const first = createNote(rot, 'before rotation');
  assert.equal((await remote.send('rot', inbox, first.activity)).status, 202);
  const actorFetches = () => remote.requests.filter((r) => r.method === 'GET' && r.path === '/users/rot').length;
  const fetchedBefore = actorFetches();
  remote.rotateKey('rot');
  const second = createNote(rot, 'after rotation');
  assert.equal((await remote.send('rot', inbox, second.activity)).status, 202);
  assert.equal(actorFetches() - fetchedBefore, 1, 'one refetch for the new key');
  await eventually(async () => assert.ok((await mentionTexts()).includes('after rotation')));

  // Signed with a key the actor does not publish: one refetch, then 401.
  const imposter = remote.actor('imposter');
  const countBefore = actorFetches();
  const bad = createNote(rot, 'signed by the wrong key');
  const res = await remote.send('imposter', inbox, bad.activity, { keyId: rot.keyId });
  assert.equal(res.status, 401);
  assert.ok(actorFetches() - countBefore <= 1);
  assert.ok(imposter);
});

test('following a local user from the remote: our Accept verifies under Misskey\'s library', async () => {
  const fan = remote.actor('fan');
  const follow = {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${fan.id}#follow-1`,
    type: 'Follow',
    actor: fan.id,
    object: victimUri(),
  };
  assert.equal((await remote.send('fan', `${victimUri()}/inbox`, follow)).status, 202);
  const accept = await remote.waitFor((r) => r.body?.type === 'Accept');
  assert.equal(accept.verified, true, accept.error);
  assert.equal(accept.body.actor, victimUri());
  assert.equal(accept.body.object.id, follow.id);
  // Our signed fetches verify there too: the instance actor fetched the fan's actor.
  const fetches = remote.requests.filter((r) => r.method === 'GET' && r.path === '/users/fan');
  assert.ok(fetches.length >= 1);
  assert.match(fetches[0].headers.signature, /keyId="http:\/\/127\.0\.0\.1:\d+\/users\/[0-9a-z]+#main-key"/);
});

test('deliveries: 500, 500, 200 arrives on the third try; 429 waits for Retry-After; 410 stops', async () => {
  // The fan follows the victim (previous test); the victim's notes go to the fan's server.
  const attempts = () => remote.received.filter((r) => r.body?.type === 'Create' && r.body.object?.content?.includes('retry me'));
  let n = 0;
  remote.respondWith((record) => {
    if (record.body?.type !== 'Create') return { status: 202 };
    n += 1;
    return { status: n <= 2 ? 500 : 202 };
  });
  await victim.api.request('notes/create', { text: 'retry me' });
  await eventually(() => assert.equal(attempts().length, 3), 15_000);
  const times = attempts().map((r) => r.at);
  assert.ok(times[2] - times[1] >= times[1] - times[0], 'the waits grow');
  assert.ok(attempts().every((r) => r.verified === true));

  let throttled = 0;
  remote.respondWith((record) => {
    if (!record.body?.object?.content?.includes('slow down')) return { status: 202 };
    throttled += 1;
    return throttled === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 202 };
  });
  await victim.api.request('notes/create', { text: 'slow down' });
  const waited = await eventually(() => {
    const got = remote.received.filter((r) => r.body?.object?.content?.includes('slow down'));
    assert.equal(got.length, 2);
    return got[1].at - got[0].at;
  }, 15_000);
  assert.ok(waited >= 2000, `retried after ${waited} ms`);

  remote.respondWith((record) => (record.body?.object?.content?.includes('gone') ? { status: 410 } : { status: 202 }));
  await victim.api.request('notes/create', { text: 'gone for good' });
  await eventually(() => assert.equal(remote.received.filter((r) => r.body?.object?.content?.includes('gone for good')).length, 1));
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(remote.received.filter((r) => r.body?.object?.content?.includes('gone for good')).length, 1, '410 is not retried');
  remote.respondWith(null);
});

test('deliveries survive a kill -9 of the sender', async () => {
  const sender = await startServer({ ...federating, TSUDOI_FEDERATION_RETRY_BASE_MS: '1000' });
  try {
    const author = await signup(sender, 'author');
    const authorUri = `${sender.origin}/users/${author.id}`;
    const reader = remote.actor('reader');
    const follow = { '@context': 'https://www.w3.org/ns/activitystreams', id: `${reader.id}#follow-k`, type: 'Follow', actor: reader.id, object: authorUri };
    assert.equal((await remote.send('reader', `${authorUri}/inbox`, follow)).status, 202);
    await remote.waitFor((r) => r.body?.type === 'Accept' && r.body.actor === authorUri);

    let open = false;
    remote.respondWith((record) => (record.body?.object?.content?.includes('survivor') && !open ? { status: 503 } : { status: 202 }));
    await author.api.request('notes/create', { text: 'survivor' });
    await remote.waitFor((r) => r.body?.object?.content?.includes('survivor'));
    // Killed once the failed attempt is recorded (a worker killed mid-delivery leaves a
    // lease that runs out: the store's tests cover that).
    await new Promise((r) => setTimeout(r, 300));
    await sender.kill();
    open = true;
    const restarted = await startServer(sender.env, sender.storage);
    try {
      await eventually(() => {
        const got = remote.received.filter((r) => r.body?.object?.content?.includes('survivor'));
        assert.ok(got.length >= 2);
        assert.equal(got.at(-1).verified, true);
      }, 20_000);
    } finally {
      await restarted.stop();
    }
  } finally {
    remote.respondWith(null);
    await sender.stop();
  }
});

test('an admin blocks a server: its requests get 403 and nothing goes to it; a silenced server\'s notes are not public', async () => {
  const out = await run(tsudoiBinary(), ['user', 'create', 'fed_admin', '--admin', '--password', 'pw'], {
    env: { ...process.env, ...server.env },
  });
  const admin = server.client(/token: (\S+)/.exec(out.stdout)[1]);
  const spammer = remote.actor('spammer');
  // The server has heard from it before (so the test stands alone, whatever ran earlier).
  const earlier = createNote(spammer, 'before the block');
  assert.equal((await remote.send('spammer', `${server.origin}/inbox`, earlier.activity)).status, 202);
  await eventually(async () => assert.ok((await mentionTexts()).includes('before the block')));

  await admin.request('admin/update-meta', { blockedHosts: [remote.host.split(':')[0]] });
  assert.deepEqual((await admin.request('admin/meta', {})).blockedHosts, ['127.0.0.1']);
  const { activity } = createNote(spammer, 'from a blocked server');
  const res = await remote.send('spammer', `${server.origin}/inbox`, activity);
  assert.equal(res.status, 403);
  await assertNotStored('from a blocked server');
  const before = remote.received.length;
  await victim.api.request('notes/create', { text: 'not for the blocked' });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(remote.received.length, before, 'nothing is delivered to a blocked server');
  const listed = await admin.request('federation/show-instance', { host: remote.host });
  assert.equal(listed.isBlocked, true);

  await admin.request('admin/update-meta', { blockedHosts: [], silencedHosts: [remote.host] });
  const loud = createNote(spammer, 'silenced but public');
  assert.equal((await remote.send('spammer', `${server.origin}/inbox`, loud.activity)).status, 202);
  const stored = await eventually(async () => {
    const mentions = await victim.api.request('notes/mentions', {});
    const found = mentions.find((n) => n.text === 'silenced but public');
    assert.ok(found);
    return found;
  });
  assert.equal(stored.visibility, 'home');
  const instances = await victim.api.request('federation/instances', { host: '127.0.0.1' });
  const mine = instances.find((i) => i.host === remote.host);
  assert.equal(mine.isSilenced, true);
  assert.ok(mine.usersCount >= 1);
  await admin.request('admin/update-meta', { silencedHosts: [] });
});

test('moderation plugins see what arrives: notes through check-note, other activities through check-activity with the raw JSON when granted', async () => {
  const cli = (...args) => run(tsudoiBinary(), ['plugin', ...args], { env: { ...process.env, ...server.env } });
  await cli('install', pluginWasm('hostile_plugin'));
  await cli('grant', 'hostile', 'raw-activity');
  // The server picks up plugin changes within a second.
  await new Promise((r) => setTimeout(r, 2000));
  try {
    const judge = remote.actor('judge');
    // A note the plugin rejects (`reject:N` gives a reason of N characters) is not stored;
    // one it accepts is.
    const refused = createNote(judge, 'reject:12');
    assert.equal((await remote.send('judge', `${server.origin}/inbox`, refused.activity)).status, 202);
    const fine = createNote(judge, 'a fine note');
    assert.equal((await remote.send('judge', `${server.origin}/inbox`, fine.activity)).status, 202);
    await eventually(async () => assert.ok((await mentionTexts()).includes('a fine note')));
    await assertNotStored('reject:12');

    // A Follow whose JSON the plugin refuses changes nothing; a plain one goes through.
    const victimFollowers = async () => (await server.client().request('users/followers', { userId: victim.id })).map((f) => f.follower.username);
    const follow = (id) => ({ '@context': 'https://www.w3.org/ns/activitystreams', id, type: 'Follow', actor: judge.id, object: victimUri() });
    assert.equal((await remote.send('judge', `${victimUri()}/inbox`, follow(`${judge.id}#refuse-this-activity`))).status, 202);
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(!(await victimFollowers()).includes('judge'));
    assert.equal((await remote.send('judge', `${victimUri()}/inbox`, follow(`${judge.id}#follow-ok`))).status, 202);
    await eventually(async () => assert.ok((await victimFollowers()).includes('judge')));

    // A vote is no note: it meets check-activity, and a refused one is not counted.
    const { createdNote: poll } = await victim.api.request('notes/create', { text: 'judge me', poll: { choices: ['yes', 'no'] } });
    const vote = (id) => ({
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${id}/activity`,
      type: 'Create',
      actor: judge.id,
      to: [victimUri()],
      object: { id, type: 'Note', attributedTo: judge.id, to: [victimUri()], inReplyTo: `${server.origin}/notes/${poll.id}`, name: 'no' },
    });
    const votes = async () => (await victim.api.request('notes/show', { noteId: poll.id })).poll.choices.map((c) => c.votes);
    assert.equal((await remote.send('judge', `${server.origin}/inbox`, vote(`${remote.origin}/votes/refuse-this-activity`))).status, 202);
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(await votes(), [0, 0]);
    assert.equal((await remote.send('judge', `${server.origin}/inbox`, vote(`${remote.origin}/votes/judge-ok`))).status, 202);
    await eventually(async () => assert.deepEqual(await votes(), [0, 1]));
  } finally {
    await cli('remove', 'hostile');
  }
});

test('an edit of a remote note by its author replaces its text; by anyone else, nothing', async () => {
  const editor = remote.actor('editor');
  const mallory = remote.actor('mallory');
  const original = createNote(editor, 'first draft');
  assert.equal((await remote.send('editor', `${server.origin}/inbox`, original.activity)).status, 202);
  await eventually(async () => assert.ok((await mentionTexts()).includes('first draft')));
  const update = (actor, content) => ({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${actor.id}#update-${Date.now()}`,
    type: 'Update',
    actor: actor.id,
    object: { ...original.note, content: `<p>${content}</p>`, updated: new Date().toISOString() },
  });
  assert.equal((await remote.send('mallory', `${server.origin}/inbox`, update(mallory, 'hijacked'))).status, 202);
  await new Promise((r) => setTimeout(r, 700));
  assert.ok((await mentionTexts()).includes('first draft'));
  assert.equal((await remote.send('editor', `${server.origin}/inbox`, update(editor, 'second draft #edited'))).status, 202);
  await eventually(async () => {
    const mentions = await victim.api.request('notes/mentions', {});
    const edited = mentions.find((n) => n.uri === original.note.id);
    assert.equal(edited.text, 'second draft #edited');
    assert.deepEqual(edited.tags, ['edited']);
  });
});

test('reactions as other software sends them: a plain Like, an EmojiReact, Misskey\'s custom emoji; a late Undo leaves a newer reaction', async () => {
  const { createdNote: note } = await victim.api.request('notes/create', { text: 'react, fediverse' });
  const noteUri = `${server.origin}/notes/${note.id}`;
  const mika = remote.actor('mika');
  const piet = remote.actor('piet');
  const kumi = remote.actor('kumi');
  const like = (actor, id, extra = {}) => ({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${remote.origin}/likes/${id}`,
    type: 'Like',
    actor: actor.id,
    object: noteUri,
    ...extra,
  });
  const reactions = async () => (await victim.api.request('notes/show', { noteId: note.id }));

  // Mastodon's favourite: a Like with nothing else is ❤.
  assert.equal((await remote.send('mika', `${server.origin}/inbox`, like(mika, 'm1'))).status, 202);
  // Pleroma's EmojiReact carries the emoji in `content`.
  assert.equal((await remote.send('piet', `${server.origin}/inbox`, like(piet, 'p1', { type: 'EmojiReact', content: '🎉' }))).status, 202);
  // Misskey's custom emoji reaction names the emoji and describes it in `tag`.
  const neko = `${remote.origin}/files/neko.png`;
  assert.equal((await remote.send('kumi', `${server.origin}/inbox`, like(kumi, 'k1', {
    _misskey_reaction: ':neko:',
    content: ':neko:',
    tag: [{ id: `${remote.origin}/emojis/neko`, type: 'Emoji', name: ':neko:', icon: { type: 'Image', mediaType: 'image/png', url: neko } }],
  }))).status, 202);
  const nekoKey = `:neko@${remote.host}:`;
  await eventually(async () => {
    const n = await reactions();
    assert.deepEqual(n.reactions, { '❤': 1, '🎉': 1, [nekoKey]: 1 });
    const proxied = `${server.origin}/proxy/emoji.webp?url=${encodeURIComponent(neko)}&emoji=1`;
    assert.deepEqual(n.reactionEmojis, { [`neko@${remote.host}`]: proxied });
  });
  // A Like of a note this server does not have is accepted and changes nothing.
  assert.equal((await remote.send('mika', `${server.origin}/inbox`, { ...like(mika, 'm0'), object: `${remote.origin}/notes/elsewhere` })).status, 202);

  // Mika changes her reaction (a new Like), and the Undo of the first arrives late.
  assert.equal((await remote.send('mika', `${server.origin}/inbox`, like(mika, 'm2', { _misskey_reaction: '👍' }))).status, 202);
  await eventually(async () => assert.deepEqual((await reactions()).reactions, { '👍': 1, '🎉': 1, [nekoKey]: 1 }));
  const undo = (actor, inner) => ({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${inner.id}/undo`,
    type: 'Undo',
    actor: actor.id,
    object: inner,
  });
  assert.equal((await remote.send('mika', `${server.origin}/inbox`, undo(mika, like(mika, 'm1')))).status, 202);
  await new Promise((r) => setTimeout(r, 700));
  assert.deepEqual((await reactions()).reactions, { '👍': 1, '🎉': 1, [nekoKey]: 1 });
  // Undoing the standing one removes it; nobody may undo another's.
  assert.equal((await remote.send('piet', `${server.origin}/inbox`, undo(piet, like(kumi, 'k1', { _misskey_reaction: ':neko:' })))).status, 202);
  assert.equal((await remote.send('mika', `${server.origin}/inbox`, undo(mika, like(mika, 'm2', { _misskey_reaction: '👍' })))).status, 202);
  await eventually(async () => assert.deepEqual((await reactions()).reactions, { '🎉': 1, [nekoKey]: 1 }));
  const list = await victim.api.request('notes/reactions', { noteId: note.id, type: nekoKey });
  assert.equal(list.length, 1);
  assert.equal(list[0].user.username, 'kumi');
  assert.equal(list[0].user.host, remote.host);
});

test('polls as Mastodon sends them: a Question with counts, its Update, our vote to it, its users\' votes in ours', async () => {
  const olga = remote.actor('olga');
  const { note: question, activity } = createNote(olga, 'Best season?', {
    type: 'Question',
    endTime: new Date(Date.now() + 3_600_000).toISOString(),
    votersCount: 3,
    oneOf: ['spring', 'summer', 'autumn'].map((name, i) => ({ type: 'Note', name, replies: { type: 'Collection', totalItems: i } })),
  });
  assert.equal((await remote.send('olga', `${server.origin}/inbox`, activity)).status, 202);
  const stored = await eventually(async () => {
    const n = (await victim.api.request('notes/mentions', {})).find((x) => x.text === 'Best season?');
    assert.ok(n);
    return n;
  });
  assert.deepEqual(stored.poll.choices.map((ch) => [ch.text, ch.votes]), [['spring', 0], ['summer', 1], ['autumn', 2]]);

  // The victim votes: a reply naming the choice, signed, to olga's inbox.
  await victim.api.request('notes/polls/vote', { noteId: stored.id, choice: 0 });
  const vote = await remote.waitFor((r) => r.body?.type === 'Create' && r.body.object?.inReplyTo === question.id);
  assert.equal(vote.verified, true);
  assert.equal(vote.body.object.name, 'spring');
  assert.equal(vote.body.object.type, 'Note');
  assert.deepEqual(vote.body.object.to, [olga.id]);
  assert.deepEqual((await victim.api.request('notes/show', { noteId: stored.id })).poll.choices.map((ch) => ch.votes), [1, 1, 2]);

  // Olga's server reports new counts; nobody else may.
  const update = (actor, counts) => ({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${question.id}#updates/${++serial}`,
    type: 'Update',
    actor: actor.id,
    object: { ...question, oneOf: question.oneOf.map((o, i) => ({ ...o, replies: { type: 'Collection', totalItems: counts[i] } })) },
  });
  remote.actor('meddler');
  assert.equal((await remote.send('meddler', `${server.origin}/inbox`, update(remote.actor('meddler'), [9, 9, 9]))).status, 202);
  assert.equal((await remote.send('olga', `${server.origin}/inbox`, update(olga, [5, 1, 2]))).status, 202);
  await eventually(async () => {
    const n = await victim.api.request('notes/show', { noteId: stored.id });
    assert.deepEqual(n.poll.choices.map((ch) => [ch.votes, ch.isVoted]), [[5, true], [1, false], [2, false]]);
  });

  // Olga votes in the victim's poll; a second vote, an unknown choice and a vote after the end count for nothing.
  const { createdNote: mine } = await victim.api.request('notes/create', { text: 'tabs or spaces?', poll: { choices: ['tabs', 'spaces'] } });
  const voteFor = (actor, name) => {
    const id = `${remote.origin}/votes/${actor.name}-${++serial}`;
    return {
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${id}/activity`,
      type: 'Create',
      actor: actor.id,
      to: [victimUri()],
      object: { id, type: 'Note', attributedTo: actor.id, to: [victimUri()], inReplyTo: `${server.origin}/notes/${mine.id}`, name },
    };
  };
  const counts = async () => (await victim.api.request('notes/show', { noteId: mine.id })).poll.choices.map((ch) => ch.votes);
  assert.equal((await remote.send('olga', `${server.origin}/inbox`, voteFor(olga, 'spaces'))).status, 202);
  await eventually(async () => assert.deepEqual(await counts(), [0, 1]));
  for (const name of ['tabs', 'neither']) {
    assert.equal((await remote.send('olga', `${server.origin}/inbox`, voteFor(olga, name))).status, 202);
  }
  await new Promise((r) => setTimeout(r, 700));
  assert.deepEqual(await counts(), [0, 1]);
  // A vote is not a reply.
  assert.deepEqual(await victim.api.request('notes/children', { noteId: mine.id }), []);
});

test('a remote account deletes itself: its notes, reactions and follows go; a Move takes followers along once confirmed', async () => {
  const fan = await signup(server, 'fan');
  const quitter = remote.actor('quitter');
  const quitterOnUs = await fan.api.request('ap/show', { uri: quitter.id });
  await fan.api.request('following/create', { userId: quitterOnUs.object.id });
  await remote.waitFor((r) => r.body?.type === 'Follow' && r.body.object === quitter.id);
  const { activity } = createNote(quitter, 'my last words');
  assert.equal((await remote.send('quitter', `${server.origin}/inbox`, activity)).status, 202);
  const { createdNote: fanNote } = await fan.api.request('notes/create', { text: 'react to this' });
  assert.equal((await remote.send('quitter', `${server.origin}/inbox`, {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${quitter.id}/likes/1`, type: 'Like', actor: quitter.id, object: `${server.origin}/notes/${fanNote.id}`, content: '👋',
  })).status, 202);
  await eventually(async () => {
    assert.ok((await mentionTexts()).includes('my last words'));
    assert.deepEqual((await fan.api.request('notes/show', { noteId: fanNote.id })).reactions, { '👋': 1 });
  });
  assert.equal((await fan.api.request('users/show', { userId: fan.id })).followingCount, 1);

  // Someone else cannot delete the account; the account itself can.
  const del = (actor, object) => ({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${actor.id}#delete-${++serial}`, type: 'Delete', actor: actor.id, object, to: [PUBLIC],
  });
  assert.equal((await remote.send('mallory', `${server.origin}/inbox`, del(remote.actor('mallory'), quitter.id))).status, 202);
  await new Promise((r) => setTimeout(r, 700));
  assert.ok((await mentionTexts()).includes('my last words'));
  assert.equal((await remote.send('quitter', `${server.origin}/inbox`, del(quitter, quitter.id))).status, 202);
  await eventually(async () => {
    assert.ok(!(await mentionTexts()).includes('my last words'));
    const shown = await fan.api.request('notes/show', { noteId: fanNote.id });
    assert.deepEqual(shown.reactions, {});
    assert.equal((await fan.api.request('users/show', { userId: fan.id })).followingCount, 0);
  });
  const gone = await fan.api.request('users/show', { userId: quitterOnUs.object.id }).catch((e) => e);
  assert.equal(gone.code, 'NO_SUCH_USER');

  // A Move: the new account must name the old one in alsoKnownAs.
  const oldAcct = remote.actor('old_acct');
  const newAcct = remote.actor('new_acct');
  const oldOnUs = await fan.api.request('ap/show', { uri: oldAcct.id });
  await fan.api.request('following/create', { userId: oldOnUs.object.id });
  await remote.waitFor((r) => r.body?.type === 'Follow' && r.body.object === oldAcct.id);
  const move = () => ({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${oldAcct.id}#move-${++serial}`, type: 'Move', actor: oldAcct.id, object: oldAcct.id, target: newAcct.id,
  });
  assert.equal((await remote.send('old_acct', `${server.origin}/inbox`, move())).status, 202);
  await new Promise((r) => setTimeout(r, 700));
  assert.ok(!remote.received.some((r) => r.body?.type === 'Follow' && r.body.object === newAcct.id), 'an unconfirmed Move moves nobody');
  remote.setActorDocument('new_acct', (doc) => ({ ...doc, alsoKnownAs: [oldAcct.id] }));
  assert.equal((await remote.send('old_acct', `${server.origin}/inbox`, move())).status, 202);
  const follow = await remote.waitFor((r) => r.body?.type === 'Follow' && r.body.object === newAcct.id);
  assert.equal(follow.verified, true);
  await remote.waitFor((r) => r.body?.type === 'Undo' && r.body.object?.object === oldAcct.id);
  const [rel] = await fan.api.request('users/relation', { userId: [oldOnUs.object.id] });
  assert.equal(rel.isFollowing, false);
});

test('blocks both ways: a local block goes out as Block (and its lifting as Undo); a blocked actor can neither follow, react, reply, renote nor vote; a remote Block ends follows and stops ours', async () => {
  const wall = await signup(server, 'wall');
  const wallUri = `${server.origin}/users/${wall.id}`;
  const pest = remote.actor('pest');
  const pestOnUs = (await wall.api.request('ap/show', { uri: pest.id })).object;
  const send = (activity) => remote.send('pest', `${server.origin}/inbox`, { '@context': 'https://www.w3.org/ns/activitystreams', actor: pest.id, ...activity });
  const relation = async (me, other) => (await me.api.request('users/relation', { userId: [other.id] }))[0];

  // They follow each other.
  assert.equal((await send({ id: `${pest.id}#follow-wall-1`, type: 'Follow', object: wallUri })).status, 202);
  await remote.waitFor((r) => r.body?.type === 'Accept' && r.body.object?.id === `${pest.id}#follow-wall-1`);
  await wall.api.request('following/create', { userId: pestOnUs.id });
  await remote.waitFor((r) => r.body?.type === 'Follow' && r.body.actor === wallUri);
  const { createdNote: note } = await wall.api.request('notes/create', { text: 'keep out', poll: { choices: ['yes', 'no'] } });
  const noteUri = `${server.origin}/notes/${note.id}`;

  // Wall blocks pest: the follows end both ways, and pest's server hears the Block, the Undo
  // of wall's Follow and the Reject of pest's, all signed.
  const blocked = await wall.api.request('blocking/create', { userId: pestOnUs.id });
  assert.equal(blocked.isBlocking, true);
  assert.equal(blocked.isFollowing, false);
  assert.equal(blocked.isFollowed, false);
  const block = await remote.waitFor((r) => r.body?.type === 'Block' && r.body.actor === wallUri);
  assert.equal(block.verified, true, block.error);
  assert.equal(block.body.object, pest.id);
  assert.match(block.body.id, /\/blocks\/[0-9a-z]+$/);
  const undoFollow = await remote.waitFor((r) => r.body?.type === 'Undo' && r.body.actor === wallUri && r.body.object?.type === 'Follow');
  assert.equal(undoFollow.body.object.object, pest.id);
  const reject = await remote.waitFor((r) => r.body?.type === 'Reject' && r.body.actor === wallUri);
  assert.equal(reject.body.object.actor, pest.id);
  const me = await wall.api.request('i', {});
  assert.equal(me.followersCount, 0);
  assert.equal(me.followingCount, 0);
  const list = await wall.api.request('blocking/list', {});
  assert.deepEqual(list.map((b) => [b.blockeeId, b.blockee.username, b.blockee.host, b.blockee.isBlocking]), [[pestOnUs.id, 'pest', remote.host, true]]);
  await assert.rejects(wall.api.request('blocking/create', { userId: pestOnUs.id }), (e) => e.code === 'ALREADY_BLOCKING');
  // Wall can no longer follow pest while blocking them.
  await assert.rejects(wall.api.request('following/create', { userId: pestOnUs.id }), (e) => e.code === 'BLOCKING');

  // Pest's server did not listen: its Follow gets a Reject; its Like, reply, renote and vote count for nothing.
  assert.equal((await send({ id: `${pest.id}#follow-wall-2`, type: 'Follow', object: wallUri })).status, 202);
  const rejected = await remote.waitFor((r) => r.body?.type === 'Reject' && r.body.object?.id === `${pest.id}#follow-wall-2`);
  assert.equal(rejected.verified, true);
  assert.equal((await send({ id: `${remote.origin}/likes/pest-1`, type: 'Like', object: noteUri, _misskey_reaction: '👎' })).status, 202);
  const { activity: reply } = createNote(pest, 'a reply wall never sees', { inReplyTo: noteUri });
  assert.equal((await remote.send('pest', `${server.origin}/inbox`, reply)).status, 202);
  assert.equal((await send({ id: `${remote.origin}/announces/pest-1`, type: 'Announce', object: noteUri, to: [PUBLIC] })).status, 202);
  const voteId = `${remote.origin}/votes/pest-1`;
  assert.equal((await send({ id: `${voteId}/activity`, type: 'Create', to: [wallUri], object: { id: voteId, type: 'Note', attributedTo: pest.id, to: [wallUri], inReplyTo: noteUri, name: 'no' } })).status, 202);
  await assertNotStored('a reply wall never sees');
  let shown = await wall.api.request('notes/show', { noteId: note.id });
  assert.deepEqual(shown.reactions, {});
  assert.equal(shown.renoteCount, 0);
  assert.equal(shown.repliesCount, 0);
  assert.deepEqual(shown.poll.choices.map((ch) => ch.votes), [0, 0]);
  assert.equal((await wall.api.request('users/followers', { userId: wall.id })).length, 0);

  // Lifting the block is an Undo of the same Block; pest may react again.
  const unblocked = await wall.api.request('blocking/delete', { userId: pestOnUs.id });
  assert.equal(unblocked.isBlocking, false);
  const undoBlock = await remote.waitFor((r) => r.body?.type === 'Undo' && r.body.object?.type === 'Block');
  assert.equal(undoBlock.verified, true);
  assert.equal(undoBlock.body.object.id, block.body.id);
  assert.equal(undoBlock.body.object.object, pest.id);
  assert.deepEqual(await wall.api.request('blocking/list', {}), []);
  assert.equal((await send({ id: `${remote.origin}/likes/pest-2`, type: 'Like', object: noteUri, _misskey_reaction: '👍' })).status, 202);
  await eventually(async () => assert.deepEqual((await wall.api.request('notes/show', { noteId: note.id })).reactions, { '👍': 1 }));

  // Now pest blocks wall, who follows pest again: the follow ends, and wall can neither
  // follow pest nor react to or reply to pest's notes until the Undo.
  await wall.api.request('following/create', { userId: pestOnUs.id });
  const { note: pestNote, activity: pestPost } = createNote(pest, 'pest speaks', { cc: [`${pest.id}/followers`] });
  assert.equal((await remote.send('pest', `${server.origin}/inbox`, pestPost)).status, 202);
  const pestNoteOnUs = await eventually(async () => (await wall.api.request('ap/show', { uri: pestNote.id })).object);
  const pestBlock = { id: `${remote.origin}/blocks/pest-1`, type: 'Block', object: wallUri };
  assert.equal((await send(pestBlock)).status, 202);
  await eventually(async () => {
    const r = await relation(wall, pestOnUs);
    assert.deepEqual([r.isBlocked, r.isBlocking, r.isFollowing], [true, false, false]);
  });
  await assert.rejects(wall.api.request('following/create', { userId: pestOnUs.id }), (e) => e.code === 'BLOCKED');
  await assert.rejects(wall.api.request('notes/reactions/create', { noteId: pestNoteOnUs.id, reaction: '👍' }),
    (e) => e.code === 'YOU_HAVE_BEEN_BLOCKED' && e.id === '20ef5475-9f38-4e4c-bd33-de6d979498ec');
  await assert.rejects(wall.api.request('notes/create', { text: 'hey', replyId: pestNoteOnUs.id }),
    (e) => e.code === 'YOU_HAVE_BEEN_BLOCKED' && e.id === 'b390d7e1-8a5e-46ed-b625-06271cafd3d3');
  await assert.rejects(wall.api.request('notes/create', { renoteId: pestNoteOnUs.id }), (e) => e.code === 'YOU_HAVE_BEEN_BLOCKED');
  // Someone else's Undo of pest's Block changes nothing; pest's own lifts it.
  remote.actor('stranger');
  assert.equal((await remote.send('stranger', `${server.origin}/inbox`, {
    '@context': 'https://www.w3.org/ns/activitystreams', id: `${remote.origin}/undo/stranger-1`, type: 'Undo', actor: remote.actor('stranger').id, object: { ...pestBlock, actor: pest.id },
  })).status, 202);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal((await relation(wall, pestOnUs)).isBlocked, true);
  assert.equal((await send({ id: `${remote.origin}/undo/pest-1`, type: 'Undo', object: { ...pestBlock, actor: pest.id } })).status, 202);
  await eventually(async () => assert.equal((await relation(wall, pestOnUs)).isBlocked, false));
  await wall.api.request('notes/reactions/create', { noteId: pestNoteOnUs.id, reaction: '👍' });
  shown = await wall.api.request('notes/show', { noteId: pestNoteOnUs.id });
  assert.equal(shown.myReaction, '👍');
});
