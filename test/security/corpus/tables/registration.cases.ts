import { oauth, type CorpusCase } from '../corpus-case.js';

/** POST /oauth2/registration (RFC 7591 with MSC2966's rules): JSON only; URIs that could deceive or redirect elsewhere are refused. */
const valid = {
  client_name: 'Corpus registrant',
  client_uri: 'https://client.corpus.test/',
  redirect_uris: ['https://client.corpus.test/cb'],
  application_type: 'web',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};
const reg = (over: Record<string, unknown>) => {
  const body: Record<string, unknown> = { ...valid, ...over };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  return { path: '/oauth2/registration', json: body };
};
const meta = (what: string, over: Record<string, unknown>, error = 'invalid_client_metadata'): CorpusCase => ({
  id: `registration/${what}`,
  family: 'registration',
  request: () => reg(over),
  expect: oauth(400, error),
});
const redirect = (what: string, uri: string): CorpusCase => meta(`redirect-uri-${what}`, { redirect_uris: [uri] }, 'invalid_redirect_uri');

export const REGISTRATION_CASES: CorpusCase[] = [
  {
    id: 'registration/form-body',
    family: 'registration',
    request: () => ({ path: '/oauth2/registration', form: { client_uri: valid.client_uri, redirect_uris: valid.redirect_uris[0]! } }),
    expect: oauth(400, 'invalid_request'),
  },
  {
    id: 'registration/malformed-json',
    family: 'registration',
    request: () => ({ path: '/oauth2/registration', body: '{"client_uri": "https://client.corpus.test/",', headers: { 'content-type': 'application/json' } }),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'registration/json-array', family: 'registration', request: () => ({ path: '/oauth2/registration', json: [valid] }), expect: oauth(400, 'invalid_request') },
  { id: 'registration/json-string', family: 'registration', request: () => ({ path: '/oauth2/registration', json: 'client' }), expect: oauth(400, 'invalid_request') },
  { id: 'registration/json-null', family: 'registration', request: () => ({ path: '/oauth2/registration', body: 'null', headers: { 'content-type': 'application/json' } }), expect: oauth(400, 'invalid_request') },
  { id: 'registration/empty-body', family: 'registration', request: () => ({ path: '/oauth2/registration', body: '', headers: { 'content-type': 'application/json' } }), expect: oauth(400, 'invalid_request') },
  { id: 'registration/oversized-body', family: 'registration', request: () => reg({ client_name: 'x'.repeat(80 * 1024) }), expect: oauth(413, 'invalid_request') },
  {
    id: 'registration/deeply-nested-json',
    family: 'registration',
    request: () => ({ path: '/oauth2/registration', body: `{"client_uri":${'['.repeat(5000)}${']'.repeat(5000)}}`, headers: { 'content-type': 'application/json' } }),
    expect: oauth(400, 'invalid_client_metadata'),
  },
  {
    id: 'registration/proto-pollution',
    family: 'registration',
    request: () => ({
      path: '/oauth2/registration',
      body: JSON.stringify(valid).replace('{', '{"__proto__":{"token_endpoint_auth_method":"client_secret_basic","isAdmin":true},'),
      headers: { 'content-type': 'application/json' },
    }),
    expect: oauth(400, 'invalid_request'),
  },
  { id: 'registration/nul-in-client-name', family: 'registration', request: () => reg({ client_name: 'Element\u0000' }), expect: oauth(400, 'invalid_request') },
  {
    id: 'registration/nul-in-key',
    family: 'registration',
    request: () => ({ path: '/oauth2/registration', body: JSON.stringify({ ...valid, 'x\u0000': 1 }), headers: { 'content-type': 'application/json' } }),
    expect: oauth(400, 'invalid_request'),
  },
  meta('client-uri-missing', { client_uri: undefined }),
  meta('client-uri-javascript', { client_uri: 'javascript:alert(1)' }),
  meta('client-uri-data', { client_uri: 'data:text/html,hi' }),
  meta('client-uri-public-suffix', { client_uri: 'https://co.uk/', redirect_uris: ['https://co.uk/cb'] }),
  meta('client-uri-not-a-string', { client_uri: { href: 'https://client.corpus.test/' } }),
  meta('client-uri-localized-other-host', { 'client_uri#fr': 'https://app.element.io/' }),
  meta('logo-uri-other-host', { logo_uri: 'https://evil.example/logo.png' }),
  meta('policy-uri-javascript', { policy_uri: 'javascript:alert(1)' }),
  meta('tos-uri-other-host', { tos_uri: 'https://evil.example/tos' }),
  meta('auth-method-private-key-jwt', { token_endpoint_auth_method: 'private_key_jwt' }),
  meta('auth-method-client-secret-jwt', { token_endpoint_auth_method: 'client_secret_jwt' }),
  meta('auth-method-bogus', { token_endpoint_auth_method: 'trust_me' }),
  meta('grant-password', { grant_types: ['authorization_code', 'password'] }),
  meta('grant-implicit', { grant_types: ['implicit'] }),
  meta('grant-client-credentials-public', { grant_types: ['client_credentials'] }),
  meta('response-type-token', { response_types: ['token'] }),
  meta('application-type-bogus', { application_type: 'desktop' }),
  meta('grant-types-not-array', { grant_types: 'authorization_code' }),
  meta('redirect-uris-missing', { redirect_uris: undefined }, 'invalid_redirect_uri'),
  meta('redirect-uris-empty-array', { redirect_uris: [] }, 'invalid_redirect_uri'),
  meta('redirect-uris-not-strings', { redirect_uris: [42] }),
  meta('redirect-uris-thousand', { redirect_uris: Array.from({ length: 1000 }, (_, i) => `https://client.corpus.test/cb${i}`) }),
  redirect('foreign-host', 'https://evil.example/cb'),
  redirect('backslash', 'https://client.corpus.test\\@evil.example/cb'),
  redirect('userinfo', 'https://client.corpus.test@evil.example/cb'),
  redirect('userinfo-same-host', 'https://user:pass@client.corpus.test/cb'),
  redirect('javascript', 'javascript:alert(1)'),
  redirect('data', 'data:text/html,<script>alert(1)</script>'),
  redirect('fragment', 'https://client.corpus.test/cb#frag'),
  redirect('relative', '/cb'),
  meta('redirect-uri-overlong', { redirect_uris: [`https://client.corpus.test/${'a'.repeat(5000)}`] }),
  redirect('homograph-host', 'https://сlient.corpus.test/cb'),
  redirect('subdomain-of-evil', 'https://client.corpus.test.evil.example/cb'),
  meta('native-custom-scheme-foreign', { application_type: 'native', redirect_uris: ['com.evil.app:/cb'] }, 'invalid_redirect_uri'),
  meta('native-loopback-port-99999', { application_type: 'native', redirect_uris: ['http://127.0.0.1:99999/cb'] }, 'invalid_redirect_uri'),
  meta('native-https-foreign-host', { application_type: 'native', redirect_uris: ['https://evil.example/cb'] }, 'invalid_redirect_uri'),
];
