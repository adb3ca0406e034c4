import express from 'express';
import type { RequestHandler } from 'express';

/**
 * A first-party OTLP/HTTP path (`POST /v1/traces`) for the pages and the backend alike: each
 * export is handed to every target, and the first target's answer goes back to the sender.
 * The browser posts to its own origin (no CORS, not blocked as a third party), and the demo
 * can check what it sent while the same spans also reach a real collector.
 */
export function otlpRelay(targets: readonly string[], onFailure: (target: string, why: string) => void = () => {}): RequestHandler[] {
  const forward: RequestHandler = async (req, res) => {
    // sendBeacon posts OTLP/JSON as text/plain; collectors want the real content type.
    const type = req.get('content-type')?.startsWith('application/x-protobuf') ? 'application/x-protobuf' : 'application/json';
    const headers: Record<string, string> = { 'content-type': type };
    const encoding = req.get('content-encoding');
    if (encoding !== undefined) headers['content-encoding'] = encoding;
    const body = Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array(0);
    const answers = await Promise.allSettled(targets.map((url) => fetch(url, { method: 'POST', headers, body })));
    answers.forEach((answer, i) => {
      if (answer.status === 'rejected') onFailure(targets[i], String(answer.reason));
      else if (!answer.value.ok) onFailure(targets[i], `HTTP ${answer.value.status}`);
    });
    const first = answers[0];
    if (first?.status !== 'fulfilled') return void res.sendStatus(502);
    const answerType = first.value.headers.get('content-type');
    if (answerType !== null) res.type(answerType);
    res.status(first.value.status).send(Buffer.from(await first.value.arrayBuffer()));
  };
  return [express.raw({ type: () => true, limit: '8mb', inflate: false }), forward];
}
