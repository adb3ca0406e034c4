import type { HealthCounters } from './health.js';
import { HEALTH_CONFIG_PROBLEMS } from './health-names.js';

/**
 * Every name an options object of type `T` may have. A `Record` over the type's keys, so that an
 * option added to the type and not to its list fails the type check instead of being reported
 * as unknown.
 */
export type OptionNames<T> = Readonly<Record<keyof T, true>>;

/**
 * Where problems with options are reported: a handle's counters, or a record of them kept until
 * there is a handle to count them in (see the redaction processor).
 */
export type OptionProblems = Pick<HealthCounters, 'rejectOption' | 'increment'>;

/**
 * A name that may be shown in a diagnostic: shaped like an option name (letters, `_`, `$`, `-`,
 * at most two trailing digits, 40 characters at most). Anything else may be a value put where a
 * name belongs (a secret spread into the options, a header or resource entry one level too high),
 * and log output leaves the process as spans do.
 */
const SHOWN_NAME = /^[A-Za-z_$][A-Za-z_$-]{0,37}[0-9]{0,2}$/;

/**
 * Reports the names of `options` that `known` does not list: a misspelt option (`servicename`,
 * `flows.sweeper.intervalMS`) is otherwise ignored without a word, and its default silently
 * applies. Each such name is counted in `configProblems` and said once through `diag` as any
 * unusable option is, naming it (`path.name`) when it looks like an option name; the others are
 * counted each and said together, without their names. Returns how many were found.
 */
export function reportUnknownOptions(options: object, known: Readonly<Record<string, true>>, path: string, health: OptionProblems): number {
  const unknown = Object.keys(options).filter((name) => !Object.prototype.hasOwnProperty.call(known, name));
  const unshown = unknown.filter((name) => !SHOWN_NAME.test(name));
  for (const name of unknown) {
    if (!SHOWN_NAME.test(name)) continue;
    const option = path === '' ? name : `${path}.${name}`;
    health.rejectOption(`unknown:${option}`, `option ${option} is not a known option; ignored`);
  }
  if (unshown.length > 0) {
    const where = path === '' ? 'the startCheckoutTracing options have' : `option ${path} has`;
    const what = unshown.length === 1 ? 'a name that is not a known option' : `${unshown.length} names that are not known options`;
    // One line for all of them, as for span processors: counted each, said once.
    health.increment(HEALTH_CONFIG_PROBLEMS, unshown.length - 1);
    health.rejectOption(`unknown:${path}:unshown`, `${where} ${what} (not shown: not shaped like an option name, it may be a value); ignored`);
  }
  return unknown.length;
}

/**
 * Problems with options found before there is a handle to count them in, kept and reported
 * later (`reportTo`), in the order found. An application's own SDK makes its redaction
 * processor before `startCheckoutTracing` runs and before it sets its diagnostic logger, so
 * counted then, they would land in no handle's `configProblems`, and said then, nowhere.
 */
export class KeptOptionProblems implements OptionProblems {
  private readonly kept: Array<(to: OptionProblems) => void> = [];

  rejectOption(option: string, message: string): void {
    this.kept.push((to) => to.rejectOption(option, message));
  }

  increment(name: string, by?: number): void {
    this.kept.push((to) => to.increment(name, by));
  }

  get empty(): boolean {
    return this.kept.length === 0;
  }

  reportTo(problems: OptionProblems): void {
    for (const report of this.kept.splice(0)) report(problems);
  }
}
