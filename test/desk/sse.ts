// A server-sent event reader for tests: follows /api/stream with a session
// cookie and keeps every event, in order, for assertions.
export interface SseEvent {
  event: string;
  data: any;
  /** Date.now() when it arrived */
  at: number;
}

export interface SseStream {
  status: number;
  events: SseEvent[];
  /** the first event (after `from`) matching pred */
  wait(pred: (e: SseEvent) => boolean, timeoutMs?: number, what?: string): Promise<SseEvent>;
  close(): void;
}

export async function openStream(base: string, cookie: string, topics: string): Promise<SseStream> {
  const ac = new AbortController();
  const r = await fetch(`${base}/api/stream?topics=${topics}`, { headers: { cookie, accept: 'text/event-stream' }, signal: ac.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  if (r.status === 200 && r.body) {
    void (async () => {
      const dec = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
          buf += dec.decode(chunk, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length === 0) continue;
            events.push({ event, data: JSON.parse(data.join('\n')), at: Date.now() });
            for (const w of [...waiters]) w();
          }
        }
      } catch {
        /* aborted */
      }
    })();
  } else await r.body?.cancel().catch(() => {});
  return {
    status: r.status,
    events,
    wait(pred, timeoutMs = 10_000, what = 'event') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`stream: no ${what} within ${timeoutMs} ms (seen: ${events.map((e) => e.event).join(', ')})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => ac.abort(),
  };
}
