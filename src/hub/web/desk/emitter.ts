// A small typed event emitter: the phone's events drive the board UI.
export class Emitter<Events extends object> {
  private readonly handlers = new Map<keyof Events, Set<(e: never) => void>>();

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof Events>(event: K, fn: (e: Events[K]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(fn as (e: never) => void);
    return () => set!.delete(fn as (e: never) => void);
  }

  protected emit<K extends keyof Events>(event: K, e: Events[K]): void {
    for (const fn of [...(this.handlers.get(event) ?? [])]) {
      try {
        (fn as (e: Events[K]) => void)(e);
      } catch (err) {
        // A failing listener must not break the phone or the other listeners.
        console.error(`desk phone: a "${String(event)}" listener failed`, err);
      }
    }
  }
}
