import { Document } from 'yaml';
import { jinjaToLiquid, UntranslatableTemplate } from './jinja-to-liquid.js';
import { ssoProviders, type SynapseHomeserverConfig, type SynapseSsoProvider } from './homeserver-config.js';
import { upstreamUrls } from '../../upstream/upstream-urls.js';

/**
 * `causeway config from-synapse`: a Causeway config to start from, written from Synapse's
 * homeserver.yaml (Synapse 1.157: synapse/config/{server,oidc,saml2,cas,sso}.py and the mapping
 * providers in synapse/handlers/{oidc,saml,cas}.py). Each SSO provider becomes an upstream
 * provider with the `synapse_idp_id` its users' external ids carry, its mapping templates
 * translated from Jinja to Liquid so new sign-ins get the localparts Synapse gave. Secrets become
 * `*_file` references under `secretsDir`. Whatever has no equivalent is listed with its key path.
 */

export interface Untranslated {
  /** Key path in homeserver.yaml. */
  path: string;
  reason: string;
}

export interface FromSynapseResult {
  yaml: string;
  untranslated: Untranslated[];
  /** Files the config refers to that the operator must create (secrets, keys). */
  secretFiles: { path: string; what: string }[];
  /** The block to paste into homeserver.yaml once Causeway runs. */
  homeserverBlock: string;
  /** What to remove from homeserver.yaml when switching (Synapse refuses it under delegation). */
  removeFromHomeserver: string[];
  /** What to register at each IdP: Causeway answers at its own URLs, not Synapse's. */
  atTheIdps: string[];
}

export interface FromSynapseOptions {
  /** Where the generated `*_file` references point (default /run/secrets/causeway). */
  secretsDir: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const BRANDS = new Set(['apple', 'facebook', 'github', 'gitlab', 'google', 'microsoft', 'okta', 'keycloak', 'university', 'generic']);
const DEFAULT_OIDC_MAPPERS = new Set(['synapse.handlers.oidc.JinjaOidcMappingProvider', 'synapse.handlers.oidc_handler.JinjaOidcMappingProvider']);
const DEFAULT_SAML_MAPPERS = new Set(['synapse.handlers.saml.DefaultSamlMappingProvider', 'synapse.handlers.saml_handler.DefaultSamlMappingProvider']);
const ID_TOKEN_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

class Translation {
  readonly untranslated: Untranslated[] = [];
  readonly secretFiles: { path: string; what: string }[] = [];
  private readonly ids = new Set<string>();
  constructor(
    readonly opts: FromSynapseOptions,
    readonly hs: Obj,
  ) {}

  skip(path: string, reason: string): void {
    this.untranslated.push({ path, reason });
  }

  secret(name: string, what: string): string {
    const path = `${this.opts.secretsDir.replace(/\/+$/, '')}/${name}`;
    this.secretFiles.push({ path, what });
    return path;
  }

  /** A provider id: Synapse's idp_id made fit for Causeway's (lower-case, a-z 0-9 _ -), unique. */
  providerId(wanted: string): string {
    let base = wanted
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[-_]+|-+$/g, '')
      .slice(0, 60);
    if (!base) base = 'idp';
    let id = base;
    for (let n = 2; this.ids.has(id); n++) id = `${base}-${n}`;
    this.ids.add(id);
    return id;
  }

  /** A Jinja template in Liquid, or undefined (listed) when it cannot be translated. */
  template(path: string, source: unknown): string | undefined {
    if (typeof source !== 'string') {
      this.skip(path, 'not a string');
      return undefined;
    }
    try {
      return jinjaToLiquid(source);
    } catch (e) {
      if (!(e instanceof UntranslatableTemplate)) throw e;
      this.skip(path, `${JSON.stringify(source)}: ${e.message} has no Liquid translation`);
      return undefined;
    }
  }

  brand(path: string, brand: unknown): string | undefined {
    const b = str(brand);
    if (b === undefined) return undefined;
    if (BRANDS.has(b)) return b;
    this.skip(path, `"${b}": Causeway's brands are ${[...BRANDS].join(', ')}`);
    return undefined;
  }

