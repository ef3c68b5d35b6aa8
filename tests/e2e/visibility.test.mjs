// For every visibility, who can and cannot see a note, through every endpoint that returns
// notes: show, the four timelines, users/notes, children, replies, renotes, mentions, and
// notes embedded as `reply`/`renote` in other notes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signup, apiError, ids } from './lib/server.mjs';

let server;
const u = {};
const notes = {};

// Viewers: the author, a follower, a user mentioned in the followers note, the addressee of
// the specified note, a stranger, and nobody signed in.
const VIEWERS = ['author', 'follower', 'mentioned', 'addressee', 'stranger', 'anonymous'];

// Who may see each note (Misskey's rule).
const CAN_SEE = {
  public: new Set(VIEWERS),
  home: new Set(VIEWERS),
  followers: new Set(['author', 'follower']),
  followersMention: new Set(['author', 'follower', 'mentioned']),
  specified: new Set(['author', 'addressee']),
};

before(async () => {
  server = await startServer();
  for (const name of ['author', 'follower', 'mentioned', 'addressee', 'stranger']) {
    u[name] = await signup(server, `v_${name}`);
  }
  u.anonymous = { api: server.client(), id: null };
  await u.follower.api.request('following/create', { userId: u.author.id });
  const post = async (params) => (await u.author.api.request('notes/create', params)).createdNote;
  notes.parent = await post({ text: 'parent' });
  notes.public = await post({ text: 'public body', visibility: 'public', replyId: notes.parent.id });
  notes.home = await post({ text: 'home body', visibility: 'home', replyId: notes.parent.id });
  notes.followers = await post({ text: 'followers body', visibility: 'followers', replyId: notes.parent.id });
  notes.followersMention = await post({ text: 'hey @v_mentioned body', visibility: 'followers', replyId: notes.parent.id });
  notes.specified = await post({ text: 'direct body', visibility: 'specified', visibleUserIds: [u.addressee.id], replyId: notes.parent.id });
  // Quotes of each note by the author itself (allowed for all but specified), so embedded
  // renotes can be checked; and a reply by the follower to each, to check embedded replies.
  notes.replies = {};
  for (const key of Object.keys(CAN_SEE)) {
    const visibility = key === 'specified' ? 'specified' : 'public';
    const params = { text: `reply to ${key}`, replyId: notes[key].id, visibility };
    if (key === 'specified') params.visibleUserIds = [u.addressee.id];
    const replier = key === 'specified' ? u.author : u.follower;
    notes.replies[key] = (await replier.api.request('notes/create', params)).createdNote;
  }
});
after(async () => { await server?.stop(); });

async function visibleThroughShow(viewer, note) {
  try {
    const n = await u[viewer].api.request('notes/show', { noteId: note.id });
    assert.equal(n.id, note.id);
    assert.equal(n.text, note.text, 'a visible note is returned whole');
    return true;
  } catch (e) {
    assert.equal(e.code, 'NO_SUCH_NOTE');
    return false;
  }
}

