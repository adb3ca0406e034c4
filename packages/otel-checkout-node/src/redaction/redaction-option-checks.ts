import type { OptionProblems } from '../option-names.js';
import { reportUnknownOptions } from '../option-names.js';
import type { OptionNames } from '../option-names.js';
import type { RedactionSpanProcessorOptions } from './types.js';

export const REDACTION_OPTION_NAMES: OptionNames<RedactionSpanProcessorOptions> = {
  enabled: true,
  cardNumbers: true,
  bankAccounts: true,
  inlinePairs: true,
  sensitiveKeys: true,
  sensitiveQueryParameters: true,
  flowTokenParameter: true,
  exemptKeys: true,
  urlKeys: true,
  onRedaction: true,
};

const SWITCHES = ['enabled', 'cardNumbers', 'bankAccounts', 'inlinePairs'] as const;
const NAME_LISTS = ['sensitiveKeys', 'sensitiveQueryParameters', 'exemptKeys', 'urlKeys'] as const;

/**
 * The redaction options with every unusable one left out or read the one way it can be meant,
 * each problem reported to `problems` (counted in `configProblems`, said once). The rules
 * themselves skip what they cannot use without a word, and a rule skipped in silence is a
 * secret exported: `sensitiveKeys: 'x-api-key'` (a string, not a list) would mask nothing.
 *
 * - An unknown name (`sensitivekeys`) is reported and ignored.
 * - A switch that is not a boolean is reported; the rule stays on, its default.
 * - A list given as one string is read as a list of that one name; entries that are not
 *   non-empty strings are left out; anything else is ignored. Each is reported.
 * - A `flowTokenParameter` that is not a non-empty string, or an `onRedaction` that is not a
 *   function, is reported and ignored.
 *
 * `path` names the options in what is said: `redaction` for the setup's option.
 */
export function usableRedactionOptions(options: unknown, path: string, problems: OptionProblems): RedactionSpanProcessorOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    problems.rejectOption(path, `${path} options are not an object; redacting with the default rules`);
    return {};
  }
  const usable: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  reportUnknownOptions(usable, REDACTION_OPTION_NAMES, path, problems);
  const reject = (name: string, why: string, fallback: string): void => {
    delete usable[name];
    problems.rejectOption(`${path}.${name}`, `option ${path}.${name} ${why}; ${fallback}`);
  };

  for (const name of SWITCHES) {
    const value = usable[name];
    if (value !== undefined && typeof value !== 'boolean') reject(name, `is not a boolean (${typeof value})`, 'the rule stays on');
  }
  for (const name of NAME_LISTS) {
    const value = usable[name];
    if (value === undefined) continue;
    if (typeof value === 'string' && value.length > 0) {
      usable[name] = [value];
      // Not echoed: whatever was put where a name belongs may be a secret.
      problems.rejectOption(`${path}.${name}`, `option ${path}.${name} is a string, not a list of names; read as a list of that one name`);
    } else if (!Array.isArray(value)) {
      reject(name, `is not a list of names (${typeof value})`, 'ignored');
    } else {
      const names = value.filter((entry): entry is string => typeof entry === 'string' && entry.length > 0);
      if (names.length < value.length) {
        usable[name] = names;
        const left = value.length - names.length;
        problems.rejectOption(`${path}.${name}`, `option ${path}.${name} has ${left} ${left === 1 ? 'entry' : 'entries'} that ${left === 1 ? 'is not a name' : 'are not names'} (non-empty strings); left out`);
      }
    }
  }
  const tokenParameter = usable.flowTokenParameter;
  if (tokenParameter !== undefined && (typeof tokenParameter !== 'string' || tokenParameter.length === 0)) {
    reject('flowTokenParameter', 'is not a non-empty string', "using the setup's flows.tokenParam");
  }
  if (usable.onRedaction !== undefined && typeof usable.onRedaction !== 'function') reject('onRedaction', `is not a function (${typeof usable.onRedaction})`, 'ignored');
  return usable;
}