  /** Synapse's attribute_requirements ({attribute, value | one_of}) as Causeway's rules. */
  requirements(path: string, list: unknown): Obj[] {
    if (!Array.isArray(list)) return [];
    const out: Obj[] = [];
    list.forEach((r, i) => {
      if (!isObj(r) || !str(r.attribute)) return this.skip(`${path}[${i}]`, 'not an {attribute, value} requirement');
      // Synapse: the attribute's values contain `value`, or one of `one_of`; with neither, it must merely exist.
      if (typeof r.value === 'string') out.push({ attribute: r.attribute, contains: r.value });
      else if (Array.isArray(r.one_of) && r.one_of.length) out.push({ attribute: r.attribute, one_of: r.one_of.map(String) });
      else this.skip(`${path}[${i}]`, `"${String(r.attribute)}" must merely exist: Causeway's requirements compare values`);
    });
    return out;
  }
}

/** Liquid that renders `liquid` and maps the result as Synapse maps a localpart (map_username_to_mxid_localpart). */
function asMxidLocalpart(liquid: string, filter = 'mxid_localpart'): string {
  const single = /^\{\{-? ((?:(?!\}\}|\{\{|\{%).)*) -?\}\}$/.exec(liquid);
  if (single) return `{{ ${single[1]} | strip | ${filter} }}`;
  return `{% capture synapse_localpart %}${liquid}{% endcapture %}{{ synapse_localpart | strip | ${filter} }}`;
}

function oidcProvider(t: Translation, p: SynapseSsoProvider, profileSync: 'always' | 'first_login'): Obj {
  const b = p.block;
  const at = (k: string) => `${p.keyPath}.${k}`;
  const id = t.providerId(str(b.idp_id) ?? 'oidc');
  const out: Obj = { id, kind: 'oidc', name: str(b.idp_name) ?? 'OIDC' };
  const brand = t.brand(at('idp_brand'), b.idp_brand);
  if (brand) out.brand = brand;
  out.issuer = str(b.issuer) ?? 'https://idp.example.invalid/';
  if (b.discover === false) {
    out.discovery = false;
    for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) if (str(b[k])) out[k] = b[k];
  }
  out.client_id = str(b.client_id) ?? '';
  const method = str(b.client_auth_method);
  if (b.client_secret_jwt_key !== undefined) {
    t.skip(at('client_secret_jwt_key'), "a client secret signed as a JWT (Apple's Sign in): create the secret at the IdP and give it as client_secret_file");
  }
  if (str(b.client_secret_path)) out.client_secret_file = b.client_secret_path;
  else if (b.client_secret !== undefined || (method !== 'none' && b.client_secret_jwt_key === undefined)) {
    out.client_secret_file = t.secret(`upstream-${id}-client-secret`, `${p.keyPath}.client_secret (the OAuth client secret of "${out.name}")`);
  }
  if (method === 'none' || method === 'client_secret_post' || method === 'client_secret_basic') out.token_endpoint_auth_method = method;
  else if (method !== undefined) t.skip(at('client_auth_method'), `"${method}": Causeway authenticates with client_secret_basic, client_secret_post, private_key_jwt or none`);
  out.scopes = Array.isArray(b.scopes) ? b.scopes.map(String) : ['openid'];
  const algs = Array.isArray(b.id_token_signing_alg_values_supported) ? b.id_token_signing_alg_values_supported.map(String) : [];
  if (algs.length === 1 && ID_TOKEN_ALGS.has(algs[0]!)) out.id_token_signed_response_alg = algs[0];
  else if (algs.length) t.skip(at('id_token_signing_alg_values_supported'), `${JSON.stringify(algs)}: Causeway expects one asymmetric algorithm (id_token_signed_response_alg)`);
  // Causeway's values are Liquid templates: Synapse's are literal, so any template syntax in them is kept as text.
  if (isObj(b.additional_authorization_parameters)) {
    out.authorization_params = Object.fromEntries(Object.entries(b.additional_authorization_parameters).map(([k, v]) => [k, /\{[{%]/.test(String(v)) ? `{% raw %}${String(v)}{% endraw %}` : String(v)]));
  }
  if (Array.isArray(b.passthrough_authorization_parameters) && b.passthrough_authorization_parameters.length) {
    // Templated parameters over the downstream request carry the ones Causeway knows of.
    const known = new Set(['login_hint', 'acr_values', 'prompt']);
    const passed = b.passthrough_authorization_parameters.map(String);
    const params = (out.authorization_params ?? {}) as Record<string, string>;
    for (const name of passed.filter((n) => known.has(n))) params[name] = `{{ request.${name} }}`;
    if (Object.keys(params).length) out.authorization_params = params;
    const unknown = passed.filter((n) => !known.has(n));
    if (unknown.length) t.skip(at('passthrough_authorization_parameters'), `${JSON.stringify(unknown)}: Causeway passes on only login_hint, acr_values and prompt (templated authorization_params)`);
  }
  if (b.backchannel_logout_enabled === true) out.backchannel_logout = true;
  if (b.backchannel_logout_ignore_sub === true) t.skip(at('backchannel_logout_ignore_sub'), "Causeway checks the logout token's sub");
  if (b.skip_verification === true) t.skip(at('skip_verification'), 'Causeway always verifies TLS and tokens');
  if (str(b.pkce_method) && b.pkce_method !== 'auto') t.skip(at('pkce_method'), `"${String(b.pkce_method)}": Causeway always sends PKCE (S256)`);
  if (str(b.redirect_uri)) t.skip(at('redirect_uri'), "Causeway's callback is {http.public_base}upstream/<id>/callback: register it at the IdP");
  if (b.enable_registration === false) t.skip(at('enable_registration'), 'Causeway creates the account on first sign-in; refuse newcomers with attribute_requirements');
  const reqs = t.requirements(at('attribute_requirements'), b.attribute_requirements);
  if (reqs.length) out.attribute_requirements = reqs;
  if (b.allow_existing_users === true) out.on_conflict = 'link';

  const ump = isObj(b.user_mapping_provider) ? b.user_mapping_provider : {};
  const module = str(ump.module);
  const claims: Obj = {};
  if (module && !DEFAULT_OIDC_MAPPERS.has(module)) {
    t.skip(`${p.keyPath}.user_mapping_provider.module`, `"${module}": a custom mapping provider (Python) cannot be translated; write claims templates by hand`);
  } else {
    const c = isObj(ump.config) ? ump.config : {};
    const cp = (k: string) => `${p.keyPath}.user_mapping_provider.config.${k}`;
    if (c.subject_template !== undefined) {
      const s = t.template(cp('subject_template'), c.subject_template);
      if (s) claims.subject = s;
    } else if (str(c.subject_claim) && c.subject_claim !== 'sub') {
      claims.subject = /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(c.subject_claim)) ? `{{ user.${String(c.subject_claim)} }}` : `{{ user[${JSON.stringify(c.subject_claim)}] }}`;
    }
    const confirm = c.confirm_localpart === true;
    if (c.localpart_template !== undefined) {
      const l = t.template(cp('localpart_template'), c.localpart_template);
      claims.localpart = l ? { action: confirm ? 'suggest' : 'force', template: asMxidLocalpart(l) } : { action: 'ignore' };
    } else claims.localpart = { action: 'ignore' };
    for (const [key, name] of [
      ['display_name_template', 'displayname'],
      ['email_template', 'email'],
    ] as const) {
      if (c[key] === undefined) {
        claims[name] = { action: 'ignore' };
        continue;
      }
      const tpl = t.template(cp(key), c[key]);
      claims[name] = tpl ? { template: tpl, action: confirm ? 'suggest' : 'force', sync: profileSync } : { action: 'ignore' };
    }
    for (const k of ['picture_claim', 'picture_template']) if (c[k] !== undefined) t.skip(cp(k), 'Causeway does not import avatars');
    if (isObj(c.extra_attributes) && Object.keys(c.extra_attributes).length) t.skip(cp('extra_attributes'), 'Causeway passes no extra attributes to clients');
  }
  out.claims = claims;
  out.synapse_idp_id = p.idpId;
  return out;
}

function samlProvider(t: Translation, p: SynapseSsoProvider, profileSync: 'always' | 'first_login'): Obj {
  const b = p.block;
  const at = (k: string) => `${p.keyPath}.${k}`;
  const id = t.providerId('saml');
  const out: Obj = { id, kind: 'saml', name: str(b.idp_name) ?? 'SAML' };
  const brand = t.brand(at('idp_brand'), b.idp_brand);
  if (brand) out.brand = brand;
  const sp = isObj(b.sp_config) ? b.sp_config : {};
  if (str(b.config_path)) t.skip(at('config_path'), 'a pysaml2 Python config file: give metadata_url or metadata_file by hand');
  const metadata = isObj(sp.metadata) ? sp.metadata : {};
  const remote = Array.isArray(metadata.remote) ? metadata.remote : [];
  const local = Array.isArray(metadata.local) ? metadata.local : [];
  const first = remote.find((r) => isObj(r) && str(r.url)) as Obj | undefined;
  if (first) out.metadata_url = first.url;
  else if (local.length) out.metadata_file = String(local[0]);
  else {
    out.metadata_file = t.secret('saml-idp-metadata.xml', `the IdP's SAML metadata (${p.keyPath}.sp_config.metadata had none Causeway can use)`);
  }
  const extra = remote.length + local.length - 1;
  if (extra > 0) t.skip(at('sp_config.metadata'), `${extra} more metadata source(s): Causeway reads one (give idp_entity_id to pick the IdP in an aggregate)`);
  if (isObj(first) && str(first.cert)) out.metadata_signing_cert_file = first.cert;
  if (str(b.idp_entityid)) out.idp_entity_id = b.idp_entityid;
  const service = isObj(sp.service) && isObj(sp.service.sp) ? sp.service.sp : {};
  out.sp = {
    ...(str(sp.entityid) ? { entity_id: sp.entityid } : {}),
    key_file: str(sp.key_file) ?? t.secret('saml-sp.key', 'the SAML SP private key (PEM)'),
    cert_file: str(sp.cert_file) ?? t.secret('saml-sp.crt', 'the SAML SP certificate matching saml-sp.key (PEM)'),
    sign_requests: service.authn_requests_signed === true,
  };
  if (Array.isArray(sp.encryption_keypairs) && sp.encryption_keypairs.length) {
    t.skip(at('sp_config.encryption_keypairs'), 'Causeway decrypts assertions with sp.key (encrypted_assertions: optional)');
  }
  const reqs = t.requirements(at('attribute_requirements'), b.attribute_requirements);
  if (reqs.length) out.attribute_requirements = reqs;
  if (b.grandfathered_mxid_source_attribute !== undefined) t.skip(at('grandfathered_mxid_source_attribute'), 'accounts are matched by the imported external ids instead');

  const ump = isObj(b.user_mapping_provider) ? b.user_mapping_provider : {};
  const module = str(ump.module);
  if (module && !DEFAULT_SAML_MAPPERS.has(module)) {
    t.skip(`${p.keyPath}.user_mapping_provider.module`, `"${module}": a custom mapping provider (Python) cannot be translated; write claims templates by hand`);
    out.claims = { subject: '{{ user.uid }}' };
  } else {
    const c = isObj(ump.config) ? ump.config : {};
    const source = str(c.mxid_source_attribute) ?? 'uid';
    const mapping = str(c.mxid_mapping) ?? 'hexencode';
    const attr = /^[A-Za-z_][A-Za-z0-9_]*$/.test(source) ? `user.${source}` : `user[${JSON.stringify(source)}]`;
    let localpart: Obj = { action: 'ignore' };
    if (mapping === 'hexencode' || mapping === 'dotreplace') {
      localpart = { action: 'force', template: `{{ ${attr} | strip | ${mapping === 'hexencode' ? 'mxid_localpart' : 'mxid_dotreplace'} }}` };
    } else t.skip(`${p.keyPath}.user_mapping_provider.config.mxid_mapping`, `"${mapping}" is not one of Synapse's mappings`);
    // Synapse's default SAML mapping provider: the remote id is `uid`, the profile `displayName` and `email`.
    out.claims = {
      subject: '{{ user.uid }}',
      localpart,
      displayname: { template: '{{ user.displayName }}', sync: profileSync },
      email: { template: '{{ user.email }}', sync: profileSync },
    };
  }
  out.synapse_idp_id = p.idpId;
  return out;
}

function casProvider(t: Translation, p: SynapseSsoProvider, profileSync: 'always' | 'first_login'): Obj {
  const b = p.block;
  const at = (k: string) => `${p.keyPath}.${k}`;
  const id = t.providerId('cas');
  const out: Obj = { id, kind: 'cas', name: str(b.idp_name) ?? 'CAS' };
  const brand = t.brand(at('idp_brand'), b.idp_brand);
  if (brand) out.brand = brand;
  out.server_url = str(b.server_url) ?? 'https://cas.example.invalid/cas';
  // Synapse validates at /proxyValidate (CAS 2.0) unless protocol_version says otherwise.
  const version = b.protocol_version;
  if (version === 3) out.protocol = 3;
  else if (version === 2 || version === undefined || version === null) out.protocol = 2;
  else t.skip(at('protocol_version'), `${String(version)}: Causeway speaks CAS 2.0 and 3.0`);
  // Synapse ignored CAS logout requests; accepting them needs the CAS servers' addresses (slo_allowed_from).
  out.single_logout = false;
  const required = isObj(b.required_attributes) ? b.required_attributes : {};
  const reqs: Obj[] = [];
  for (const [attribute, value] of Object.entries(required)) {
    if (typeof value === 'string') reqs.push({ attribute, contains: value });
    else t.skip(`${p.keyPath}.required_attributes.${attribute}`, "must merely exist: Causeway's requirements compare values");
  }
  if (reqs.length) out.attribute_requirements = reqs;
  if (b.enable_registration === false) t.skip(at('enable_registration'), 'Causeway creates the account on first sign-in; refuse newcomers with attribute_requirements');
  if (b.allow_numeric_ids !== undefined || b.numeric_ids_prefix !== undefined) t.skip(at('allow_numeric_ids'), 'numeric CAS users: write the localpart template by hand');
  const display = str(b.displayname_attribute);
  const attr = display && (/^[A-Za-z_][A-Za-z0-9_]*$/.test(display) ? `user.${display}` : `user[${JSON.stringify(display)}]`);
  // Synapse's CAS handler: the external id is the CAS user; the localpart is that user mapped by map_username_to_mxid_localpart.
  out.claims = {
    localpart: { action: 'force', template: '{{ user.user | strip | mxid_localpart }}' },
    displayname: attr ? { template: `{{ ${attr} }}`, sync: profileSync } : { action: 'ignore' },
    email: { action: 'ignore' },
  };
  out.synapse_idp_id = p.idpId;
  return out;
}

/** The URL Causeway reaches Synapse at: a listener serving the client API, else public_baseurl. */
function synapseEndpoint(hs: Obj): string {
  const listeners = Array.isArray(hs.listeners) ? hs.listeners : [];
  for (const l of listeners) {
    if (!isObj(l) || (l.type !== undefined && l.type !== 'http') || typeof l.port !== 'number') continue;
    const names = (Array.isArray(l.resources) ? l.resources : []).flatMap((r) => (isObj(r) && Array.isArray(r.names) ? r.names.map(String) : []));
    if (!names.includes('client')) continue;
    const bind = (Array.isArray(l.bind_addresses) ? l.bind_addresses.map(String) : [])[0];
    const host = !bind || bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
    return `${l.tls === true ? 'https' : 'http'}://${host}:${l.port}/`;
  }
  return str(hs.public_baseurl) ?? 'http://127.0.0.1:8008/';
}

export function configFromSynapse(hsConfig: SynapseHomeserverConfig, opts: FromSynapseOptions): FromSynapseResult {
  const hs = hsConfig.raw;
  const t = new Translation(opts, hs);
  const serverName = hsConfig.serverName ?? 'example.com';
  if (!hsConfig.serverName) t.skip('server_name', "missing: set matrix.homeserver to Synapse's server_name");
  const sso = isObj(hs.sso) ? hs.sso : {};
  const profileSync = sso.update_profile_information === true ? 'always' : 'first_login';

  const providers: Obj[] = [];
  for (const p of ssoProviders(hs)) {
    if (p.kind === 'oidc') providers.push(oidcProvider(t, p, profileSync));
    else if (p.kind === 'saml') providers.push(samlProvider(t, p, profileSync));
    else providers.push(casProvider(t, p, profileSync));
  }
  if (isObj(hs.jwt_config) && hs.jwt_config.enabled === true) t.skip('jwt_config', 'JWT login has no Causeway equivalent (use an OIDC provider)');
  if (Array.isArray(hs.password_providers) && hs.password_providers.length) t.skip('password_providers', 'password auth modules (LDAP, …) have no Causeway equivalent: sign in through an OIDC, SAML or CAS IdP');
  if (!providers.length) t.skip('oidc_providers', 'no SSO provider in homeserver.yaml: add upstream providers by hand');

  const publicBase = `https://auth.${serverName}/`;
  const config = {
    http: { public_base: publicBase, listen: '0.0.0.0:8080', trust_proxy: true },
    database: { url_file: t.secret('database-url', 'the database URL: postgres://user:password@host/causeway (or sqlite://data/causeway.db for one replica)') },
    secrets: {
      encryption_key_file: t.secret('encryption-key', 'at least 32 random characters (e.g. openssl rand -base64 48)'),
      keys: [{ kid: 'rs1', key_file: t.secret('signing-key.pem', 'an RSA private key signing ID tokens (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048)') }],
    },
    matrix: {
      homeserver: serverName,
      endpoint: synapseEndpoint(hs),
      api: 'synapse-mas',
      secret_file: t.secret('synapse-shared-secret', 'the secret shared with Synapse (its matrix_authentication_service.secret_path)'),
    },
    upstream: { providers },
  };

  const doc = new Document(config);
  doc.commentBefore = [
    ` Causeway config written by \`causeway config from-synapse\` from ${hsConfig.file}.`,
    ' Check it with: causeway config check --config <this file>, once the secret files below exist.',
    ` http.public_base (${publicBase}) is where Causeway will be served: change it if it is not.`,
    ' Secret files to create:',
    ...t.secretFiles.map((s) => `   ${s.path}: ${s.what}`),
    ...(t.untranslated.length ? [' Not translated (homeserver.yaml key path: why):', ...t.untranslated.map((u) => `   ${u.path}: ${u.reason}`)] : [' Everything in the SSO configuration was translated.']),
  ].join('\n');

  const homeserverBlock = [
    'matrix_authentication_service:',
    '  enabled: true',
    `  endpoint: ${publicBase}   # Causeway's http.public_base (or the URL Synapse reaches it at)`,
    `  secret_path: ${t.secretFiles.find((s) => s.path.endsWith('synapse-shared-secret'))!.path}`,
  ].join('\n');
  const removeFromHomeserver = [
    ...ssoProviders(hs).map((p) => p.keyPath.replace(/\[\d+\]$/, '')),
    ...(isObj(hs.password_config) && hs.password_config.enabled !== false ? ['password_config.enabled (or set it to false)'] : []),
    ...(hs.enable_registration === true ? ['enable_registration'] : []),
  ].filter((v, i, a) => a.indexOf(v) === i);
  const atTheIdps = providers.map((p) => {
    const urls = upstreamUrls(publicBase, String(p.id));
    if (p.kind === 'oidc') return `${String(p.name)}: add the redirect URI ${urls.callback}${p.backchannel_logout ? ` (back-channel logout: ${urls.backchannelLogout})` : ''}`;
    if (p.kind === 'saml') return `${String(p.name)}: give the IdP the SP metadata at ${urls.samlMetadata} (new ACS URL, same SP entity id)`;
    return `${String(p.name)}: allow the CAS service ${urls.casServiceEndpoint}`;
  });
  return { yaml: doc.toString({ lineWidth: 0 }), untranslated: t.untranslated, secretFiles: t.secretFiles, homeserverBlock, removeFromHomeserver, atTheIdps };
}
