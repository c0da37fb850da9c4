/**
 * Avatar images, the pure part: which bytes are an image we accept (by their first bytes, never by
 * what the sender claims), and base64 photos as IdPs send them (LDAP `jpegPhoto`, AD
 * `thumbnailPhoto` through SAML or CAS attributes).
 */

export type AvatarType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** Why an avatar was not set: the `reason` of the log line and of `causeway_avatar_imports_total`. */
export type AvatarSkip = 'too_large' | 'not_an_image' | 'insecure_url' | 'private_address' | 'bad_url' | 'fetch_failed' | 'timeout' | 'http_status' | 'too_many_redirects' | 'no_media_repository' | 'homeserver_refused';

export class AvatarSkipped extends Error {
  constructor(
    readonly reason: AvatarSkip,
    detail: string,
  ) {
    super(detail);
    this.name = 'AvatarSkipped';
  }
}

export interface AvatarImage {
  bytes: Buffer;
  contentType: AvatarType;
}

const EXTENSIONS: Record<AvatarType, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };
export const avatarFilename = (t: AvatarType) => `avatar.${EXTENSIONS[t]}`;

/** The image type from the magic bytes: PNG, JPEG, GIF87a/89a, WebP (RIFF…WEBP); anything else undefined. */
export function sniffImage(b: Buffer): AvatarType | undefined {
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && (b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a')) return 'image/gif';
  if (b.length >= 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}

/** Checks bytes as an avatar: within `maxBytes`, and one of the four image types. Throws AvatarSkipped. */
export function checkImage(bytes: Buffer, maxBytes: number): AvatarImage {
  if (bytes.length > maxBytes) throw new AvatarSkipped('too_large', `${bytes.length} bytes, over the ${maxBytes}-byte limit`);
  const contentType = sniffImage(bytes);
  if (!contentType) throw new AvatarSkipped('not_an_image', 'not a PNG, JPEG, GIF or WebP image (by its first bytes)');
  return { bytes, contentType };
}

/** Whether a template's value is a URL to fetch (else it is read as base64 image data). */
export const isAvatarUrl = (v: string) => /^https?:\/\//i.test(v);

/** A base64 photo (standard or URL-safe alphabet, line breaks and a `data:` prefix allowed). Throws AvatarSkipped. */
export function decodeBase64Image(value: string, maxBytes: number): AvatarImage {
  const data = value.replace(/^data:[^,]*;base64,/i, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(data) || data.length === 0) throw new AvatarSkipped('not_an_image', 'neither an http(s) URL nor base64 data');
  if (Math.floor((data.length * 3) / 4) > maxBytes + 2) throw new AvatarSkipped('too_large', `about ${Math.floor((data.length * 3) / 4)} bytes, over the ${maxBytes}-byte limit`);
  return checkImage(Buffer.from(data, data.includes('-') || data.includes('_') ? 'base64url' : 'base64'), maxBytes);
}
