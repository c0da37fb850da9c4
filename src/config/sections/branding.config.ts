import { z } from 'zod';

const webUri = z.url({ protocol: /^https?$/ });

/** What the pages show of the organisation running Causeway: its name, logo, colour and legal links. */
export const brandingSection = z
  .object({
    /** The name in page titles, the header and messages ("Sign in to {service_name}"). */
    service_name: z.string().trim().min(1).max(64).default('Causeway'),
    /** Logo shown above every page: an SVG, PNG, JPEG, WebP or GIF file, at most 512 KiB (read at start-up). */
    logo_file: z.string().min(1).optional(),
    /** Browser tab icon: an ICO, SVG or PNG file, at most 128 KiB (read at start-up). */
    favicon_file: z.string().min(1).optional(),
    /**
     * The brand colour of buttons and links, as `#rrggbb`. Pages keep WCAG AA contrast: a colour too
     * light (or, in dark mode, too dark) for text is darkened (lightened) until it reaches 4.5:1.
     */
    primary_color: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'expected a colour as #rrggbb, e.g. #0d6e5c')
      .default('#0d6e5c'),
    /** Terms of service. When set, sign-up asks people to accept them, and asks again whenever `tos_version` changes. */
    tos_uri: webUri.optional(),
    /** The version of the terms people accept (recorded with each account). Default: `tos_uri` itself. */
    tos_version: z.string().trim().min(1).max(64).optional(),
    /** Privacy policy, linked in every page's footer. */
    policy_uri: webUri.optional(),
    /** A line of legal information for every page's footer (e.g. the operator's name and address). */
    imprint: z.string().trim().min(1).max(500).optional(),
    /** The language of the pages when neither `?lang=`, the language picker nor the browser names an available one. */
    default_language: z.string().min(2).max(35).default('en'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.tos_version && !b.tos_uri) ctx.addIssue({ code: 'custom', path: ['tos_version'], message: 'needs tos_uri (the terms people accept)' });
  });
export type BrandingConfig = z.infer<typeof brandingSection>;
