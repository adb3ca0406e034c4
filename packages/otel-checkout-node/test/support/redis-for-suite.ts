import { startRedisServer } from '@otel-checkout/test-support';
import type { StartedRedisServer } from '@otel-checkout/test-support';

/** The real redis-server of one suite, shared by its tests, each store under keys of its own. */
export interface SuiteRedis {
  /** The server's URL; read it in a test or hook, once the suite's `before` has started it. */
  readonly url: string;
  /** A key prefix no other store of the suite uses (`<tag><n>:{flows}:`, one hash tag for a cluster). */
  keyPrefix(tag: string): string;
}

/** Starts a real redis-server before the tests of the suite it is called in, and stops it after them. */
export function redisServerForSuite(): SuiteRedis {
  let server: StartedRedisServer | undefined;
  let sequence = 0;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });
  return {
    get url(): string {
      if (server === undefined) throw new Error("the suite's redis-server is not started: read its url in a test or hook");
      return server.url;
    },
    keyPrefix: (tag) => `${tag}${sequence++}:{flows}:`,
  };
}
