import { AdminController } from '../http/admin-controller.js';
import { z } from 'zod';
import { AdminService } from '../admin.service.js';
import type { AdminPrincipal } from '../http/admin-principal.js';
import { adminRoute, AdminRoute, Principal, Valid, type Input } from '../http/admin-route.js';
import { idParam, linkView, queryBool } from '../http/schemas.js';

const linkParam = idParam('link', 'An upstream link id.');

export const removeLink = adminRoute({
  method: 'delete',
  path: 'links/:link',
  operationId: 'removeLink',
  summary: 'Remove an upstream link',
  description: 'Links are the only way to sign in: the user’s last link stays unless `force=true` (409 CAUSEWAY_LAST_SIGN_IN_METHOD).',
  tag: 'links',
  params: linkParam,
  query: z.object({ force: queryBool.optional() }).strict(),
  response: linkView,
});

export const replaceLinkSubject = adminRoute({
  method: 'post',
  path: 'links/:link/replace-subject',
  operationId: 'replaceLinkSubject',
  summary: 'Replace the subject of an upstream link (the IdP re-keyed its users, e.g. ADFS → Entra ID)',
  tag: 'links',
  params: linkParam,
  body: z.object({ subject: z.string().min(1).max(512) }).strict(),
  response: linkView,
});

@AdminController()
export class LinksController {
  constructor(private readonly admin: AdminService) {}

  @AdminRoute(removeLink)
  remove(@Valid(removeLink) { params, query }: Input<typeof removeLink>, @Principal() p: AdminPrincipal) {
    return this.admin.removeLink(params.link as string, !!query.force, p.actor);
  }

  @AdminRoute(replaceLinkSubject)
  replace(@Valid(replaceLinkSubject) { params, body }: Input<typeof replaceLinkSubject>, @Principal() p: AdminPrincipal) {
    return this.admin.replaceLinkSubject(params.link as string, body.subject, p.actor);
  }
}
