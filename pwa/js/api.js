// Fetch wrapper for /api/v1: tokens, one refresh-and-retry on 401, problem+json errors in plain words.

import { t, getLang, has } from './i18n.js';

const BASE = '/api/v1';
const ACCESS_KEY = 'fw.access'; // sessionStorage
const REFRESH_KEY = 'fw.refresh'; // localStorage
const USER_KEY = 'fw.user'; // localStorage
const TIMEOUT_MS = 20000;

function read(store, key) {
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
}
function write(store, key, value) {
  try {
    if (value == null) store.removeItem(key);
    else store.setItem(key, value);
  } catch {
    /* storage full or blocked: the in-memory copy still works for this page */
  }
}

let accessToken = read(sessionStorage, ACCESS_KEY);
let refreshInFlight = null;
let onAuthLost = () => {};
let onReachability = () => {};

/** Called when the session cannot be renewed (refresh refused). */
export function setAuthLostHandler(fn) {
  onAuthLost = fn;
}
/** Called with true/false whenever a request reached / failed to reach the server. */
export function setReachabilityHandler(fn) {
  onReachability = fn;
}

export class ApiError extends Error {
  constructor({ status = 0, code = '', title = '', detail = '', type = '', extra = {} } = {}) {
    super(code || title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.type = type;
    // Rule-specific members of the problem document, e.g. officer_id / officer_name.
    this.extra = extra && typeof extra === 'object' ? extra : {};
  }
}

const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'instance']);

const CJK = /[\u3400-\u9fff]/;
const LATIN_WORD = /[A-Za-z]{3,}/;

/**
 * The person a refusal is about, as a name to show: the server's officer_name, else a name the page
 * knows for officer_id (`people`: Map or object id → name), else ''.
 */
function officerName(err, people) {
  const x = err.extra || {};
  if (typeof x.officer_name === 'string' && x.officer_name) return x.officer_name;
  if (x.officer_id && people) {
    const name = people instanceof Map ? people.get(x.officer_id) : people[x.officer_id];
    if (name) return name;
  }
  return '';
}

/**
 * Messages naming an officer: certificate refusals (`certificate.invalid` with officer_id) and
 * `action.officer_not_in_unit`. `ctx.me` is the signed-in user's id, `ctx.states` maps officer id to
 * the certificate state the page saw (expired / suspended / revoked).
 */
function officerMessage(err, ctx) {
  const x = err.extra || {};
  const id = x.officer_id ? String(x.officer_id) : '';
  if (!id && !x.officer_name) return '';
  const name = officerName(err, ctx.people);
  const self = Boolean(id && ctx.me && id === String(ctx.me));
  if (err.code === 'certificate.invalid') {
    const given = x.certificate_status || (ctx.states && id ? (ctx.states instanceof Map ? ctx.states.get(id) : ctx.states[id]) : '');
    const state = ['expired', 'suspended', 'revoked', 'lost', 'missing'].includes(given) ? given : 'invalid';
    const what = t(`err.certificate.state.${state}`);
    if (self) return t('err.certificate.invalid.self', { what });
    if (name) return t('err.certificate.invalid.partner', { name, what });
    return t('err.certificate.invalid.someone', { what });
  }
  if (err.code === 'action.officer_not_in_unit') {
    if (self) return t('err.action.officer_not_in_unit.self');
    if (name) return t('err.action.officer_not_in_unit.partner', { name });
  }
  return '';
}

/**
 * A message for a person: never an HTTP status, never English to a Chinese user.
 * `ctx` (optional) lets refusals about a named officer use the names the page already shows.
 */
