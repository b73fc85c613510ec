// A kiosk's local interface from a benchmark: one small request on a fresh TCP connection (as baresip's ctrl_tcp
// commands come), resolved with the parsed JSON answer, rejected on any status but 200.
import http from 'node:http';

export function request(url: string, method: 'GET' | 'POST', body?: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, { method, agent: false, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(text ? JSON.parse(text) : null) : reject(new Error(`${method} ${url}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Runs request() against a throwaway server in this process: the benchmark's own HTTP client code is compiled
 * before its first timed trigger, so a first figure holds the measured process's cold start, not the bench's.
 */
export async function warmClient(rounds = 3): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as import('node:net').AddressInfo;
  try {
    for (let i = 0; i < rounds; i++) await request(`http://127.0.0.1:${port}/`, 'POST', { input: 'emergency', active: true });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