for (const key of Object.keys(CAN_SEE)) {
  test(`${key} note: notes/show, users/notes, children and replies`, async () => {
    const note = notes[key];
    for (const viewer of VIEWERS) {
      const expected = CAN_SEE[key].has(viewer);
      assert.equal(await visibleThroughShow(viewer, note), expected, `notes/show as ${viewer}`);
      const api = u[viewer].api;
      const userNotes = ids(await api.request('users/notes', { userId: u.author.id, withReplies: true, limit: 100 }));
      assert.equal(userNotes.includes(note.id), expected, `users/notes as ${viewer}`);
      const children = ids(await api.request('notes/children', { noteId: notes.parent.id, limit: 100 }));
      assert.equal(children.includes(note.id), expected, `notes/children as ${viewer}`);
      const replies = ids(await api.request('notes/replies', { noteId: notes.parent.id, limit: 100 }));
      assert.equal(replies.includes(note.id), expected, `notes/replies as ${viewer}`);
    }
  });

  test(`${key} note: timelines`, async () => {
    const note = notes[key];
    for (const viewer of VIEWERS) {
      const api = u[viewer].api;
      const inPublicTl = key === 'public';
      const ltl = ids(await api.request('notes/local-timeline', { withReplies: true, limit: 100 }));
      assert.equal(ltl.includes(note.id), inPublicTl, `local timeline as ${viewer}`);
      const gtl = ids(await api.request('notes/global-timeline', { limit: 100 }));
      assert.equal(gtl.includes(note.id), inPublicTl, `global timeline as ${viewer}`);
      if (viewer === 'anonymous') {
        assert.equal((await apiError(() => api.request('notes/timeline', {}))).code, 'CREDENTIAL_REQUIRED');
        continue;
      }
      // Home: the author and followers (specified: the author, and addressees who follow).
      const inHome = viewer === 'author' || (viewer === 'follower' && key !== 'specified');
      const home = ids(await api.request('notes/timeline', { limit: 100 }));
      assert.equal(home.includes(note.id), inHome, `home timeline as ${viewer}`);
      const social = ids(await api.request('notes/hybrid-timeline', { withReplies: true, limit: 100 }));
      assert.equal(social.includes(note.id), inHome || inPublicTl, `social timeline as ${viewer}`);
    }
  });

  test(`${key} note: embedded as the reply target of another note`, async () => {
    const reply = notes.replies[key];
    for (const viewer of VIEWERS) {
      let shown;
      try {
        shown = await u[viewer].api.request('notes/show', { noteId: reply.id });
      } catch (e) {
        assert.equal(e.code, 'NO_SUCH_NOTE');
        continue;
      }
      const embedded = shown.reply;
      if (CAN_SEE[key].has(viewer)) {
        assert.equal(embedded?.id, notes[key].id, `embedded reply as ${viewer}`);
      } else {
        assert.equal(embedded, null, `the hidden note is not embedded for ${viewer}`);
        assert.equal(JSON.stringify(shown).includes(notes[key].text), false, `no trace of the hidden text for ${viewer}`);
      }
    }
  });

  test(`${key} note: embedded as the reply target of a listed note`, async () => {
    // A listing reads the notes its page refers to in the same query, for every viewer;
    // only those the viewer may see are embedded.
    const reply = notes.replies[key];
    const replier = key === 'specified' ? u.author : u.follower;
    for (const viewer of VIEWERS) {
      const listed = await u[viewer].api.request('users/notes', { userId: replier.id, withReplies: true, limit: 100 });
      const shown = listed.find((n) => n.id === reply.id);
      if (!shown) {
        assert.ok(key === 'specified' && !CAN_SEE.specified.has(viewer), `the reply is listed for ${viewer}`);
        continue;
      }
      if (CAN_SEE[key].has(viewer)) {
        assert.equal(shown.reply?.id, notes[key].id, `embedded reply as ${viewer}`);
        assert.equal(shown.reply.text, notes[key].text, `the embedded note is whole for ${viewer}`);
      } else {
        assert.equal(shown.reply, null, `the hidden note is not embedded for ${viewer}`);
        assert.equal(JSON.stringify(listed).includes(notes[key].text), false, `no trace of the hidden text for ${viewer}`);
      }
    }
  });
}

test('mentions list only what the mentioned user may see', async () => {
  const mentioned = ids(await u.mentioned.api.request('notes/mentions', { limit: 100 }));
  assert.ok(mentioned.includes(notes.followersMention.id));
  const addressed = ids(await u.addressee.api.request('notes/mentions', { limit: 100 }));
  assert.ok(addressed.includes(notes.specified.id), 'addressees of specified notes count as mentioned');
  const direct = ids(await u.addressee.api.request('notes/mentions', { visibility: 'specified', limit: 100 }));
  assert.deepEqual(direct.filter((id) => id === notes.specified.id), [notes.specified.id]);
  assert.ok(!ids(await u.stranger.api.request('notes/mentions', { limit: 100 })).length);
});

test('renotes: visible to those who may see the renoted note', async () => {
  const { createdNote: own } = await u.author.api.request('notes/create', { renoteId: notes.followers.id });
  assert.equal(own.visibility, 'followers');
  for (const viewer of VIEWERS) {
    const expected = CAN_SEE.followers.has(viewer);
    const list = ids(await u[viewer].api.request('users/notes', { userId: u.author.id, limit: 100 }));
    assert.equal(list.includes(own.id), expected, `renote in users/notes as ${viewer}`);
    let renotes = [];
    try {
      renotes = ids(await u[viewer].api.request('notes/renotes', { noteId: notes.followers.id }));
    } catch (e) {
      assert.equal(e.code, 'NO_SUCH_NOTE');
    }
    assert.equal(renotes.includes(own.id), expected, `notes/renotes as ${viewer}`);
  }
  const denied = await apiError(() => u.follower.api.request('notes/create', { renoteId: notes.specified.id }));
  assert.equal(denied.code, 'NO_SUCH_RENOTE_TARGET', 'an invisible note cannot be renoted');
  const hiddenReply = await apiError(() => u.stranger.api.request('notes/create', { text: 'x', replyId: notes.followers.id }));
  assert.equal(hiddenReply.code, 'NO_SUCH_REPLY_TARGET', 'an invisible note cannot be replied to');
});
