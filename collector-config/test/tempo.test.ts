import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { loadCollectorConfig } from './support/collector-config.js';
import {
  MAX_DEDICATED_COLUMNS_PER_SCOPE,
  TEMPO_CONFIG_URL,
  comparedAttributes,
  dedicatedColumnProblems,
  dedicatedColumns,
  envReferences,
  expandEnv,
  keyProblems,
  loadTempoConfig,
  onCallQueries,
  parseGoDuration,
  registryAttributeScopes,
  uncoveredAttributes,
  valueAt,
} from './support/tempo.js';
import type { DedicatedColumn, TempoConfig } from './support/tempo.js';

/** The node package's default `callbackMaxAgeSeconds`: a callback may come this long after the click. */
const CALLBACK_MAX_AGE_SECONDS = 48 * 3600;

const text = readFileSync(TEMPO_CONFIG_URL, 'utf8');
const config = loadTempoConfig();
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function port(address: unknown): number {
  const match = /:(\d+)$/.exec(String(address));
  assert.ok(match, `${String(address)} has no port`);
  return Number(match[1]);
}

function seconds(path: string, from: TempoConfig = config): number {
  const value = valueAt(from, path);
  assert.equal(typeof value, 'string', `${path} is set, as a duration string`);
  return parseGoDuration(value as string);
}

/** Whether the configuration lets the metrics-generator run, and why. */
function generatorProblems(tempo: TempoConfig): string[] {
  const problems: string[] = [];
  const path = valueAt(tempo, 'metrics_generator.storage.path');
  if (typeof path === 'string' && path !== '') problems.push(`metrics_generator.storage.path is set (${path}): the metrics-generator runs`);
  const processors = valueAt(tempo, 'overrides.defaults.metrics_generator.processors');
  if (Array.isArray(processors) && processors.length > 0) problems.push(`overrides enable metrics-generator processors: ${processors.join(', ')}`);
  return problems;
}

