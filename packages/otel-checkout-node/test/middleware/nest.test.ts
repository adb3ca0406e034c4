import 'reflect-metadata';
import assert from 'node:assert/strict';
import { BadRequestException, Body, Catch, Controller, Get, Module, Post } from '@nestjs/common';
import type { ArgumentsHost, INestApplication, MiddlewareConsumer, NestModule } from '@nestjs/common';
import { BaseExceptionFilter, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import express from 'express';
import { expressCallback, expressPayments, fastifyCallback, fastifyPayments, payments } from '../../src/index.js';
import type { PaymentExtractor } from '../../src/index.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

// NestJS, with its Express and its Fastify adapter, set up as the README's "NestJS" section says.
// Decorators are applied as the functions they are: the test code compiles without TypeScript's
// experimental decorators, which the rest of the package does not use.

const SECRET = 'a-secret-of-32-characters-length';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

const extract: PaymentExtractor = (request) => {
  const tradeNo = request.json()?.tradeNo;
  return { tradeNo: typeof tradeNo === 'string' ? tradeNo : undefined, provider: 'acme', method: 'card' };
};

class LedgerUnavailableError extends Error {
  override name = 'LedgerUnavailableError';
}

class PaymentsController {
  create(body: { tradeNo?: string; fail?: 'bad-request' | 'ledger' }): Promise<{ notifyUrl: string }> {
    if (body.fail === 'bad-request') throw new BadRequestException('amount is missing');
    if (body.fail === 'ledger') throw new LedgerUnavailableError('ledger at 10.0.0.7 refused');
    return payments.create({}, (flow) => ({ notifyUrl: flow.notifyUrl('http://127.0.0.1/api/payments/notify') }));
  }

  notify(body: { fail?: boolean }): string {
    if (body.fail === true) throw new LedgerUnavailableError('ledger at 10.0.0.7 refused');
    return 'success';
  }

  health(): string {
    return 'ok';
  }
}
Controller('payments')(PaymentsController);
const method = (name: keyof PaymentsController): PropertyDescriptor => Object.getOwnPropertyDescriptor(PaymentsController.prototype, name)!;
Post()(PaymentsController.prototype, 'create', method('create'));
Body()(PaymentsController.prototype, 'create', 0);
Post('notify')(PaymentsController.prototype, 'notify', method('notify'));
Body()(PaymentsController.prototype, 'notify', 0);
Get('health')(PaymentsController.prototype, 'health', method('health'));

/** The README's filter: every error Nest answers itself is recorded on its payment route's span. */
class PaymentErrorsFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    payments.recordError(exception);
    super.catch(exception, host);
  }
}
Catch()(PaymentErrorsFilter);

/** Express adapter: the middleware through the consumer, after the body parser Nest mounts. */
class ExpressAppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(express.json()).exclude('payments/notify').forRoutes('*path');
    consumer.apply(expressPayments({ extract })).forRoutes({ path: 'payments', method: 1 /* POST */ });
    // The notify route parses its own body, so a body the parser refuses is traced.
    consumer.apply(expressCallback({ bodyParser: express.json({ limit: '1kb' }) })).forRoutes('payments/notify');
  }
}
Module({ controllers: [PaymentsController] })(ExpressAppModule);

class FastifyAppModule {}
Module({ controllers: [PaymentsController] })(FastifyAppModule);

