import { z } from 'zod';

/**
 * The `user` field Apple adds to the form_post callback of a person's first authorization of the
 * app, and never again: `{"name": {"firstName", "lastName"}, "email"}` (Apple, "Incorporating Sign
 * in with Apple into other platforms"). It is not signed: the ID token stays the authority for the
 * subject and the email; this only supplies the name, which the ID token never carries.
 */
const MAX_FIELD = 4096;
const namePart = z.string().trim().max(256);
const appleUser = z.object({
  name: z.object({ firstName: namePart.optional(), lastName: namePart.optional() }).optional(),
  email: z.string().max(320).optional(),
});

/** The name as attributes (`name`, `given_name`, `family_name`), or undefined if the field is absent or not Apple's shape. */
export function appleUserAttributes(field: string | undefined): Record<string, string> | undefined {
  if (!field || field.length > MAX_FIELD) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(field);
  } catch {
    return undefined;
  }
  const parsed = appleUser.safeParse(json);
  if (!parsed.success) return undefined;
  const given = parsed.data.name?.firstName || undefined;
  const family = parsed.data.name?.lastName || undefined;
  const name = [given, family].filter(Boolean).join(' ');
  if (!name) return undefined;
  return { name, ...(given ? { given_name: given } : {}), ...(family ? { family_name: family } : {}) };
}
