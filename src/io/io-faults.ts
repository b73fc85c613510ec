// Hardware trouble seen while the io capability runs (a GPIO line whose
// interrupt watch failed, a Firmata board that went away, an output that
// could not be set) becomes the one `gpio` fault, listing each problem; it
// clears when the last of them has recovered.
import type { Faults } from '../health/faults.js';

export class IoFaults {
  private readonly problems = new Map<string, string>();

  constructor(
    private readonly faults: Faults,
    private readonly warn: (msg: string) => void = () => {},
  ) {}

  /** `detail` set: the problem `key` exists (or changed); undefined: it is over. */
  report(key: string, detail: string | undefined): void {
    if (detail === undefined) {
      if (!this.problems.delete(key)) return;
    } else {
      if (this.problems.get(key) === detail) return;
      this.problems.set(key, detail);
      this.warn(detail);
    }
    if (this.problems.size) this.faults.raise('gpio', [...this.problems.values()].join('; '));
    else this.faults.clear('gpio');
  }
}
