import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { DEFAULT_EXEMPT_KEYS, DEFAULT_SENSITIVE_KEYS, isCardNumber, redactSpanData } from '@otel-checkout/core';
import { parse } from 'yaml';
import { collectorSeries, derivedMetrics, loadCollectorConfig, re2ToJs } from './support/collector-config.js';
import type { CollectorConfig } from './support/collector-config.js';
import { registryAttributes, registryMetrics } from './support/registry.js';
import { parseGoDuration } from './support/tempo.js';

const config = loadCollectorConfig();

/** Component ids a pipeline names that the configuration does not define. */
function undefinedComponents(collector: CollectorConfig): string[] {
  const missing: string[] = [];
  const connectors = Object.keys(collector.connectors ?? {});
  for (const [name, pipeline] of Object.entries(collector.service.pipelines)) {
    for (const id of pipeline.receivers ?? []) if (!(id in collector.receivers) && !connectors.includes(id)) missing.push(`${name}: receiver ${id}`);
    for (const id of pipeline.processors ?? []) if (!(id in collector.processors)) missing.push(`${name}: processor ${id}`);
    for (const id of pipeline.exporters ?? []) if (!(id in collector.exporters) && !connectors.includes(id)) missing.push(`${name}: exporter ${id}`);
  }
  return missing;
}

function pipelineType(name: string): string {
  return name.split('/')[0];
}

