// sip.js constructs its transport itself (`transportConstructor`), so our
// transports reach it as a class: this one hands the instance back to its
// owner and sends calls through the registrar in use. Shared by the kiosk's
// intercom and the hub's SIP endpoint.
import type { Transport } from 'sip.js';
import { UdpTransport } from './udp.js';
import { StreamTransport } from './stream.js';
import type { BaseTransport, TransportOptions } from './base.js';
import type { Address } from './routing.js';

export function boundTransport(
  kind: 'udp' | 'tcp' | 'tls',
  options: TransportOptions & { secure?: boolean },
  /** receives the instance sip.js made */
  created: (t: BaseTransport) => void,
  /** the registrar calls go through now (undefined: by the Request-URI) */
  outbound: () => Address | undefined,
): new () => Transport {
  // Both classes take (logger, options); typed as one so the subclass type-checks.
  const Ctor = (kind === 'udp' ? UdpTransport : StreamTransport) as typeof UdpTransport;
  class Bound extends Ctor {
    constructor(l: ConstructorParameters<typeof UdpTransport>[0]) {
      super(l, options);
      created(this);
    }
    override async send(message: string): Promise<void> {
      // Calls go through the registrar we are registered with; REGISTER and OPTIONS go to their own URI.
      (options as { outbound?: Address }).outbound = /^(REGISTER|OPTIONS) /.test(message) ? undefined : outbound();
      return super.send(message);
    }
  }
  return Bound as unknown as new () => Transport;
}
