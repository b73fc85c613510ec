// The heap a child process keeps, read through its inspector (node --inspect):
// a full garbage collection first, so what remains is what the process holds,
// not garbage V8 has not collected yet. RSS alone follows V8's heap sizing.
import WebSocket from 'ws';
import type { Managed } from '../../src/testbed/proc.js';

/** node's flag for an inspector on a free loopback port. */
export const INSPECT = '--inspect=127.0.0.1:0';

export async function heapAfterGc(proc: Managed): Promise<number> {
  const line = await proc.waitFor(/Debugger listening on ws:\/\/\S+/, 5_000);
  const url = /ws:\/\/\S+/.exec(line)![0];
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  let id = 0;
  const call = (method: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const my = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const m = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        if (m.id !== my) return;
        ws.off('message', onMessage);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result ?? {});
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: my, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    return (await call('Runtime.getHeapUsage')).usedSize as number;
  } finally {
    ws.close();
  }
}
