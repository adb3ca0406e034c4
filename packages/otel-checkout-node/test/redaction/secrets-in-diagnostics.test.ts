import assert from 'node:assert/strict';
import http from 'node:http';
import { format, inspect } from 'node:util';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { httpCallback, httpPayments, payments, RedisFlowStore } from '../../src/index.js';
import type { FlowRecord, FlowStore } from '../../src/index.js';
import { errorSummary } from '../../src/error-summary.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const TEST_CARD = '4111111111111111';
const API_SECRET = 'sk_live_do-not-log-0123';
const REDIS_PASSWORD = 'redis-pa55word-do-not-log';
/** A flow token secret, 16 printable characters: usable as a key id, which is how it gets swapped. */
const KEY_SECRET = 'k3y-s3cret-value';
const KEYS = { current: { id: 'k1', secret: 'diagnostics-test-secret-0123456789' } };

/**
 * Every diagnostic, at every level, as a console logger would print it: `util.format` shows an
 * error's message, stack, cause and other properties, as `DiagConsoleLogger` and most log
 * libraries do.
 */
function captureDiagnostics(): { text: () => string; restore: () => void } {
  const lines: string[] = [];
  const record = (message: string, ...args: unknown[]): void => void lines.push(format(message, ...args));
  diag.setLogger({ error: record, warn: record, info: record, debug: record, verbose: record }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  return { text: () => lines.join('\n'), restore: () => diag.disable() };
}

function assertNoSecrets(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `"${secret}" was logged:\n${text}`);
}

