import { FlowError } from './flows/errors.js';

/**
 * How the diagnostic log (and nothing else) describes an error. Log output is shipped to log
 * aggregation, so it is held to the rule exported spans are held to: no card number, token,
 * secret or signature leaves the process. An error from the application's code (a hook, a
 * custom flow store, a sampler or processor of its SDK) or from a library can hold anything a
 * request carried, in its message or in other properties (Node's `ERR_INVALID_URL` keeps the
 * whole URL, password included, as `input`), and the loggers print all of it. So the log gets
 * the error's class, its code, how long its message is and where it was thrown, never the
 * message or any other property; only the package's own errors, whose messages it wrote
 * itself, are logged with their message.
 */

const IDENTIFIER = /^[A-Za-z_$][\w$]{0,63}$/;
const CODE = /^[\w.-]{1,64}$/;
/** Stack frames kept: enough to find the throwing line in the application's code. */
const MAX_FRAMES = 8;
/** Causes followed (a store error wrapping the client's error wrapping the socket's). */
const MAX_CAUSES = 2;

const own = new WeakSet<object>();

/** An `Error` the package makes itself: its message is the package's own words, safe to log. */
export function ownError(message: string): Error {
  const error = new Error(message);
  // Its stack starts where the package made it, not in this helper.
  Error.captureStackTrace(error, ownError);
  own.add(error);
  return error;
}

/**
 * An error to hand to OpenTelemetry in place of `error` (as an export's result, which its batch
 * processor passes to the global error handler, whose default logs every property as JSON):
 * `context` and the first line of `errorSummary`, under the original's class name (read as
 * `error.type` by the SDK's own metrics), without a stack, which would only point here.
 */
export function sanitizedError(context: string, error?: unknown): Error {
  const summary = error === undefined ? '' : `: ${errorSummary(error).split('\n', 1)[0]}`;
  const sanitized = ownError(`${context}${summary}`);
  delete sanitized.stack;
  if (error instanceof Error) {
    try {
      const name = nameOf(error);
      if (name !== 'Error') Object.defineProperty(sanitized, 'name', { value: name, configurable: true, writable: true });
    } catch {
      // Its class name is a nicety; the message says what happened.
    }
  }
  return sanitized;
}

/** One line per error (and per cause), plus the first stack frames of the outermost one. */
export function errorSummary(error: unknown): string {
  try {
    return describe(error, 0);
  } catch {
    // A getter that throws, a revoked proxy: nothing more can be said safely.
    return 'an error that cannot be described';
  }
}

function describe(error: unknown, depth: number): string {
  if (!(error instanceof Error)) {
    if (typeof error === 'string') return `a thrown string of ${error.length} characters (not logged)`;
    return error === null || error === undefined ? `a thrown ${String(error)}` : `a thrown ${typeof error}`;
  }
  let text = nameOf(error);
  const code = (error as { code?: unknown }).code;
  if ((typeof code === 'string' && CODE.test(code)) || (typeof code === 'number' && Number.isInteger(code))) text += ` [${code}]`;
  const message = typeof error.message === 'string' ? error.message : '';
  if (own.has(error) || error instanceof FlowError) text += `: ${message}`;
  else if (message.length > 0) text += ` (message of ${message.length} character${message.length === 1 ? '' : 's'}, not logged)`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_CAUSES) text += `; caused by ${describe(cause, depth + 1)}`;
  return depth === 0 ? text + frames(error, message) : text;
}

function nameOf(error: Error): string {
  if (typeof error.name === 'string' && IDENTIFIER.test(error.name)) return error.name;
  const constructorName = (error.constructor as { name?: unknown } | undefined)?.name;
  return typeof constructorName === 'string' && IDENTIFIER.test(constructorName) ? constructorName : 'Error';
}

/**
 * The stack's frames (`    at fn (file:line:col)`), without its first line, which repeats the
 * message. They are read only after the message's end, so a message that itself spans lines
 * shaped like frames cannot slip a part of itself in.
 */
function frames(error: Error, message: string): string {
  let stack: unknown;
  try {
    stack = error.stack;
  } catch {
    return '';
  }
  if (typeof stack !== 'string') return '';
  const at = message.length === 0 ? 0 : stack.indexOf(message);
  // A message changed after the error was made is not found: its stack's first line is unknown.
  if (at < 0) return '';
  const lines = stack
    .slice(at + message.length)
    .split('\n')
    .filter((line) => /^\s+at \S/.test(line))
    .slice(0, MAX_FRAMES);
  return lines.length === 0 ? '' : `\n${lines.join('\n')}`;
}