describe('Tempo configuration (tempo/tempo.yaml)', () => {
  describe('keys', () => {
    it('reads the environment only through ${NAME} and ${NAME:-default}', () => {
      const { references, strays } = envReferences(text);
      assert.deepEqual(strays, []);
      assert.ok(references.has('TEMPO_STORAGE_BACKEND'));
    });

    it('parses as YAML with only keys Tempo 2.5 to 2.8 read, each with a value of the right kind', () => {
      assert.deepEqual(keyProblems(config), []);
      assert.equal(config.target, 'all', 'runs every module in one process');
    });

    for (const [backend, env] of [
      ['s3', { TEMPO_STORAGE_BACKEND: 's3', TEMPO_S3_BUCKET: 'traces', TEMPO_S3_ENDPOINT: 's3.eu-west-1.amazonaws.com', TEMPO_S3_REGION: 'eu-west-1', TEMPO_S3_INSECURE: 'true' }],
      ['gcs', { TEMPO_STORAGE_BACKEND: 'gcs', TEMPO_GCS_BUCKET: 'traces' }],
    ] as const) {
      it(`switches to ${backend} with environment variables alone, still with only keys Tempo reads`, () => {
        const expanded = loadTempoConfig(env);
        assert.deepEqual(keyProblems(expanded), []);
        assert.equal(valueAt(expanded, 'storage.trace.backend'), backend);
        const bucket = backend === 's3' ? 'storage.trace.s3.bucket' : 'storage.trace.gcs.bucket_name';
        assert.equal(valueAt(expanded, bucket), 'traces');
        if (backend === 's3') {
          assert.equal(valueAt(expanded, 'storage.trace.s3.insecure'), true);
          assert.equal(valueAt(expanded, 'storage.trace.s3.endpoint'), 's3.eu-west-1.amazonaws.com');
        }
      });
    }

    it('stores blocks on local disk when no variable is set', () => {
      assert.equal(valueAt(config, 'storage.trace.backend'), 'local');
      assert.ok(valueAt(config, 'storage.trace.local.path'), 'a local path for blocks');
      assert.ok(valueAt(config, 'storage.trace.wal.path'), 'a path for the write-ahead log');
      assert.notEqual(valueAt(config, 'storage.trace.local.path'), valueAt(config, 'storage.trace.wal.path'));
      assert.equal(valueAt(config, 'storage.trace.s3.insecure'), false);
    });

    describe('the check catches', () => {
      const cases: Array<[string, (broken: TempoConfig) => void, RegExp]> = [
        [
          'a misspelled key',
          (broken) => {
            const compaction = valueAt(broken, 'compactor.compaction') as Record<string, unknown>;
            compaction.block_retension = compaction.block_retention;
            delete compaction.block_retention;
          },
          /^compactor\.compaction\.block_retension is not a key Tempo reads$/,
        ],
        [
          'a misspelled section',
          (broken) => {
            broken.query_fronted = broken.query_frontend;
            delete broken.query_frontend;
          },
          /^query_fronted is not a key Tempo reads$/,
        ],
        [
          'a misspelled key in a dedicated column',
          (broken) => {
            (dedicatedColumns(broken)[0] as Record<string, unknown>).scpoe = 'span';
          },
          /^storage\.trace\.block\.parquet_dedicated_columns\[0\]\.scpoe is not a key Tempo reads$/,
        ],
        [
          'a retention in days, which Go durations do not have',
          (broken) => {
            (valueAt(broken, 'compactor.compaction') as Record<string, unknown>).block_retention = '7d';
          },
          /block_retention unknown unit "d"/,
        ],
        [
          'a duration without a unit',
          (broken) => {
            (valueAt(broken, 'query_frontend.search') as Record<string, unknown>).max_duration = 168;
          },
          /max_duration is the bare number 168, read as nanoseconds/,
        ],
        [
          'a backend Tempo does not have',
          (broken) => {
            (valueAt(broken, 'storage.trace') as Record<string, unknown>).backend = 'S3';
          },
          /storage\.trace\.backend is "S3", not one of local, s3, gcs, azure/,
        ],
        [
          'a receiver address without a port',
          (broken) => {
            (valueAt(broken, 'distributor.receivers.otlp.protocols.grpc') as Record<string, unknown>).endpoint = '0.0.0.0';
          },
          /grpc\.endpoint is "0\.0\.0\.0", not host:port/,
        ],
      ];
      for (const [what, breakIt, problem] of cases) {
        it(what, () => {
          const broken = structuredClone(config);
          breakIt(broken);
          const problems = keyProblems(broken);
          assert.ok(
            problems.some((p) => problem.test(p)),
            JSON.stringify(problems),
          );
        });
      }

      it('a "$" that the expansion would read otherwise', () => {
        assert.throws(() => expandEnv('backend: $TEMPO_STORAGE_BACKEND\n', {}), /not \$\{NAME\}/);
        assert.equal(expandEnv('a: ${A:-x}\nb: "${B}"\n', { B: 'y' }), 'a: x\nb: "y"\n');
        assert.equal(expandEnv('a: ${A:-x}\n', { A: '' }), 'a: x\n', 'an empty variable takes the default');
      });
    });
  });

  describe('Go durations', () => {
    it('are read as Go reads them', () => {
      assert.equal(parseGoDuration('168h'), 7 * 24 * 3600);
      assert.equal(parseGoDuration('1h30m'), 5400);
      assert.equal(parseGoDuration('1.5h'), 5400);
      assert.equal(parseGoDuration('300ms'), 0.3);
      assert.equal(parseGoDuration('2h45m30.5s'), 9930.5);
      assert.equal(parseGoDuration('1µs'), 1e-6);
      assert.equal(parseGoDuration('.5s'), 0.5);
      assert.equal(parseGoDuration('-1m'), -60);
      assert.equal(parseGoDuration('0'), 0);
    });

    it('are refused where Go refuses them', () => {
      for (const bad of ['7d', '1', '', 'h', '1h30', '1.h.m', '-', '1 h', '2w', '100000000h']) {
        assert.throws(() => parseGoDuration(bad), /duration/, bad);
      }
    });
  });

  describe('receiving from the collector', () => {
    const collector = loadCollectorConfig();
    const exporter = collector.exporters['otlp/tempo'] as { endpoint: string; tls?: { insecure?: boolean } };
    const grpc = valueAt(config, 'distributor.receivers.otlp.protocols.grpc') as { endpoint: string; tls?: unknown };
    const http = valueAt(config, 'distributor.receivers.otlp.protocols.http') as { endpoint: string };

    it("listens for OTLP gRPC on the port of the collector's default TEMPO_OTLP_ENDPOINT", () => {
      const defaultEndpoint = /^\$\{env:TEMPO_OTLP_ENDPOINT:-([^}]+)\}$/.exec(exporter.endpoint);
      assert.ok(defaultEndpoint, `the collector's Tempo exporter reads TEMPO_OTLP_ENDPOINT with a default: ${exporter.endpoint}`);
      assert.equal(port(grpc.endpoint), port(defaultEndpoint[1]));
    });

    it("speaks the collector's protocol: gRPC (the otlp exporter), plain text on both sides", () => {
      assert.ok('otlp/tempo' in collector.exporters && !Object.keys(collector.exporters).some((id) => id.startsWith('otlphttp')));
      assert.equal(exporter.tls?.insecure, true);
      assert.equal(grpc.tls, undefined, 'no TLS on the receiver the collector sends to in plain text');
    });

    it('listens on every interface, not on the localhost Tempo 2.7 and later default to', () => {
      for (const endpoint of [grpc.endpoint, http.endpoint]) {
        const host = endpoint.replace(/:\d+$/, '');
        assert.ok(['0.0.0.0', '[::]', ''].includes(host), `${endpoint} is out of the collector's reach`);
      }
    });

    it('listens for OTLP HTTP on 4318, on ports apart from its own HTTP and gRPC servers', () => {
      assert.equal(port(http.endpoint), 4318);
      // Tempo's own servers default to 3200 and 9095 (cmd/tempo/app/config.go).
      const ports = [port(grpc.endpoint), port(http.endpoint), Number(valueAt(config, 'server.http_listen_port') ?? 3200), Number(valueAt(config, 'server.grpc_listen_port') ?? 9095)];
      assert.equal(new Set(ports).size, ports.length, `ports clash: ${ports.join(', ')}`);
    });
  });

  describe('retention and search', () => {
    it("keeps blocks at least as long as a callback may come after the click (the node package's callbackMaxAgeSeconds)", () => {
      assert.ok(seconds('compactor.compaction.block_retention') >= CALLBACK_MAX_AGE_SECONDS);
    });

    it('lets one search cover a whole flow, up to its latest callback, and the whole retention', () => {
      const maxDuration = seconds('query_frontend.search.max_duration');
      assert.ok(maxDuration >= CALLBACK_MAX_AGE_SECONDS, 'a search over two days is allowed');
      assert.ok(maxDuration >= seconds('compactor.compaction.block_retention'), 'every stored block is reachable by one search');
    });

    it('the README states the retention the file sets', () => {
      const retention = valueAt(config, 'compactor.compaction.block_retention') as string;
      assert.ok(readme.includes(`\`${retention}\``), `README.md names ${retention}`);
    });
  });

  describe('dedicated attribute columns', () => {
    const columns = dedicatedColumns(config);
    const queries = onCallQueries();

    it('are written to vParquet4 blocks, which the event:name queries need', () => {
      assert.equal(valueAt(config, 'storage.trace.block.version'), 'vParquet4');
      assert.ok(
        queries.some(({ query }) => query.includes('event:name')),
        'an on-call query reads span events',
      );
    });

    it('name only registry attributes, strings, each with its scope and within Tempo\'s limit per scope', () => {
      assert.deepEqual(dedicatedColumnProblems(columns), []);
      for (const scope of ['span', 'resource']) {
        assert.ok(columns.filter((c) => c.scope === scope).length <= MAX_DEDICATED_COLUMNS_PER_SCOPE);
      }
    });

    it('include the trade number', () => {
      assert.ok(columns.some((c) => c.scope === 'span' && c.name === 'payment.trade_no'));
    });

    it('cover every string attribute an on-call query compares (saved, alert and dashboard queries)', () => {
      assert.deepEqual(uncoveredAttributes(columns, queries), []);
      const compared = new Set(queries.flatMap(({ query }) => comparedAttributes(query).map((a) => `${a.scope}:${a.name}`)));
      for (const expected of ['span:payment.trade_no', 'span:payment.stage', 'span:payment.outcome', 'span:payment.provider', 'resource:deployment.environment.name']) {
        assert.ok(compared.has(expected), `the queries compare ${expected}`);
      }
    });

    it('reads compared attributes, not grouped ones nor those outside a filter', () => {
      assert.deepEqual(comparedAttributes('{ span.payment.stage = "callback" && .payment.provider =~ "a|b" && resource.service.name != nil } | by(span.payment.failure.reason)'), [
        { scope: 'span', name: 'payment.stage' },
        { scope: 'span', name: 'payment.provider' },
        { scope: 'resource', name: 'service.name' },
      ]);
    });

    describe('the check rejects', () => {
      const registry = registryAttributeScopes();
      const column = (name: string, scope = 'span'): DedicatedColumn => ({ scope, name, type: 'string' });
      const cases: Array<[string, DedicatedColumn[], RegExp]> = [
        ['an attribute the registry does not name', [column('payment.tradeno')], /payment\.tradeno: not an attribute the registry names/],
        ['a span attribute given the resource scope', [column('payment.trade_no', 'resource')], /payment\.trade_no: a span attribute, given scope resource/],
        ['a resource attribute given the span scope', [column('deployment.environment.name')], /deployment\.environment\.name: a resource attribute, given scope span/],
        ['an attribute that is not a string', [column('payment.amount')], /payment\.amount: not a string attribute/],
        ['a column without its scope (Tempo reads no default from YAML)', [{ name: 'payment.stage', type: 'string' }], /payment\.stage: no scope/],
        ['a type Tempo does not have', [{ scope: 'span', name: 'payment.stage', type: 'int' }], /payment\.stage: type int/],
        ['a column listed twice', [column('payment.stage'), column('payment.stage')], /payment\.stage: listed twice/],
        [
          'more span columns than Tempo takes',
          [...registry].filter(([, a]) => a.scope === 'span' && a.string).map(([name]) => column(name)),
          /columns of scope span, Tempo takes 10/,
        ],
      ];
      for (const [what, broken, problem] of cases) {
        it(what, () => {
          const problems = dedicatedColumnProblems(broken, registry);
          assert.ok(
            problems.some((p) => problem.test(p)),
            JSON.stringify(problems),
          );
        });
      }

      it('a compared attribute without a column', () => {
        const without = columns.filter((c) => c.name !== 'payment.stage');
        assert.deepEqual(
          uncoveredAttributes(without, [{ source: 'test', query: '{ span.payment.stage = "callback" && span.payment.callback.late = true }' }]),
          ['span payment.stage (test)'],
        );
      });
    });
  });

  // The payment metrics come from the collector, before tail sampling: collector.test.ts checks
  // that ("derives metrics from every span, before any sampling"). Here: Tempo derives none.
  describe('metrics-generator', () => {
    it('is left idle: no storage path, no processors', () => {
      assert.equal(config.metrics_generator, undefined);
      assert.equal(config.overrides, undefined);
      assert.deepEqual(generatorProblems(config), []);
    });

    it('the check catches a metrics-generator switched on', () => {
      const broken = structuredClone(config);
      broken.metrics_generator = { storage: { path: '/var/tempo/generator/wal' } };
      broken.overrides = { defaults: { metrics_generator: { processors: ['span-metrics'] } } };
      assert.equal(generatorProblems(broken).length, 2);
    });
  });

  describe('README', () => {
    const section = readme.slice(readme.indexOf('\n## Tempo\n'), readme.indexOf('\n## ', readme.indexOf('\n## Tempo\n') + 1));

    it('lists the file and has a Tempo section that runs it with the environment expanded and verifies it', () => {
      assert.ok(readme.includes('[`tempo/tempo.yaml`](tempo/tempo.yaml)'));
      assert.ok(section.length > 100, 'a "## Tempo" section');
      assert.ok(section.includes('tempo -config.file=tempo.yaml -config.expand-env=true'));
      assert.ok(section.includes('-config.verify'));
    });

    it('documents exactly the environment variables the file reads, with their defaults', () => {
      const { references } = envReferences(text);
      const rows = new Map([...section.matchAll(/^\| `(TEMPO_[A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((match) => [match[1], match[2]]));
      assert.deepEqual([...rows.keys()].sort(), [...references.keys()].sort());
      for (const [name, fallback] of references) {
        if (fallback !== undefined) assert.ok(rows.get(name)!.includes(`\`${fallback}\``), `${name}: default ${fallback}`);
      }
    });

    it('names every dedicated column', () => {
      for (const { name } of dedicatedColumns(config)) assert.ok(section.includes(`\`${String(name)}\``), `README.md names ${String(name)}`);
    });
  });
});
