import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body of at most `maxBytes` for the callback's token search. A larger body
 * (by Content-Length, or once the bytes read pass the bound) is not buffered further: what
 * was read goes back into the stream with `unshift`, so the application's own handler still
 * reads the whole body, and the search simply does without it. Never rejects.
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(undefined);
  if (req.readableEnded) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (body: Buffer | undefined) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        finish(undefined);
        req.unshift(Buffer.concat(chunks));
        // An explicit pause() keeps a later 'data' listener from starting the flow, as it would
        // on an untouched request; give the handler that behaviour back.
        const resumeOnData = (event: string | symbol) => {
          if (event !== 'data') return;
          req.off('newListener', resumeOnData);
          process.nextTick(() => req.resume());
        };
        req.on('newListener', resumeOnData);
      }
    };
    const onEnd = () => finish(Buffer.concat(chunks));
    const onError = () => finish(undefined);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
