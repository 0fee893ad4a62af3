/**
 * The ceiling: the least any HTTP JSON endpoint on this machine has to do for our payloads.
 * A bare node:http server that reads the whole body, JSON.parses it and sends a fixed reply.
 * No validation, no storage, no framework. Every server figure is reported as a ratio to it,
 * measured in the same run, so the ratios hold on a noisy shared machine.
 *
 * Usage: node bench/ceiling-server.mjs PORT   (prints "listening PORT" when ready)
 */
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const REPLY = Buffer.from('{"success":true,"messageId":"ceiling","info":"Event queued for processing"}');
const BAD = Buffer.from('{"statusCode":400,"error":"Bad Request","message":"invalid JSON"}');

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let ok = true;
    try {
      JSON.parse((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8'));
    } catch {
      ok = false;
    }
    res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json', 'content-length': ok ? REPLY.length : BAD.length });
    res.end(ok ? REPLY : BAD);
  });
});
// The same keep-alive window as Node's default for fastify, so connections are reused alike.
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
