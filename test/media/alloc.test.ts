// The call's audio path allocates nothing per packet once warm: microphone
// frame -> hands-free chain (echo canceller on) -> encoded RTP packet; received
// packet -> jitter buffer -> decoded frame -> mixer (resampled 8 -> 16 kHz) ->
// output frame and echo reference. Measured in a child process with
// --expose-gc (test/helpers/alloc-probe.ts): JavaScript heap growth with no
// collection in between, and external (ArrayBuffer) memory. What remains is
// Node 20's performance.now(), which allocates a small array per call
// (process.hrtime); the probe measures that cost and the path reads the clock
// three times per packet. Node's own dgram send and receive are outside (the
// socket is stubbed): they allocate per packet whatever we do.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO } from '../helpers/processes.js';

describe('allocation-free call audio path', function () {
  this.timeout(120_000);
  for (const [codec, mode] of [
    ['PCMU', 'aec'],
    ['G722', 'aec'],
    ['PCMA', 'off'],
  ] as const) {
    it(`${codec}, hands-free ${mode}: no buffers and no heap allocation of our own per packet`, () => {
      // An allocation written in our code shows in every process. What the optimising compiler made of the hot
      // functions can differ between processes on a loaded machine (collections during the warm-up move
      // allocation-site feedback), and unoptimised code boxes numbers: so up to three fresh processes, the
      // first within the bound passes, and a failure shows every run with the methods left unoptimised.
      const runs: string[] = [];
      for (let run = 0; run < 3; run++) {
        // --no-concurrent-recompilation: the hot functions are optimised on this thread during the warm-up, not on a
        // background thread that a loaded machine may not have run yet (unoptimised code allocates what escape analysis removes).
        const out = execFileSync(process.execPath, ['--expose-gc', '--no-concurrent-recompilation', '--allow-natives-syntax', '--import', 'tsx', path.join(REPO, 'test/helpers/alloc-probe.ts'), codec, mode], { cwd: REPO, encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').pop()!) as { running: string; bytesPerPacket: number; externalBytesPerPacket: number; clockBytesPerCall: number; notOptimized?: string[] };
        assert.equal(r.running, mode);
        assert.ok(Number.isFinite(r.bytesPerPacket), `no clean measurement: ${out}`);
        assert.equal(r.externalBytesPerPacket, 0, 'ArrayBuffers allocated on the path');
        // one typed array or Buffer object alone is over 60 bytes of heap: this bound leaves no room for one
        if (r.bytesPerPacket <= 3 * r.clockBytesPerCall + 8) return;
        runs.push(`${r.bytesPerPacket.toFixed(1)} heap bytes per packet (the clock accounts for ${(3 * r.clockBytesPerCall).toFixed(1)}; not optimised: ${r.notOptimized?.join(' ') || 'none'})`);
      }
      assert.fail(`over the bound in three processes: ${runs.join('; ')}`);
    });
  }
});
