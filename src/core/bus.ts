// One typed event bus per process. Capabilities publish what happened and
// subscribe to what they react to; none of them calls another directly
// (lamps follow call events, the hub link forwards events, the screen mirrors
// state). Listener errors are caught and logged so one faulty subscriber can
// never break the emergency path of another.
import { EventEmitter } from 'node:events';
import type { KioskEvents } from './events.js';

type Listener<T> = (payload: T) => void;

export class Bus<Events extends { [K in keyof Events]: unknown } = KioskEvents> {
  private readonly ee = new EventEmitter();
  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => {}) {
    this.ee.setMaxListeners(100);
  }

  on<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void {
    const wrapped = (payload: Events[K]) => {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    };
    this.ee.on(event, wrapped);
    return () => this.ee.off(event, wrapped);
  }

  once<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    this.ee.emit(event, payload);
    this.ee.emit('*', { event, payload });
  }

  /** Every event, for the event log and the hub link. */
  onAny(listener: (e: { event: string; payload: unknown }) => void): () => void {
    const wrapped = (e: { event: string; payload: unknown }) => {
      try {
        listener(e);
      } catch (err) {
        this.onListenerError('*', err);
      }
    };
    this.ee.on('*', wrapped);
    return () => this.ee.off('*', wrapped);
  }
}
