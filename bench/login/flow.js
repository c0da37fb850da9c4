// The browser side of an interactive sign-in through Causeway's dev provider, and a minimal
// homeserver for its provisioning calls: shared by bench/login and bench/scale.
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { freePort } from '../lib.js';

export const CLIENT_URI = 'http://localhost:3000';
export const REDIRECT = `${CLIENT_URI}/cb`;

/** Just enough of /_synapse/mas/* for sign-ins: users are created (201), everything else succeeds. */
export async function startHomeserver() {
  const port = await freePort();
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const created = req.url.startsWith('/_synapse/mas/provision_user');
      res.writeHead(created ? 201 : 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', () => r(undefined)));
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) };
}

/** One browser without JavaScript: a cookie jar and manual redirects. */
class Jar {
  cookies = new Map();
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async fetch(url, init = {}) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: this.header() } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  }
}

const form = (fields) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
const hidden = (html, name) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

export async function oneLogin(base, clientId, n, username = `user${n}`) {
  const jar = new Jar();
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: `urn:matrix:client:api:* urn:matrix:client:device:BENCH${n}`,
    state: `s${n}`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const auth = await jar.fetch(`${base}/authorize?${q}`);
  const devForm = new URL(auth.headers.get('location'));
  await auth.arrayBuffer();
  const state = devForm.searchParams.get('state');
  let res = await jar.fetch(`${base}/upstream/dev/callback`, form({ state, username }));
  let requests = 3;
  // Follow Causeway's redirects (callback resume, login page) until the client or a page (consent).
  const follow = async () => {
    while (res.status >= 300 && res.status < 400 && !(res.headers.get('location') ?? '').startsWith(REDIRECT)) {
      const next = new URL(res.headers.get('location') ?? '', base).href;
      await res.arrayBuffer();
      res = await jar.fetch(next);
      requests++;
    }
  };
  await follow();
  if (res.status === 200) {
    // The consent page of a first sign-in: allow.
    const html = await res.text();
    res = await jar.fetch(`${res.url.split('?')[0]}/consent`, form({ _csrf: hidden(html, '_csrf'), decision: 'allow' }));
    requests++;
    await follow();
  } else {
    await res.arrayBuffer();
  }
  const location = res.headers.get('location') ?? '';
  if (!location.startsWith(REDIRECT) || !new URL(location).searchParams.get('code')) throw new Error(`login ${n} did not end at the client: ${res.status} ${location}`);
  return requests;
}

export async function register(target) {
  const reg = await fetch(`${target.url}/oauth2/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bench',
      client_uri: CLIENT_URI,
      redirect_uris: [REDIRECT],
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  return /** @type {{ client_id: string }} */ (await reg.json()).client_id;
}

/** Sign-ins for DURATION seconds by CONCURRENCY browsers; `username(i)` names the i-th person. */
