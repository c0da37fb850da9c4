import { createServer, type IncomingMessage, type Server } from 'node:http';
import { freePort } from '../../support/ports.js';

/**
 * A scripted OpenID Provider for the stand-in's own tests: it answers introspection and discovery
 * with exactly the bytes a test sets, including answers a real OP must never give (that is what the
 * stand-in's strictness is tested against). Everything it receives is recorded.
 */
export interface ScriptedAnswer {
  status?: number;
  /** Raw body text (so malformed JSON can be sent); objects are JSON-encoded. */
  body: string | object;
  delayMs?: number;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ScriptedOp {
  url: string;
  received: ReceivedRequest[];
  /** Answer for a token (after the default). */
  answer(token: string, a: ScriptedAnswer | object): void;
  /** Answer for tokens with no specific one (default: active:false). */
  defaultAnswer: ScriptedAnswer;
  discovery: ScriptedAnswer;
  introspections(): ReceivedRequest[];
  stop(): Promise<void>;
}

export async function startScriptedOp(): Promise<ScriptedOp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const answers = new Map<string, ScriptedAnswer>();
  const op: ScriptedOp = {
    url,
    received: [],
    answer(token, a) {
      answers.set(token, 'body' in a ? (a as ScriptedAnswer) : { body: a });
    },
    defaultAnswer: { body: { active: false } },
    discovery: {
      body: {
        issuer: `${url}/`,
        account_management_uri: `${url}/account/`,
        authorization_endpoint: `${url}/authorize`,
        token_endpoint: `${url}/oauth2/token`,
        introspection_endpoint: `${url}/oauth2/introspect`,
        response_modes_supported: ['query', 'fragment'],
      },
    },
    introspections: () => op.received.filter((r) => r.path === '/oauth2/introspect'),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
  const send = async (res: import('node:http').ServerResponse, a: ScriptedAnswer) => {
    if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
    const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    res.writeHead(a.status ?? 200, { 'Content-Type': 'application/json' }).end(text);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const path = new URL(req.url!, url).pathname;
      op.received.push({ method: req.method!, path, headers: req.headers, body });
      if (path === '/.well-known/openid-configuration') return void send(res, op.discovery);
      if (path === '/oauth2/introspect') {
        const token = new URLSearchParams(body).get('token') ?? '';
        return void send(res, answers.get(token) ?? op.defaultAnswer);
      }
      res.writeHead(404).end();
    });
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return op;
}
