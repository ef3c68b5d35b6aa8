// `i/registry/*` as Misskey's web client uses it at start-up (scope ['client', 'base'],
// NO_SUCH_KEY from `get`), per account and per app token, with `registryUpdated` on main.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, signup, apiError, rawPost } from './lib/server.mjs';
import { openStream, record, waitFor, synced } from './lib/stream.mjs';

let server;
let kim;
let app; // an app's token of kim's, with read:account and write:account
let appToken;

before(async () => {
  server = await startServer();
  kim = await signup(server, 'reg_kim', 'pw-kim');
  const session = randomUUID();
  await fetch(`${server.origin}/miauth/${session}?name=RegApp&permission=read:account,write:account`);
  await fetch(`${server.origin}/miauth/${session}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'reg_kim', password: 'pw-kim' }),
  });
  appToken = (await server.client().request(`miauth/${session}/check`, {})).token;
  app = server.client(appToken);
});
after(async () => { await server?.stop(); });

const base = ['client', 'base'];

test('the web client start-up: empty get-all, NO_SUCH_KEY with its ids, then set and read back', async () => {
  assert.deepEqual(await kim.api.request('i/registry/get-all', { scope: base }), {});
  const missing = await apiError(() => kim.api.request('i/registry/get', { scope: ['client', 'preferences', 'sync'], key: 'theme' }));
  assert.equal(missing.code, 'NO_SUCH_KEY');
  assert.equal(missing.id, 'ac3ed68a-62f0-422b-a7bc-d5e09e8f6a6a');
  const missingDetail = await apiError(() => kim.api.request('i/registry/get-detail', { scope: base, key: 'theme' }));
  assert.equal(missingDetail.id, '97a1e8e7-c0f7-47d2-957a-92e61256e01a');

  const values = { theme: { dark: true, accent: '#86b300' }, fontSize: 14, tabs: ['home', 'local'], name: 'kim', on: false, none: null };
  for (const [key, value] of Object.entries(values)) {
    await kim.api.request('i/registry/set', { scope: base, key, value });
  }
  assert.deepEqual(await kim.api.request('i/registry/get-all', { scope: base }), values);
  assert.deepEqual(await kim.api.request('i/registry/get', { scope: base, key: 'theme' }), values.theme);
  assert.equal(await kim.api.request('i/registry/get', { scope: base, key: 'fontSize' }), 14);
  // A null value is answered with no content, as Misskey answers it.
  const nullValue = await rawPost(server, 'i/registry/get', { i: kim.token, scope: base, key: 'none' });
  assert.equal(nullValue.status, 204);
  const detail = await kim.api.request('i/registry/get-detail', { scope: base, key: 'tabs' });
  assert.deepEqual(detail.value, values.tabs);
  assert.ok(Date.now() - Date.parse(detail.updatedAt) < 60_000);
  assert.deepEqual((await kim.api.request('i/registry/keys', { scope: base })).sort(), Object.keys(values).sort());
  assert.deepEqual(await kim.api.request('i/registry/keys-with-type', { scope: base }), {
    theme: 'object', fontSize: 'number', tabs: 'array', name: 'string', on: 'boolean', none: 'null',
  });

  await kim.api.request('i/registry/set', { scope: base, key: 'fontSize', value: 16 });
  assert.equal(await kim.api.request('i/registry/get', { scope: base, key: 'fontSize' }), 16);
  await kim.api.request('i/registry/remove', { scope: base, key: 'fontSize' });
  assert.equal((await apiError(() => kim.api.request('i/registry/get', { scope: base, key: 'fontSize' }))).code, 'NO_SUCH_KEY');
  // Removing what is not there is not an error (Misskey's behaviour).
  await kim.api.request('i/registry/remove', { scope: base, key: 'fontSize' });
  // Scopes are separate.
  assert.deepEqual(await kim.api.request('i/registry/get-all', { scope: ['client'] }), {});
});

test('bad scopes and keys are refused and change nothing', async () => {
  const badScope = await apiError(() => kim.api.request('i/registry/set', { scope: ['client', 'has-dash'], key: 'k', value: 1 }));
  assert.equal(badScope.code, 'INVALID_PARAM');
  const emptyKey = await apiError(() => kim.api.request('i/registry/set', { scope: base, key: '', value: 1 }));
  assert.equal(emptyKey.code, 'INVALID_PARAM');
  const noValue = await rawPost(server, 'i/registry/set', { i: kim.token, scope: base, key: 'k' });
  assert.equal(noValue.status, 400);
  assert.equal((await apiError(() => kim.api.request('i/registry/get', { scope: base, key: 'k' }))).code, 'NO_SUCH_KEY');
});

test('an app has a registry of its own; the account sees every scope by domain', async () => {
  await app.request('i/registry/set', { scope: base, key: 'appOnly', value: 'mine' });
  assert.equal(await app.request('i/registry/get', { scope: base, key: 'appOnly' }), 'mine');
  // The app cannot reach the account's registry, even by naming no domain.
  assert.equal((await apiError(() => app.request('i/registry/get', { scope: base, key: 'theme' }))).code, 'NO_SUCH_KEY');
  assert.equal((await apiError(() => kim.api.request('i/registry/get', { scope: base, key: 'appOnly' }))).code, 'NO_SUCH_KEY');
  const scopes = await kim.api.request('i/registry/scopes-with-domain', {});
  const own = scopes.find((s) => s.domain === null);
  assert.deepEqual(own.scopes, [base]);
  const appsScopes = scopes.filter((s) => s.domain !== null);
  assert.equal(appsScopes.length, 1);
  assert.deepEqual(appsScopes[0].scopes, [base]);
  // scopes-with-domain is for the account's own token only.
  assert.equal((await apiError(() => app.request('i/registry/scopes-with-domain', {}))).code, 'ACCESS_DENIED');
});

test('setting the account registry sends registryUpdated on main; an app setting its own does not', async () => {
  const s = openStream(server, kim.token);
  const updated = record(s.useChannel('main'), 'registryUpdated');
  await synced(s);
  await app.request('i/registry/set', { scope: base, key: 'appQuiet', value: 1 });
  await kim.api.request('i/registry/set', { scope: base, key: 'accent', value: { color: 'red' } });
  const got = await waitFor(updated, (u) => u.key === 'accent');
  assert.deepEqual(got, { scope: base, key: 'accent', value: { color: 'red' } });
  assert.ok(!updated.some((u) => u.key === 'appQuiet'));
  s.close();
});
