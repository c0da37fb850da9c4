import { Liquid } from 'liquidjs';

// Strict filters, own properties only; only `user` is in scope. The template is the operator's (YAML), not user input.
const engine = new Liquid({ strictFilters: true, ownPropertyOnly: true });

/** Renders `claims.subject` over the attributes (`user.*`); empty when an attribute is missing. */
export async function renderSubject(template: string, attributes: Record<string, string | string[]>): Promise<string> {
  const out = await engine.parseAndRender(template, { user: attributes });
  return String(out).trim();
}
