/** Calls to the admin API from tests. */
export const ADMIN = 'admin-token-0123456789abcdef';

export type Json = Record<string, unknown>;
export interface AdminCall {
  status: number;
  headers: Headers;
  json: Json;
}

export async function adminCall(base: string, method: string, path: string, body?: unknown, token: string | null = ADMIN): Promise<AdminCall> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}/api/admin/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: (await res.json().catch(() => ({}))) as Json };
}

/** Status of `GET /account/whoami` at the homeserver stand-in with this token (200: the homeserver accepts it). */
export const whoamiAt = (homeserverUrl: string, token: string) => fetch(`${homeserverUrl}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
