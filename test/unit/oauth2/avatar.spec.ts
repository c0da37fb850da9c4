import { describe, expect, it } from '@jest/globals';
import { fetchAvatar, isNonPublicAddress } from '../../../src/oauth2/avatar/avatar-fetch.js';
import { AvatarSkipped, checkImage, decodeBase64Image, sniffImage } from '../../../src/oauth2/avatar/avatar-image.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a464946', 'hex');
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1');
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x1a, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);

async function skipped(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof AvatarSkipped) return e.reason;
    throw e;
  }
  return 'accepted';
}

describe('avatar images', () => {
  it('are recognised by their first bytes only: PNG, JPEG, GIF, WebP', () => {
    expect([PNG, JPEG, GIF, WEBP].map(sniffImage)).toEqual(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
    for (const other of [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), Buffer.from('%PDF-1.7'), Buffer.from('BM'), Buffer.alloc(0), Buffer.from('RIFF\0\0\0\0WAVE')]) {
      expect(sniffImage(other)).toBeUndefined();
    }
  });

  it('over the size limit or not an image: skipped with the reason', async () => {
    expect(checkImage(PNG, 100).contentType).toBe('image/png');
    expect(await skipped(() => checkImage(PNG, 10))).toBe('too_large');
    expect(await skipped(() => checkImage(Buffer.from('<html>'), 100))).toBe('not_an_image');
  });

  it('base64 photos: standard or URL-safe, folded lines, a data: prefix; junk refused', async () => {
    const b64 = JPEG.toString('base64');
    expect(decodeBase64Image(b64, 100).bytes.equals(JPEG)).toBe(true);
    expect(decodeBase64Image(`${b64.slice(0, 4)}\n ${b64.slice(4)}`, 100).contentType).toBe('image/jpeg');
    expect(decodeBase64Image(`data:image/jpeg;base64,${b64}`, 100).contentType).toBe('image/jpeg');
    expect(decodeBase64Image(PNG.toString('base64url'), 100).contentType).toBe('image/png');
    expect(await skipped(() => decodeBase64Image('not base64!', 100))).toBe('not_an_image');
    expect(await skipped(() => decodeBase64Image(Buffer.alloc(300).toString('base64'), 100))).toBe('too_large');
  });
});

describe('avatar URLs outside dev_mode', () => {
  const opts = { maxBytes: 1024, timeoutMs: 2000, devMode: false };
  it('plain http is refused', async () => {
    expect(await skipped(fetchAvatar('http://example.com/a.png', opts))).toBe('insecure_url');
    expect(await skipped(fetchAvatar('ftp://example.com/a.png', opts))).toBe('insecure_url');
    expect(await skipped(fetchAvatar('https://user:pw@example.com/a.png', opts))).toBe('bad_url');
  });
  it('loopback, private and link-local addresses are refused, by literal or by name', async () => {
    for (const u of ['https://127.0.0.1/a.png', 'https://10.1.2.3/a.png', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/a.png', 'https://[::ffff:192.168.0.1]/a.png', 'https://localhost/a.png']) {
      expect([u, await skipped(fetchAvatar(u, opts))]).toEqual([u, 'private_address']);
    }
  });
  it('classifies addresses', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', 'not-an-ip'])
      expect([a, isNonPublicAddress(a)]).toEqual([a, true]);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) expect([a, isNonPublicAddress(a)]).toEqual([a, false]);
  });
});