export function errorMessage(err, ctx = {}) {
  if (!(err instanceof ApiError)) return t('err.unknown');
  const code = err.code || '';
  if (code === 'network.offline') return t('err.network');
  if (code === 'network.timeout') return t('err.timeout');
  const named = officerMessage(err, ctx || {});
  if (named) return named;
  if (code && has(`err.${code}`)) return t(`err.${code}`);
  // Families of codes not listed one by one
  if (/^auth\.(token|refresh|session)/.test(code)) return t('err.auth.expired');
  if (/^validation\./.test(code)) return t('err.validation.failed');
  // An unmapped code with a server-written Chinese explanation: show it to Chinese readers.
  if (getLang() !== 'en' && err.detail && CJK.test(err.detail) && !LATIN_WORD.test(err.detail)) return err.detail;
  const s = err.status;
  if (s === 401) return t('err.auth.expired');
  if (s === 403) return t('err.auth.forbidden');
  if (s === 404) return t('err.not_found');
  if (s === 409 || s === 412) return t('err.conflict');
  if (s === 400 || s === 422) return t('err.validation.failed');
  if (s === 429) return t('err.rate_limited');
  if (s >= 500) return t('err.server');
  return t('err.unknown');
}

// ---- session storage ----------------------------------------------------------------------

export function getRefreshToken() {
  return read(localStorage, REFRESH_KEY);
}

function setTokens(pair) {
  accessToken = pair.access_token || null;
  write(sessionStorage, ACCESS_KEY, accessToken);
  // The old refresh token stops working as soon as the server rotates it: store the new one first.
  if (pair.refresh_token) write(localStorage, REFRESH_KEY, pair.refresh_token);
}

export function getCachedUser() {
  const raw = read(localStorage, USER_KEY);
  if (!raw) return null;
  try {
    const u = JSON.parse(raw);
    return u && typeof u === 'object' && u.username ? u : null;
  } catch {
    return null;
  }
}

export function cacheUser(user) {
  write(localStorage, USER_KEY, user ? JSON.stringify(user) : null);
}

/** A session exists when a user is cached and we still hold a token to act with. */
export function hasSession() {
  return Boolean(getCachedUser() && (accessToken || getRefreshToken()));
}

export function clearSession() {
  accessToken = null;
  write(sessionStorage, ACCESS_KEY, null);
  write(localStorage, REFRESH_KEY, null);
  write(localStorage, USER_KEY, null);
}

/** Another tab rotated or cleared the tokens. */
window.addEventListener('storage', (e) => {
  if (e.key === REFRESH_KEY && !e.newValue) {
    accessToken = null;
    write(sessionStorage, ACCESS_KEY, null);
    onAuthLost('elsewhere');
  }
});

// ---- transport ----------------------------------------------------------------------------

/**
 * One request. `raw` sends a Blob as it is (with `headers`, e.g. its Content-Type) instead of JSON;
 * `timeout` is in ms.
 */
async function send(method, path, body, token, { raw = null, headers: extraHeaders = {}, timeout = TIMEOUT_MS } = {}) {
  const headers = { Accept: 'application/json, application/problem+json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeout);
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      body: raw || (body === undefined ? undefined : JSON.stringify(body)),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: ctrl.signal,
    });
  } catch (e) {
    onReachability(false);
    throw new ApiError({ code: e && e.name === 'AbortError' ? 'network.timeout' : 'network.offline' });
  } finally {
    clearTimeout(timer);
  }
  onReachability(true);
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204 && /json/.test(type)) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {};
    const extra = {};
    for (const [k, v] of Object.entries(p)) if (!PROBLEM_MEMBERS.has(k)) extra[k] = v;
    throw new ApiError({
      status: res.status,
      code: typeof p.code === 'string' ? p.code : '',
      title: typeof p.title === 'string' ? p.title : '',
      detail: typeof p.detail === 'string' ? p.detail : '',
      type: typeof p.type === 'string' ? p.type : '',
      extra,
    });
  }
  return data;
}

async function rotate() {
  // Read inside the lock: another tab may have rotated the token while we waited.
  const rt = getRefreshToken();
  if (!rt) throw new ApiError({ status: 401, code: 'auth.expired' });
  const pair = await send('POST', '/auth/refresh', { refresh_token: rt }, null);
  setTokens(pair);
  return pair;
}

