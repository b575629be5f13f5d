// A loopback HTTP proxy in front of the test Orthanc that can misbehave on demand: hang, answer 500,
// answer garbage, answer too much, or ask Orthanc for PS3.19 XML instead of JSON.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'stall-frames' | 'status-500' | 'garbage' | 'oversized' | 'xml';

export interface FaultyProxy {
  url: string;
  mode: ProxyMode;
  /** Requests seen since start. */
  requests: number;
  stop(): Promise<void>;
}

export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: FaultyProxy = { url: '', mode: 'pass', requests: 0, stop: async () => undefined };

  const forward = (req: IncomingMessage, res: ServerResponse, headers: IncomingMessage['headers']): void => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...headers, host: upstream.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    proxy.requests += 1;
    switch (proxy.mode) {
      case 'stall':
        return; // headers never come
      case 'stall-frames':
        if (req.url?.includes('/frames/')) return;
        return forward(req, res, req.headers);
      case 'status-500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('<html>this is not DICOM</html>');
        return;
      case 'oversized': {
        res.writeHead(200, { 'content-type': 'application/dicom+json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const push = (): void => {
          while (sent < 256 && res.write(chunk)) sent++;
          if (sent >= 256) res.end();
          else res.once('drain', push);
        };
        push();
        return;
      }
      case 'xml': {
        const accept = req.headers.accept ?? '';
        const headers = accept.includes('application/dicom+json') ? { ...req.headers, accept: 'multipart/related; type="application/dicom+xml"' } : req.headers;
        return forward(req, res, headers);
      }
      case 'pass':
        return forward(req, res, req.headers);
    }
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('proxy did not listen');
  proxy.url = `http://127.0.0.1:${addr.port}${upstream.pathname.replace(/\/+$/, '')}`;
  proxy.stop = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return proxy;
}
