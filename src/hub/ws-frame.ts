// One text frame for many sockets (a command to a zone): the WebSocket frame, header and payload (a server's
// frames are not masked), built once by ws's own framing and written to each socket in one call. ws.send would
// frame the payload again for each socket and write header and payload as two corked writes (a writev): the
// larger part of a fan-out's sending on the hub, for thousands of kiosks (bench hub: pa_fanout_10000_ms).
import * as ws from 'ws';
import type { WebSocket } from 'ws';

export interface TextFrame {
  payload: Buffer;
  frame: Buffer;
}

type FrameFn = (data: Buffer, o: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }) => Buffer[];
// ws's framing, exported by the package but not in its types.
const frameOf = (ws as unknown as { Sender: { frame: FrameFn } }).Sender.frame;

export function textFrame(text: string): TextFrame {
  const payload = Buffer.from(text);
  return { payload, frame: Buffer.concat(frameOf(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false })) };
}

/** The parts of ws's sender (not in its types) that say whether a whole frame can go out as it is, and send it. */
interface SenderState {
  _state: number;
  _firstFragment: boolean;
  _extensions: Record<string, unknown>;
  sendFrame?: (list: Buffer[]) => void;
}

/**
 * Sends the frame on an open socket through its own sender, as ws.send would: only while nothing is queued in
 * that sender (no compression negotiated, no fragmented message under way); otherwise ws.send frames it itself.
 */
export function sendTextFrame(socket: WebSocket, f: TextFrame): void {
  const s = (socket as unknown as { _sender?: SenderState })._sender;
  if (s && s._state === 0 && s._firstFragment && typeof s.sendFrame === 'function' && Object.keys(s._extensions).length === 0) s.sendFrame([f.frame]);
  else socket.send(f.payload, { binary: false });
}