/**
 * Exchange the refresh token for a new pair. Callers in this tab share one request, and tabs take
 * turns (Web Locks), so a refresh token is never presented twice.
 */
function refreshTokens() {
  if (!refreshInFlight) {
    const locks = navigator.locks;
    refreshInFlight = (locks ? locks.request('fw.refresh', rotate) : rotate()).finally(() => {
      refreshInFlight = null;
    });
  }
  return refreshInFlight;
}

async function renewOrLose() {
  try {
    await refreshTokens();
  } catch (e) {
    // Only a refusal ends the session; offline, rate limits or server trouble keep it for later.
    if (e.status !== 401 && e.status !== 403) throw e;
    clearSession();
    onAuthLost('expired');
    throw new ApiError({ status: 401, code: 'auth.expired' });
  }
}

/** A share link's recipient (no account): `session` from POST /shared/open, sent as its own scheme. */
export function shareRequest(method, path, session, { body } = {}) {
  return send(method, path, body, null, { headers: session ? { Authorization: `Share ${session}` } : {} });
}

/** Bytes for a share link's recipient (a stamped picture, an original) as a Blob; rejects with ApiError. */
export async function shareBlob(path, session, { timeout = 120000 } = {}) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeout);
  let res;
  try {
    res = await fetch(BASE + path, { headers: { Authorization: `Share ${session}` }, cache: 'no-store', signal: ctrl.signal });
    if (res.ok) return await res.blob();
  } catch (e) {
    throw new ApiError({ code: e && e.name === 'AbortError' ? 'network.timeout' : 'network.offline' });
  } finally {
    clearTimeout(timer);
  }
  let p = {};
  try {
    p = await res.json();
  } catch {
    p = {};
  }
  throw new ApiError({ status: res.status, code: typeof p.code === 'string' ? p.code : '', detail: typeof p.detail === 'string' ? p.detail : '' });
}

/**
 * Call the API. `auth` (default true) sends the bearer token; on 401 the tokens are refreshed once
 * and the request retried once. Rejects with ApiError.
 */
export async function request(method, path, { body, auth = true } = {}) {
  if (!auth) return send(method, path, body, null);
  if (!accessToken && getRefreshToken()) await renewOrLose();
  try {
    return await send(method, path, body, accessToken);
  } catch (e) {
    if (e.status !== 401) throw e;
  }
  await renewOrLose();
  try {
    return await send(method, path, body, accessToken);
  } catch (e) {
    if (e.status === 401) {
      clearSession();
      onAuthLost('expired');
    }
    throw e;
  }
}

/**
 * Send a Blob as the raw body (evidence). `headers` travel with it; renews the token once on 401.
 * Rejects like `request`.
 */
export async function uploadBlob(path, blob, headers = {}, { timeout = 120000, method = 'POST' } = {}) {
  const opts = { raw: blob, headers, timeout };
  if (!accessToken && getRefreshToken()) await renewOrLose();
  try {
    return await send(method, path, undefined, accessToken, opts);
  } catch (e) {
    if (e.status !== 401) throw e;
  }
  await renewOrLose();
  return send(method, path, undefined, accessToken, opts);
}

async function sendForBlob(path, token, { signal = null, onProgress = null, timeout = TIMEOUT_MS } = {}) {
  const ctrl = new AbortController();
  let timer = null;
  // With onProgress the timeout is for silence: every chunk that arrives restarts it.
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(), timeout);
  };
  const cancel = () => ctrl.abort();
  if (signal) {
    if (signal.aborted) ctrl.abort();
    else signal.addEventListener('abort', cancel, { once: true });
  }
  arm();
  let res;
  try {
    res = await fetch(BASE + path, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      credentials: 'same-origin',
      signal: ctrl.signal,
    });
    if (!res.ok) throw new ApiError({ status: res.status });
    if (!onProgress || !res.body) return await res.blob();
    const total = Number(res.headers.get('Content-Length')) || 0;
    const reader = res.body.getReader();
    const parts = [];
    let loaded = 0;
    onProgress(0, total);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      loaded += value.byteLength;
      arm();
      onProgress(loaded, total);
    }
    return new Blob(parts, { type: res.headers.get('Content-Type') || '' });
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (signal && signal.aborted) throw new ApiError({ code: 'request.aborted' });
    throw new ApiError({ code: e && e.name === 'AbortError' ? 'network.timeout' : 'network.offline' });
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', cancel);
  }
}

