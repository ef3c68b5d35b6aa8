// A fake ActivityPub server inside the test process: a hostile or scripted remote that
// Tsudoi federates with. It serves actors (documents, WebFinger, keys), records what is
// posted to its inboxes (checking each draft-cavage signature with Misskey's own library),
// answers as a test scripts it, and sends signed activities and signed GETs of its own.
//
//   const remote = await startRemote();
//   const eve = remote.actor('eve');
//   await remote.send('eve', `${tsudoi.origin}/inbox`, { type: 'Follow', ... });
//   const rec = await remote.waitFor((r) => r.body?.type === 'Accept');
//   assert.equal(rec.verified, true);
//   await remote.close();
//
// `respondWith(fn)` scripts the inbox's answers: `fn(record, index)` returns `{ status,
// headers, body, delayMs }`; `maxInFlight()` tells how many it was answering at once.

import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import {
  genRFC3230DigestHeader,
  parseRequestSignature,
  signAsDraftToRequest,
  verifyDigestHeader,
  verifyDraftSignature,
} from '@misskey-dev/node-http-message-signatures';

export const ACTIVITY_JSON = 'application/activity+json';
const AS_CONTEXT = ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'];

// What a POST signature must cover (what Mastodon, Misskey and Tsudoi sign); a GET needs no digest.
const POST_COVERED = ['(request-target)', 'host', 'date', 'digest'];
const GET_COVERED = ['(request-target)', 'host', 'date'];

/** A fresh RSA key pair as PEM: SPKI public key, PKCS#8 private key. */
export function rsaKeyPair() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** Reads a request's whole body as a string. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, doc, contentType = ACTIVITY_JSON) {
  const text = JSON.stringify(doc);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A plain HTTP(S) request with full control over the headers (the `Host` among them), which
 * fetch does not give. Resolves with { status, headers, text }.
 */
function rawRequest(url, { method = 'GET', headers = {}, body = undefined, timeoutMs = 15000 } = {}) {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: res.headers,
        text: Buffer.concat(chunks).toString('utf8'),
      }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Fetches the public key PEM of a keyId: the document at the keyId without its fragment,
 * asked for as ActivityPub JSON, read at `publicKey.publicKeyPem` (an actor, or a bare key).
 */
async function fetchPublicKeyPem(keyId) {
  const url = new URL(keyId);
  url.hash = '';
  const res = await fetch(url, {
    headers: { accept: ACTIVITY_JSON },
    signal: AbortSignal.timeout(10000),
  });
  if (!res.ok) throw new Error(`key fetch ${url} answered ${res.status}`);
  const doc = await res.json();
  const pem = doc?.publicKey?.publicKeyPem ?? (doc?.id === keyId ? doc.publicKeyPem : undefined);
  if (typeof pem !== 'string') throw new Error(`no publicKey.publicKeyPem at ${url}`);
  return pem;
}

/**
 * Checks an incoming request's draft-cavage signature (and for a POST, its Digest against
 * the raw body). Returns { verified, keyId, error }: verified is null when the request
 * carries no signature at all, else whether every check passed.
 */
async function verifyIncoming(req, raw) {
  if (!req.headers.signature && !/^Signature /.test(req.headers.authorization ?? '')) {
    return { verified: null, keyId: null, error: 'no signature' };
  }
  const isPost = req.method === 'POST';
  let keyId = null;
  try {
    // Parses the Signature header and builds the signing string from the request as received;
    // throws when the Date is too far off or a required header is not covered.
    const parsed = parseRequestSignature(req, {
      requiredComponents: { draft: isPost ? POST_COVERED : GET_COVERED },
      clockSkew: { delay: 300_000, forward: 30_000 },
    });
    if (parsed.version !== 'draft') return { verified: false, keyId, error: `not draft-cavage: ${parsed.version}` };
    keyId = parsed.value.keyId;
    if (isPost) {
      const errors = [];
      const digestOk = await verifyDigestHeader(req, raw, true, (e) => errors.push(String(e)));
      if (!digestOk) return { verified: false, keyId, error: `digest: ${errors.join('; ') || 'mismatch'}` };
    }
    const publicKeyPem = await fetchPublicKeyPem(keyId);
    const errors = [];
    const ok = await verifyDraftSignature(parsed.value, publicKeyPem, (e) => errors.push(String(e)));
    return { verified: ok === true, keyId, error: ok ? null : `signature: ${errors.join('; ') || 'invalid'}` };
  } catch (e) {
    return { verified: false, keyId, error: String(e?.message ?? e) };
  }
}

/** One line per record, for timeout messages. */
function describe(records) {
  if (records.length === 0) return '  (nothing)';
  return records
    .map((r, i) => `  #${i} ${r.path} type=${r.body?.type ?? '?'} actor=${r.body?.actor ?? '?'} verified=${r.verified}${r.error ? ` (${r.error})` : ''}`)
    .join('\n');
}