describe('NestJS', () => {
  let session: TracingSession;
  let app: INestApplication | undefined;
  let url: string;

  beforeEach(async () => {
    session = await startTracingSession('memory', { instrumentHttp: false, flows: { keys: { current: { id: 'k1', secret: SECRET } }, sweeper: false } });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await session.stop();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  /** The payment, a failing one of each kind, the notification, one the parser refuses, and another route. */
  async function checkout(): Promise<void> {
    const created = (await (await post('/api/payments', JSON.stringify({ tradeNo: 'NEST-1' }), { traceparent: TRACEPARENT })).json()) as { notifyUrl: string };
    assert.equal((await post('/api/payments', JSON.stringify({ tradeNo: 'NEST-2', fail: 'bad-request' }))).status, 400);
    assert.equal((await post('/api/payments', JSON.stringify({ tradeNo: 'NEST-3', fail: 'ledger' }))).status, 500);
    const notify = new URL(created.notifyUrl);
    // The notification of a flow whose handler fails first (the provider sends it again), then the one that gets through.
    assert.equal((await post(notify.pathname + notify.search, JSON.stringify({ trade_no: 'NEST-1', fail: true }))).status, 500);
    assert.equal(await (await post(notify.pathname + notify.search, JSON.stringify({ trade_no: 'NEST-1' }))).text(), 'success');
    // Refused by the parser: 400 from Fastify; 500 from Nest's Express adapter, whose exception
    // filter does not know body-parser's errors. The provider sends it again either way.
    assert.ok((await post('/api/payments/notify', '{"trade_no":')).status >= 400);
    assert.equal((await fetch(`${url}/api/payments/health`)).status, 200);
  }

  async function assertTraced(): Promise<void> {
    const servers = await session.waitForSpans((s) => s.kind === 'SERVER', 3);
    const byTradeNo = (tradeNo: string) => servers.find((s) => s.attributes['payment.trade_no'] === tradeNo);
    const paid = byTradeNo('NEST-1');
    assert.equal(paid?.traceId, TRACE_ID, 'the payment stays in the trace it came in with');
    assert.equal(paid?.attributes['http.route'], '/api/payments');
    assert.equal(paid?.attributes['payment.provider'], 'acme');
    const [create] = await session.waitForSpans((s) => s.name === 'payment.create');
    assert.equal(create.parentSpanId, paid?.spanId);
    const declined = byTradeNo('NEST-2');
    assert.deepEqual([declined?.attributes['payment.outcome'], declined?.attributes['payment.failure.reason']], ['failed', 'invalid_request']);
    assert.deepEqual(declined?.events.map((e) => e.attributes['exception.type']), ['BadRequestException']);
    const broken = byTradeNo('NEST-3');
    assert.deepEqual([broken?.attributes['payment.outcome'], broken?.attributes['payment.failure.reason']], ['failed', 'internal']);
    assert.equal(broken?.attributes['error.type'], 'LedgerUnavailableError');
    const callbacks = await session.waitForSpans((s) => s.name === 'payment.callback', 3);
    const correlated = callbacks.filter((s) => s.attributes['payment.callback.refused'] !== true);
    assert.deepEqual(correlated.map((s) => s.traceId), [TRACE_ID, TRACE_ID], 'the notifications join the flow by its token');
    // The handler's error, answered by Nest's filter, is on its callback span.
    assert.deepEqual(
      correlated.map((s) => [s.status, s.events.map((e) => e.attributes['exception.type'])]).sort(),
      [['ERROR', ['LedgerUnavailableError']], ['UNSET', []]],
    );
    assert.ok(callbacks.some((s) => s.attributes['payment.callback.refused'] === true), 'a notification the parser refused is traced');
    // The other route, and the notify route, are no payment routes: three server spans in all.
    assert.deepEqual(
      session.spans().filter((s) => s.kind === 'SERVER' && s.name !== 'payment.callback').map((s) => s.name),
      ['POST /api/payments', 'POST /api/payments', 'POST /api/payments'],
    );
    assert.equal(session.handle.health().callbacks, 3);
  }

  it('with the Express adapter: payment middleware through the consumer, errors through a filter, callbacks parsing their own body', async () => {
    // Nest's own body parser off: it would refuse a notification before the callback middleware saw it.
    const nest = await NestFactory.create(ExpressAppModule, { bodyParser: false, logger: false });
    nest.setGlobalPrefix('api');
    nest.useGlobalFilters(new PaymentErrorsFilter(nest.getHttpAdapter()));
    await nest.listen(0, '127.0.0.1');
    app = nest;
    url = (await nest.getUrl()).replace('[::1]', '127.0.0.1');
    await checkout();
    await assertTraced();
  });

  it('with the Fastify adapter: both plugins on the root instance, each limited to its routes', async () => {
    const nest = await NestFactory.create<NestFastifyApplication>(FastifyAppModule, new FastifyAdapter(), { logger: false });
    nest.setGlobalPrefix('api');
    nest.useGlobalFilters(new PaymentErrorsFilter(nest.getHttpAdapter()));
    await nest.register(fastifyPayments, { routes: ['/api/payments'], extract });
    await nest.register(fastifyCallback, { routes: ['/api/payments/notify'] });
    await nest.listen(0, '127.0.0.1');
    app = nest;
    url = (await nest.getUrl()).replace('[::1]', '127.0.0.1');
    await checkout();
    await assertTraced();
  });
});