/**
 * Bytes behind the bearer token (an evidence thumbnail: an <img> cannot send the token), as a Blob.
 * `path` is an API path, with or without the /api/v1 prefix. Renews the token once on 401.
 * `options`: `signal` cancels it, `onProgress(loaded, total)` follows a big download (the timeout then
 * counts from the last chunk), `timeout` in ms.
 */
export async function requestBlob(path, options = {}) {
  const rel = path.startsWith(`${BASE}/`) ? path.slice(BASE.length) : path;
  if (!accessToken && getRefreshToken()) await renewOrLose();
  try {
    return await sendForBlob(rel, accessToken, options);
  } catch (e) {
    if (e.status !== 401) throw e;
  }
  await renewOrLose();
  return sendForBlob(rel, accessToken, options);
}

/**
 * The access token for the live stream. `rejected` is a token the stream refused: unless another
 * request has renewed it meanwhile, the refresh token is exchanged first. Rejects like `request`:
 * status 401 when the session is over, a network error otherwise.
 */
export async function liveToken({ rejected = null } = {}) {
  if ((rejected && accessToken === rejected) || (!accessToken && getRefreshToken())) await renewOrLose();
  if (!accessToken) throw new ApiError({ status: 401, code: 'auth.expired' });
  return accessToken;
}

// ---- endpoints ----------------------------------------------------------------------------

/**
 * Capabilities that are not roles (签发权; answering a unit's supervision documents) travel with the
 * cached user, so the router knows them offline. When they cannot be fetched the last known stay.
 */
async function withCapabilities(user) {
  const before = getCachedUser();
  const kept = before && before.id === user.id ? { signing: before.signing, responder_units: before.responder_units } : {};
  try {
    const c = await send('GET', '/me/capabilities', undefined, accessToken);
    if (c && typeof c === 'object') {
      return { ...user, signing: c.signing === true, responder_units: Array.isArray(c.responder_units) ? c.responder_units : [] };
    }
  } catch {
    /* offline, or a server without them: keep what was known */
  }
  return { ...user, ...kept };
}

export async function login(username, password) {
  const res = await send('POST', '/auth/login', { username, password }, null);
  setTokens(res);
  const user = await withCapabilities(res.user);
  cacheUser(user);
  return user;
}

/** Keep a session the server opened without a password prompt (an accepted invitation), like login. */
export function startSession(session) {
  setTokens(session);
  cacheUser(session.user);
  return session.user;
}

export async function fetchMe() {
  const me = await request('GET', '/me');
  if (!(me && me.username)) return me;
  const user = await withCapabilities(me);
  cacheUser(user);
  return user;
}

/** Revoke the refresh token on the server (best effort), then forget everything locally. */
export async function logout() {
  try {
    if (getRefreshToken() || accessToken) {
      try {
        await send('POST', '/auth/logout', { refresh_token: getRefreshToken() }, accessToken);
      } catch (e) {
        if (e.status !== 401 || !getRefreshToken()) throw e;
        // Access token expired: renew once so the refresh token can be revoked properly.
        await refreshTokens();
        await send('POST', '/auth/logout', { refresh_token: getRefreshToken() }, accessToken);
      }
    }
  } catch {
    /* offline or already revoked: the local session is cleared regardless */
  } finally {
    clearSession();
  }
}
