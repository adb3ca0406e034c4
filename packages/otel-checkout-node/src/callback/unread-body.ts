import type { HealthCounters } from '../health.js';
import { declaresBody } from '../http/declares-body.js';
import type { RequestView } from '../http/request-view.js';
import { HEALTH_CALLBACK_BODIES_UNREAD } from '../flows/flow-health.js';

/**
 * Whether a declared body is in neither `body` nor `rawBody`. Parsers skip content types they do
 * not take without a word: Express 5's leave `body` undefined, body-parser 1 (Express 4) and
 * `@koa/bodyparser` leave `{}`, which is no body when nothing read the stream.
 */
function bodyUnparsed(view: RequestView): boolean {
  if (view.rawBody !== undefined) return false;
  const { body } = view;
  if (body === undefined || body === null) return true;
  return view.bodyStream === 'unread' && isEmptyObject(body);
}

function isEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) return false;
  return true;
}

// A media type as RFC 9110 spells one; anything else in the header is text from the request,
// which must not reach the log.
const MEDIA_TYPE_SHAPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

function shownContentType(view: RequestView): string {
  const header = view.headers['content-type'];
  if (header === undefined) return 'none given';
  const type = header.split(';')[0].trim().toLowerCase();
  return MEDIA_TYPE_SHAPE.test(type) ? type : 'not a media type';
}

/**
 * Counts, and says once, a callback whose declared body reached the middleware unread: a token
 * or a field in it is then lost without a word, and the callback only looks uncorrelated. The
 * stream itself is never read here: it belongs to the route's parser, and to the handler.
 */
export function noteUnreadBody(view: RequestView, health: HealthCounters): void {
  // httpCallback without readBody leaves the body to the handler by design (its README says
  // the body is not searched then), and a body lost with its connection is nobody's mistake.
  if (view.bodyStream === 'not-searched' || !declaresBody(view)) return;
  if (view.bodyStream === 'over-limit') {
    health.increment(HEALTH_CALLBACK_BODIES_UNREAD);
    health.warnOnce(
      'callback-body-over-limit',
      "a provider callback's body was over httpCallback's maxBodyBytes and was not searched, so a flow token or a field in it cannot be found; raise maxBodyBytes",
    );
  } else if (bodyUnparsed(view)) {
    health.increment(HEALTH_CALLBACK_BODIES_UNREAD);
    health.warnOnce(
      'callback-body-unread',
      `the route's parser did not read a provider callback's body (content type ${shownContentType(view)}), so a flow token or a field in it cannot be found; mount a parser for that content type before the callback middleware, or give it as expressCallback's or koaCallback's bodyParser (Fastify: a content-type parser that parses it)`,
    );
  }
}
