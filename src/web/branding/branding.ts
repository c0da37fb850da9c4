import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { GatewayConfig } from '../../config/config.schema.js';
import { palette, type Palette } from './palette.js';

/** A file served as-is (logo, favicon), read once at start-up. */
export interface BrandAsset {
  body: Buffer;
  contentType: string;
  /** Short content hash: part of the URL, so browsers may cache it for a long time. */
  version: string;
}

export interface Branding {
  serviceName: string;
  logo?: BrandAsset;
  favicon?: BrandAsset;
  palette: Palette;
  /** The brand colour as configured (the palette may have darkened or lightened it for contrast). */
  primaryColor: string;
  tosUri?: string;
  /** What an account records when it accepts the terms. */
  tosVersion?: string;
  policyUri?: string;
  imprint?: string;
}

const IMAGE_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
};

const LOGO_TYPES = ['.svg', '.png', '.jpg', '.jpeg', '.webp', '.gif'];
const FAVICON_TYPES = ['.ico', '.svg', '.png'];

/** A branding file that cannot be used, named by its config key. */
export class BrandingError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'BrandingError';
  }
}

function readAsset(key: string, file: string, allowed: string[], maxBytes: number): BrandAsset {
  const ext = extname(file).toLowerCase();
  if (!allowed.includes(ext)) throw new BrandingError(key, `expected a ${allowed.join(', ')} file, got "${ext || 'no extension'}"`);
  let body: Buffer;
  try {
    if (statSync(file).size > maxBytes) throw new BrandingError(key, `${file} is larger than ${maxBytes / 1024} KiB`);
    body = readFileSync(file);
  } catch (e) {
    if (e instanceof BrandingError) throw e;
    throw new BrandingError(key, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { body, contentType: IMAGE_TYPES[ext]!, version: createHash('sha256').update(body).digest('base64url').slice(0, 12) };
}

/** The branding section made usable: files read, colours computed. Throws BrandingError naming the key. */
export function loadBranding(config: GatewayConfig): Branding {
  const b = config.branding;
  return {
    serviceName: b.service_name,
    ...(b.logo_file ? { logo: readAsset('branding.logo_file', b.logo_file, LOGO_TYPES, 512 * 1024) } : {}),
    ...(b.favicon_file ? { favicon: readAsset('branding.favicon_file', b.favicon_file, FAVICON_TYPES, 128 * 1024) } : {}),
    palette: palette(b.primary_color),
    primaryColor: b.primary_color,
    ...(b.tos_uri ? { tosUri: b.tos_uri, tosVersion: b.tos_version ?? b.tos_uri } : {}),
    ...(b.policy_uri ? { policyUri: b.policy_uri } : {}),
    ...(b.imprint ? { imprint: b.imprint } : {}),
  };
}