/**
 * Starts a fake ActivityPub server on a free loopback port. `options.name` labels it in
 * error messages. See the file header for the returned object.
 */
export async function startRemote(options = {}) {
  const label = options.name ?? 'remote';
  const actors = new Map(); // name → actor record (keys included)
  const documentEdits = new Map(); // name → fn(doc, actor) → doc
  const overrides = new Map(); // GET path (with or without query) → handler(req, res)
  const received = []; // inbox POSTs, in arrival order
  const requests = []; // every request: { method, path, headers, at }
  let responder = null; // fn(record, index) → { status, headers?, body?, delayMs? }
  let inFlight = 0; // inbox POSTs being answered now
  let maxInFlight = 0;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e?.stack ?? e));
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const host = `127.0.0.1:${server.address().port}`;
  const origin = `http://${host}`;

  /** The actor document as served now: the built-in one, passed through any edit. */
  function actorDocument(actor) {
    const doc = {
      '@context': AS_CONTEXT,
      id: actor.id,
      type: 'Person',
      preferredUsername: actor.name,
      name: actor.name,
      inbox: actor.inbox,
      outbox: `${actor.id}/outbox`,
      followers: `${actor.id}/followers`,
      following: `${actor.id}/following`,
      url: actor.id,
      manuallyApprovesFollowers: false,
      endpoints: { sharedInbox: `${origin}/inbox` },
      publicKey: { id: actor.keyId, owner: actor.id, publicKeyPem: actor.publicKeyPem },
    };
    const edit = documentEdits.get(actor.name);
    return edit ? edit(doc, actor) : doc;
  }

  async function handle(req, res) {
    const url = new URL(req.url, origin);
    requests.push({ method: req.method, path: req.url, headers: req.headers, at: Date.now() });

    // Inboxes: record, verify (before answering), then answer as scripted.
    if (req.method === 'POST' && (url.pathname === '/inbox' || /^\/users\/[^/]+\/inbox$/.test(url.pathname))) {
      const raw = await readBody(req);
      let body = null;
      try { body = JSON.parse(raw); } catch { /* not JSON: left null */ }
      const { verified, keyId, error } = await verifyIncoming(req, raw);
      const record = { path: req.url, headers: req.headers, body, raw, verified, keyId, error, at: Date.now() };
      const index = received.push(record) - 1;
      const answer = (responder && responder(record, index)) || {};
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
        res.writeHead(answer.status ?? 202, answer.headers ?? {});
        res.end(answer.body ?? '');
      } finally {
        inFlight -= 1;
      }
      return;
    }

    // Test overrides win over everything built in.
    if (req.method === 'GET' || req.method === 'HEAD') {
      const override = overrides.get(req.url) ?? overrides.get(url.pathname);
      if (override) {
        await override(req, res);
        return;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }

    if (url.pathname === '/.well-known/webfinger') {
      const resource = url.searchParams.get('resource') ?? '';
      const m = /^acct:([^@]+)@(.+)$/.exec(resource);
      const actor = m && m[2] === host ? actors.get(m[1])
        : [...actors.values()].find((a) => a.id === resource);
      if (!actor) {
        res.writeHead(404).end();
        return;
      }
      sendJson(res, 200, {
        subject: `acct:${actor.name}@${host}`,
        aliases: [actor.id],
        links: [{ rel: 'self', type: ACTIVITY_JSON, href: actor.id }],
      }, 'application/jrd+json');
      return;
    }

    const m = /^\/users\/([^/]+)(?:\/(outbox|followers|following))?$/.exec(url.pathname);
    const actor = m && actors.get(decodeURIComponent(m[1]));
    if (actor && !m[2]) {
      sendJson(res, 200, actorDocument(actor));
      return;
    }
    if (actor) {
      // Empty collections, enough for a server that looks at them.
      sendJson(res, 200, { '@context': AS_CONTEXT, id: `${actor.id}/${m[2]}`, type: 'OrderedCollection', totalItems: 0, orderedItems: [] });
      return;
    }
    res.writeHead(404).end();
  }

  /** The actor record of `name`, made (with a new key pair) the first time. */
  function actor(name) {
    let a = actors.get(name);
    if (!a) {
      const id = `${origin}/users/${name}`;
      a = { name, id, inbox: `${id}/inbox`, keyId: `${id}#main-key`, ...rsaKeyPair() };
      actors.set(name, a);
    }
    return a;
  }

  function known(name) {
    const a = actors.get(name);
    if (!a) throw new Error(`${label}: no actor '${name}' (make it with actor('${name}') first)`);
    return a;
  }

  /**
   * Signs `request` ({ method, url: path+query, headers }) as `signer`'s key, naming `keyId`.
   * The library signs (request-target) from `url`, the other covered headers from `headers`.
   */
  async function sign(signer, request, covered, keyId) {
    await signAsDraftToRequest(request, { keyId, privateKeyPem: signer.privateKeyPem }, covered);
  }

  /**
   * POSTs `activity` to `inboxUrl` signed by actor `actorName`. Tampering options:
   * date (Date to sign and send), body (string sent instead of the signed one), host (Host
   * value signed, while the real Host is sent), keyId, unsigned, digest (Digest value signed
   * and sent), headers (extra headers sent, not signed). Returns { status, text, headers }.
   */
  async function send(actorName, inboxUrl, activity, opts = {}) {
    const signer = known(actorName);
    const u = new URL(inboxUrl);
    const signedBody = typeof activity === 'string' ? activity : JSON.stringify(activity);
    const request = {
      method: 'POST',
      url: u.pathname + u.search,
      headers: {
        Host: opts.host ?? u.host,
        Date: (opts.date ?? new Date()).toUTCString(),
        Digest: opts.digest ?? await genRFC3230DigestHeader(signedBody, 'SHA-256'),
        'Content-Type': ACTIVITY_JSON,
      },
    };
    if (!opts.unsigned) await sign(signer, request, POST_COVERED, opts.keyId ?? signer.keyId);
    const body = opts.body ?? signedBody;
    const res = await rawRequest(u, {
      method: 'POST',
      headers: {
        ...request.headers,
        Host: u.host, // the Host the target really sees, whatever was signed
        'Content-Length': Buffer.byteLength(body),
        ...opts.headers,
      },
      body,
    });
    return { status: res.status, text: res.text, headers: res.headers };
  }

  /**
   * A GET of `url` signed by actor `actorName` (signed fetch), asking for ActivityPub JSON.
   * Options: accept, date, keyId, unsigned, headers. Returns { status, headers, json, text }.
   */
  async function get(actorName, url, opts = {}) {
    const signer = known(actorName);
    const u = new URL(url);
    const request = {
      method: 'GET',
      url: u.pathname + u.search,
      headers: {
        Host: u.host,
        Date: (opts.date ?? new Date()).toUTCString(),
        Accept: opts.accept ?? ACTIVITY_JSON,
      },
    };
    if (!opts.unsigned) await sign(signer, request, GET_COVERED, opts.keyId ?? signer.keyId);
    const res = await rawRequest(u, { method: 'GET', headers: { ...request.headers, ...opts.headers } });
    let json = null;
    try { json = JSON.parse(res.text); } catch { /* not JSON: left null */ }
    return { status: res.status, headers: res.headers, json, text: res.text };
  }

  /** Resolves with the first received record matching `predicate`, polling until `ms`. */
  async function waitFor(predicate, ms = 10000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = received.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`${label} (${origin}): nothing matching ${predicate} arrived within ${ms} ms; received:\n${describe(received)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return {
    origin,
    host,
    /** Inbox POSTs: { path, headers, body, raw, verified, keyId, error, at }. Live array. */
    received,
    /** Every request the remote got: { method, path, headers, at }. Live array. */
    requests,
    actor,
    send,
    get,
    waitFor,
    /** The most inbox POSTs answered at once since the last `resetInFlight()`. */
    maxInFlight() {
      return maxInFlight;
    },
    resetInFlight() {
      maxInFlight = inFlight;
    },
    /** Serves `handler(req, res)` for GET `path` (exact path+query, or the path alone). */
    serve(path, handler) {
      overrides.set(path, handler);
    },
    /** Serves `doc` as JSON at GET `path` (status 200, activity+json unless told). */
    serveJson(path, doc, { status = 200, contentType = ACTIVITY_JSON } = {}) {
      overrides.set(path, (req, res) => sendJson(res, status, doc, contentType));
    },
    /** Drops an override. */
    unserve(path) {
      overrides.delete(path);
    },
    /** Alters actor `name`'s document: `fn(doc, actor)` returns what is served (null: built-in). */
    setActorDocument(name, fn) {
      known(name);
      if (fn) documentEdits.set(name, fn);
      else documentEdits.delete(name);
    },
    /** The actor's document as served now (built-in plus edits). */
    actorDocument(name) {
      return actorDocument(known(name));
    },
    /** Gives actor `name` a new key pair (same keyId); its document serves the new public key. */
    rotateKey(name) {
      const a = known(name);
      Object.assign(a, rsaKeyPair());
      return a;
    },
    /** Scripts inbox answers: `fn(record, index)` → { status, headers?, body? }; null: 202. */
    respondWith(fn) {
      responder = fn;
    },
    /** Forgets what was received and requested. */
    reset() {
      received.length = 0;
      requests.length = 0;
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
