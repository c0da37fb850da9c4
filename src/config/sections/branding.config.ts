import { createHash } from 'node:crypto';
import { z } from 'zod';

const webUri = z.url({ protocol: /^https?$/ });

/** What the pages show of the organisation running Causeway: its name, logo, colour and legal links. */
export const brandingSection = z
  .object({
    service_name: z.string().trim().min(1).max(64).default('Causeway').describe('The name in page titles, the header and messages ("Sign in to {service_name}").'),
    logo_file: z.string().min(1).optional().describe('Logo shown above every page: an SVG, PNG, JPEG, WebP or GIF file, at most 512 KiB (read at start-up).'),
    favicon_file: z.string().min(1).optional().describe('Browser tab icon: an ICO, SVG or PNG file, at most 128 KiB (read at start-up).'),
    primary_color: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'expected a colour as #rrggbb, e.g. #0d6e5c')
      .default('#0d6e5c')
      .describe('The brand colour of buttons and links, as `#rrggbb`. Pages keep WCAG AA contrast: a colour too light (or, in dark mode, too dark) for text is darkened (lightened) until it reaches 4.5:1.'),
    tos_uri: webUri.optional().describe('Terms of service. When set, sign-up asks people to accept them, and asks again whenever `tos_version` changes.'),
    tos_version: z.string().trim().min(1).max(64).optional().describe('The version of the terms people accept (recorded with each account). Default: `tos_uri` itself (hashed when longer than 64 characters).'),
    policy_uri: webUri.optional().describe("Privacy policy, linked in every page's footer."),
    imprint: z.string().trim().min(1).max(500).optional().describe("A line of legal information for every page's footer (e.g. the operator's name and address)."),
    default_language: z.string().min(2).max(35).default('en').describe('The language of the pages when neither `?lang=`, the language picker nor the browser names an available one.'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.tos_version && !b.tos_uri) ctx.addIssue({ code: 'custom', path: ['tos_version'], message: 'needs tos_uri (the terms people accept)' });
  })
  .describe('What the pages show of the organisation running Causeway: its name, logo, colour and legal links.');
export type BrandingConfig = z.infer<typeof brandingSection>;

/**
 * The version accounts record when they accept the terms: `tos_version`, else the terms' address
 * itself (hashed when longer than the 64 characters the column holds), so that pointing `tos_uri`
 * at new terms asks again too.
 */
export function termsVersion(b: BrandingConfig): string | undefined {
  if (!b.tos_uri) return undefined;
  if (b.tos_version) return b.tos_version;
  return b.tos_uri.length <= 64 ? b.tos_uri : `sha256:${createHash('sha256').update(b.tos_uri).digest('hex').slice(0, 57)}`;
}
