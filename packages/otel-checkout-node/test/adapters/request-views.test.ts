import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { expressRequestView } from '../../src/adapters/express.js';
import { fastifyRequestView } from '../../src/adapters/fastify.js';
import { koaRequestView } from '../../src/adapters/koa.js';
import type { KoaContextLike } from '../../src/adapters/koa.js';
import { nodeHttpRequestView } from '../../src/adapters/node-http.js';
import { urlSchemeOf } from '../../src/http/request-line.js';

/** Each framework's request on a socket, as far as the views read it. */
function views(socket: unknown): Array<[string, { secure?: boolean }]> {
  const base = { method: 'POST', url: '/pay', headers: {} };
  return [
    ['express', expressRequestView({ ...base, socket })],
    ['fastify', fastifyRequestView({ ...base, raw: { socket } })],
    ['koa', koaRequestView({ ...base, request: {}, req: { socket } as unknown as IncomingMessage, res: {} } as unknown as KoaContextLike)],
    ['node:http', nodeHttpRequestView({ ...base, socket } as unknown as IncomingMessage)],
  ];
}

describe('request views: url.scheme from the socket', () => {
  it('a TLS socket (encrypted) is https in every framework', () => {
    for (const [framework, view] of views({ encrypted: true })) assert.equal(view.secure, true, framework);
  });

  it('a plain socket, a missing one, or a look-alike value is http', () => {
    for (const socket of [{}, null, undefined, { encrypted: 'yes' }, 'socket']) {
      for (const [framework, view] of views(socket)) assert.equal(view.secure, false, `${framework} ${JSON.stringify(socket)}`);
    }
    assert.equal(urlSchemeOf({ encrypted: true }), 'https');
    assert.equal(urlSchemeOf({ encrypted: 1 }), 'http');
  });
});
