// panva/oidc-provider introspecting its own opaque access tokens, stored in memory (a Map: its
// bundled dev adapter is an LRU of 1,000 entries, too small for 10k tokens and their grants).
import Provider from 'oidc-provider';

const store = new Map();
class MapAdapter {
  constructor(model) {
    this.model = model;
  }
  key(id) {
    return `${this.model}:${id}`;
  }
  async upsert(id, payload) {
    store.set(this.key(id), payload);
  }
  async find(id) {
    return store.get(this.key(id));
  }
  async findByUserCode() {
    return undefined;
  }
  async findByUid() {
    return undefined;
  }
  async consume(id) {
    const p = store.get(this.key(id));
    if (p) p.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    store.delete(this.key(id));
  }
  async revokeByGrantId() {}
}

const [port, count] = [Number(process.argv[2]), Number(process.argv[3])];
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  adapter: MapAdapter,
  clients: [{ client_id: 'bench', client_secret: 'bench-secret', redirect_uris: ['https://bench.example/cb'], grant_types: ['authorization_code', 'refresh_token'] }],
  features: { introspection: { enabled: true }, devInteractions: { enabled: false } },
  // Quiet: no per-request console output.
  renderError: async (ctx, out) => {
    ctx.body = out;
  },
});
provider.on('server_error', (_ctx, err) => console.error(err));

const client = await provider.Client.find('bench');
const tokens = [];
for (let i = 0; i < count; i++) {
  const grant = new provider.Grant({ accountId: `user${i % 1000}`, clientId: 'bench' });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  const at = new provider.AccessToken({ accountId: `user${i % 1000}`, client, grantId, scope: 'openid', expiresIn: 3600 });
  tokens.push(await at.save());
}
provider.listen(port, '127.0.0.1', () => process.send?.({ ready: true, tokens }));
