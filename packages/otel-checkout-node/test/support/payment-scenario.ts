import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { payments } from '../../src/index.js';
import type { PaymentExtractor, PaymentMiddlewareOptions, ProviderStatusTable } from '../../src/index.js';

/** A Visa test card number: must never appear in any exported byte. */
export const TEST_CARD = '4111111111111111';
export const TEST_CARD_SPACED = '4111 1111 1111 1111';
/** A trade number that happens to pass the Luhn check with a card prefix: must stay searchable. */
export const LUHN_TRADE_NO = '4242424242424242';

export const PROVIDER_STATUSES: ProviderStatusTable = {
  PAID: 'succeeded',
  DECLINED: { outcome: 'failed', reason: 'insufficient_funds' },
};

/** Reads the payment details the scenario's clients send in JSON bodies. */
export const scenarioExtractor: PaymentExtractor = (request) => {
  const body = request.json();
  if (body?.explode === true || request.headers['x-explode'] === '1') throw new Error('extractor bug');
  return {
    tradeNo: typeof body?.tradeNo === 'string' ? body.tradeNo : undefined,
    method: 'card',
    provider: 'acme',
    amount: typeof body?.amount === 'number' ? body.amount : undefined,
    currency: typeof body?.currency === 'string' ? body.currency : undefined,
    merchantId: 'm-1',
  };
};

export const scenarioMiddlewareOptions: PaymentMiddlewareOptions = { extract: scenarioExtractor };

/** The fake payment provider: answers every charge with the status named in the request. */
export interface FakeProvider {
  readonly url: string;
  readonly requests: { headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

export async function startFakeProvider(): Promise<FakeProvider> {
  const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: StartedHttpServer = await startHttpServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    requests.push({ headers: req.headers, body });
    const parsed = JSON.parse(body) as { status?: string };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: parsed.status ?? 'PAID', transactionId: 'tx-1' }));
  });
  return { url: server.url, requests, close: () => server.close() };
}

/** The part of `streamPayment`'s body a client gets before the rest stalls. */
export const STREAM_FIRST_CHUNK = 'receipt so far;';

/** What `failPayment` throws: a class of its own, so a span's `error.type` shows it was this error, not a status code. */
export class ChargeFailedError extends Error {
  override readonly name = 'ChargeFailedError';
}

/**
 * What `refusePayment` throws: the application's own validation error, with the 4xx status its
 * error handler answers (`status` as Express and Koa read it, `statusCode` as Fastify does).
 */
export class AmountRefusedError extends Error {
  override readonly name = 'AmountRefusedError';
  readonly status = 422;
  readonly statusCode = 422;
  readonly expose = true;
}

/**
 * The payment routes every framework app wires up, framework-neutral:
 * POST /pay/create → `createPayment(body)` answered as JSON;
 * POST /pay/fail → `failPayment()` (throws);
 * POST /pay/refuse → `refusePayment()` (throws an error the app answers with 422);
 * POST /pay/invalid → 400;
 * POST /pay/stream → 200 with `streamPayment()` piped as the body;
 * GET /status → 200 (not a payment route).
 */
export function scenarioRoutes(providerUrl: () => string) {
  return {
    async createPayment(body: unknown): Promise<{ traceId: string; outcome: string }> {
      const input = (body ?? {}) as { tradeNo?: string; providerStatus?: string };
      return payments.create({ provider: 'acme', method: 'card' }, async (flow) => {
        if (input.tradeNo) flow.setTradeNo(input.tradeNo);
        const mapped = await flow.providerCall('charge', async (call) => {
          const response = await fetch(providerUrl(), {
            method: 'POST',
            headers: call.inject({ 'content-type': 'application/json' }),
            body: JSON.stringify({ tradeNo: input.tradeNo, status: input.providerStatus ?? 'PAID' }),
          });
          const answer = (await response.json()) as { status: string; transactionId: string };
          call.http({ statusCode: response.status, serverAddress: '127.0.0.1' });
          call.transactionId(answer.transactionId);
          return call.status(answer.status, PROVIDER_STATUSES);
        });
        payments.recordOutcome(mapped.outcome, mapped.reason ? { reason: mapped.reason } : undefined);
        return { traceId: flow.traceId, outcome: mapped.outcome };
      });
    },
    failPayment(): never {
      throw new ChargeFailedError(`charge failed for card ${TEST_CARD_SPACED}`);
    },
    refusePayment(): never {
      throw new AmountRefusedError('amount must be positive');
    },
    /** A body that sends its first chunk at once and the rest never: the client gives up reading it. */
    streamPayment(): Readable {
      const stream = new Readable({ read: () => undefined });
      stream.push(STREAM_FIRST_CHUNK);
      return stream;
    },
  };
}

export type ScenarioRoutes = ReturnType<typeof scenarioRoutes>;
