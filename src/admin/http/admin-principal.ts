/** Who made an admin call; `actor` is what the audit log records. */
export interface AdminPrincipal {
  /** `admin-token`, `user:<id>` (an admin's OAuth token), `client:<client_id>` (client_credentials), `cli:<os user>`. */
  actor: string;
  via: 'admin_token' | 'oauth' | 'cli';
}
