import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startScriptedOp, type ScriptedOp } from './scripted-op.js';

/**
 * The stand-in's media upload must match Synapse's (docs/contracts/synapse.md §3.4, §7 item 17):
 * the uploader authenticated like any client request (a requester without a device is fine),
 * `{"content_uri": "mxc://<server>/<id>"}`, the file kept with its type and uploader.
 */

const SECRET = 'standin-secret-0123456789';
const API = 'urn:matrix:client:api:*';
let op: ScriptedOp;
let hs: HomeserverStandin;

beforeAll(async () => {
  op = await startScriptedOp();
  hs = await startHomeserverStandin({ endpoint: `${op.url}/`, secret: SECRET });
  hs.addUser('alice');
  op.defaultAnswer = { body: { active: false } };
});
afterAll(async () => {
  await hs?.stop();
  await op?.stop();
});

const upload = (token: string | undefined, bytes: Buffer, type = 'image/png', path = '/_matrix/media/v3/upload?filename=a.png') =>
  fetch(`${hs.url}${path}`, { method: 'POST', headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: bytes });

describe('homeserver stand-in: media upload', () => {
  it('stores the file as the requester (no device needed) and answers its mxc URI', async () => {
    op.answer('tok-nodevice', { active: true, scope: API, username: 'alice' });
    const res = await upload('tok-nodevice', Buffer.from('png-bytes'));
    expect(res.status).toBe(200);
    const { content_uri } = (await res.json()) as { content_uri: string };
    expect(content_uri).toMatch(/^mxc:\/\/example\.test\/\w{24}$/);
    expect(hs.media(content_uri)).toMatchObject({ contentType: 'image/png', filename: 'a.png', uploader: '@alice:example.test' });
    expect(hs.media(content_uri)!.bytes.toString()).toBe('png-bytes');
  });

  it('refuses without a token, with an inactive one, and serves r0 too', async () => {
    expect((await upload(undefined, Buffer.from('x'))).status).toBe(401);
    expect(await (await upload('tok-inactive', Buffer.from('x'))).json()).toMatchObject({ errcode: 'M_UNKNOWN_TOKEN' });
    op.answer('tok-r0', { active: true, scope: API, username: 'alice' });
    expect((await upload('tok-r0', Buffer.from('x'), 'image/gif', '/_matrix/media/r0/upload')).status).toBe(200);
  });
});
