/**
 * Who may be granted `urn:synapse:admin:*` (which makes the token a Synapse server admin): a user
 * named in `policy.admin_localparts`, a user whose per-user flag is set (admin API, CLI, Synapse
 * import), or a user whose last sign-in through a provider with an `admin` rule met that rule (an
 * IdP group). Pure; the callers read the flags.
 */
export interface AdminCandidate {
  localpart: string;
  canRequestAdmin: boolean;
  idpAdmin: boolean;
}

export function mayRequestAdmin(u: AdminCandidate, adminLocalparts: readonly string[]): boolean {
  return u.canRequestAdmin || u.idpAdmin || adminLocalparts.includes(u.localpart);
}
