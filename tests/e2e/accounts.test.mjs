// Accounts and app authentication through the published misskey-js SDK.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { startServer, signup, apiError, rawPost, tsudoiBinary } from './lib/server.mjs';

const run = promisify(execFile);
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('signup returns MeDetailed with a token that authenticates', async () => {
  const alice = await signup(server, 'alice');
  assert.equal(alice.me.username, 'alice');
  assert.equal(alice.me.host, null);
  assert.equal(typeof alice.token, 'string');
  assert.equal(alice.token.length, 16);
  const me = await alice.api.request('i', {});
  assert.equal(me.id, alice.id);
  assert.equal(me.isLocked, false);
  assert.deepEqual(me.fields, []);
  assert.equal(typeof me.policies, 'object');
  assert.match(me.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('signin-flow returns the account token', async () => {
  const bob = await signup(server, 'bob', 'hunter2');
  const res = await server.client().request('signin-flow', { username: 'BOB', password: 'hunter2' });
  assert.deepEqual(res, { finished: true, id: bob.id, i: bob.token });
  const next = await server.client().request('signin-flow', { username: 'bob' });
  assert.deepEqual(next, { finished: false, next: 'password' });
  const err = await apiError(() => server.client().request('signin-flow', { username: 'bob', password: 'nope' }));
  assert.equal(err.code, 'INCORRECT_CREDENTIALS');
});

test('usernames follow Misskey rules and are unique regardless of case', async () => {
  await signup(server, 'carol_1');
  const dup = await apiError(() => server.client().request('signup', { username: 'CAROL_1', password: 'x' }));
  assert.equal(dup.code, 'DUPLICATED_USERNAME');
  for (const bad of ['', 'a'.repeat(21), 'has space', 'dash-ed', 'ünï']) {
    const e = await apiError(() => server.client().request('signup', { username: bad, password: 'x' }));
    assert.equal(e.code, 'INVALID_USERNAME', `username ${JSON.stringify(bad)}`);
  }
  const reserved = await apiError(() => server.client().request('signup', { username: 'admin', password: 'x' }));
  assert.equal(reserved.code, 'INVALID_USERNAME');
  const empty = await apiError(() => server.client().request('signup', { username: 'dave', password: '' }));
  assert.equal(empty.code, 'INVALID_PARAM');
});

test('i/update changes the profile and validates it', async () => {
  const erin = await signup(server, 'erin');
  const updated = await erin.api.request('i/update', {
    name: 'Erin', description: 'hello', location: 'Tokyo', birthday: '2000-01-31', lang: 'ja-JP',
    fields: [{ name: 'site', value: 'https://example.com' }], isLocked: true, isBot: true, isCat: true,
  });
  assert.equal(updated.name, 'Erin');
  assert.equal(updated.description, 'hello');
  assert.equal(updated.location, 'Tokyo');
  assert.equal(updated.birthday, '2000-01-31');
  assert.equal(updated.lang, 'ja-JP');
  assert.deepEqual(updated.fields, [{ name: 'site', value: 'https://example.com' }]);
  assert.equal(updated.isLocked, true);
  assert.equal(updated.isBot, true);
  assert.equal(updated.isCat, true);
  const cleared = await erin.api.request('i/update', { name: null });
  assert.equal(cleared.name, null);
  assert.equal(cleared.description, 'hello', 'absent fields are kept');
  const bad = await apiError(() => erin.api.request('i/update', { birthday: '31/01/2000' }));
  assert.equal(bad.code, 'INVALID_PARAM');
  const long = await apiError(() => erin.api.request('i/update', { name: 'x'.repeat(51) }));
  assert.equal(long.code, 'INVALID_PARAM');
  const me = await erin.api.request('i', {});
  assert.equal(me.name, null, 'a refused update changes nothing');
});

test('users/show finds users by id, ids and username', async () => {
  const frank = await signup(server, 'frank');
  const grace = await signup(server, 'grace');
  const byId = await server.client().request('users/show', { userId: frank.id });
  assert.equal(byId.username, 'frank');
  assert.equal(byId.isFollowing, undefined, 'no relation fields for anonymous viewers');
  const byName = await grace.api.request('users/show', { username: 'FRANK', host: null });
  assert.equal(byName.id, frank.id);
  assert.equal(byName.isFollowing, false);
  const many = await server.client().request('users/show', { userIds: [grace.id, 'nosuchuser0000', frank.id] });
  assert.deepEqual(many.map((u) => u.id), [grace.id, frank.id]);
  const missing = await apiError(() => server.client().request('users/show', { username: 'nobody_here' }));
  assert.equal(missing.code, 'NO_SUCH_USER');
});

test('MiAuth: the user grants on the page, the app collects a scoped token once', async () => {
  const heidi = await signup(server, 'heidi', 'pw-heidi');
  const session = randomUUID();
  const page = await fetch(`${server.origin}/miauth/${session}?name=TestApp&permission=read:account,write:notes`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /TestApp/);
  assert.match(html, /write:notes/);
  const pending = await server.client().request(`miauth/${session}/check`, {});
  assert.deepEqual(pending, { ok: false });
  const grant = await fetch(`${server.origin}/miauth/${session}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'heidi', password: 'pw-heidi' }),
  });
  assert.equal(grant.status, 200);
  const check = await server.client().request(`miauth/${session}/check`, {});
  assert.equal(check.ok, true);
  assert.equal(check.user.id, heidi.id);
  const again = await server.client().request(`miauth/${session}/check`, {});
  assert.deepEqual(again, { ok: false }, 'a token is handed out once');
  const app = server.client(check.token);
  assert.equal((await app.request('i', {})).id, heidi.id);
  const note = await app.request('notes/create', { text: 'from an app' });
  assert.equal(note.createdNote.text, 'from an app');
  const denied = await apiError(() => app.request('following/create', { userId: heidi.id }));
  assert.equal(denied.code, 'PERMISSION_DENIED');
  const secure = await apiError(() => app.request('miauth/gen-token', { session: 'x', permission: [] }));
  assert.equal(secure.code, 'ACCESS_DENIED', 'app tokens cannot mint tokens');
});

test('i shows the account as it is right after each change, whichever of its tokens made it', async () => {
  const nia = await signup(server, 'nia', 'pw-nia');
  const omar = await signup(server, 'omar');
  // An app token for nia beside her own; both are read before every change.
  const session = randomUUID();
  await fetch(`${server.origin}/miauth/${session}?name=Counter&permission=read:account,write:notes`);
  await fetch(`${server.origin}/miauth/${session}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'nia', password: 'pw-nia' }),
  });
  const app = server.client((await server.client().request(`miauth/${session}/check`, {})).token);
  const seen = async () => {
    const [own, viaApp, omarSees] = await Promise.all([
      nia.api.request('i', {}), app.request('i', {}), omar.api.request('i', {}),
    ]);
    assert.deepEqual(viaApp, own, 'both tokens see the same account');
    return { notes: own.notesCount, following: own.followingCount, name: own.name, omarFollowers: omarSees.followersCount };
  };
  assert.deepEqual(await seen(), { notes: 0, following: 0, name: null, omarFollowers: 0 });
  const { createdNote } = await app.request('notes/create', { text: 'one' });
  assert.deepEqual(await seen(), { notes: 1, following: 0, name: null, omarFollowers: 0 });
  await nia.api.request('following/create', { userId: omar.id });
  assert.deepEqual(await seen(), { notes: 1, following: 1, name: null, omarFollowers: 1 });
  await nia.api.request('i/update', { name: 'Nia' });
  assert.deepEqual(await seen(), { notes: 1, following: 1, name: 'Nia', omarFollowers: 1 });
  await nia.api.request('following/delete', { userId: omar.id });
  assert.deepEqual(await seen(), { notes: 1, following: 0, name: 'Nia', omarFollowers: 0 });
  await app.request('notes/delete', { noteId: createdNote.id });
  assert.deepEqual(await seen(), { notes: 0, following: 0, name: 'Nia', omarFollowers: 0 });
});

