// A microphone shared by several users (a call, adaptive PA volume,
// supervision's acoustic loop): each user holds a lease; the source starts
// when the first lease is taken and stops when the last one is released, so an
// idle kiosk runs no microphone (and no hands-free chain) unless something
// that samples it while idle holds a lease.
//
// Start and stop run one after the other (a chain of promises), and each step
// compares what runs with what the leases want at that moment: a stop still in
// progress when a new call takes its lease is followed by a start, never the
// other way round, and a stop never tears down what a lease taken meanwhile
// needs. A failure to start is reported through onError (the owner raises the
// audio fault) and rejects the lease's `ready`; the next lease taken retries.
import type { AudioInput, FrameTimeListener } from './types.js';

export interface InputLease {
  /** who holds it (status, logs) */
  readonly user: string;
  /** settles once the source runs for this lease (rejects when it could not start) */
  readonly ready: Promise<void>;
  /** Lets go (idempotent); resolves once the source stopped, if this was the last lease. */
  release(): Promise<void>;
}

/** An input that is started and stopped by leases rather than by start()/stop() from one owner. */
export interface LeasedInput extends AudioInput {
  acquire(user: string): InputLease;
  /** the users holding a lease now */
  users(): string[];
}

export function isLeased(input: AudioInput): input is LeasedInput {
  return typeof (input as Partial<LeasedInput>).acquire === 'function';
}

/**
 * A lease on any input: a leased input's own, or for a plain input one that starts it and, when
 * `stopPlain` is set, stops it on release (a plain input has one owner, so its owner decides).
 */
export function leaseInput(input: AudioInput, user: string, stopPlain: boolean): InputLease {
  if (isLeased(input)) return input.acquire(user);
  const ready = input.start();
  let released = false;
  return {
    user,
    ready,
    release: async () => {
      if (released || !stopPlain) return;
      released = true;
      await input.stop();
    },
  };
}

/** The lease bookkeeping: runs `up` for the first lease and `down` after the last, one step at a time. */
export class Leases {
  private readonly held = new Map<symbol, string>();
  private own?: InputLease;
  private running = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly up: () => Promise<void>,
    private readonly down: () => Promise<void>,
    private readonly onError: (msg: string) => void = () => {},
  ) {}

  acquire(user: string): InputLease {
    const token = Symbol(user);
    this.held.set(token, user);
    const ready = this.settle();
    let released = false;
    return {
      user,
      ready,
      release: () => {
        if (released) return this.chain;
        released = true;
        this.held.delete(token);
        return this.settle().catch(() => {});
      },
    };
  }

  users(): string[] {
    return [...this.held.values()];
  }

  /** For a single owner that does not name itself (start()/stop() of a leased input): one lease of its own. */
  async startOwner(): Promise<void> {
    this.own ??= this.acquire('owner');
    await this.own.ready;
  }

  async stopOwner(): Promise<void> {
    const own = this.own;
    this.own = undefined;
    await own?.release();
  }

  /** the source runs (or is starting) for the leases */
  get active(): boolean {
    return this.running;
  }

  /** One step after those queued: start or stop as the leases held now want. */
  private settle(): Promise<void> {
    const step = this.chain.then(async () => {
      const want = this.held.size > 0;
      if (want === this.running) return;
      this.running = want;
      if (!want) return this.down();
      try {
        await this.up();
      } catch (err) {
        this.running = false;
        this.onError(`microphone: ${(err as Error).message}`);
        throw err;
      }
    });
    this.chain = step.catch(() => {});
    return step;
  }
}

/**
 * A plain input behind leases. start()/stop() stay for a single owner that
 * does not name itself: they take and release one lease of their own.
 */
export class SharedInput implements LeasedInput {
  readonly rate: number;
  private readonly leases: Leases;

  constructor(
    /** the source itself (the simulated room, ALSA capture, a WAV file, silence) */
    readonly source: AudioInput,
    onError?: (msg: string) => void,
  ) {
    this.rate = source.rate;
    this.leases = new Leases(
      () => source.start(),
      () => source.stop(),
      onError,
    );
  }

  onFrame(listener: FrameTimeListener): () => void {
    return this.source.onFrame(listener);
  }

  acquire(user: string): InputLease {
    return this.leases.acquire(user);
  }

  users(): string[] {
    return this.leases.users();
  }

  get started(): boolean {
    return this.leases.active;
  }

  start(): Promise<void> {
    return this.leases.startOwner();
  }

  stop(): Promise<void> {
    return this.leases.stopOwner();
  }
}
