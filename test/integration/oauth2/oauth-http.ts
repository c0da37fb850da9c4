/** Small wire helpers for the OAuth endpoint tests. */
export interface WireResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<WireResponse> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers }, body: new URLSearchParams(form).toString() });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { raw: text };
  }
  return { status: res.status, headers: res.headers, json };
}

export const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function registerClient(base: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${base}/oauth2/registration`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