test('MiAuth: a wrong password grants nothing', async () => {
  await signup(server, 'ivan', 'right');
  const session = randomUUID();
  await fetch(`${server.origin}/miauth/${session}?name=X&permission=read:account`);
  const grant = await fetch(`${server.origin}/miauth/${session}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'ivan', password: 'wrong' }),
  });
  assert.equal(grant.status, 403);
  assert.deepEqual(await server.client().request(`miauth/${session}/check`, {}), { ok: false });
});

test('legacy app auth: app/create, session, approval, userkey and the sha256 credential', async () => {
  const judy = await signup(server, 'judy', 'pw-judy');
  const created = await server.client().request('app/create', {
    name: 'Legacy', description: 'old style', permission: ['account-read', 'write:notes'], callbackUrl: null,
  });
  assert.deepEqual(created.permission, ['read:account', 'write:notes']);
  assert.equal(created.secret.length, 32);
  const { token, url } = await server.client().request('auth/session/generate', { appSecret: created.secret });
  assert.equal(url, `${server.origin}/auth/${token}`);
  const pending = await apiError(() => server.client().request('auth/session/userkey', { appSecret: created.secret, token }));
  assert.equal(pending.code, 'PENDING_SESSION');
  const shown = await judy.api.request('auth/session/show', { token });
  assert.equal(shown.app.name, 'Legacy');
  assert.equal(shown.app.isAuthorized, false);
  const approve = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'judy', password: 'pw-judy' }),
  });
  assert.equal(approve.status, 200);
  const key = await server.client().request('auth/session/userkey', { appSecret: created.secret, token });
  assert.equal(key.user.id, judy.id);
  const i = createHash('sha256').update(key.accessToken + created.secret).digest('hex');
  assert.equal((await server.client(i).request('i', {})).id, judy.id);
  const gone = await apiError(() => server.client().request('auth/session/userkey', { appSecret: created.secret, token }));
  assert.equal(gone.code, 'NO_SUCH_SESSION');
  const noApp = await apiError(() => server.client().request('auth/session/generate', { appSecret: 'nope' }));
  assert.equal(noApp.code, 'NO_SUCH_APP');
});

test('credentials: missing, wrong, and Bearer header', async () => {
  const kim = await signup(server, 'kim');
  assert.equal((await apiError(() => server.client().request('i', {}))).code, 'CREDENTIAL_REQUIRED');
  assert.equal((await apiError(() => server.client('0123456789abcdef').request('i', {}))).code, 'AUTHENTICATION_FAILED');
  const res = await rawPost(server, 'i', {}, { authorization: `Bearer ${kim.token}` });
  assert.equal(res.status, 200);
  assert.equal(res.json.id, kim.id);
  const unauth = await rawPost(server, 'i', {});
  assert.equal(unauth.status, 401);
});

test('shell: user create prints a working token; invite-only and closed registration', async () => {
  const env = { ...process.env, ...server.env };
  const out = await run(tsudoiBinary(), ['user', 'create', 'root_admin', '--admin', '--password', 'pw'], { env });
  const token = /token: (\S+)/.exec(out.stdout)[1];
  const me = await server.client(token).request('i', {});
  assert.equal(me.username, 'root_admin');
  assert.equal(me.isAdmin, true);

  const invite = await startServer({ TSUDOI_REGISTRATION: 'invite-only' });
  try {
    const refused = await apiError(() => invite.client().request('signup', { username: 'x1', password: 'p' }));
    assert.equal(refused.code, 'INVALID_INVITATION_CODE');
    const code = (await run(tsudoiBinary(), ['invite', 'create'], { env: { ...process.env, ...invite.env } })).stdout.trim();
    const ok = await invite.client().request('signup', { username: 'x1', password: 'p', invitationCode: code });
    assert.equal(ok.username, 'x1');
    const reused = await apiError(() => invite.client().request('signup', { username: 'x2', password: 'p', invitationCode: code }));
    assert.equal(reused.code, 'INVALID_INVITATION_CODE', 'a code works once');
    const nobody = await apiError(() => invite.client().request('users/show', { username: 'x2' }));
    assert.equal(nobody.code, 'NO_SUCH_USER', 'a refused sign-up creates nothing');
  } finally {
    await invite.stop();
  }
  const closed = await startServer({ TSUDOI_REGISTRATION: 'closed' });
  try {
    const refused = await apiError(() => closed.client().request('signup', { username: 'y1', password: 'p' }));
    assert.equal(refused.code, 'REGISTRATION_CLOSED');
    const meta = await closed.client().request('meta', {});
    assert.equal(meta.disableRegistration, true);
  } finally {
    await closed.stop();
  }
});
