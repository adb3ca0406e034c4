import net from 'node:net';

/** An HTTP/1.1 answer read off the wire: what the server sent, not what a client made of it. */
export interface RawHttpResponse {
  status: number;
  /** Header lines in order, names as sent. */
  headers: Array<[string, string]>;
  /** The body, de-chunked when sent chunked. */
  body: Buffer;
}

/**
 * What the client does after its last byte: wait for the server to close the connection (send
 * `Connection: close`), or give up at once with a FIN (`end`) or a reset (`reset`). Node's
 * server ends a connection whose client sent a FIN, answered or not, so only `wait` gets the
 * answer of a handler that takes its time.
 */
export type RawClientEnd = 'wait' | 'end' | 'reset';

/**
 * Writes `parts` as they are (one write each, so a request can arrive in pieces) over a new
 * TCP connection and resolves with every byte the server sent until the connection closed.
 * No HTTP client is involved, so header values Node's own client refuses (raw bytes, control
 * characters, repeated headers) reach the server unchanged.
 */
export function sendRaw(port: number, parts: readonly Buffer[], { then = 'wait', timeoutMs = 5000 } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of the answer within ${timeoutMs} ms; received ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the server answered (or refused) is the end of the answer too.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
      if (then === 'end') socket.end();
      else if (then === 'reset') socket.resetAndDestroy();
    });
  });
}

/**
 * Writes `request` over a new TCP connection, reads until the server has sent `marker` (a
 * response begun, not finished), then resets the connection: a client that stops reading
 * midway. Resolves with what it had received.
 */
export function hangUpAfter(port: number, request: string, marker: string, { timeoutMs = 5000 } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`"${marker}" not received within ${timeoutMs} ms; received ${JSON.stringify(received.slice(0, 200))}`));
    }, timeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (!received.includes(marker)) return;
      clearTimeout(timer);
      socket.resetAndDestroy();
      resolve(received);
    });
    socket.on('connect', () => socket.write(request));
  });
}

/** Parses one HTTP/1.1 response; `undefined` when the bytes are not one (nothing sent, or cut off). */
export function parseRawResponse(raw: Buffer): RawHttpResponse | undefined {
  return parseOne(raw)?.response;
}

/** Parses the responses to requests sent one after the other on one connection, as many as are complete. */
export function parseRawResponses(raw: Buffer): RawHttpResponse[] {
  const responses: RawHttpResponse[] = [];
  let rest = raw;
  for (let next = parseOne(rest); next !== undefined; next = parseOne(rest)) {
    responses.push(next.response);
    rest = rest.subarray(next.length);
  }
  return responses;
}

function parseOne(raw: Buffer): { response: RawHttpResponse; length: number } | undefined {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!status) return undefined;
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const header = (name: string) => headers.find(([key]) => key.toLowerCase() === name)?.[1];
  const rest = raw.subarray(headerEnd + 4);
  let body: { body: Buffer; length: number } | undefined = { body: rest, length: rest.length };
  if (header('transfer-encoding')?.toLowerCase() === 'chunked') body = dechunk(rest);
  else if (header('content-length') !== undefined) {
    const length = Number(header('content-length'));
    body = rest.length >= length ? { body: rest.subarray(0, length), length } : undefined;
  }
  return body === undefined ? undefined : { response: { status: Number(status[1]), headers, body: body.body }, length: headerEnd + 4 + body.length };
}

/** The body of a chunked message, and how many bytes its chunks took. */
function dechunk(data: Buffer): { body: Buffer; length: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isInteger(size)) return undefined;
    if (size === 0) return data.length >= lineEnd + 4 ? { body: Buffer.concat(parts), length: lineEnd + 4 } : undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