/** Attribute names and compared values in OTTL conditions: `attributes["k"] == "v"`. */
function conditionReferences(condition: string): { keys: string[]; comparisons: Array<[string, string]> } {
  const keys = [...condition.matchAll(/attributes\["([^"]+)"\]/g)].map((match) => match[1]);
  const comparisons = [...condition.matchAll(/attributes\["([^"]+)"\]\s*[!=]=\s*"([^"]*)"/g)].map((match): [string, string] => [match[1], match[2]]);
  return { keys, comparisons };
}

describe('collector configuration', () => {
  describe('pipelines', () => {
    it('names only components the configuration defines', () => {
      assert.deepEqual(undefinedComponents(config), []);
    });

    it('the check catches a pipeline naming an undefined component', () => {
      const broken = structuredClone(config);
      broken.service.pipelines['traces/store'].processors = ['memory_limiter', 'tail_sampler'];
      assert.deepEqual(undefinedComponents(broken), ['traces/store: processor tail_sampler']);
    });

    it('uses every component it defines', () => {
      const used = new Set(Object.values(config.service.pipelines).flatMap((p) => [...(p.receivers ?? []), ...(p.processors ?? []), ...(p.exporters ?? [])]));
      for (const group of [config.receivers, config.processors, config.exporters, config.connectors]) {
        for (const id of Object.keys(group)) assert.ok(used.has(id), `${id} is defined but in no pipeline`);
      }
    });

    it('connects each connector from a traces pipeline to a metrics pipeline', () => {
      for (const connector of Object.keys(config.connectors)) {
        const from = Object.entries(config.service.pipelines).filter(([, p]) => p.exporters?.includes(connector));
        const to = Object.entries(config.service.pipelines).filter(([, p]) => p.receivers?.includes(connector));
        assert.deepEqual(from.map(([name]) => pipelineType(name)), ['traces'], `${connector} is fed by one traces pipeline`);
        assert.deepEqual(to.map(([name]) => pipelineType(name)), ['metrics'], `${connector} feeds one metrics pipeline`);
      }
    });

    it('derives metrics from every span, before any sampling', () => {
      const samplers = ['tail_sampling', 'probabilistic_sampler', 'filter'];
      for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
        const feedsConnector = (pipeline.exporters ?? []).some((id) => id in config.connectors);
        if (!feedsConnector) continue;
        assert.deepEqual(pipeline.receivers, ['otlp'], `${name} takes spans straight from the receiver`);
        for (const processor of pipeline.processors ?? []) {
          assert.ok(!samplers.some((sampler) => processor === sampler || processor.startsWith(`${sampler}/`)), `${name} must not drop spans (${processor})`);
        }
      }
    });

    it('stores spans redacted, then tail-sampled, with the memory limiter first', () => {
      const store = Object.values(config.service.pipelines).find((p) => p.exporters?.includes('otlp/tempo'));
      assert.ok(store, 'a pipeline exports to Tempo');
      const processors = store.processors ?? [];
      assert.equal(processors[0], 'memory_limiter');
      assert.ok(processors.indexOf('redaction') < processors.indexOf('tail_sampling'));
      assert.ok(processors.indexOf('transform/urls') < processors.indexOf('tail_sampling'));
      assert.ok(processors.indexOf('transform/text') > processors.indexOf('redaction'));
      assert.ok(processors.indexOf('transform/text') < processors.indexOf('tail_sampling'));
      assert.equal(processors.at(-1), 'batch');
    });

    it('keeps every payment flow and every error when sampling', () => {
      const policies = config.processors.tail_sampling.policies as Array<{ type: string; ottl_condition?: { span: string[] }; status_code?: { status_codes: string[] } }>;
      assert.deepEqual(
        policies.map((policy) => policy.type),
        ['ottl_condition', 'status_code', 'probabilistic'],
      );
      assert.deepEqual(policies[0].ottl_condition?.span, ['attributes["payment.stage"] != nil']);
      assert.deepEqual(policies[1].status_code?.status_codes, ['ERROR']);
    });

    it('hands deltatocumulative the derived points in one line, stamped by the collector', () => {
      // It drops a point older than the last one of its series: points stamped with browser
      // clocks, or by concurrent requests, would be lost.
      assert.deepEqual(config.service.pipelines['metrics/payments'].processors, ['batch', 'transform/metric_resource', 'deltatocumulative']);
      const groups = config.processors['transform/metric_resource'].metric_statements as Array<{ context: string; statements: string[] }>;
      assert.deepEqual(groups.find((group) => group.context === 'datapoint')?.statements, ['set(start_time_unix_nano, 0)', 'set(time_unix_nano, UnixNano(Now()))']);
    });

    it('forgets a quiet series in deltatocumulative before the exporter drops it', () => {
      // Else a series the exporter had dropped would come back with its old total, which the
      // rules (counting a new series' first value) would take for new events.
      const maxStale = parseGoDuration(String(config.processors.deltatocumulative.max_stale));
      const expiration = parseGoDuration(String((config.exporters.prometheus as { metric_expiration: string }).metric_expiration));
      assert.ok(maxStale > 0 && maxStale < expiration, `max_stale ${maxStale}s, metric_expiration ${expiration}s`);
      // deltatocumulative looks for stale series once a minute, the exporter at each scrape.
      assert.ok(expiration - maxStale >= 5 * 60, 'a few minutes between the two');
    });

    it('keeps the spans that reach a kept flow after its decision (a callback minutes later)', () => {
      const sampling = config.processors.tail_sampling as { decision_cache?: { sampled_cache_size?: number }; num_traces: number };
      // Larger than the traces held in memory: the ids of kept traces outlive their spans there.
      assert.ok((sampling.decision_cache?.sampled_cache_size ?? 0) > sampling.num_traces);
    });
  });

  describe('derived metrics against the registry', () => {
    const metrics = derivedMetrics(config);
    const registry = registryMetrics();

    it('derives exactly the metrics the registry defines, with their instrument and unit', () => {
      assert.deepEqual(metrics.map((m) => m.name).sort(), registry.map((m) => m.name).sort());
      for (const metric of metrics) {
        const defined = registry.find((m) => m.name === metric.name)!;
        assert.equal(metric.kind, defined.instrument === 'counter' ? 'sum' : 'histogram', metric.name);
        if (metric.unit !== undefined) assert.equal(metric.unit, defined.unit, metric.name);
      }
    });

    it('gives every metric the registry dimensions, and no other', () => {
      for (const metric of metrics) {
        const defined = registry.find((m) => m.name === metric.name)!;
        // service.name identifies the writer (job); it is a label of every series, not a dimension of the registry's.
        const dimensions = [...metric.attributes, ...metric.resourceAttributes.filter((key) => key !== 'service.name')];
        assert.deepEqual([...new Set(dimensions)].sort(), [...defined.attributes].sort(), metric.name);
      }
    });

    it('counts a span that lacks a dimension the registry does not require (the connectors skip it otherwise)', () => {
      for (const metric of metrics) {
        const defined = registry.find((m) => m.name === metric.name)!;
        for (const key of metric.attributes) {
          if (defined.required.includes(key)) continue;
          assert.ok(metric.mayBeAbsent.includes(key), `${metric.name}: ${key} is not required, so it must be optional or have a default_value`);
        }
      }
    });

    it('turns the derived sums into Prometheus counters (_total), which signaltometrics alone would not', () => {
      const series = collectorSeries(config);
      for (const name of ['payment_flows_total', 'payment_callbacks_stalled_total', 'checkout_returns_total', 'checkout_sdk_errors_total']) {
        assert.ok(series.has(name), name);
      }
      const broken = structuredClone(config);
      const groups = broken.processors['transform/metric_resource'].metric_statements as Array<{ context: string; statements: string[] }>;
      broken.processors['transform/metric_resource'].metric_statements = groups.filter((group) => group.context !== 'metric');
      const without = collectorSeries(broken);
      assert.ok(!without.has('payment_flows_total') && without.has('payment_flows'), 'without the statement, a gauge named payment_flows');
      assert.ok(without.has('checkout_sdk_errors_total'), 'the count connector makes counters itself');
    });

    it('the check catches a recommended dimension without optional or default_value', () => {
      const broken = structuredClone(config);
      const flows = (broken.connectors.signaltometrics.spans as Array<{ name: string; attributes: Array<Record<string, unknown>> }>).find((m) => m.name === 'payment.flows')!;
      delete flows.attributes.find((a) => a.key === 'payment.failure.reason')!.optional;
      const sdk = (broken.connectors.count.spanevents as Record<string, { attributes: Array<Record<string, unknown>> }>)['checkout.sdk.errors'];
      sdk.attributes.find((a) => a.key === 'checkout.sdk.version')!.optional = true;
      delete sdk.attributes.find((a) => a.key === 'checkout.sdk.version')!.default_value;
      const derived = derivedMetrics(broken);
      assert.ok(!derived.find((m) => m.name === 'payment.flows')!.mayBeAbsent.includes('payment.failure.reason'));
      assert.ok(!derived.find((m) => m.name === 'checkout.sdk.errors')!.mayBeAbsent.includes('checkout.sdk.version'), 'the count connector knows no optional');
    });

    it('selects spans by registry attributes and values only', () => {
      const attributes = registryAttributes();
      for (const metric of metrics) {
        for (const condition of metric.conditions) {
          const { keys, comparisons } = conditionReferences(condition);
          for (const key of keys) assert.ok(attributes.has(key), `${metric.name}: ${key} is not a registry attribute`);
          for (const [key, value] of comparisons) {
            const members = attributes.get(key);
            if (members) assert.ok(members.includes(value), `${metric.name}: "${value}" is not a value of ${key}`);
          }
        }
      }
    });

    it('counts a flow once: pending, unmapped, duplicate, late and refused callbacks and repeated stalled spans are left out', () => {
      const flows = metrics.find((m) => m.name === 'payment.flows')!;
      const callback = flows.conditions.find((c) => c.includes('"callback"'))!;
      assert.match(callback, /payment\.outcome"\] != "pending"/);
      // The node package keeps a flow waiting after a status its table does not map.
      assert.match(callback, /payment\.failure\.reason"\] != "unmapped_status"/);
      assert.match(callback, /payment\.callback\.duplicate"\] != true/);
      assert.match(callback, /payment\.callback\.late"\] != true/);
      // A refused notification has no outcome; the provider sends it again.
      assert.match(callback, /payment\.callback\.refused"\] != true/);
      const stalled = flows.conditions.find((c) => c.includes('"stalled"'))!;
      assert.match(stalled, /payment\.stalled\.repeat"\] != true/);
      // The outcomes with which the node package lets a flow go at payment.create; pending and
      // unknown keep it waiting for its callback, which is then the flow's end.
      const create = flows.conditions.find((c) => c.includes('"create"'))!;
      const outcomes = [...create.matchAll(/payment\.outcome"\] == "([a-z]+)"/g)].map((m) => m[1]).sort();
      assert.deepEqual(outcomes, ['cancelled', 'failed', 'succeeded']);
    });

    it('measures callback latency on the callback that decided the flow: pending, unmapped, duplicate and refused ones left out, late ones kept', () => {
      const latency = metrics.find((m) => m.name === 'payment.callback.latency')!;
      assert.equal(latency.conditions.length, 1);
      const [condition] = latency.conditions;
      assert.match(condition, /payment\.stage"\] == "callback"/);
      assert.match(condition, /payment\.callback\.delay"\] != nil/);
      // A QR wallet's "waiting for the buyer" notice comes within seconds and keeps the flow waiting.
      assert.match(condition, /payment\.outcome"\] != "pending"/);
      assert.match(condition, /payment\.failure\.reason"\] != "unmapped_status"/);
      assert.match(condition, /payment\.callback\.duplicate"\] != true/);
      assert.match(condition, /payment\.callback\.refused"\] != true/);
      // A callback after the stalled deadline is the slowest kind: it must stay in the histogram.
      assert.doesNotMatch(condition, /payment\.callback\.late/);
    });

    it('counts refused notifications by provider and error type, whatever else the span carries', () => {
      const refused = metrics.find((m) => m.name === 'payment.callbacks.refused')!;
      assert.deepEqual(refused.conditions, ['attributes["payment.callback.refused"] == true']);
      assert.deepEqual(refused.attributes.sort(), ['error.type', 'payment.provider']);
      assert.deepEqual(refused.mayBeAbsent.sort(), ['error.type', 'payment.provider'], 'a refusal is counted even without a provider');
    });

    it('counts every span that mapped a provider status to nothing, by provider and stage, never by the raw status, and not the copies of its outcome', () => {
      const unmapped = metrics.find((m) => m.name === 'payment.status.unmapped')!;
      // The span the status was mapped on holds the raw status; payment.create and the HTTP
      // server span, given the same outcome by recordOutcome, hold only the reason.
      assert.deepEqual(unmapped.conditions, ['attributes["payment.failure.reason"] == "unmapped_status" and attributes["payment.provider.status"] != nil']);
      assert.deepEqual(unmapped.attributes.sort(), ['payment.provider', 'payment.stage']);
      assert.deepEqual(unmapped.mayBeAbsent.sort(), ['payment.provider', 'payment.stage'], 'a status mapped where no stage or provider was set still counts');
    });

    it('writes every series the Prometheus rules read, with the labels they use', () => {
      const rules = parse(readFileSync(new URL('../prometheus/payment-rules.yaml', import.meta.url), 'utf8')) as {
        groups: Array<{ rules: Array<{ expr: string; record?: string }> }>;
      };
      const series = collectorSeries(config);
      const expressions = rules.groups.flatMap((group) => group.rules.map((rule) => rule.expr));
      const raw = expressions.flatMap((expr) => [...expr.matchAll(/\b([a-z_]+(?:_total|_bucket|_count|_sum))\b/g)].map((match) => match[1]));
      assert.ok(raw.length > 5, 'the rules read the raw metrics');
      for (const name of raw) assert.ok(series.has(name), `${name} is not written by the collector`);
      const allLabels = new Set([...series.values()].flatMap((labels) => [...labels]));
      for (const expr of expressions) {
        for (const match of expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)) {
          for (const label of match[1].split(',').map((l) => l.trim()).filter(Boolean)) {
            assert.ok(allLabels.has(label), `${label} (in "${match[0]}") is no label of a collector metric`);
          }
        }
        for (const match of expr.matchAll(/\{([^}]*)\}/g)) {
          for (const label of [...match[1].matchAll(/([a-z_]+)\s*[!=]~?"/g)].map((m) => m[1])) {
            assert.ok(allLabels.has(label), `${label} is no label of a collector metric`);
          }
        }
      }
    });
  });

  describe('redaction (defence in depth, same rules as the libraries)', () => {
    const redaction = config.processors.redaction as {
      ignored_keys: string[];
      blocked_key_patterns: string[];
      blocked_values: string[];
      allow_all_keys: boolean;
    };
    const keyPatterns = redaction.blocked_key_patterns.map((pattern) => re2ToJs(pattern));
    const collectorBlocksKey = (key: string): boolean => keyPatterns.some((pattern) => pattern.test(key));
    const libraryRedactsKey = (key: string): boolean => {
      const span = { name: 'span', attributes: { [key]: 'value' } };
      redactSpanData(span);
      return span.attributes[key] !== 'value';
    };

    it('keeps every attribute and leaves the identifiers people search by untouched', () => {
      assert.equal(redaction.allow_all_keys, true);
      assert.deepEqual([...redaction.ignored_keys].sort(), [...DEFAULT_EXEMPT_KEYS].sort());
    });

    describe('masks the keys the libraries mask, and only those', () => {
      const keys = [
        ...DEFAULT_SENSITIVE_KEYS,
        ...DEFAULT_SENSITIVE_KEYS.map((key) => `http.request.header.${key}`),
        ...DEFAULT_SENSITIVE_KEYS.map((key) => key.toUpperCase()),
        // Sensitive through their ending, as the libraries have it.
        'password',
        'client_secret',
        'access_token',
        'id_token',
        'proxy-authorization',
        'set-cookie',
        'signature',
        'http.request.header.x-hub-signature-256',
        'http.request.header.x-shopify-hmac-sha256',
        'vnp_SecureHash',
        'CHECKSUMHASH',
        'http.request.header.paypal-transmission-sig',
        'merchantSig',
        'http.request.header.x-session-id',
        'jsessionid',
        'http.request.header.x-access-key',
        'gateway.credentials',
        'card.cvc2',
        'card.expiryMonth',
        'cardNumber',
        'card-number',
        'card.number',
        'apikey',
        'debtorIban',
        'payer.account-number',
        'x-csrf-token',
        'webhook_secret',
        'db_password',
        'session.token',
        'merchant.api-key',
        'payment.card_cvv',
        'proxy.bearer',
        'card_expiry',
        'cardExpiration',
        'payment.card.card_exp_date',
        'cardExpiryDate',
        'card_exp_month',
        'ccExpYear',
        // Not sensitive: a short denylisted word inside another word, or as an ending.
        'span',
        'campaign',
        'design',
        'pinned',
        'tokens_used',
        'file.sha256',
        'items.2',
        'company_pan',
        'payment.trade_no',
        'payment.provider',
        'payment.callback.delay',
        'http.request.method',
        'url.path',
        'checkout.sdk.operation',
        // A query parameter named `key` is an API key; an attribute key named `key` is not.
        'key',
        'messaging.kafka.message.key',
        'app.cache_key',
      ];
      for (const key of keys) {
        const expected = libraryRedactsKey(key);
        it(`${key}: ${expected ? 'masked' : 'kept'}`, () => {
          assert.equal(collectorBlocksKey(key), expected);
        });
      }
    });

    it('checks numbers and arrays as well as strings, as the libraries do (redact_all_types)', () => {
      assert.equal((config.processors.redaction as { redact_all_types?: boolean }).redact_all_types, true);
    });

    it('masks card numbers that follow one another, as the libraries do', () => {
      // The processor replaces every match of each pattern in turn ("****"), each pattern on
      // what the previous one left; a match takes the characters around the number with it.
      const apply = (text: string): string => redaction.blocked_values.reduce((value, pattern) => value.replace(re2ToJs(pattern, 'g'), '****'), text);
      for (const text of ['4111111111111111,5555555555554444', 'cards 4111111111111111 5555555555554444 378282246310005', 'pan=4111111111111111&x=5555555555554444']) {
        const out = apply(text);
        assert.doesNotMatch(out, /\d{6}/, `${text} → ${out}`);
        const span = { name: 'span', attributes: { note: text } };
        redactSpanData(span);
        assert.doesNotMatch(span.attributes.note, /\d{6}/, 'the libraries mask them all too');
      }
    });

    it('masks a bearer token under any name or none, and leaves the word in prose', () => {
      const valuePatterns = redaction.blocked_values.map((pattern) => re2ToJs(pattern));
      const masked = (text: string): boolean => valuePatterns.some((pattern) => pattern.test(text));
      for (const text of ['upstream refused Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln', 'acme=Bearer eyJTRACESTATESECRET20', 'BEARER abcdefgh12345678==']) {
        assert.ok(masked(text), `not masked: ${text}`);
      }
      for (const text of ['the bearer of this card', 'Authorization: Bearer [REDACTED]', 'bearer short']) {
        assert.equal(masked(text), false, `masked: ${text}`);
      }
    });

    describe('masks every card number the libraries mask', () => {
      const valuePatterns = redaction.blocked_values.map((pattern) => re2ToJs(pattern));
      const masked = (text: string): boolean => valuePatterns.some((pattern) => pattern.test(text));
      const cards = [
        '4111111111111111',
        '4222222222222',
        '4000000000000000006',
        '5555555555554444',
        '2223003122003222',
        '2200000000000004',
        '378282246310005',
        '6011111111111117',
        '3530111333300000',
        '30569309025904',
        '36000000000008',
        '6200000000000000000',
        '6759649826438453',
        '5000000000005',
      ];
      for (const card of cards) {
        it(`${card}, bare, grouped and in text`, () => {
          assert.ok(isCardNumber(card), 'a card number by the libraries rules');
          const grouped = card.replace(/(\d{4})(?=\d)/g, '$1 ');
          const encoded = [grouped.replace(/ /g, '+'), grouped.replace(/ /g, '%20'), grouped.replace(/ /g, '%2D'), `card%20${card}%20declined`, `%7B%22pan%22%3A%22${card}%22%7D`];
          // A form body encoded again, inside another parameter or a nested URL.
          const encodedTwice = [grouped.replace(/ /g, '%2B'), grouped.replace(/ /g, '%2520'), grouped.replace(/ /g, '%252D'), `card%2520${card}%2520declined`, `%257B%2522pan%2522%253A%2522${card}%2522%257D`];
          encoded.push(...encodedTwice);
          const otherSeparators = ['-', '.', '_', '/', '\t'].map((separator) => grouped.replaceAll(' ', separator));
          for (const text of [card, grouped, ...otherSeparators, `declined: card ${card}.`, `card${card}x`, `{"pan":"${card}"}`, ...encoded]) {
            assert.ok(masked(text), `not masked: ${text}`);
          }
        });
      }
      const notCards = [
        '1732000000007',
        '1732000000007123',
        '500000000009',
        'order 2026112200001234',
        'ref 94111111111111111123',
        '4111  1111  1111  1111',
        'amount 1234567890123.45 JPY',
        'id 550e8400-e29b-41d4-a716-446655440000',
        '+86 138 0013 8000',
        '2026-11-22 05:26:16',
        '10.200.30.40:4318',
        'on 2026/12/05 at 05/40',
        'q=1234%205678%209012%203456',
        'at%201732000000007%20ok',
        'ref%2094111111111111111123',
      ];
      for (const text of notCards) {
        it(`keeps "${text}"`, () => {
          assert.equal(masked(text), false);
        });
      }
    });

    describe('scrubs URL parameters as the libraries do', () => {
      const statements = (config.processors['transform/urls'].trace_statements as Array<{ context: string; statements: string[] }>).flatMap((group) => group.statements);
      const parsed = statements.map((statement) => {
        const match = /^replace_pattern\(attributes\["([^"]+)"\], "([^"]+)", "([^"]+)"\)$/.exec(statement);
        assert.ok(match, `a replace_pattern statement: ${statement}`);
        return { key: match[1], pattern: match[2], replacement: match[3] };
      });
      // `$$` is how a collector configuration writes a literal `$`.
      // Every statement for the key, in order, as the transform processor runs them.
      const scrub = (key: string, value: string): string =>
        parsed
          .filter((s) => s.key === key)
          .reduce((text, statement) => {
            const replacement = statement.replacement.replace(/\$\$/g, '$');
            return text.replace(re2ToJs(statement.pattern, 'g'), (_match, kept: string) => replacement.replace('${1}', kept));
          }, value);
      const libraryScrub = (key: string, value: string): string => {
        const span = { name: 'span', attributes: { [key]: value } };
        redactSpanData(span);
        return span.attributes[key];
      };

      it('covers the URL attributes the libraries scrub, with the same patterns', () => {
        assert.deepEqual([...new Set(parsed.map((s) => s.key))].sort(), ['http.target', 'http.url', 'url.full', 'url.original', 'url.query']);
        const patternsOf = (key: string): string => JSON.stringify(parsed.filter((s) => s.key === key).map((s) => s.pattern));
        for (const key of ['url.original', 'http.url', 'http.target']) assert.equal(patternsOf(key), patternsOf('url.full'), `${key} is scrubbed as url.full is`);
        assert.equal(parsed.filter((s) => s.key === 'url.query').length, 2);
      });

      const query = [
        'otc_flow=v1.abc.def',
        'token=tok_123',
        'access_token=xyz',
        'sign=deadbeef',
        'signature=deadbeef',
        'cvv=123',
        'card_number=4111',
        'client_secret=s3',
        'x-api-key=k',
        'webhook_secret=w',
        'password=p',
        'key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv',
        'KEY=AIzaSyA1b2',
        'card_expiry=1230',
        'cc_exp_month=12',
      ];
      const kept = ['trade_no=T2026120300001234', 'span=1', 'campaign=winter', 'return=1', 'amount=12.50', 'keys=2', 'monkey=1', 'sort_key=amount'];
      for (const parameter of query) {
        const url = `https://shop.example/pay/return?${kept[0]}&${parameter}&${kept[2]}`;
        it(`${parameter.split('=')[0]} in url.full, http.url and url.query`, () => {
          const expected = libraryScrub('url.full', url);
          assert.notEqual(expected, url, 'the libraries scrub it');
          assert.equal(scrub('url.full', url), expected);
          assert.equal(scrub('http.url', url), libraryScrub('http.url', url));
          const bare = `${kept[0]}&${parameter}&${kept[2]}`;
          assert.equal(scrub('url.query', bare), libraryScrub('url.query', bare));
        });
      }

      for (const parameter of query) {
        for (const times of [1, 2]) {
          let carried = `https://shop.example/pay/return?${kept[0]}&${parameter}&${kept[2]}`;
          for (let i = 0; i < times; i++) carried = encodeURIComponent(carried);
          const url = `https://bank.example/pay?order=T1&return_url=${carried}&lang=en`;
          it(`${parameter.split('=')[0]} in a return URL encoded ${times === 1 ? 'once' : 'twice'} inside url.full and url.query`, () => {
            const expected = libraryScrub('url.full', url);
            assert.notEqual(expected, url, 'the libraries scrub it');
            assert.equal(scrub('url.full', url), expected);
            const bare = `order=T1&return_url=${carried}&lang=en`;
            assert.equal(scrub('url.query', bare), libraryScrub('url.query', bare));
          });
        }
      }

      it('scrubs a base64 signature whole, its encoded +, / and = included', () => {
        const url = `https://bank.example/pay?return_url=${encodeURIComponent('https://shop.example/r?trade_no=T1&sign=ab+c/d==&x=1')}`;
        const expected = libraryScrub('url.full', url);
        assert.match(expected, /sign%3DREDACTED%26x/);
        assert.equal(scrub('url.full', url), expected);
      });

      it('leaves a URL without sensitive parameters as it is', () => {
        const url = `https://shop.example/pay/return?${kept.join('&')}`;
        assert.equal(scrub('url.full', url), url);
        assert.equal(libraryScrub('url.full', url), url);
      });
    });

    describe('masks XML elements and cookie headers in free text as the libraries do', () => {
      const groups = config.processors['transform/text'].trace_statements as Array<{ context: string; statements: string[] }>;
      /** An OTTL string literal's value: only `\\` and `\"` are escaped in these. */
      const ottlString = (literal: string): string => JSON.parse(`"${literal}"`) as string;
      const parse = (statement: string): { target: string; pattern: string; replacement: string } => {
        const match = /^replace(?:_all)?_patterns?\((attributes, "value"|status\.message), "((?:[^"\\]|\\.)*)", "((?:[^"\\]|\\.)*)"\)$/.exec(statement);
        assert.ok(match, `a replace_all_patterns or replace_pattern statement: ${statement.slice(0, 80)}`);
        return { target: match[1], pattern: ottlString(match[2]), replacement: ottlString(match[3]) };
      };
      const span = groups.find((group) => group.context === 'span')!.statements.map(parse);
      // `$$` is how a collector configuration writes a literal `$`.
      const scrub = (text: string): string =>
        span
          .filter((s) => s.target !== 'status.message')
          .reduce((value, s) => {
            const replacement = s.replacement.replace(/\$\$/g, '$');
            return value.replace(re2ToJs(s.pattern, 'g'), (_match, first: string, second?: string) => replacement.replace('${1}', first).replace('${2}', second ?? ''));
          }, text);
      const libraryScrub = (text: string): string => {
        const data = { name: 'span', attributes: { 'exception.message': text } };
        redactSpanData(data);
        return data.attributes['exception.message'];
      };

      it('applies the same patterns to span attributes, the status message and span event attributes', () => {
        const patterns = (statements: Array<{ target: string; pattern: string }>, target: string): string[] => statements.filter((s) => s.target === target).map((s) => s.pattern);
        const event = groups.find((group) => group.context === 'spanevent')!.statements.map(parse);
        assert.equal(patterns(span, 'attributes, "value"').length, 2);
        assert.deepEqual(patterns(span, 'status.message'), patterns(span, 'attributes, "value"'));
        assert.deepEqual(patterns(event, 'attributes, "value"'), patterns(span, 'attributes, "value"'));
      });

      it('judges element names as the key patterns do', () => {
        // The names and endings of the redaction processor's key patterns, in the XML pattern.
        const [namesPattern, endingsPattern] = redaction.blocked_key_patterns;
        const [namesStart, namesEnd, endingsStart, endingsEnd] = ['(?i)^(?:.*\\.)?(?:', ')[0-9]*$', '(?i)(?:', ')[._-]?[0-9]*$'];
        assert.ok(namesPattern.startsWith(namesStart) && namesPattern.endsWith(namesEnd), namesPattern);
        assert.ok(endingsPattern.startsWith(endingsStart) && endingsPattern.endsWith(endingsEnd), endingsPattern);
        const names = namesPattern.slice(namesStart.length, -namesEnd.length);
        const endings = endingsPattern.slice(endingsStart.length, -endingsEnd.length);
        assert.ok(span[0].pattern.includes(`(?:otc[._-]?flow|${names})[0-9]*`), 'the names, and the flow token parameter');
        assert.ok(span[0].pattern.includes(`(?:${endings})[._-]?[0-9]*`), 'the endings');
      });

      const wechat = (sign: string): string =>
        `<xml><return_code><![CDATA[SUCCESS]]></return_code><out_trade_no><![CDATA[T2026120300001234]]></out_trade_no><sign_type><![CDATA[MD5]]></sign_type><sign>${sign}</sign></xml>`;
      // Each text, and whether the libraries change it.
      const table: Array<[string, boolean]> = [
        // XML elements
        [wechat('<![CDATA[9A0A8659F005D6984697E2CA0A9CF3B7]]>'), true],
        ['<xml><sign><![CDATA[9A0A8659F005D6984697E2CA0A9CF3B7]]></sign><cvv>123</cvv></xml>', true],
        ['<sign>9A0A8659F005D6984697E2CA0A9CF3B7</sign>', true],
        ['<sign>\n  9A0A8659\n  F005D698\n</sign>', true],
        ['<card><cvv>123</cvv><exp_month>03</exp_month><holderName>A B</holderName><cvc2>1</cvc2></card>', true],
        ['<x-signature alg="RSA2">MEUCIQ+/ab==</x-signature><webhookSecret>whsec_1</webhookSecret><X-Shopify-Hmac-Sha256>ab</X-Shopify-Hmac-Sha256>', true],
        ['<wsse:Username>shop</wsse:Username><wsse:Password Type="#PasswordText">hunter2</wsse:Password><ns2:pan>PAN</ns2:pan><payment.card.number>N</payment.card.number>', true],
        [String.raw`{"body":"<xml><sign>9A0A8659<\/sign><mch_id>1900000109<\/mch_id><\/xml>"}`, true],
        ['<out_trade_no>T2026120300001234</out_trade_no><sign_type>MD5</sign_type><nonce_str>5K8264IL</nonce_str><design>flat</design><span>1</span>', false],
        ['Payment failed: <b>token expired</b> <token expired> see <a href="/help">help</a>, <i>password</i> reset', false],
        ["Type 'Promise<Token>' is not assignable to 'Map<string, Secret>'", false],
        ['<sign></sign><sign/>', false],
        ['<sign>[REDACTED]</sign>', false],
        // cookie headers
        ['Cookie: a=1; session=abcdefghijklmnopqrstuvwxyz', true],
        ['Set-Cookie: sid=s3cr3t; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly', true],
        ['GET /pay HTTP/1.1\nCookie: a=1; sid=xyz\nUser-Agent: curl/8.5.0\nX-Trade-No: T2026120300001234', true],
        ['Cookie: a=1; sid=xyz\r\nHost: shop.example', true],
        ['Set-Cookie: a=1; Path=/\nset-cookie: b=2; Secure\nHost: shop', true],
        [String.raw`{"raw":"GET / HTTP/1.1\r\nCookie: a=1; q=\"x\"; sid=xyz\r\nHost: shop"}`, true],
        ['http.request.header.cookie: a=1; sid=xyz', true],
        ['cookies disabled; session cookie expired, cookie consent given', false],
        ['Cookie: [REDACTED]\nHost: shop', false],
      ];
      for (const [text, changed] of table) {
        it(`${changed ? 'masks' : 'keeps'} ${JSON.stringify(text).slice(0, 90)}`, () => {
          const expected = libraryScrub(text);
          assert.equal(expected !== text, changed, `the libraries: ${expected}`);
          assert.equal(scrub(text), expected);
        });
      }

      it('leaves a cookie= parameter to the pair rules: only a header runs to the end of its line', () => {
        assert.equal(scrub('GET /t?cookie=abc&lang=en; theme=dark'), 'GET /t?cookie=abc&lang=en; theme=dark');
      });

      it('masks more than the libraries where only a back-reference would tell (any end tag closes an element)', () => {
        // Prose with a sensitive name in angle brackets and a later end tag: the libraries want
        // `</password>`, RE2 cannot say so.
        const text = '<p>Enter your <password> here</p>';
        assert.equal(libraryScrub(text), text);
        assert.equal(scrub(text), '<p>Enter your <password>[REDACTED]</p>');
      });
    });
  });
});
