import { readFileSync } from 'node:fs';

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}
export interface DataSourceRef {
  type: string;
  uid: string;
}
export interface Target {
  refId: string;
  datasource?: DataSourceRef;
  expr?: string;
  query?: string;
  queryType?: string;
}
export interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DataSourceRef;
  /** A time range of the panel's own (`2d`: the last two days), whatever the dashboard's. */
  timeFrom?: string;
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  datasource?: DataSourceRef;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}
/** Values the template variables take in these tests. */
export const VARIABLE_VALUES: Record<string, string> = {
  __rate_interval: '5m',
  environment: 'production',
  provider: '.*',
  trade_no: 'T1',
};

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(new URL('../../grafana/payment-flows.json', import.meta.url), 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

export interface QueryTarget {
  panel: Panel;
  target: Target;
  kind: 'prometheus' | 'tempo' | 'unknown';
}

export function targetsOf(panels: readonly Panel[]): QueryTarget[] {
  return allPanels(panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => {
      const type = target.datasource?.type ?? panel.datasource?.type;
      const kind = type === 'prometheus' || type === 'tempo' ? type : 'unknown';
      return { panel, target, kind } satisfies QueryTarget;
    }),
  );
}

/** Replaces `$name`, `${name}` and `[[name]]` with the test values; unknown variables stay. */
export function substituteVariables(text: string): string {
  return text.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (match, a?: string, b?: string, c?: string) => {
    const value = VARIABLE_VALUES[(a ?? b ?? c)!];
    return value ?? match;
  });
}
