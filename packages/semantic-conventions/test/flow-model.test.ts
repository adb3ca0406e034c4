/**
 * docs/flow-model.md is the contract the packages implement; every name it puts in a table
 * or a value list must be registered, and its value lists must match the model's enums.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEnumType } from '../scripts/model.js';
import type { Registry } from '../scripts/model.js';
import { loadModelSources, PACKAGE_ROOT, validateModel } from '../scripts/validate.js';

const FLOW_MODEL = join(PACKAGE_ROOT, '..', '..', 'docs', 'flow-model.md');
const DOTTED = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const VALUE = /^[a-z][a-z0-9_]*$/;

function backticked(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/** The text of the section under a `## heading`, up to the next `## `. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/flow-model.md has no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

function enumValues(registry: Registry, attributeId: string): string[] {
  const attr = registry.attributes.get(attributeId);
  assert.ok(attr && isEnumType(attr.type), `${attributeId} is not an enum in the registry`);
  return attr.type.members.map((m) => String(m.value));
}

describe('docs/flow-model.md against the registry', () => {
  // Code blocks hold TypeScript, not names, and their fences would pair up backticks wrongly.
  const markdown = readFileSync(FLOW_MODEL, 'utf8').replace(/^```[^]*?^```$/gm, '');
  const registry = validateModel(loadModelSources());
  const registered = new Set<string>([
    ...registry.attributes.keys(),
    ...registry.spans.map((s) => s.spanName),
    ...registry.metrics.map((m) => m.metricName),
    ...registry.events.map((e) => e.name),
  ]);
  const tableRows = markdown.split('\n').filter((line) => line.startsWith('|'));
  // stage → span name, from the "Stages and spans" table (`payment.sdk <operation>` → `payment.sdk`).
  const stageSpans = new Map(
    tableRows
      .filter((line) => /^\| `[a-z_]+` \| `payment\./.test(line))
      .map((line) => {
        const [stage, span] = backticked(line);
        return [stage, span.replace(/ <[a-z]+>$/, '')];
      }),
  );

  it('every payment.* / checkout.* name in a table is registered', () => {
    const names = new Set(
      tableRows
        .flatMap(backticked)
        .map((token) => token.replace(/ <[a-z]+>$/, '')) // `payment.sdk <operation>` names the span `payment.sdk`
        .filter((token) => DOTTED.test(token) && /^(payment|checkout)\./.test(token)),
    );
    assert.ok(names.size > 30, `found only ${names.size} names; did the tables change shape?`);
    const missing = [...names].filter((name) => !registered.has(name));
    assert.deepEqual(missing, [], 'names in docs/flow-model.md tables missing from model/*.yaml');
  });

  it('every other attribute in a table is an OpenTelemetry attribute', () => {
    const others = new Set(
      tableRows
        .flatMap(backticked)
        .filter((token) => DOTTED.test(token) && !/^(payment|checkout)\./.test(token)),
    );
    const unknown = [...others].filter((name) => !registry.externalAttributes.has(name));
    assert.deepEqual(unknown, []);
  });

  it('every span, metric and event of the registry appears in the contract', () => {
    const mentioned = new Set(backticked(markdown).map((t) => t.replace(/ <[a-z]+>$/, '')));
    const absent = [
      ...registry.spans.map((s) => s.spanName),
      ...registry.metrics.map((m) => m.metricName),
      ...registry.events.map((e) => e.name),
    ].filter((name) => !mentioned.has(name));
    assert.deepEqual(absent, []);
  });

  it('the stages table lists exactly the payment.stage values, each with its registered span', () => {
    const rows = section(markdown, 'Stages and spans')
      .split('\n')
      .filter((line) => /^\| `[a-z_]+` \|/.test(line))
      .map((line) => backticked(line));
    assert.deepEqual(
      rows.map((cells) => cells[0]),
      enumValues(registry, 'payment.stage'),
    );
    for (const cells of rows) {
      const span = cells[1].replace(/ <[a-z]+>$/, '');
      assert.ok(registry.spans.some((s) => s.spanName === span), `span ${span} of stage ${cells[0]}`);
    }
  });

  it('each stage\'s required attributes match the span definition, and its recommended ones are defined there', () => {
    const rows = section(markdown, 'Stages and spans')
      .split('\n')
      .filter((line) => /^\| [a-z]+ \| `/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    assert.equal(rows.length, registry.spans.length, 'one row per stage in "Attributes each stage carries"');
    for (const cells of rows) {
      const stage = cells[1];
      const span = registry.spans.find((s) => s.spanName === stageSpans.get(stage));
      assert.ok(span, `no span definition for stage ${stage}`);
      const required = span.attributes.filter((a) => a.requirementLevel === 'required').map((a) => a.ref);
      const optional = span.attributes.filter((a) => a.requirementLevel !== 'required').map((a) => a.ref);
      const names = (cell: string | undefined): string[] => backticked(cell ?? '').filter((t) => DOTTED.test(t));
      assert.deepEqual(names(cells[2]).sort(), [...required].sort(), `required attributes of ${stage}`);
      for (const name of names(cells[3])) assert.ok(optional.includes(name), `${name} is not defined on the ${stage} span`);
    }
  });

  it('every payment span carries what the contract says every payment span carries', () => {
    for (const span of registry.spans) {
      const refs = span.attributes.map((a) => a.ref);
      for (const name of ['payment.stage', 'payment.trade_no', 'payment.provider', 'payment.method', 'checkout.release', 'checkout.canary.cohort']) {
        assert.ok(refs.includes(name), `${span.spanName} lacks ${name}`);
      }
    }
  });

  it('the value lists match the registry enums exactly', () => {
    const lists = section(markdown, 'Value lists');
    // A list starts at a paragraph that opens with the attribute and runs to the next such paragraph.
    const blocks = lists.split(/\n(?=`(?:payment|checkout)\.[a-z_.]+` \()/).slice(1);
    const found = new Map<string, string[]>();
    for (const block of blocks) {
      const [attribute] = backticked(block);
      const values = block
        .split('\n')
        .flatMap((line, index) =>
          // In a table only the first column holds values; in a paragraph every backticked word does.
          line.startsWith('|') ? backticked(line.split('|')[1] ?? '') : index === 0 ? backticked(line).slice(1) : backticked(line),
        )
        .filter((token) => VALUE.test(token));
      found.set(attribute, values);
    }
    assert.deepEqual(
      [...found.keys()].sort(),
      ['payment.callback.correlation', 'payment.context.rejected', 'payment.context.source'],
    );
    for (const [attribute, values] of found) {
      assert.deepEqual(values, enumValues(registry, attribute), `values of ${attribute}`);
    }
  });

  it('the metrics table matches the registry (instrument and unit)', () => {
    const rows = section(markdown, 'Metrics derived from spans')
      .split('\n')
      .filter((line) => /^\| `[a-z][a-z0-9_.]*` \|/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    assert.equal(rows.length, registry.metrics.length);
    for (const cells of rows) {
      const name = backticked(cells[1])[0];
      const metric = registry.metrics.find((m) => m.metricName === name);
      assert.ok(metric, `metric ${name}`);
      assert.equal(cells[2], metric.instrument, `instrument of ${name}`);
      assert.equal(backticked(cells[3])[0], metric.unit, `unit of ${name}`);
      const by = cells[4]?.split(' by ')[1];
      if (by !== undefined) {
        assert.deepEqual(backticked(by).sort(), metric.attributes.map((a) => a.ref).sort(), `dimensions of ${name}`);
      }
    }
  });
});