// Log output goes to log aggregation: it is held to the rule exported spans are held to. An
// error from the application's code or a library may hold whatever a request carried.
describe('secrets reach no diagnostic log line', () => {
  describe('errors of hooks, stores and options, and rejected values, in a running setup', () => {
    let logs: ReturnType<typeof captureDiagnostics>;
    let session: TracingSession;
    let app: StartedHttpServer;
    const put: Array<FlowRecord> = [];

    // A custom store on a backend whose client puts its connection string in its errors.
    const store: FlowStore = {
      put: (record) => {
        put.push(record);
        return Promise.reject(new Error(`AUTH failed for redis://:${REDIS_PASSWORD}@cache:6379`));
      },
      take: () => Promise.resolve({ duplicate: false, late: false }),
      claimExpired: () => Promise.resolve([]),
      ack: () => Promise.resolve(),
      size: () => Promise.resolve(0),
      close: () => Promise.resolve(),
    };

    before(async () => {
      logs = captureDiagnostics();
      session = await startTracingSession('memory', { instrumentHttp: false, flows: { keys: KEYS, store, sweeper: false } });
      const pay = httpPayments(
        async (_req, res) => {
          const notify = await payments.create({ tradeNo: 'T-LOG-1', provider: 'acme' }, (flow) => flow.notifyUrl('http://127.0.0.1/notify'));
          res.end(notify);
        },
        {
          extract: (request) => {
            if (request.url.includes('bad')) throw new Error(`cannot read card ${TEST_CARD} with key=${API_SECRET}`);
            // A body field passed on as it came: here a card number in an array.
            return { tradeNo: 'T-LOG-1', amount: [TEST_CARD] as unknown as number };
          },
          outcome: () => {
            throw Object.assign(new TypeError(`outcome for ${TEST_CARD}`), { card: TEST_CARD });
          },
        },
      );
      const notify = httpCallback(
        (_req, res) => {
          res.end('ok');
        },
        {
          // A hook whose error quotes the request it could not read: URL, token and all.
          tradeNo: (request) => {
            throw new Error(`no trade number in ${request.url}`);
          },
        },
      );
      app = await listenOnLoopback(
        http.createServer((req, res) => {
          if (req.url?.startsWith('/notify')) notify(req, res);
          else void pay(req, res);
        }),
      );
    });

    after(async () => {
      logs.restore();
      await app?.close();
      await session?.stop();
    });

    it('logs what went wrong (hook, class, message length), never the message, the token or the store credentials', async () => {
      await (await fetch(`${app.url}/pay?bad`)).text();
      const notifyUrl = await (await fetch(`${app.url}/pay`)).text();
      const token = new URL(notifyUrl).searchParams.get('otc_flow');
      assert.ok(token !== null && token.length > 40, notifyUrl);
      assert.ok(put.length > 0, 'flows were handed to the store');
      await session.handle.flush();
      const callback = await fetch(`${app.url}/notify?otc_flow=${token}&trade_no=T-LOG-1`);
      assert.equal(await callback.text(), 'ok');
      await session.waitForSpan((s) => s.name === 'payment.callback');

      const text = logs.text();
      assertNoSecrets(text, [TEST_CARD, API_SECRET, REDIS_PASSWORD, token]);
      // Still useful: which hook, which class, how long a message, where it was thrown.
      assert.match(text, /the extract hook threw; the request goes on without it: Error \(message of \d+ characters, not logged\)\n\s+at /);
      assert.match(text, /the outcome hook threw; the request goes on without it: TypeError \(message of \d+ characters, not logged\)/);
      assert.match(text, /the callback tradeNo hook threw; the request goes on without it: Error \(message of \d+ characters, not logged\)/);
      assert.match(text, /the flow store could not record a flow; it is correlated by token only: Error \(message of \d+ characters, not logged\)/);
      assert.match(text, /payment amount \(an array\) is not an integer in minor units/);
    });
  });

  it('flow token keys whose id and secret were swapped: the problem is named by the key, not its id', async () => {
    const logs = captureDiagnostics();
    const session = await startTracingSession('memory', { instrumentHttp: false, flows: { keys: { current: { id: KEY_SECRET, secret: 'k1' } }, sweeper: false } });
    try {
      const text = logs.text();
      assertNoSecrets(text, [KEY_SECRET]);
      assert.match(text, /flow token keys unusable \(keys\.current secret is shorter than 16 bytes\); tokens are not minted/);
      assert.equal(session.handle.health().configProblems, 1);
    } finally {
      logs.restore();
      await session.stop();
    }
  });

  it('a RedisFlowStore url that cannot be parsed: neither its error nor the log holds the password', async () => {
    const logs = captureDiagnostics();
    const store = new RedisFlowStore({ url: `redis://:${REDIS_PASSWORD}@cache host:6379` });
    try {
      const rejection: unknown = await store.ready().then(
        () => assert.fail('ready() resolved'),
        (error: unknown) => error,
      );
      assert.equal((rejection as Error).name, 'FlowStoreError');
      // As an application would log it: message, stack, cause and every property.
      assertNoSecrets(inspect(rejection, { depth: 5 }), [REDIS_PASSWORD]);
      assert.match(String((rejection as Error).message), /TypeError ERR_INVALID_URL; is `url` a redis:\/\/ URL\?/);
      assertNoSecrets(logs.text(), [REDIS_PASSWORD]);
      assert.match(logs.text(), /Redis flow store unavailable; flows fall back to token-only correlation: FlowStoreError: RedisFlowStore could not make a Redis client/);
    } finally {
      logs.restore();
      await store.close();
    }
  });
});

describe('errorSummary', () => {
  it('keeps class, code, message length, frames and causes; drops the message and other properties', () => {
    const cause = Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL', input: `redis://:${REDIS_PASSWORD}@x y` });
    const error = new Error(`card ${TEST_CARD}`, { cause });
    const summary = errorSummary(error);
    assert.match(summary, /^Error \(message of 21 characters, not logged\); caused by TypeError \[ERR_INVALID_URL\] \(message of 11 characters, not logged\)\n {4}at /);
    assertNoSecrets(summary, [TEST_CARD, REDIS_PASSWORD]);
  });

  it('a message that spans lines shaped like stack frames stays out too', () => {
    const summary = errorSummary(new Error(`declined\n    at ${TEST_CARD} (card:1:1)`));
    assertNoSecrets(summary, [TEST_CARD]);
    assert.match(summary, /\n {4}at /, 'the real frames are kept');
  });

  it('a thrown non-error is described by its type', () => {
    const thrown = `token ${API_SECRET}`;
    assert.equal(errorSummary(thrown), `a thrown string of ${thrown.length} characters (not logged)`);
    assert.equal(errorSummary({ secret: API_SECRET }), 'a thrown object');
    assert.equal(errorSummary(undefined), 'a thrown undefined');
  });
});
