import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export interface StartedHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:43817`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops listening and cuts open keep-alive connections, so the test run can exit. */
  close(): Promise<void>;
}

/**
 * A real HTTP server on a free port of 127.0.0.1. A handler that throws or rejects gets a
 * 500 answer (if nothing was sent yet) instead of crashing the test process.
 */
export function startHttpServer(handler: HttpHandler): Promise<StartedHttpServer> {
  const server = createServer((request, response) => {
    const fail = (error: unknown): void => {
      if (!response.headersSent) {
        response.statusCode = 500;
        response.setHeader('content-type', 'text/plain');
      }
      response.end(`handler failed: ${String(error)}`);
    };
    try {
      const result = handler(request, response);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  });
  return listenOnLoopback(server);
}

/** Listens on 127.0.0.1:0 and wraps the server with its URL and a thorough close(). */
export function listenOnLoopback(server: Server): Promise<StartedHttpServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('HTTP server reported no TCP address'));
        return;
      }
      const port = address.port;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        server,
        close() {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}
